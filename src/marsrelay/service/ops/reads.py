"""Shared reads: assets, overflights, accounting, events, the audit log."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from marsrelay.service.db.repository import clamp_int64
from marsrelay.service.domain.errors import NotFoundError
from marsrelay.service.domain.permissions import Action, Actor, check_allowed
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.ops.views import audit_view, event_view, overflight_view

__all__ = ["ReadOps"]

#: ``/events``: default and largest page.
EVENTS_PAGE = 1000

_KIND_ORDER = {"orbiter": 0, "lander": 1, "station": 2}


class ReadOps(ServiceCore):
    def assets(self) -> list[dict[str, Any]]:
        with self.uow() as uow:
            cat = uow.repo.catalog()
            rows = sorted(cat.assets.values(), key=lambda a: (_KIND_ORDER[a.kind], a.id))
            return [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "agency": a.agency,
                    "trajectory_version": a.trajectory_version if a.kind == "orbiter" else None,
                }
                for a in rows
            ]

    def overflights(
        self,
        *,
        orbiter: str | None = None,
        lander: str | None = None,
        start: str | None = None,
        end: str | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Current overflights (all with ``include_superseded``) overlapping ``[start, end)``,
        time-ordered. An unknown orbiter or lander name selects nothing."""
        start_ms, end_ms = self.window_params(start, end)
        with self.uow() as uow:
            cat = uow.repo.catalog()
            found_o, orbiter_id = self.filter_asset(cat, orbiter, "orbiter")
            found_l, lander_id = self.filter_asset(cat, lander, "lander")
            if not (found_o and found_l):
                return []
            rows = uow.repo.overflights(
                orbiter_id=orbiter_id,
                lander_id=lander_id,
                start_ms=start_ms,
                end_ms=end_ms,
                include_superseded=include_superseded,
                limit=limit,
                offset=offset,
            )
            return [overflight_view(ov, cat) for ov in rows]

    def overflight(self, overflight_id: int) -> dict[str, Any]:
        with self.uow() as uow:
            ov = uow.repo.overflight(overflight_id) if 0 < overflight_id < 2**31 else None
            if ov is None:
                raise NotFoundError(f"overflight {overflight_id} does not exist")
            return overflight_view(ov, uow.repo.catalog())

    def accounting(
        self, actor: Actor, start: str | None = None, end: str | None = None
    ) -> list[dict[str, Any]]:
        """Implemented passes overlapping ``[start, end)`` per (provider, user) agency pair:
        pass count, relay time (s, the implemented windows), predicted share and returned
        bits. Admins see every row, others the rows where their agency is one of the two."""
        start_ms, end_ms = self.window_params(start, end)
        with self.uow() as uow:
            cat = uow.repo.catalog()
            rows = uow.repo.implemented(start_ms, end_ms, self.agency_filter(actor, cat))
            acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for r in rows:
                key = (cat.agencies[r.orbiter_agency_id], cat.agencies[r.lander_agency_id])
                a = acc[key]
                a[0] += 1
                a[1] += r.end_ms - r.start_ms
                a[2] += r.predicted_bits
                a[3] += r.returned_bits or 0
            return [
                {
                    "provider_agency": p,
                    "user_agency": u,
                    "passes": a[0],
                    "relay_s": a[1] / 1000.0,
                    "predicted_bits": a[2],
                    "returned_bits": a[3],
                }
                for (p, u), a in sorted(acc.items())
            ]

    def events(
        self, actor: Actor, after: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Visible events with ``id > after``, id-ordered, at most ``limit`` (<= 1000)."""
        page = EVENTS_PAGE if limit is None else max(1, min(EVENTS_PAGE, limit))
        with self.uow() as uow:
            cat = uow.repo.catalog()
            rows = uow.repo.events(
                agency_id=self.agency_filter(actor, cat), after=clamp_int64(after), limit=page
            )
            if any(r.orbiter_id is not None and r.orbiter_id not in cat.assets for r in rows):
                uow.repo.forget_catalog()
                cat = uow.repo.catalog()
            return [event_view(ev, cat) for ev in rows]

    def audit(self, actor: Actor, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The audit log (admins only), id-ordered."""
        check_allowed(actor, Action.READ_AUDIT)
        page = EVENTS_PAGE if limit is None else max(1, min(EVENTS_PAGE, limit))
        with self.uow() as uow:
            rows = uow.repo.audit(after=clamp_int64(after), limit=page)
            return [audit_view(e) for e in rows]
