"""Dependencies of the routes: the service, the authenticated caller, the raw body.

Authentication runs as a dependency, so it is settled before any query or path parameter is
validated (no token -> 401, never 422). ``write_guard`` is the hook for per-token rate limits
on writes (``app.state.rate_limiter``: any object with ``check(actor, action) -> float | None``
returning the seconds to wait, or None; 429 with ``Retry-After``). None installed by default.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from marsrelay.service.domain.permissions import Actor
from marsrelay.service.ops import RelayService
from marsrelay.service.schemas import Body

__all__ = [
    "ActorDep",
    "ServiceDep",
    "WriterDep",
    "current_actor",
    "get_service",
    "read_body",
    "write_guard",
]

_bearer = HTTPBearer(auto_error=False, description="API token from `marsrelay service add-user`")


def get_service(request: Request) -> RelayService:
    return request.app.state.service


ServiceDep = Annotated[RelayService, Depends(get_service)]


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller of a bearer token; 401 (with ``WWW-Authenticate``) when missing or wrong."""
    token = credentials.credentials if credentials is not None else None
    service: RelayService = request.app.state.service
    actor = await run_in_threadpool(service.authenticate, token) if token else None
    if actor is None:
        raise HTTPException(
            status_code=401,
            detail="missing or invalid API token (send Authorization: Bearer TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


async def write_guard(request: Request, actor: ActorDep) -> Actor:
    """Rate-limit hook for writes (see the module docstring)."""
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        wait_s = limiter.check(actor, request.url.path)
        if wait_s is not None:
            raise HTTPException(
                status_code=429,
                detail="too many requests; slow down",
                headers={"Retry-After": str(max(1, int(wait_s + 0.999)))},
            )
    return actor


WriterDep = Annotated[Actor, Depends(write_guard)]


async def read_body(request: Request) -> Body:
    """The raw JSON body, not validated yet (the service validates it after 404/403)."""
    return Body.from_bytes(await request.body())
