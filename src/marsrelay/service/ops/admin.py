"""Administration: ``service init`` (schema, agencies, assets, predicted overflights),
``service add-user`` (a token, shown once), token authentication, ``service backup``."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from marsrelay.errors import InputError
from marsrelay.io import atomic_write_with
from marsrelay.service import predict
from marsrelay.service.db.migrate import migrate
from marsrelay.service.db.models import Asset, Overflight, Token, Trajectory, User
from marsrelay.service.domain.permissions import Actor, Role
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.security import (
    hash_password,
    hash_token,
    new_token,
    same_digest,
    verify_password,
)
from marsrelay.service.timefmt import format_ms, now_ms

__all__ = ["AdminOps", "backup_database"]

#: How long a server process remembers a token it has checked (s): a revocation made by
#: another process (``marsrelay service revoke-token``) takes effect within this time; an
#: expiry is never passed (the memory ends at the token's expiry at the latest).
TOKEN_CACHE_S = 2.0

_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """An argon2id hash of nothing anyone knows (made once, on first use)."""
    if not _DUMMY:
        _DUMMY.append(hash_password(new_token()))
    return _DUMMY[0]


_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


def _check_name(text: str, field: str) -> str:
    value = text.strip()
    if not _NAME_RE.match(value):
        raise InputError(
            f"{text!r} is not a usable name", field=field, allowed="1 to 64 printable characters"
        )
    return value


class AdminOps(ServiceCore):
    _token_cache: dict[str, tuple[Actor, float]]

    # -- init ----------------------------------------------------------------------------
    def initialize(self, scenario_name: str) -> dict[str, Any]:
        """Create or migrate the schema and load the scenario: agencies, assets, trajectory
        version 1 of every orbiter and the overflights of the span. Running it again with the
        same scenario (same file content) changes nothing; another scenario is refused."""
        migrate(self.db)
        scenario, source = predict.read_scenario_source(scenario_name)
        with self.uow() as uow:
            meta = uow.repo.meta()
        if "scenario_sha256" in meta:
            return self._same_scenario(meta, source, uow_counts=True)
        started = time.perf_counter()
        predicted = predict.predict_overflights(scenario)
        span = predict.scenario_span_ms(scenario)
        now = now_ms()
        with self.uow(write=True) as uow:
            meta = uow.repo.meta()
            if "scenario_sha256" in meta:  # another init won the race
                return self._same_scenario(meta, source, uow_counts=True)
            assets: dict[str, Asset] = {}
            for row in predict.scenario_assets(scenario):
                agency = uow.repo.agency(row.agency, create=True)
                assert agency is not None
                asset = Asset(
                    name=row.name,
                    kind=row.kind,
                    agency_id=agency.id,
                    trajectory_version=1 if row.kind == "orbiter" else 0,
                )
                uow.session.add(asset)
                assets[row.name] = asset
            uow.session.flush()
            for spec in scenario.orbiters:
                uow.session.add(
                    Trajectory(
                        orbiter_id=assets[spec.name].id,
                        version=1,
                        source="scenario",
                        content=spec.source,
                        coverage_start_ms=span[0],
                        coverage_end_ms=span[1],
                        created_ms=now,
                        created_by="service init",
                    )
                )
            for p in predicted:
                uow.session.add(
                    Overflight(
                        orbiter_id=assets[p.orbiter].id,
                        lander_id=assets[p.lander].id,
                        start_ms=p.start_ms,
                        end_ms=p.end_ms,
                        max_elevation_deg=p.max_elevation_deg,
                        predicted_bits=p.predicted_bits,
                        trajectory_version=1,
                        superseded=False,
                        profile=p.profile_json(),
                    )
                )
            for key, value in (
                ("scenario_name", scenario.name),
                ("scenario_source", source.source),
                ("scenario_text", source.text),
                ("scenario_sha256", source.sha256),
                ("span_start_utc", format_ms(span[0])),
                ("span_end_utc", format_ms(span[1])),
                ("initialised_utc", format_ms(now)),
            ):
                uow.repo.set_meta(key, value)
            summary = {
                "scenario": scenario.name,
                "assets": len(assets),
                "overflights": len(predicted),
                "changed": True,
                "elapsed_s": round(time.perf_counter() - started, 3),
            }
            uow.repo.add_audit(
                actor="service init",
                user_id=None,
                action="init",
                entity="scenario",
                entity_id=scenario.name,
                before=None,
                after=summary,
                time_ms=now,
            )
        return summary

    def _same_scenario(
        self, meta: dict[str, str], source: predict.ScenarioSource, uow_counts: bool
    ) -> dict[str, Any]:
        if meta["scenario_sha256"] != source.sha256:
            raise InputError(
                f"the database already holds scenario {meta.get('scenario_name')!r} "
                f"(from {meta.get('scenario_source')}), and this file differs from it",
                field="SCENARIO",
                allowed="the same scenario again (nothing changes), or a new --db; publish "
                "orbit changes with PUT /api/v1/orbiters/{name}/trajectory",
            )
        with self.uow() as uow:
            return {
                "scenario": meta.get("scenario_name"),
                "assets": len(uow.repo.catalog().assets),
                "overflights": uow.repo.count_overflights(),
                "changed": False,
                "elapsed_s": 0.0,
            }

    # -- users and tokens ----------------------------------------------------------------
    def add_user(
        self,
        name: str,
        agency: str,
        role: str,
        password: str | None = None,
        expires_days: float | None = None,
    ) -> tuple[str, str]:
        """Create ``name`` (or, for an existing user of the same agency and role, add a
        token); returns the new API token (the only time it is shown) and the agency's name
        as stored (an existing agency is matched ignoring case). ``expires_days``: the token
        stops working that many days from now (None: until revoked)."""
        if expires_days is not None and not 0 < expires_days <= 36500:
            raise InputError(
                f"{expires_days} is not a usable lifetime",
                field="--expires-days",
                allowed="a number of days above 0 (and at most 36500)",
            )
        name = _check_name(name, "NAME")
        agency = _check_name(agency, "--agency")
        try:
            role_value = Role(role).value
        except ValueError:
            raise InputError(
                f"unknown role {role!r}", field="--role", allowed="admin, planner, viewer"
            ) from None
        if password is not None and not password:
            raise InputError(
                "the password read from stdin is empty",
                field="--password-stdin",
                allowed="a non-empty password on the first line of stdin",
            )
        migrate(self.db)
        token = new_token()
        now = now_ms()
        with self.uow(write=True) as uow:
            agency_row = uow.repo.agency(agency, create=True)
            assert agency_row is not None
            user = uow.repo.user(name)
            if user is None:
                user = User(name=name, agency_id=agency_row.id, role=role_value, created_ms=now)
                uow.session.add(user)
                uow.session.flush()
                action = "add_user"
            elif user.agency_id != agency_row.id or user.role != role_value:
                raise InputError(
                    f"user {name!r} already exists as {user.role} of {user.agency.name}",
                    field="NAME",
                    allowed="a new name, or the same --agency and --role to issue another token",
                )
            else:
                action = "add_token"
            if password is not None:
                user.password_hash = hash_password(password)
            expires_ms = None if expires_days is None else now + int(expires_days * 86_400_000)
            uow.session.add(
                Token(
                    user_id=user.id,
                    token_hash=hash_token(token),
                    created_ms=now,
                    expires_ms=expires_ms,
                )
            )
            uow.repo.add_audit(
                actor="service add-user",
                user_id=None,
                action=action,
                entity="user",
                entity_id=name,
                before=None,
                after={
                    "name": name,
                    "agency": agency_row.name,
                    "role": role_value,
                    "password": password is not None,
                    "token_expires_utc": None if expires_ms is None else format_ms(expires_ms),
                },
                time_ms=now,
            )
            agency_name = agency_row.name
        return token, agency_name

    def revoke_tokens(self, *, user: str | None = None, token: str | None = None) -> int:
        """Revoke every live token of ``user``, or the one ``token``; returns how many. Every
        server process stops accepting them within :data:`TOKEN_CACHE_S` (this one at once).
        InputError when the user or the token is unknown."""
        now = now_ms()
        with self.uow(write=True) as uow:
            if token is not None:
                found = uow.repo.token_owner(hash_token(token.strip()))
                if found is None:
                    raise InputError("no such token", field="--token-stdin",
                                     allowed="an API token that `service add-user` printed")
                rows = [found[1]]
                owner = found[0].name
            else:
                row = uow.repo.user(user or "")
                if row is None:
                    raise InputError(f"no user called {user!r}", field="NAME",
                                     allowed="a user made by `service add-user`")
                rows = list(uow.repo.tokens_of(row.id))
                owner = row.name
            live = [t for t in rows if t.revoked_ms is None]
            for t in live:
                t.revoked_ms = now
            uow.repo.add_audit(
                actor="service revoke-token",
                user_id=None,
                action="revoke_token",
                entity="user",
                entity_id=owner,
                before={"live_tokens": len(live)},
                after={"revoked": [t.id for t in live]},
                time_ms=now,
            )
        self.forget_tokens()
        return len(live)

    def login(self, name: str, password: str) -> Actor | None:
        """The user whose web-page password this is (argon2id), or None (for the pages)."""
        with self.uow() as uow:
            user = uow.repo.user(name) if name else None
            if user is None or not user.password_hash or not password:
                # the same argon2id work as for a real user: the time does not tell names
                verify_password(_dummy_hash(), password or "-")
                return None
            if not verify_password(user.password_hash, password):
                return None
            return Actor(name=user.name, agency=user.agency.name, role=Role(user.role),
                         user_id=user.id)

    def cached_actor(self, token: str | None) -> Actor | None:
        """The caller of ``token`` if this process checked it less than
        :data:`TOKEN_CACHE_S` ago (no database access: the event loop may call it)."""
        if not token or len(token) > 256:
            return None
        hit = self.__dict__.get("_token_cache", {}).get(hash_token(token))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def forget_tokens(self) -> None:
        """Drop this process's memory of checked tokens (after a revocation)."""
        self.__dict__.get("_token_cache", {}).clear()

    def authenticate(self, token: str | None) -> Actor | None:
        """The user a bearer token belongs to (None: missing, unknown, revoked, expired).

        The token is hashed first: only its SHA-256 is looked up (the database never sees
        the token), and the stored digest is compared in constant time."""
        if not token or len(token) > 256:
            return None
        digest = hash_token(token)
        cache = self.__dict__.setdefault("_token_cache", {})
        hit = cache.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        with self.uow() as uow:
            found = uow.repo.token_owner(digest)
            if found is None:
                return None
            user, row = found
            now = now_ms()
            if (
                not same_digest(row.token_hash, digest)
                or row.revoked_ms is not None
                or (row.expires_ms is not None and row.expires_ms <= now)
            ):
                return None
            actor = Actor(
                name=user.name, agency=user.agency.name, role=Role(user.role), user_id=user.id
            )
            remember_s = TOKEN_CACHE_S
            if row.expires_ms is not None:
                remember_s = min(remember_s, (row.expires_ms - now) / 1000.0)
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (actor, time.monotonic() + remember_s)
        return actor


