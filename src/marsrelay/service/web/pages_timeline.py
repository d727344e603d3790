"""The timeline of an orbiter (chart and tables) and an overflight's page with the request
form (whole or split window, the predicted volume shown before it is sent)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from marsrelay.service.domain.errors import NotFoundError, ServiceError
from marsrelay.service.domain.permissions import Action, Actor, may
from marsrelay.service.ops import RelayService
from marsrelay.service.schemas import Body
from marsrelay.service.timefmt import TimeFormatError, format_ms, parse_ms
from marsrelay.service.web.auth import (
    PageError,
    base_context,
    posted_form,
    require_session,
    service_of,
    session_of,
)
from marsrelay.service.web.forms import (
    FormError,
    bits_field,
    int_field,
    problem_text,
    status_of,
    text_field,
)
from marsrelay.service.web.render import duration, mbit, render_html
from marsrelay.service.web.timeline import layout_timeline
from marsrelay.service.web.times import lmst_text, to_ms

__all__ = ["LmstClock", "router"]

router = APIRouter(include_in_schema=False)

_HOUR_MS = 3_600_000
#: Spans the timeline offers (minutes) and their names; the longest is its limit.
SPANS_MIN = {30: "30 minutes", 60: "1 hour", 180: "3 hours", 360: "6 hours", 720: "12 hours",
             1440: "1 day", 2880: "2 days", 10080: "7 days"}


class LmstClock:
    """Each lander's LMST at a UTC time (longitudes read once from the scenario)."""

    def __init__(self, service: RelayService) -> None:
        self.lon = service.lander_longitudes()

    def __call__(self, lander: str, when: int | str) -> str:
        lon = self.lon.get(lander)
        return "--:--" if lon is None else lmst_text(to_ms(when), lon)


def lmst_clock(service: RelayService) -> LmstClock:
    clock = getattr(service, "_web_lmst_clock", None)
    if clock is None:
        clock = LmstClock(service)
        service._web_lmst_clock = clock  # type: ignore[attr-defined]
    return clock


@router.get("/")
def index(request: Request) -> Response:
    require_session(request)
    return RedirectResponse("/timeline", status_code=303)


def _default_orbiter(assets: list[dict[str, Any]], actor: Actor) -> str | None:
    orbiters = [a for a in assets if a["kind"] == "orbiter"]
    own = [a for a in orbiters if a["agency"] == actor.agency]
    pick = (own or orbiters or [None])[0]
    return pick["name"] if pick else None


