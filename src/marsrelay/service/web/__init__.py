"""The relay coordination pages at ``/``: server-rendered HTML (Jinja2 templates and static
files shipped in this package, no build step, nothing from another site) over the same service
layer as the REST API (:class:`marsrelay.service.ops.RelayService`), with the same permissions.

| module | holds |
|---|---|
| ``auth`` | log-in (throttled), log-out, the page's session, form tokens |
| ``pages_timeline`` | the timeline of an orbiter, an overflight and its request form |
| ``pages_requests`` | the queue, one request and its actions, forward files |
| ``pages_plan`` | the optimiser's proposal and applying it |
| ``pages_misc`` | accounting, notifications |
| ``timeline``, ``plots`` | chart geometry (drawn as SVG by the templates) |
| ``forms``, ``times``, ``render`` | form fields -> bodies, UTC and LMST, rendering |
| ``throttle`` | log-in limits per user name and per client address |

The pages work under a strict Content Security Policy (no inline script or style); the one
script (``static/marsrelay.js``) only improves them: the live volume preview of the request
form, the unread count in the header and the file size check. Everything works without it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from marsrelay.service.domain.errors import ServiceError
from marsrelay.service.web import pages_misc, pages_plan, pages_requests, pages_timeline
from marsrelay.service.web.auth import (
    NotLoggedInError,
    PageError,
    base_context,
    login_redirect,
    session_of,
)
from marsrelay.service.web.auth import router as auth_router
from marsrelay.service.web.forms import problem_text, status_of
from marsrelay.service.web.render import render_html
from marsrelay.service.web.throttle import LoginThrottle

__all__ = ["STATIC_DIR", "install_pages"]

Handler = Callable[[Request, Exception], Any]

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotLoggedInError)
    return login_redirect(exc)


def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    info = session_of(request)
    ctx = base_context(request, info, exc.title, "")
    ctx.update(message=exc.message)
    return render_html("error.html", ctx, status=exc.status)


def _pages_first(previous: Handler | None) -> Handler:
    """A handler that answers pages with an HTML error page and leaves everything else
    (the REST API) to ``previous``."""

    def handler(request: Request, exc: Exception) -> Response:
        path = request.url.path
        if previous is not None and (path.startswith(("/api/", "/static/", "/docs"))
                                     or path == "/openapi.json"):
            return previous(request, exc)  # type: ignore[return-value]
        if isinstance(exc, ServiceError):
            status, message = status_of(exc), problem_text(exc)
        else:  # a path parameter that is not an id
            status, message = 404, "There is no such page."
        title = {403: "Not allowed", 404: "Not found", 409: "Changed meanwhile",
                 503: "Try again"}.get(status, "Cannot do that")
        return _page_error(request, PageError(status, title, message))

    return handler


def install_pages(app: FastAPI, throttle: LoginThrottle | None = None) -> None:
    """Add the pages, their static files and their error handling to ``app`` (after the
    API's error handlers: the pages' errors are HTML, the API's stay JSON)."""
    app.state.login_throttle = throttle or LoginThrottle()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        auth_router,
        pages_timeline.router,
        pages_requests.router,
        pages_plan.router,
        pages_misc.router,
    ):
        app.include_router(router)
    app.add_exception_handler(NotLoggedInError, _login_required)
    app.add_exception_handler(PageError, _page_error)
    for cls in (ServiceError, RequestValidationError):
        app.add_exception_handler(cls, _pages_first(app.exception_handlers.get(cls)))
