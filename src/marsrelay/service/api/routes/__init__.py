"""Routes per resource; ``api_router`` mounts them all (under ``/api/v1`` in the app)."""

from fastapi import APIRouter

from marsrelay.service.api.routes import (
    accounting,
    assets,
    events,
    files,
    health,
    orbiters,
    requests,
    schedule,
)

__all__ = ["api_router"]

api_router = APIRouter()
for _module in (health, assets, requests, files, schedule, accounting, events, orbiters):
    api_router.include_router(_module.router)
