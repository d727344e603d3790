"""Requests: create, read, the state machine's actions, conflicts and busy windows.

Every action checks, in the spec's order: the request exists and the caller sees it (404),
the caller may do the action (403), the body validates (422), then the version is current and
the state and the orbiter's calendar allow it (409). Each change bumps ``version`` and writes
one event and one audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from marsrelay.service.db.models import RelayRequest
from marsrelay.service.db.uow import UnitOfWork
from marsrelay.service.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from marsrelay.service.domain.permissions import Action, Actor, Role, check_allowed
from marsrelay.service.domain.states import RequestState, next_state
from marsrelay.service.domain.volumes import parse_profile, window_share_bits
from marsrelay.service.domain.windows import Window, overlapping_pairs
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.ops.views import request_snapshot, request_view
from marsrelay.service.schemas import (
    AckBody,
    Body,
    CancelBody,
    RejectBody,
    RequestCreate,
    ResultBody,
)
from marsrelay.service.timefmt import format_ms, now_ms, parse_ms

__all__ = ["RequestOps"]

#: Per action: the body model and the state it leads to.
ACTIONS: dict[Action, tuple[type, RequestState]] = {
    Action.ACKNOWLEDGE: (AckBody, RequestState.ACKNOWLEDGED),
    Action.REJECT: (RejectBody, RequestState.REJECTED),
    Action.CANCEL: (CancelBody, RequestState.CANCELLED),
    Action.RECORD_RESULT: (ResultBody, RequestState.IMPLEMENTED),
}


def _sub_window(start_utc: str | None, end_utc: str | None, outer: Window, what: str) -> Window:
    """The window given by optional edges (each defaults to ``outer``'s), checked inside."""
    start = parse_ms(start_utc) if start_utc is not None else outer.start_ms
    end = parse_ms(end_utc) if end_utc is not None else outer.end_ms
    if end <= start:
        raise InvalidInputError(
            "end_utc" if end_utc is not None else "start_utc",
            f"the window's end {format_ms(end)} is not after its start {format_ms(start)}",
        )
    if not outer.start_ms <= start:
        raise InvalidInputError(
            "start_utc",
            f"{format_ms(start)} is before the {what}'s start "
            f"{format_ms(outer.start_ms)} (the window must lie inside it)",
        )
    if not end <= outer.end_ms:
        raise InvalidInputError(
            "end_utc",
            f"{format_ms(end)} is after the {what}'s end "
            f"{format_ms(outer.end_ms)} (the window must lie inside it)",
        )
    return Window(start, end)


class RequestOps(ServiceCore):
    # -- reads ---------------------------------------------------------------------------
    def get_request(self, actor: Actor, request_id: int) -> dict[str, Any]:
        with self.uow() as uow:
            req = self.visible_request(uow, actor, request_id)
            return request_view(req, uow.repo.catalog())

    def list_requests(
        self,
        actor: Actor,
        *,
        state: str | None = None,
        orbiter: str | None = None,
        lander: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        states = None
        if state:
            try:
                states = [RequestState(state).value]
            except ValueError:
                raise InvalidInputError(
                    "state",
                    "unknown state; one of " + ", ".join(s.value for s in RequestState),
                    location="query",
                ) from None
        start_ms, end_ms = self.window_params(start, end)
        with self.uow() as uow:
            cat = uow.repo.catalog()
            found_o, orbiter_id = self.filter_asset(cat, orbiter, "orbiter")
            found_l, lander_id = self.filter_asset(cat, lander, "lander")
            if not (found_o and found_l):
                return []
            rows = uow.repo.requests(
                agency_id=self.agency_filter(actor, cat),
                states=states,
                orbiter_id=orbiter_id,
                lander_id=lander_id,
                start_ms=start_ms,
                end_ms=end_ms,
                limit=limit,
                offset=offset,
            )
            return [request_view(r, cat) for r in rows]

    # -- create --------------------------------------------------------------------------
    def create_request(self, actor: Actor, body: Body) -> dict[str, Any]:
        return self.write(lambda uow: self._create_request(uow, actor, body))

    def _create_request(self, uow: UnitOfWork, actor: Actor, body: Body) -> dict[str, Any]:
        ov_id = body.peek_int("overflight_id")
        ov = uow.repo.overflight(ov_id) if ov_id is not None and 0 < ov_id < 2**31 else None
        if ov_id is not None and ov is None:
            raise NotFoundError(f"overflight_id: overflight {ov_id} does not exist")
        cat = uow.repo.catalog()
        if ov is None:
            if actor.role != Role.PLANNER:
                raise ForbiddenError(
                    f"create: only a planner of the lander's agency may; you "
                    f"are {actor.name} ({actor.role.value} of {actor.agency})"
                )
        else:
            check_allowed(
                actor,
                Action.CREATE,
                lander_agency=cat.assets[ov.lander_id].agency,
                orbiter_agency=cat.assets[ov.orbiter_id].agency,
            )
        cmd = body.parse(RequestCreate)
        assert ov is not None  # parse() refused a body without a usable overflight_id
        window = _sub_window(
            cmd.start_utc, cmd.end_utc, Window(ov.start_ms, ov.end_ms), "overflight"
        )
        if ov.superseded:
            raise ConflictError(
                f"overflight {ov.id} belongs to an older trajectory of "
                f"{cat.assets[ov.orbiter_id].name}; request a current one"
            )
        now = now_ms()
        lander, orbiter = cat.assets[ov.lander_id], cat.assets[ov.orbiter_id]
        req = RelayRequest(
            version=1,
            state=RequestState.REQUESTED.value,
            overflight_id=ov.id,
            orbiter_id=orbiter.id,
            lander_id=lander.id,
            orbiter_agency_id=orbiter.agency_id,
            lander_agency_id=lander.agency_id,
            start_ms=window.start_ms,
            end_ms=window.end_ms,
            requested_start_ms=window.start_ms,
            requested_end_ms=window.end_ms,
            return_bits=cmd.return_bits,
            forward_bits=cmd.forward_bits,
            priority=cmd.priority,
            predicted_bits=window_share_bits(
                parse_profile(ov.profile), ov.start_ms, window.start_ms, window.end_ms
            ),
            note=cmd.note,
            created_by=actor.name,
            created_ms=now,
            updated_ms=now,
        )
        uow.session.add(req)
        uow.session.flush()
        self._record(uow, actor, req, "created", None, now)
        return request_view(req, cat)

    # -- the state machine's actions -----------------------------------------------------
    def act(self, actor: Actor, request_id: int, action: Action, body: Body) -> dict[str, Any]:
        """acknowledge, reject, cancel or record a result (see the module docstring)."""
        return self.write(lambda uow: self._act(uow, actor, request_id, action, body))

    def _act(
        self, uow: UnitOfWork, actor: Actor, request_id: int, action: Action, body: Body
    ) -> dict[str, Any]:
        model, target = ACTIONS[action]
        req = self.visible_request(uow, actor, request_id)
        cat = uow.repo.catalog()
        check_allowed(
            actor,
            action,
            lander_agency=cat.agencies[req.lander_agency_id],
            orbiter_agency=cat.agencies[req.orbiter_agency_id],
        )
        cmd = body.parse(model)
        granted = None
        if isinstance(cmd, AckBody) and (cmd.start_utc or cmd.end_utc):
            granted = _sub_window(
                cmd.start_utc,
                cmd.end_utc,
                Window(req.requested_start_ms, req.requested_end_ms),
                "requested window",
            )
        if cmd.version != req.version:
            raise ConflictError(
                f"version {cmd.version} is not the request's current version "
                f"{req.version}: read it again"
            )
        next_state(req.state, target)
        before = request_snapshot(req)
        if action == Action.ACKNOWLEDGE:
            window = granted or Window(req.start_ms, req.end_ms)
            # The contract: 409 on overlap with an *acknowledged* request (an implemented
            # one is not live and not in /conflicts either).
            clash = uow.repo.busy(
                req.orbiter_id,
                window.start_ms,
                window.end_ms,
                exclude_id=req.id,
                states=(RequestState.ACKNOWLEDGED,),
            )
            if clash:
                ids = ", ".join(str(c.id) for c in clash)
                raise ConflictError(
                    f"the window overlaps acknowledged request(s) {ids} on "
                    f"{cat.assets[req.orbiter_id].name}"
                )
            if granted is not None:
                ov = uow.repo.overflight(req.overflight_id)
                req.start_ms, req.end_ms = granted.start_ms, granted.end_ms
                if ov is not None:
                    req.predicted_bits = window_share_bits(
                        parse_profile(ov.profile), ov.start_ms, granted.start_ms, granted.end_ms
                    )
        elif isinstance(cmd, RejectBody):
            req.reason = cmd.reason
        elif isinstance(cmd, CancelBody):
            if cmd.reason is not None:
                req.reason = cmd.reason
        elif isinstance(cmd, ResultBody):
            req.returned_bits = cmd.returned_bits
            req.forward_delivered = cmd.forward_delivered
        now = now_ms()
        req.state = target.value
        req.version += 1
        req.updated_ms = now
        self._record(uow, actor, req, target.value, before, now)
        return request_view(req, cat)

    @staticmethod
    def _record(
        uow: UnitOfWork,
        actor: Actor,
        req: RelayRequest,
        kind: str,
        before: dict | None,
        now: int,
        detail: dict | None = None,
    ) -> None:
        uow.session.flush()
        uow.repo.add_event(kind, request=req, time_ms=now, detail=detail)
        uow.repo.add_audit(
            actor=actor.name,
            user_id=actor.user_id,
            action=kind,
            entity="request",
            entity_id=req.id,
            before=before,
            after=request_snapshot(req),
            time_ms=now,
        )

    # -- conflicts and busy windows ------------------------------------------------------
    def conflicts(self, actor: Actor, orbiter: str | None = None) -> list[dict[str, Any]]:
        """Overlapping pairs of live requests on one orbiter: all pairs to the orbiter's
        agency and admins, to a lander's agency the pairs with one of its own requests."""
        with self.uow() as uow:
            cat = uow.repo.catalog()
            found, orbiter_id = self.filter_asset(cat, orbiter, "orbiter")
            if not found:
                return []
            live = uow.repo.live_requests(orbiter_id)
            by_id = {r.id: r for r in live}
            pairs = overlapping_pairs(
                (r.id, cat.assets[r.orbiter_id].name, Window(r.start_ms, r.end_ms)) for r in live
            )
            mine = self.agency_filter(actor, cat)
            out = []
            for group, a, b, common in pairs:
                ra, rb = by_id[a], by_id[b]
                if mine is not None and mine not in (
                    ra.orbiter_agency_id,
                    ra.lander_agency_id,
                    rb.lander_agency_id,
                ):
                    continue
                out.append(
                    {
                        "orbiter": group,
                        "request_ids": [a, b],
                        "overlap_start_utc": format_ms(common.start_ms),
                        "overlap_end_utc": format_ms(common.end_ms),
                    }
                )
            return out

    def busy(
        self, orbiter: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[dict[str, Any]]:
        """Acknowledged and implemented windows (no owner, no volumes), time-ordered."""
        start_ms, end_ms = self.window_params(start, end)
        with self.uow() as uow:
            cat = uow.repo.catalog()
            found, orbiter_id = self.filter_asset(cat, orbiter, "orbiter")
            if not found:
                return []
            rows = uow.repo.busy(orbiter_id, start_ms, end_ms)
            return [
                {
                    "orbiter": cat.assets[r.orbiter_id].name,
                    "start_utc": format_ms(r.start_ms),
                    "end_utc": format_ms(r.end_ms),
                }
                for r in rows
            ]