_BACKUP_LOCK = threading.Lock()


def backup_database(url: str, dest: str | Path) -> Path:
    """A consistent copy of the database at ``url`` written (atomically, mode 0600) to ``dest``.

    SQLite: the online backup API, page by page, while the service keeps running; the copy is
    a SQLite file usable with ``--db sqlite:///DEST``. PostgreSQL: ``pg_dump --format=custom``
    (restore with ``pg_restore``); InputError if ``pg_dump`` is not installed."""
    parsed = make_url(url)

    def write(tmp: str) -> None:
        if parsed.drivername.startswith("sqlite"):
            src_path = Path(str(parsed.database))
            if not src_path.is_file():
                raise InputError(
                    f"no SQLite database at {src_path}",
                    field="--db",
                    allowed="the URL of an existing database",
                )
            with _BACKUP_LOCK:
                src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
                dst = sqlite3.connect(tmp)
                try:
                    # One step: the copy is the snapshot of one read transaction. (In
                    # steps, a write by another process between two steps restarts the
                    # copy; under a steady stream of writes it might never finish.)
                    src.backup(dst, pages=-1)
                    dst.execute("PRAGMA journal_mode=DELETE")
                finally:
                    dst.close()
                    src.close()
        else:
            pg_dump = shutil.which("pg_dump") or next(
                iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None
            )
            if pg_dump is None:
                raise InputError(
                    "pg_dump is not installed",
                    field="--db",
                    allowed="PostgreSQL's client tools (Debian: postgresql-client)",
                )
            # The password goes through the environment: a command line is visible to every
            # user of the machine (ps).
            libpq_url = parsed.set(drivername="postgresql", password=None).render_as_string(
                hide_password=False
            )
            env = dict(os.environ)
            if parsed.password:
                env["PGPASSWORD"] = str(parsed.password)
            done = subprocess.run(
                [pg_dump, "--format=custom", f"--file={tmp}", libpq_url],
                capture_output=True,
                text=True,
                check=False,
                env=env,
            )
            if done.returncode != 0:
                raise InputError(f"pg_dump failed: {done.stderr.strip()[:300]}", field="--db")

    return atomic_write_with(dest, write, mode=0o600)
