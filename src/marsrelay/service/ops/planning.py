"""``/plan`` (a proposal over the live requests of one orbiter) and the CCSDS SSF export."""

from __future__ import annotations

import time
from typing import Any

from marsrelay.service import plan as planner
from marsrelay.service.domain.errors import InvalidInputError, NotFoundError
from marsrelay.service.domain.permissions import Action, Actor, check_allowed
from marsrelay.service.domain.states import RequestState
from marsrelay.service.domain.volumes import parse_profile
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.schemas import Body, PlanBody
from marsrelay.service.ssf import SsfActivity, simple_schedule_xml
from marsrelay.service.timefmt import format_ms, now_ms, parse_ms

__all__ = ["PlanningOps"]


class PlanningOps(ServiceCore):
    def plan(self, actor: Actor, body: Body) -> dict[str, Any]:
        """Which live requests of ``orbiter`` (overlapping ``[start_utc, end_utc)``) to
        acknowledge, with split windows where sharing serves more. Changes nothing."""
        t0 = time.perf_counter()
        with self.uow() as uow:
            cat = uow.repo.catalog()
            name = body.peek_str("orbiter")
            orb = cat.asset_named(name, "orbiter") if name else None
            if name and orb is None:
                raise NotFoundError(f"orbiter: no orbiter called {name!r}")
            if orb is not None:
                check_allowed(actor, Action.PLAN, orbiter_agency=orb.agency)
            cmd = body.parse(PlanBody)
            assert orb is not None
            start_ms = parse_ms(cmd.start_utc) if cmd.start_utc else None
            end_ms = parse_ms(cmd.end_utc) if cmd.end_utc else None
            if start_ms is not None and end_ms is not None and end_ms <= start_ms:
                raise InvalidInputError("end_utc", "the end is not after the start")
            rows = uow.repo.requests(
                agency_id=None,
                states=[RequestState.REQUESTED.value, RequestState.ACKNOWLEDGED.value],
                orbiter_id=orb.id,
                start_ms=start_ms,
                end_ms=end_ms,
            )
            overflights = {r.overflight_id: uow.repo.overflight(r.overflight_id) for r in rows}
            live = [
                planner.LiveRequest(
                    id=r.id,
                    start_ms=r.start_ms,
                    end_ms=r.end_ms,
                    priority=r.priority,
                    return_bits=r.return_bits,
                    acknowledged=r.state == "acknowledged",
                    overflight_start_ms=overflights[r.overflight_id].start_ms,
                    profile=parse_profile(overflights[r.overflight_id].profile),
                )
                for r in rows
            ]
            landers = {r.id: cat.assets[r.lander_id].name for r in rows}
        result = planner.propose(live, self.settings.plan_time_limit_s)
        items = []
        for r, g in zip(rows, result.grants, strict=True):
            items.append(
                {
                    "request_id": r.id,
                    "lander": landers[r.id],
                    "state": r.state,
                    "priority": r.priority,
                    "acknowledge": g.granted,
                    "start_utc": format_ms(g.start_ms) if g.start_ms is not None else None,
                    "end_utc": format_ms(g.end_ms) if g.end_ms is not None else None,
                    "requested_start_utc": format_ms(r.start_ms),
                    "requested_end_utc": format_ms(r.end_ms),
                    "split": g.granted and (g.start_ms, g.end_ms) != (r.start_ms, r.end_ms),
                    "return_bits": r.return_bits,
                    "predicted_bits": g.predicted_bits,
                    "planned_bits": g.planned_bits,
                }
            )
        return {
            "orbiter": orb.name,
            "start_utc": format_ms(start_ms) if start_ms is not None else None,
            "end_utc": format_ms(end_ms) if end_ms is not None else None,
            "status": result.status,
            "weighted_bits": result.weighted_bits,
            "planned_bits": sum(g.planned_bits for g in result.grants),
            "elapsed_ms": round((time.perf_counter() - t0) * 1000.0, 3),
            "items": items,
        }

    def export_ssf(
        self,
        actor: Actor,
        orbiter: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> str:
        """Acknowledged and implemented passes the caller sees, as CCSDS SSF XML."""
        start_ms, end_ms = self.window_params(start, end)
        with self.uow() as uow:
            cat = uow.repo.catalog()
            found, orbiter_id = self.filter_asset(cat, orbiter, "orbiter")
            rows = (
                []
                if not found
                else uow.repo.requests(
                    agency_id=self.agency_filter(actor, cat),
                    states=[RequestState.ACKNOWLEDGED.value, RequestState.IMPLEMENTED.value],
                    orbiter_id=orbiter_id,
                    start_ms=start_ms,
                    end_ms=end_ms,
                )
            )
            acts = [
                SsfActivity(
                    request_id=r.id,
                    orbiter=cat.assets[r.orbiter_id].name,
                    lander=cat.assets[r.lander_id].name,
                    user_agency=cat.agencies[r.lander_agency_id],
                    provider_agency=cat.agencies[r.orbiter_agency_id],
                    start_ms=r.start_ms,
                    end_ms=r.end_ms,
                    state=r.state,
                    return_bits=r.return_bits,
                    forward_bits=r.forward_bits,
                )
                for r in rows
            ]
        lo = start_ms if start_ms is not None else min((a.start_ms for a in acts), default=None)
        hi = end_ms if end_ms is not None else max((a.end_ms for a in acts), default=None)
        return simple_schedule_xml(
            acts, generated_ms=now_ms(), start_ms=lo, end_ms=hi, originator=actor.agency
        )
