"""Conflicts, busy windows, the optimiser's plan and the CCSDS SSF export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from marsrelay.service.api.deps import ActorDep, ServiceDep
from marsrelay.service.api.routes._body import json_body
from marsrelay.service.api.routes.requests import BodyDep
from marsrelay.service.schemas import BusyOut, ConflictOut, PlanBody, PlanOut

router = APIRouter(tags=["schedule"])


@router.get("/conflicts", response_model=list[ConflictOut])
def conflicts(
    actor: ActorDep, service: ServiceDep, orbiter: str | None = None
) -> list[dict[str, Any]]:
    """Pairs of live requests on one orbiter whose windows overlap (split windows that only
    touch are no conflict)."""
    return service.conflicts(actor, orbiter)


@router.get("/busy", response_model=list[BusyOut])
def busy(
    _actor: ActorDep,
    service: ServiceDep,
    orbiter: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[dict[str, Any]]:
    """Acknowledged and implemented windows of an orbiter, without owner or volumes."""
    return service.busy(orbiter, start, end)


@router.post("/plan", response_model=PlanOut, openapi_extra=json_body(PlanBody))
async def plan(actor: ActorDep, service: ServiceDep, body: BodyDep) -> dict[str, Any]:
    """marsrelay's optimiser over the orbiter's live requests: which to acknowledge, split
    windows where sharing serves more, the volume each gets. Proposes only; says how long
    it took (``elapsed_ms``)."""
    return await run_in_threadpool(service.plan, actor, body)


@router.get("/export/ssf", responses={200: {"content": {"application/xml": {}}}})
def export_ssf(
    actor: ActorDep,
    service: ServiceDep,
    orbiter: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    """Acknowledged and implemented passes as CCSDS Simple Schedule Format XML (902.1)."""
    return Response(service.export_ssf(actor, orbiter, start, end), media_type="application/xml")