@router.get("/timeline")
def timeline(request: Request) -> Response:
    info = require_session(request)
    service = service_of(request)
    actor = info.actor
    q = request.query_params
    assets = service.assets()
    orbiters = [a for a in assets if a["kind"] == "orbiter"]
    landers = [a for a in assets if a["kind"] == "lander"]
    orbiter = q.get("orbiter") or _default_orbiter(assets, actor)
    if orbiter not in {o["name"] for o in orbiters}:
        raise PageError(404, "No such orbiter", f"There is no orbiter called {orbiter!r}.")
    problems = []
    span_text = q.get("span") or "1440"
    span = int(span_text) if span_text.isdigit() else 0
    if span not in SPANS_MIN:
        problems.append(f"Span: one of {', '.join(map(str, SPANS_MIN))} minutes; showing a day.")
        span = 1440
    meta = service.describe()
    span_start = parse_ms(meta.get("span_start_utc", "2030-01-01T00:00:00Z"))
    span_end = parse_ms(meta.get("span_end_utc", "2030-01-02T00:00:00Z"))
    try:
        start_ms = parse_ms(q["start"]) if q.get("start") else span_start // _HOUR_MS * _HOUR_MS
    except TimeFormatError:
        problems.append(
            "Start: not a UTC time such as 2030-11-01T12:00:00Z; showing the first day."
        )
        start_ms = span_start // _HOUR_MS * _HOUR_MS
    end_ms = start_ms + span * 60_000
    start, end = format_ms(start_ms), format_ms(end_ms)
    overflights = service.overflights(orbiter=orbiter, start=start, end=end)
    requests = service.list_requests(actor, orbiter=orbiter, start=start, end=end)
    busy = service.busy(orbiter=orbiter, start=start, end=end)
    conflicts = [
        c for c in service.conflicts(actor, orbiter=orbiter)
        if to_ms(c["overlap_end_utc"]) > start_ms and to_ms(c["overlap_start_utc"]) < end_ms
    ]
    clock = lmst_clock(service)
    chart = layout_timeline(
        start_ms=start_ms, end_ms=end_ms,
        landers=[(a["name"], a["agency"]) for a in landers],
        overflights=overflights, requests=requests, busy=busy, conflicts=conflicts,
        my_agency=actor.agency, lmst=clock,
    )
    in_conflict: dict[int, list[int]] = {}
    for c in conflicts:
        a, b = c["request_ids"]
        in_conflict.setdefault(a, []).append(b)
        in_conflict.setdefault(b, []).append(a)
    by_ov: dict[int, list[dict[str, Any]]] = {}
    for r in requests:
        by_ov.setdefault(r["overflight_id"], []).append(r)
    lander_agency = {a["name"]: a["agency"] for a in landers}
    ov_rows = [
        {
            **ov,
            "lmst_start": clock(ov["lander"], ov["start_utc"]),
            "lmst_end": clock(ov["lander"], ov["end_utc"]),
            "own": lander_agency.get(ov["lander"]) == actor.agency,
            "requests": by_ov.get(ov["id"], []),
            "may_request": may(actor, Action.CREATE, lander_agency=lander_agency.get(ov["lander"])),
        }
        for ov in overflights
    ]
    req_rows = [
        {
            **r,
            "lmst_start": clock(r["lander"], r["start_utc"]),
            "lmst_end": clock(r["lander"], r["end_utc"]),
            "conflicts_with": in_conflict.get(r["id"], []),
            "split": (r["start_utc"], r["end_utc"])
            != (r["requested_start_utc"], r["requested_end_utc"]),
        }
        for r in requests
    ]
    ctx = base_context(request, info, f"Timeline of {orbiter}", "timeline")
    ctx.update(
        orbiter=orbiter, orbiters=orbiters, orbiter_agency=next(
            o["agency"] for o in orbiters if o["name"] == orbiter),
        landers=landers, start=start, end=end, span=span, spans=SPANS_MIN,
        prev_start=format_ms(start_ms - span * 60_000),
        next_start=format_ms(end_ms), chart=chart, overflights=ov_rows, requests=req_rows,
        busy=busy, conflicts=conflicts, problems=problems,
        scenario_start=format_ms(span_start), scenario_end=format_ms(span_end),
        clock=clock,
    )
    return render_html("timeline.html", ctx)


# -- an overflight and the request form -----------------------------------------------------


def _overflight_context(
    request: Request, info: Any, overflight_id: int, start_utc: str | None, end_utc: str | None
) -> dict[str, Any]:
    service = service_of(request)
    actor = info.actor
    try:
        ov = service.overflight(overflight_id)
    except NotFoundError:
        raise PageError(404, "No such overflight",
                        f"Overflight {overflight_id} does not exist.") from None
    assets = {a["name"]: a for a in service.assets()}
    lander_agency = assets[ov["lander"]]["agency"]
    orbiter_agency = assets[ov["orbiter"]]["agency"]
    clock = lmst_clock(service)
    share, share_error = None, ""
    try:
        share = service.window_share(overflight_id, start_utc, end_utc)
    except ServiceError as exc:
        share_error = problem_text(exc)
    others = service.list_requests(actor, orbiter=ov["orbiter"], start=ov["start_utc"],
                                   end=ov["end_utc"])
    busy = service.busy(orbiter=ov["orbiter"], start=ov["start_utc"], end=ov["end_utc"])
    seen = {(r["start_utc"], r["end_utc"]) for r in others
            if r["state"] in ("acknowledged", "implemented")}
    a, b = to_ms(ov["start_utc"]), to_ms(ov["end_utc"])
    mid = format_ms((a + b) // 2)
    ctx = base_context(request, info, f"Overflight {overflight_id}", "timeline")
    ctx.update(
        ov=ov, lander_agency=lander_agency, orbiter_agency=orbiter_agency,
        lmst_start=clock(ov["lander"], ov["start_utc"]),
        lmst_end=clock(ov["lander"], ov["end_utc"]),
        may_create=may(actor, Action.CREATE, lander_agency=lander_agency) and not ov["superseded"],
        share=share, share_error=share_error,
        start_value=start_utc or ov["start_utc"], end_value=end_utc or ov["end_utc"],
        first_half=(ov["start_utc"], mid), second_half=(mid, ov["end_utc"]),
        others=[{**r, "lmst_start": clock(r["lander"], r["start_utc"])} for r in others],
        busy_others=[w for w in busy if (w["start_utc"], w["end_utc"]) not in seen],
        form={}, problem="", note_max=2000,
        day_start=format_ms(a // (24 * _HOUR_MS) * 24 * _HOUR_MS),
    )
    return ctx


@router.get("/overflights/{overflight_id}")
def overflight_page(request: Request, overflight_id: int) -> Response:
    info = require_session(request)
    q = request.query_params
    ctx = _overflight_context(request, info, overflight_id, q.get("start_utc") or None,
                              q.get("end_utc") or None)
    return render_html("overflight.html", ctx)


@router.get("/overflights/{overflight_id}/share")
def overflight_share(request: Request, overflight_id: int) -> Response:
    """The predicted volume of a window (JSON, for the form's live preview)."""
    if session_of(request) is None:
        return JSONResponse({"ok": False, "text": "log in again"}, status_code=401)
    q = request.query_params
    try:
        share = service_of(request).window_share(
            overflight_id, q.get("start_utc") or None, q.get("end_utc") or None
        )
    except ServiceError as exc:
        return JSONResponse({"ok": False, "text": problem_text(exc)}, status_code=422)
    return JSONResponse({
        "ok": True,
        "predicted_bits": share["predicted_bits"],
        "text": f"{mbit(share['predicted_bits'])} predicted over {duration(share['duration_s'])}",
    })


@router.post("/overflights/{overflight_id}")
async def create_request(request: Request, overflight_id: int) -> Response:
    info, form = await posted_form(request)
    service = service_of(request)
    start = text_field(form, "start_utc") or None
    end = text_field(form, "end_utc") or None
    problem = ""
    body: dict[str, Any] = {}
    try:
        body = {
            "overflight_id": overflight_id,
            "return_bits": bits_field(form, "return_mbit", "return_bits", required=True),
            "forward_bits": bits_field(form, "forward_mbit", "forward_bits") or 0,
            "priority": int_field(form, "priority", 1, 5, default=3),
        }
        if start:
            body["start_utc"] = start
        if end:
            body["end_utc"] = end
        note = text_field(form, "note")
        if note:
            body["note"] = note
    except FormError as exc:
        problem = str(exc)
    if not problem and not form.get("preview"):
        try:
            created = await run_in_threadpool(service.create_request, info.actor, Body(body))
        except ServiceError as exc:
            problem = problem_text(exc)
            status = status_of(exc)
        else:
            return RedirectResponse(f"/requests/{created['id']}?done=created", status_code=303)
    else:
        status = 422 if problem else 200
    ctx = await run_in_threadpool(_overflight_context, request, info, overflight_id, start, end)
    ctx.update(form=dict(form), problem=problem)
    return render_html("overflight.html", ctx, status=status)

