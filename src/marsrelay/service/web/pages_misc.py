"""Accounting (table and plot) and notifications (the user's events since the last visit, the
unread count the header shows and the script refreshes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from marsrelay.service.domain.errors import ServiceError
from marsrelay.service.web.auth import (
    base_context,
    posted_form,
    require_session,
    service_of,
    session_of,
)
from marsrelay.service.web.forms import problem_text, text_field
from marsrelay.service.web.plots import agency_totals, layout_accounting
from marsrelay.service.web.render import render_html

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: Notifications shown per page.
NOTIFICATIONS_PAGE = 200


@router.get("/accounting")
def accounting(request: Request) -> Response:
    info = require_session(request)
    service = service_of(request)
    q = request.query_params
    start, end = q.get("start") or None, q.get("end") or None
    problem = ""
    try:
        rows = service.accounting(info.actor, start, end)
    except ServiceError as exc:
        problem, rows = problem_text(exc), []
    ctx = base_context(request, info, "Accounting", "accounting")
    ctx.update(rows=rows, totals=agency_totals(rows), plot=layout_accounting(rows),
               start=start or "", end=end or "", problem=problem)
    return render_html("accounting.html", ctx, status=422 if problem else 200)


def describe_event(ev: dict[str, Any]) -> str:
    """One sentence for an event of ``/events``."""
    if ev["kind"] == "trajectory" and ev["request_id"] is None:
        d = ev.get("detail") or {}
        return (
            f"{ev['orbiter']} has a new trajectory (version {ev['version']}): "
            f"{d.get('overflights', '?')} overflights predicted, {d.get('relinked', 0)} "
            f"requests re-linked, {d.get('stale', 0)} made stale"
        )
    verb = {
        "created": "was requested",
        "acknowledged": "was acknowledged",
        "rejected": "was rejected",
        "cancelled": "was cancelled",
        "implemented": "was implemented (result recorded)",
        "stale": "became stale: a new trajectory moved its pass",
        "trajectory": "was re-linked to a new trajectory's overflight",
    }.get(ev["kind"], ev["kind"])
    return f"Request #{ev['request_id']} on {ev['orbiter']} {verb}"


@router.get("/notifications")
def notifications(request: Request) -> Response:
    info = require_session(request)
    service = service_of(request)
    q = request.query_params
    after_text = q.get("after") or ""
    after = int(after_text) if after_text.isdigit() else info.seen_event_id
    events = service.events(info.actor, after=after, limit=NOTIFICATIONS_PAGE)
    items = [
        {**ev, "text": describe_event(ev), "new": ev["id"] > info.seen_event_id}
        for ev in reversed(events)
    ]
    ctx = base_context(request, info, "Notifications", "notifications")
    ctx.update(
        items=items, seen=info.seen_event_id, after=after,
        last_id=events[-1]["id"] if events else after,
        more=len(events) == NOTIFICATIONS_PAGE,
        earlier=max(0, after - NOTIFICATIONS_PAGE) if after > 0 else None,
    )
    return render_html("notifications.html", ctx)


@router.post("/notifications/read")
async def mark_read(request: Request) -> Response:
    info, form = await posted_form(request)
    up_to = text_field(form, "up_to", 20)
    if up_to.isdigit():
        await run_in_threadpool(service_of(request).mark_read, info.actor, int(up_to))
    return RedirectResponse("/notifications", status_code=303)


@router.get("/notifications/count")
def unread_count(request: Request) -> Response:
    """The unread count (JSON) for the header's badge."""
    info = session_of(request)
    if info is None:
        return JSONResponse({"unread": None}, status_code=401)
    return JSONResponse({"unread": service_of(request).unread_count(info.actor,
                                                                    info.seen_event_id)})
