"""``GET /events`` (polling) and ``GET /audit`` (admins; read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from marsrelay.service.api.deps import ActorDep, ServiceDep
from marsrelay.service.schemas import AuditOut, EventOut

router = APIRouter(tags=["events"])


@router.get("/events", response_model=list[EventOut])
def events(
    actor: ActorDep,
    service: ServiceDep,
    after: int = 0,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> list[dict[str, Any]]:
    """Visible events with ``id > after`` in id order, at most ``limit`` (default and
    maximum 1000)."""
    return service.events(actor, after, limit)


@router.get("/audit", response_model=list[AuditOut])
def audit(
    actor: ActorDep,
    service: ServiceDep,
    after: int = 0,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> list[dict[str, Any]]:
    """Every change (who, when, action, before, after), for admins; nothing writes it."""
    return service.audit(actor, after, limit)
