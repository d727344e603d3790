"""Administration: ``service init`` (schema, agencies, assets, predicted overflights),
``service add-user`` (a token, shown once), token authentication, ``service backup``."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from marsrelay.errors import InputError
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

#: How long an authenticated token is remembered in memory (s): revocations and expiry take
#: effect within this time.
TOKEN_CACHE_S = 5.0

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
        self, name: str, agency: str, role: str, password: str | None = None
    ) -> tuple[str, str]:
        """Create ``name`` (or, for an existing user of the same agency and role, add a
        token); returns the new API token (the only time it is shown) and the agency's name
        as stored (an existing agency is matched ignoring case)."""
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
            uow.session.add(Token(user_id=user.id, token_hash=hash_token(token), created_ms=now))
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
                },
                time_ms=now,
            )
            agency_name = agency_row.name
        return token, agency_name

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

    def authenticate(self, token: str | None) -> Actor | None:
        """The user a bearer token belongs to (None: missing, unknown, revoked, expired)."""
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
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (actor, time.monotonic() + TOKEN_CACHE_S)
        return actor


_BACKUP_LOCK = threading.Lock()


def backup_database(url: str, dest: str | Path) -> Path:
    """A consistent copy of the database at ``url`` written (atomically) to ``dest``.

    SQLite: the online backup API, page by page, while the service keeps running; the copy is
    a SQLite file usable with ``--db sqlite:///DEST``. PostgreSQL: ``pg_dump --format=custom``
    (restore with ``pg_restore``); InputError if ``pg_dump`` is not installed."""
    parsed = make_url(url)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
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
                    src.backup(dst, pages=1024)
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
            libpq_url = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            done = subprocess.run(
                [pg_dump, "--format=custom", f"--file={tmp}", libpq_url],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise InputError(f"pg_dump failed: {done.stderr.strip()[:300]}", field="--db")
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest
