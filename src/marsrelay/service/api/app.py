"""The FastAPI application: ``create_app(settings)``.

All API routes live under ``/api/v1`` (OpenAPI at ``/openapi.json``, interactive docs at
``/docs``); the web pages (:mod:`marsrelay.service.web`) at ``/``. The service object (and so
the database engine) is created once per app and closed at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from marsrelay import __version__
from marsrelay.service.api.errors import install_error_handlers
from marsrelay.service.api.limits import LimitsMiddleware
from marsrelay.service.api.routes import api_router
from marsrelay.service.config import Settings
from marsrelay.service.db.engine import Database
from marsrelay.service.ops import RelayService
from marsrelay.service.web import install_pages

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, service: RelayService | None = None) -> FastAPI:
    """The application for ``settings`` (default: from the environment), or around an
    existing ``service``."""
    settings = settings or (service.settings if service is not None else Settings.from_env())
    if service is None:
        service = RelayService(Database.open(settings.db_url), settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.db.dispose()

    app = FastAPI(
        title="marsrelay relay coordination service",
        version=__version__,
        summary="Agencies request, negotiate and account for Mars relay passes.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.rate_limiter = None
    app.add_middleware(
        LimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_file_bytes=settings.max_file_bytes,
    )
    install_error_handlers(app)
    app.include_router(api_router, prefix=API_PREFIX)
    install_pages(app)
    return app
