"""``GET /accounting``: relay given and received per agency pair."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from marsrelay.service.api.deps import ActorDep, ServiceDep
from marsrelay.service.schemas import AccountingRow

router = APIRouter(tags=["accounting"])


@router.get("/accounting", response_model=list[AccountingRow])
def accounting(
    actor: ActorDep, service: ServiceDep, start: str | None = None, end: str | None = None
) -> list[dict[str, Any]]:
    """Implemented passes overlapping ``[start, end)`` per (provider, user) agency."""
    return service.accounting(actor, start, end)
