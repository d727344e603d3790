"""``GET /health`` (no token) and ``GET /me``."""

from __future__ import annotations

from fastapi import APIRouter

from marsrelay.service.api.deps import ActorDep
from marsrelay.service.schemas import Health, Me

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health)
def health() -> dict[str, str]:
    """Liveness: ``{"status": "ok"}``; needs no token."""
    return {"status": "ok"}


@router.get("/me", response_model=Me)
def me(actor: ActorDep) -> dict[str, str]:
    """The caller: name, agency and role."""
    return {"name": actor.name, "agency": actor.agency, "role": actor.role.value}
