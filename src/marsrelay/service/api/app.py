"""The FastAPI application: ``create_app(settings)``.

All API routes live under ``/api/v1`` (OpenAPI at ``/openapi.json``); the web pages
(:mod:`marsrelay.service.web`) at ``/``. The service object (and so the database engine) is
created once per app and closed at shutdown. There is no ``/docs`` page: FastAPI's Swagger
UI loads its script from a CDN and runs inline script, which the service's
Content-Security-Policy forbids (load ``/openapi.json`` into any OpenAPI viewer instead).

Middleware, outermost first: :class:`~marsrelay.service.api.headers.SecurityHeadersMiddleware`
(every response, pages included), then
:class:`~marsrelay.service.api.limits.LimitsMiddleware` (body sizes and slow bodies).
``app.state.rate_limiter`` (:class:`~marsrelay.service.ratelimit.RateLimiter`) serves the
API's writes and the pages' log-ins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from marsrelay import __version__
from marsrelay.service.api.errors import ERROR_RESPONSES, install_error_handlers
from marsrelay.service.api.headers import SecurityHeadersMiddleware
from marsrelay.service.api.limits import LimitsMiddleware
from marsrelay.service.api.routes import api_router
from marsrelay.service.config import Settings
from marsrelay.service.db.engine import Database
from marsrelay.service.ops import RelayService
from marsrelay.service.ratelimit import RateLimiter
from marsrelay.service.web import install_pages

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, service: RelayService | None = None) -> FastAPI:
    """The application for ``settings`` (default: from the environment), or around an
    existing ``service``."""
    settings = settings or (service.settings if service is not None else Settings.from_env())
    if service is None:
        service = RelayService(Database.open(settings.db_url), settings)

    limiter = RateLimiter.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Database work runs in this many threads (the engine's pool is larger).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
        limiter.close()
        service.db.dispose()

    app = FastAPI(
        title="marsrelay relay coordination service",
        version=__version__,
        summary="Agencies request, negotiate and account for Mars relay passes.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.rate_limiter = limiter
    app.add_middleware(
        LimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_file_bytes=settings.max_file_bytes,
        client_timeout_s=settings.client_timeout_s,
        body_timeout_s=settings.body_timeout_s,
    )
    app.add_middleware(SecurityHeadersMiddleware)  # added last: outermost
    install_error_handlers(app)
    app.include_router(api_router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    install_pages(app)
    return app
