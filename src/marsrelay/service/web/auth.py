"""Log-in, log-out, the session of a page and the form tokens.

- The session cookie (``marsrelay_session``) is HttpOnly, SameSite=Strict, ``Path=/``, Secure
  when the page is served over https, and expires with the session (see
  :mod:`marsrelay.service.ops.web`).
- Every form carries the session's synchronizer token (``csrf_token``); a POST without it, or
  with another session's, is refused (403) before anything runs.
- The log-in form comes before any session: its token is an HMAC of a random nonce held in a
  short-lived cookie (``marsrelay_login``), so a page of another site cannot log a browser in.
- Failed log-ins are throttled per user name and per client address
  (:mod:`marsrelay.service.web.throttle`): 429 with ``Retry-After``, and the page says when.
"""

from __future__ import annotations

import math
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from marsrelay.service.domain.permissions import Actor
from marsrelay.service.ops import RelayService
from marsrelay.service.ops.web import SESSION_MAX_S, WebSessionInfo
from marsrelay.service.timefmt import format_ms, now_ms
from marsrelay.service.web.render import PAGE_HEADERS, render_html
from marsrelay.service.web.throttle import LoginThrottle

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "NotLoggedInError",
    "PageError",
    "base_context",
    "posted_form",
    "require_session",
    "router",
    "service_of",
    "session_of",
]

SESSION_COOKIE = "marsrelay_session"
LOGIN_COOKIE = "marsrelay_login"
#: How long a log-in form stays usable (s).
LOGIN_FORM_S = 3600

router = APIRouter(include_in_schema=False)


class NotLoggedInError(Exception):
    """No live session: the page answers with a redirect to the log-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageError(Exception):
    """A page that cannot be shown or a form that cannot be used: status and a message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def service_of(request: Request) -> RelayService:
    return request.app.state.service


def throttle_of(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle


def session_of(request: Request) -> WebSessionInfo | None:
    """The request's live session (looked up once per request)."""
    if not hasattr(request.state, "web_session"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.web_session = service_of(request).session(token) if token else None
    return request.state.web_session


def require_session(request: Request) -> WebSessionInfo:
    info = session_of(request)
    if info is None:
        path = request.url.path
        if request.url.query and request.method == "GET":
            path += "?" + request.url.query
        raise NotLoggedInError(path if request.method == "GET" else "/")
    return info


async def posted_form(request: Request, *, files: int = 0) -> tuple[WebSessionInfo, FormData]:
    """The session and the form of a POST, after its token is checked (403 otherwise)."""
    info = await run_in_threadpool(require_session, request)
    try:
        form = await request.form(max_files=files, max_fields=200)
    except Exception:  # malformed form data
        raise PageError(400, "Bad form", "The form data could not be read.") from None
    presented = form.get("csrf_token")
    if not RelayService.csrf_ok(info, presented if isinstance(presented, str) else None):
        await form.close()
        raise PageError(
            403,
            "Form refused",
            "The form's security token is missing or does not belong to your session "
            "(it may have expired). Reload the page and try again.",
        )
    return info, form


def _safe_next(path: str | None) -> str:
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/timeline"
    return path


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def base_context(request: Request, info: WebSessionInfo | None, title: str, nav: str) -> dict:
    """What every page's layout needs: the user, the form token, unread count, navigation."""
    ctx: dict[str, Any] = {"title": title, "nav": nav, "user": None, "csrf": "", "unread": 0,
                           "owns_orbiter": False, "request_path": request.url.path}
    if info is not None:
        service = service_of(request)
        actor: Actor = info.actor
        ctx.update(
            user=actor,
            csrf=info.csrf_token,
            unread=service.unread_count(actor, info.seen_event_id),
            owns_orbiter=actor.is_admin or any(
                a["kind"] == "orbiter" and a["agency"] == actor.agency for a in service.assets()
            ),
            session_ends=format_ms(info.expires_ms),
        )
    return ctx


# -- log-in and log-out ---------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    status: int = 200,
    name: str = "",
    error: str = "",
    retry_utc: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    service = service_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    fresh = len(nonce) != 43
    if fresh:
        nonce = secrets.token_urlsafe(32)
    ctx = base_context(request, None, "Log in", "login")
    ctx.update(
        form_token=service.login_form_token(nonce),
        name=name,
        error=error,
        retry_utc=retry_utc,
        next=_safe_next(request.query_params.get("next")),
        logged_out=request.query_params.get("out") == "1",
        session_hours=SESSION_MAX_S // 3600,
    )
    response = render_html("login.html", ctx, status=status, headers=headers)
    if fresh:
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_S, path="/login",
                            httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if session_of(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    service = service_of(request)
    throttle = throttle_of(request)
    try:
        form = await request.form(max_files=0, max_fields=10)
    except Exception:
        raise PageError(400, "Bad form", "The form data could not be read.") from None
    name = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    presented = str(form.get("form_token") or "")
    expected = await run_in_threadpool(service.login_form_token, nonce) if nonce else ""
    if not nonce or not secrets.compare_digest(expected, presented):
        return _login_page(
            request, status=403, name=name,
            error="The log-in form has expired or did not come from this site; try again.",
        )
    address = request.client.host if request.client else "unknown"
    wait_s = throttle.retry_after(name, address)
    limiter = getattr(request.app.state, "rate_limiter", None)
    if wait_s is None and limiter is not None:
        # Attempts per user name, shared between ``serve --workers`` processes (the
        # failure count above is per process).
        wait_s = limiter.check("login:" + name.strip().casefold()[:64], "login")
    if wait_s is not None:
        wait = max(1, math.ceil(wait_s))
        return _login_page(
            request, status=429, name=name,
            error=f"Too many failed log-ins for this user name or from this address. "
                  f"Try again in {wait} s.",
            retry_utc=format_ms(now_ms() + wait * 1000),
            headers={"Retry-After": str(wait)},
        )
    actor = await run_in_threadpool(service.login, name, password) if name and password else None
    if actor is None:
        throttle.failed(name, address)
        return _login_page(request, status=401, name=name,
                           error="Wrong user name or password.")
    throttle.succeeded(name)
    token, _info = await run_in_threadpool(service.start_session, actor)
    target = _safe_next(str(form.get("next") or ""))
    response = RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_MAX_S, path="/", httponly=True,
        samesite="strict", secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login", httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await posted_form(request)
    await run_in_threadpool(service_of(request).end_session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login?out=1", status_code=303, headers=PAGE_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


def login_redirect(exc: NotLoggedInError) -> Response:
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303,
                            headers=PAGE_HEADERS)
