"""Requests: the queue of an orbiter's agency (with conflicts), the requests of a lander's
agency, one request's page with the actions the user may take (acknowledge, reject with a
reason, record a result, cancel, attach forward files), and those actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from marsrelay.service.domain.errors import NotFoundError, ServiceError
from marsrelay.service.domain.permissions import Action, Actor, may
from marsrelay.service.domain.states import RequestState
from marsrelay.service.schemas import Body
from marsrelay.service.web.auth import (
    PageError,
    base_context,
    posted_form,
    require_session,
    service_of,
)
from marsrelay.service.web.forms import (
    FormError,
    bits_field,
    problem_text,
    status_of,
    text_field,
)
from marsrelay.service.web.pages_timeline import lmst_clock
from marsrelay.service.web.render import render_html

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: The page's action names -> the service's actions.
ACTIONS = {
    "acknowledge": Action.ACKNOWLEDGE,
    "reject": Action.REJECT,
    "cancel": Action.CANCEL,
    "result": Action.RECORD_RESULT,
}

DONE = {
    "created": "Request sent: {orbiter_agency} sees it in its queue.",
    "acknowledged": "Acknowledged.",
    "rejected": "Rejected.",
    "cancelled": "Cancelled.",
    "implemented": "Result recorded: the pass counts in the accounting now.",
    "file": "File attached.",
}


def offered(actor: Actor, r: dict[str, Any]) -> dict[str, bool]:
    """Which actions to offer on request ``r``: permitted to ``actor`` and allowed by the
    state (the service checks both again when the form is sent)."""
    agencies = {"lander_agency": r["lander_agency"], "orbiter_agency": r["orbiter_agency"]}
    state = r["state"]
    live = state in (RequestState.REQUESTED, RequestState.ACKNOWLEDGED)
    return {
        "acknowledge": state == RequestState.REQUESTED
        and may(actor, Action.ACKNOWLEDGE, **agencies),
        "reject": state == RequestState.REQUESTED and may(actor, Action.REJECT, **agencies),
        "result": state == RequestState.ACKNOWLEDGED
        and may(actor, Action.RECORD_RESULT, **agencies),
        "cancel": live and may(actor, Action.CANCEL, **agencies),
        "attach": live and may(actor, Action.ATTACH_FILE, **agencies),
    }


def _conflict_map(conflicts: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for c in conflicts:
        a, b = c["request_ids"]
        out.setdefault(a, []).append({"other": b, **c})
        out.setdefault(b, []).append({"other": a, **c})
    return out


@router.get("/requests")
def requests_page(request: Request) -> Response:
    info = require_session(request)
    service = service_of(request)
    actor = info.actor
    q = request.query_params
    state = q.get("state") or None
    if state is not None and state not in {s.value for s in RequestState}:
        state = None
    rows = service.list_requests(actor, state=state)
    conflicts = _conflict_map(service.conflicts(actor))
    clock = lmst_clock(service)
    items = [
        {**r, "conflicts": conflicts.get(r["id"], []), "offer": offered(actor, r),
         "lmst_start": clock(r["lander"], r["start_utc"])}
        for r in rows
    ]
    if actor.is_admin:
        sections = [("All requests", items)]
    else:
        sections = [
            (f"On {actor.agency}'s orbiters (your queue)",
             [r for r in items if r["orbiter_agency"] == actor.agency]),
            (f"For {actor.agency}'s landers",
             [r for r in items if r["lander_agency"] == actor.agency
              and r["orbiter_agency"] != actor.agency]),
        ]
    ctx = base_context(request, info, "Requests", "requests")
    done = q.get("done", "")
    ctx.update(sections=sections, state=state or "", states=[s.value for s in RequestState],
               n_conflicts=sum(1 for r in items if r["conflicts"]),
               done=f"Request {done}." if done in {s.value for s in RequestState} else "")
    return render_html("requests.html", ctx)


def _request_context(request: Request, info: Any, request_id: int) -> dict[str, Any]:
    service = service_of(request)
    actor = info.actor
    try:
        r = service.get_request(actor, request_id)
    except NotFoundError:
        raise PageError(404, "No such request",
                        f"Request {request_id} does not exist or is not visible to you.") from None
    ov = service.overflight(r["overflight_id"])
    conflicts = _conflict_map(service.conflicts(actor, orbiter=r["orbiter"])).get(r["id"], [])
    clock = lmst_clock(service)
    ctx = base_context(request, info, f"Request {request_id}", "requests")
    ctx.update(
        r=r, ov=ov, files=service.list_files(actor, request_id), conflicts=conflicts,
        offer=offered(actor, r), clock=clock, problem="", form={},
        max_file_bytes=service.settings.max_file_bytes,
        split=(r["start_utc"], r["end_utc"]) != (r["requested_start_utc"], r["requested_end_utc"]),
        done=DONE.get(request.query_params.get("done", ""), "").format(**r),
    )
    return ctx


@router.get("/requests/{request_id}")
def request_page(request: Request, request_id: int) -> Response:
    info = require_session(request)
    return render_html("request.html", _request_context(request, info, request_id))


def _action_body(action: str, form: Any) -> dict[str, Any]:
    version_text = text_field(form, "version", 20)
    if not version_text.isdigit():
        raise FormError("Version: missing; reload the page")
    body: dict[str, Any] = {"version": int(version_text)}
    if action == "acknowledge":
        for key in ("start_utc", "end_utc"):
            value = text_field(form, key, 40)
            if value:
                body[key] = value
    elif action == "reject":
        reason = text_field(form, "reason")
        if not reason:
            raise FormError("Reason: required, so the lander's team knows why")
        body["reason"] = reason
    elif action == "cancel":
        reason = text_field(form, "reason")
        if reason:
            body["reason"] = reason
    elif action == "result":
        body["returned_bits"] = bits_field(form, "returned_mbit", "returned_bits", required=True)
        body["forward_delivered"] = form.get("forward_delivered") == "yes"
    return body


@router.post("/requests/{request_id}/{action}")
async def request_action(request: Request, request_id: int, action: str) -> Response:
    if action == "files":
        return await _attach(request, request_id)
    if action not in ACTIONS:
        raise PageError(404, "No such action", f"There is no action {action!r}.")
    info, form = await posted_form(request)
    service = service_of(request)
    back = text_field(form, "back", 300)
    try:
        body = _action_body(action, form)
        done = await run_in_threadpool(
            service.act, info.actor, request_id, ACTIONS[action], Body(body)
        )
    except FormError as exc:
        problem, status = str(exc), 422
    except ServiceError as exc:
        if isinstance(exc, NotFoundError):
            raise PageError(404, "No such request", problem_text(exc)) from None
        problem, status = problem_text(exc), status_of(exc)
    else:
        target = back if back.startswith("/requests") and not back.startswith("//") else (
            f"/requests/{request_id}")
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}done={done['state']}", status_code=303)
    ctx = await run_in_threadpool(_request_context, request, info, request_id)
    ctx.update(problem=problem, problem_action=action, form=dict(form))
    return render_html("request.html", ctx, status=status)


async def _attach(request: Request, request_id: int) -> Response:
    info, form = await posted_form(request, files=1)
    service = service_of(request)
    part = form.get("file")
    content = filename = content_type = None
    if isinstance(part, UploadFile) and part.filename:
        content = await part.read(service.settings.max_file_bytes + 1)
        filename, content_type = part.filename, part.content_type
    await form.close()
    try:
        await run_in_threadpool(
            lambda: service.attach_file(info.actor, request_id, filename=filename,
                                        content_type=content_type, content=content)
        )
    except ServiceError as exc:
        if isinstance(exc, NotFoundError):
            raise PageError(404, "No such request", problem_text(exc)) from None
        ctx = await run_in_threadpool(_request_context, request, info, request_id)
        ctx.update(problem=problem_text(exc), problem_action="attach")
        return render_html("request.html", ctx, status=status_of(exc))
    return RedirectResponse(f"/requests/{request_id}?done=file", status_code=303)


@router.get("/requests/{request_id}/files/{file_id}")
def download(request: Request, request_id: int, file_id: int) -> Response:
    info = require_session(request)
    try:
        stored = service_of(request).get_file(info.actor, request_id, file_id)
    except NotFoundError as exc:
        raise PageError(404, "No such file", problem_text(exc)) from None
    safe = stored.filename.replace('"', "").encode("ascii", "replace").decode()
    return Response(
        stored.content,
        media_type="application/octet-stream",
        headers={
            "X-Checksum-SHA256": stored.sha256,
            "Content-Disposition": f'attachment; filename="{safe}"',
        },
    )
