"""The optimiser's proposal for an orbiter (``/plan`` of the REST contract) and applying it in
one click: each proposed grant is an acknowledgement of that request with the proposed
(possibly split) window, quoting the version the proposal was made from.

Applying is not one transaction: each acknowledgement is its own, in time order, and the page
reports each outcome (a request changed meanwhile answers 409 and is left as it is).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from marsrelay.service.domain.errors import ServiceError
from marsrelay.service.domain.permissions import Action, Actor, may
from marsrelay.service.schemas import Body
from marsrelay.service.web.auth import (
    PageError,
    base_context,
    posted_form,
    require_session,
    service_of,
)
from marsrelay.service.web.forms import problem_text, status_of, text_field
from marsrelay.service.web.pages_timeline import lmst_clock
from marsrelay.service.web.render import render_html
from marsrelay.service.web.times import to_ms

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _plannable(service: Any, actor: Actor) -> list[dict[str, Any]]:
    return [
        a for a in service.assets()
        if a["kind"] == "orbiter" and may(actor, Action.PLAN, orbiter_agency=a["agency"])
    ]


def _context(request: Request, info: Any, orbiter: str | None) -> dict[str, Any]:
    service = service_of(request)
    orbiters = _plannable(service, info.actor)
    if not orbiters:
        raise PageError(403, "No orbiter to plan",
                        f"{info.actor.agency} owns no orbiter: plans are made by an orbiter's "
                        "agency.")
    ctx = base_context(request, info, "Plan", "plan")
    chosen = orbiter or orbiters[0]["name"]
    ctx.update(orbiters=orbiters, orbiter=chosen, plan=None, problem="", start="", end="",
               applied=None, may_apply=False, time_limit_s=service.settings.plan_time_limit_s)
    return ctx


@router.get("/plan")
def plan_form(request: Request) -> Response:
    info = require_session(request)
    ctx = _context(request, info, request.query_params.get("orbiter"))
    return render_html("plan.html", ctx)


@router.post("/plan")
async def plan_run(request: Request) -> Response:
    info, form = await posted_form(request)
    service = service_of(request)
    orbiter = text_field(form, "orbiter", 64)
    start, end = text_field(form, "start_utc", 40), text_field(form, "end_utc", 40)
    ctx = await run_in_threadpool(_context, request, info, orbiter or None)
    ctx.update(start=start, end=end)
    body: dict[str, Any] = {"orbiter": orbiter}
    if start:
        body["start_utc"] = start
    if end:
        body["end_utc"] = end
    try:
        plan = await run_in_threadpool(service.plan, info.actor, Body(body))
    except ServiceError as exc:
        ctx.update(problem=problem_text(exc))
        return render_html("plan.html", ctx, status=status_of(exc))
    versions = {
        r["id"]: r for r in await run_in_threadpool(
            lambda: service.list_requests(info.actor, orbiter=plan["orbiter"])
        )
    }
    clock = lmst_clock(service)
    items = []
    for item in plan["items"]:
        r = versions.get(item["request_id"], {})
        items.append({
            **item,
            "version": r.get("version"),
            "lander_agency": r.get("lander_agency", ""),
            "lmst_start": clock(item["lander"], item["start_utc"]) if item["start_utc"] else "",
            "to_apply": item["acknowledge"] and item["state"] == "requested",
        })
    agency = next(o["agency"] for o in ctx["orbiters"] if o["name"] == plan["orbiter"])
    ctx.update(
        plan={**plan, "items": items}, orbiter=plan["orbiter"],
        may_apply=may(info.actor, Action.ACKNOWLEDGE, orbiter_agency=agency)
        and any(i["to_apply"] for i in items),
    )
    return render_html("plan.html", ctx)


@router.post("/plan/apply")
async def plan_apply(request: Request) -> Response:
    info, form = await posted_form(request)
    service = service_of(request)
    orbiter = text_field(form, "orbiter", 64)
    grants = []
    for raw in form.getlist("grant"):
        parts = str(raw).split("|")
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            raise PageError(422, "Plan not applied", "The plan form is damaged; make it again.")
        grants.append((int(parts[0]), int(parts[1]), parts[2], parts[3]))
    grants.sort(key=lambda g: (to_ms(g[2]) if g[2] else 0, g[0]))
    outcomes = []
    for request_id, version, start, end in grants:
        body = {"version": version, "start_utc": start, "end_utc": end}
        try:
            done = await run_in_threadpool(
                service.act, info.actor, request_id, Action.ACKNOWLEDGE, Body(body)
            )
        except ServiceError as exc:
            outcomes.append({"request_id": request_id, "ok": False, "text": problem_text(exc),
                             "status": status_of(exc)})
        else:
            outcomes.append({"request_id": request_id, "ok": True,
                             "text": f"acknowledged {done['start_utc']} to {done['end_utc']}",
                             "status": 200})
    ctx = await run_in_threadpool(_context, request, info, orbiter or None)
    ctx.update(applied=outcomes)
    failed = [o for o in outcomes if not o["ok"]]
    status = 200 if not failed else (failed[0]["status"] if len(failed) == len(outcomes) else 200)
    return render_html("plan.html", ctx, status=status)
