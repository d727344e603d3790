"""Requests: create, list, read, and the state machine's actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from marsrelay.service.api.deps import ActorDep, ServiceDep, WriterDep, read_body
from marsrelay.service.api.routes._body import json_body
from marsrelay.service.domain.permissions import Action
from marsrelay.service.schemas import (
    AckBody,
    Body,
    CancelBody,
    RejectBody,
    RequestCreate,
    RequestOut,
    ResultBody,
)

router = APIRouter(tags=["requests"])
BodyDep = Annotated[Body, Depends(read_body)]


@router.post(
    "/requests", status_code=201, response_model=RequestOut, openapi_extra=json_body(RequestCreate)
)
async def create_request(actor: WriterDep, service: ServiceDep, body: BodyDep) -> dict[str, Any]:
    """Ask for (part of) an overflight: a planner of the lander's agency. The window defaults
    to the whole overflight and must lie inside it."""
    return await run_in_threadpool(service.create_request, actor, body)


@router.get("/requests", response_model=list[RequestOut])
def list_requests(
    actor: ActorDep,
    service: ServiceDep,
    state: str | None = None,
    orbiter: str | None = None,
    lander: str | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """The requests the caller sees (its landers' and its orbiters'; admins: all), by id."""
    return service.list_requests(
        actor,
        state=state,
        orbiter=orbiter,
        lander=lander,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )


@router.get("/requests/{request_id}", response_model=RequestOut)
def get_request(request_id: int, actor: ActorDep, service: ServiceDep) -> dict[str, Any]:
    return service.get_request(actor, request_id)


def _action_route(action: Action, model: type, path: str, doc: str) -> None:
    async def endpoint(
        request_id: int, actor: WriterDep, service: ServiceDep, body: BodyDep
    ) -> dict[str, Any]:
        return await run_in_threadpool(service.act, actor, request_id, action, body)

    endpoint.__name__ = f"{action.value}_request"
    endpoint.__doc__ = doc
    router.add_api_route(
        f"/requests/{{request_id}}/{path}",
        endpoint,
        methods=["POST"],
        response_model=RequestOut,
        openapi_extra=json_body(model),
    )


_action_route(
    Action.ACKNOWLEDGE,
    AckBody,
    "acknowledge",
    "requested -> acknowledged (a planner of the orbiter's agency); 409 on a stale "
    "version or a window overlapping an acknowledged request on the orbiter. "
    "Optional start_utc/end_utc grant only that part of the requested window.",
)
_action_route(
    Action.REJECT,
    RejectBody,
    "reject",
    "requested -> rejected (a planner of the orbiter's agency), with a reason.",
)
_action_route(
    Action.CANCEL,
    CancelBody,
    "cancel",
    "requested or acknowledged -> cancelled (a planner of the lander's agency).",
)
_action_route(
    Action.RECORD_RESULT,
    ResultBody,
    "result",
    "acknowledged -> implemented, with what came back (a planner of the orbiter's agency).",
)
