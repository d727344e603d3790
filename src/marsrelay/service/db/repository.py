"""Queries and inserts of the service's records, on one session (see :mod:`.uow`).

Visibility filters take ``agency_id``: None for an admin (everything), else the caller's
agency (requests of its landers or of its orbiters). No lazy loads: every list is one query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from marsrelay.service.db.models import (
    Agency,
    Asset,
    AuditEntry,
    Event,
    ForwardFile,
    MetaEntry,
    Overflight,
    RelayRequest,
    Token,
    Trajectory,
    User,
)
from marsrelay.service.domain.states import BUSY_STATES, LIVE_STATES

__all__ = ["AssetInfo", "Catalog", "Repository"]


@dataclass(frozen=True)
class AssetInfo:
    id: int
    name: str
    kind: str
    agency_id: int
    agency: str
    trajectory_version: int


@dataclass(frozen=True)
class Catalog:
    """Assets and agencies by id and by name (a few dozen rows, read once per unit of work)."""

    assets: dict[int, AssetInfo]
    agencies: dict[int, str]

    def asset_named(self, name: str, kind: str | None = None) -> AssetInfo | None:
        for a in self.assets.values():
            if a.name == name and (kind is None or a.kind == kind):
                return a
        return None

    def agency_id(self, name: str) -> int | None:
        for k, v in self.agencies.items():
            if v == name:
                return k
        return None


#: SQL integers are 64-bit: a query's ``after``, ``limit`` or ``offset`` past them is clamped
#: (it selects what the unbounded value would), not an OverflowError in the driver.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def clamp_int64(value: int) -> int:
    """``value`` clamped to the 64-bit integers that SQL compares with."""
    return min(max(value, _INT64_MIN), _INT64_MAX)


def _overlapping(start_col: Any, end_col: Any, start_ms: int | None, end_ms: int | None) -> list:
    cond = []
    if start_ms is not None:
        cond.append(end_col > start_ms)
    if end_ms is not None:
        cond.append(start_col < end_ms)
    return cond


#: The catalogue's fingerprint: agencies and assets are only ever added and trajectory
#: versions only increase, so two committed states with the same three numbers are the same.
_CATALOG_FINGERPRINT = text(
    "SELECT (SELECT count(*) FROM agencies), (SELECT count(*) FROM assets), "
    "(SELECT coalesce(sum(trajectory_version), 0) FROM assets)"
)


class Repository:
    """``cache``: a per-process dict that keeps the catalogue between transactions, checked
    against the fingerprint in each; only read transactions store into it (a write
    transaction's own uncommitted changes change the fingerprint, so it never takes a stale
    entry, and never leaves one). ``read_only``: lists come back as plain rows (the same
    attribute names as the models, several times cheaper than ORM objects); otherwise they
    are ORM objects that can be changed."""

    def __init__(
        self, session: Session, cache: dict[str, Any] | None = None, read_only: bool = False
    ) -> None:
        self.session = session
        self._catalog: Catalog | None = None
        self._cache = cache
        self.read_only = read_only

    def _all(self, query: Any, model: Any) -> Sequence[Any]:
        if self.read_only:
            return self.session.execute(query.with_only_columns(*model.__table__.c)).all()
        return self.session.scalars(query).all()

    # -- catalogue, meta -----------------------------------------------------------------
    def catalog(self) -> Catalog:
        if self._catalog is None:
            fingerprint = None
            if self._cache is not None:
                fingerprint = tuple(self.session.execute(_CATALOG_FINGERPRINT).one())
                hit = self._cache.get("catalog")
                if hit is not None and hit[0] == fingerprint:
                    self._catalog = hit[1]
                    return hit[1]
            agencies = {a.id: a.name for a in self.session.scalars(select(Agency))}
            assets = {
                a.id: AssetInfo(
                    a.id, a.name, a.kind, a.agency_id, agencies[a.agency_id], a.trajectory_version
                )
                for a in self.session.scalars(select(Asset).order_by(Asset.id))
            }
            self._catalog = Catalog(assets, agencies)
            if self._cache is not None and self.read_only:
                self._cache["catalog"] = (fingerprint, self._catalog)
        return self._catalog

    def forget_catalog(self) -> None:
        self._catalog = None

    def meta(self) -> dict[str, str]:
        return {m.key: m.value for m in self.session.scalars(select(MetaEntry))}

    def set_meta(self, key: str, value: str) -> None:
        self.session.merge(MetaEntry(key=key, value=value))

    def agency(self, name: str, create: bool = False) -> Agency | None:
        found = self.session.scalar(select(Agency).where(Agency.name == name))
        if found is None:
            lowered = name.casefold()
            found = next(
                (a for a in self.session.scalars(select(Agency)) if a.name.casefold() == lowered),
                None,
            )
        if found is None and create:
            found = Agency(name=name)
            self.session.add(found)
            self.session.flush()
            self._catalog = None
        return found

    def asset(self, name: str) -> Asset | None:
        return self.session.scalar(select(Asset).where(Asset.name == name))

    def asset_by_id(self, asset_id: int) -> Asset | None:
        return self.session.get(Asset, asset_id)

    # -- users and tokens ----------------------------------------------------------------
    def user(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name == name))

    def token_owner(self, token_hash: str) -> tuple[User, Token] | None:
        row = self.session.execute(
            select(User, Token)
            .join(Token, Token.user_id == User.id)
            .where(Token.token_hash == token_hash)
        ).first()
        return None if row is None else (row[0], row[1])

    def tokens_of(self, user_id: int) -> Sequence[Token]:
        return self.session.scalars(
            select(Token).where(Token.user_id == user_id).order_by(Token.id)
        ).all()

    # -- trajectories and overflights ----------------------------------------------------
    def trajectory(self, orbiter_id: int, version: int) -> Trajectory | None:
        return self.session.scalar(
            select(Trajectory).where(
                Trajectory.orbiter_id == orbiter_id, Trajectory.version == version
            )
        )

    def overflight(self, overflight_id: int) -> Overflight | None:
        return self.session.get(Overflight, overflight_id)

    def overflights(
        self,
        *,
        orbiter_id: int | None = None,
        lander_id: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[Overflight]:
        limit, offset = None if limit is None else clamp_int64(limit), clamp_int64(offset)
        q = select(Overflight)
        cond = _overlapping(Overflight.start_ms, Overflight.end_ms, start_ms, end_ms)
        if not include_superseded:
            cond.append(Overflight.superseded.is_(False))
        if orbiter_id is not None:
            cond.append(Overflight.orbiter_id == orbiter_id)
        if lander_id is not None:
            cond.append(Overflight.lander_id == lander_id)
        q = q.where(*cond).order_by(Overflight.start_ms, Overflight.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        return self._all(q, Overflight)

    def count_overflights(self) -> int:
        return int(self.session.scalar(select(func.count(Overflight.id))) or 0)

    # -- requests ------------------------------------------------------------------------
    def request(self, request_id: int) -> RelayRequest | None:
        return self.session.get(RelayRequest, request_id)

    def requests(
        self,
        *,
        agency_id: int | None,
        states: Iterable[str] | None = None,
        orbiter_id: int | None = None,
        lander_id: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[RelayRequest]:
        limit, offset = None if limit is None else clamp_int64(limit), clamp_int64(offset)
        cond = _overlapping(RelayRequest.start_ms, RelayRequest.end_ms, start_ms, end_ms)
        if agency_id is not None:
            cond.append(
                or_(
                    RelayRequest.lander_agency_id == agency_id,
                    RelayRequest.orbiter_agency_id == agency_id,
                )
            )
        if states is not None:
            cond.append(RelayRequest.state.in_(list(states)))
        if orbiter_id is not None:
            cond.append(RelayRequest.orbiter_id == orbiter_id)
        if lander_id is not None:
            cond.append(RelayRequest.lander_id == lander_id)
        q = select(RelayRequest).where(*cond).order_by(RelayRequest.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        return self._all(q, RelayRequest)

    def live_requests(self, orbiter_id: int | None = None) -> Sequence[RelayRequest]:
        return self.requests(
            agency_id=None, states=[s.value for s in LIVE_STATES], orbiter_id=orbiter_id
        )

    def busy(
        self,
        orbiter_id: int | None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        exclude_id: int | None = None,
        states: Iterable[str] = BUSY_STATES,
    ) -> Sequence[RelayRequest]:
        """Acknowledged and implemented requests (of one orbiter) overlapping the window
        (``states``: only those states)."""
        cond = [
            RelayRequest.state.in_([str(s) for s in states]),
            *_overlapping(RelayRequest.start_ms, RelayRequest.end_ms, start_ms, end_ms),
        ]
        if orbiter_id is not None:
            cond.append(RelayRequest.orbiter_id == orbiter_id)
        if exclude_id is not None:
            cond.append(RelayRequest.id != exclude_id)
        return self._all(
            select(RelayRequest).where(*cond).order_by(RelayRequest.start_ms, RelayRequest.id),
            RelayRequest,
        )

    def requests_on_overflights(self, overflight_ids: Sequence[int]) -> Sequence[RelayRequest]:
        if not overflight_ids:
            return []
        return self.session.scalars(
            select(RelayRequest)
            .where(RelayRequest.overflight_id.in_(list(overflight_ids)))
            .order_by(RelayRequest.id)
        ).all()

    # -- files ---------------------------------------------------------------------------
    def files(self, request_id: int) -> Sequence[tuple]:
        """``(id, filename, content_type, size, sha256, created_by, created_ms)`` rows."""
        return self.session.execute(
            select(
                ForwardFile.id,
                ForwardFile.filename,
                ForwardFile.content_type,
                ForwardFile.size,
                ForwardFile.sha256,
                ForwardFile.created_by,
                ForwardFile.created_ms,
            )
            .where(ForwardFile.request_id == request_id)
            .order_by(ForwardFile.id)
        ).all()

    def file(self, request_id: int, file_id: int) -> ForwardFile | None:
        return self.session.scalar(
            select(ForwardFile).where(
                ForwardFile.id == file_id, ForwardFile.request_id == request_id
            )
        )

    # -- events and audit ----------------------------------------------------------------
    def add_event(
        self,
        kind: str,
        *,
        request: RelayRequest | None = None,
        orbiter_id: int | None = None,
        orbiter_agency_id: int | None = None,
        version: int | None = None,
        detail: dict | None = None,
        time_ms: int,
    ) -> Event:
        ev = Event(
            time_ms=time_ms,
            kind=kind,
            request_id=request.id if request is not None else None,
            state=request.state if request is not None else None,
            orbiter_id=request.orbiter_id if request is not None else orbiter_id,
            lander_agency_id=request.lander_agency_id if request is not None else None,
            orbiter_agency_id=(
                request.orbiter_agency_id if request is not None else orbiter_agency_id
            ),
            version=request.version if request is not None else version,
            detail=json.dumps(detail, sort_keys=True) if detail else None,
        )
        self.session.add(ev)
        return ev

    def events(self, *, agency_id: int | None, after: int, limit: int) -> Sequence[Event]:
        cond = [Event.id > after]
        if agency_id is not None:
            cond.append(
                or_(
                    Event.request_id.is_(None),
                    Event.lander_agency_id == agency_id,
                    Event.orbiter_agency_id == agency_id,
                )
            )
        return self._all(select(Event).where(*cond).order_by(Event.id).limit(limit), Event)

    def add_audit(
        self,
        *,
        actor: str,
        user_id: int | None,
        action: str,
        entity: str,
        entity_id: Any,
        before: dict | None,
        after: dict | None,
        time_ms: int,
    ) -> None:
        self.session.add(
            AuditEntry(
                time_ms=time_ms,
                actor=actor,
                user_id=user_id,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                before=None if before is None else json.dumps(before, sort_keys=True),
                after=None if after is None else json.dumps(after, sort_keys=True),
            )
        )

    def audit(self, *, after: int, limit: int) -> Sequence[AuditEntry]:
        return self._all(
            select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(limit),
            AuditEntry,
        )

    # -- accounting ----------------------------------------------------------------------
    def implemented(
        self, start_ms: int | None, end_ms: int | None, agency_id: int | None
    ) -> Sequence[RelayRequest]:
        cond = [
            RelayRequest.state == "implemented",
            *_overlapping(RelayRequest.start_ms, RelayRequest.end_ms, start_ms, end_ms),
        ]
        if agency_id is not None:
            cond.append(
                or_(
                    RelayRequest.lander_agency_id == agency_id,
                    RelayRequest.orbiter_agency_id == agency_id,
                )
            )
        return self._all(select(RelayRequest).where(and_(*cond)), RelayRequest)
