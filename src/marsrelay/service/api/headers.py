"""Security headers on every response of the service: the API's and the web pages' alike.

:class:`SecurityHeadersMiddleware` (pure ASGI, installed once by ``create_app``) adds each
header below unless the response already carries it (a page that needs its own
``Cache-Control`` for a static asset, say, sets it and keeps it):

- ``Content-Security-Policy``: everything from the service itself, no inline script, no
  framing, forms post only back to the service (:data:`CONTENT_SECURITY_POLICY`);
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (the CSP's
  ``frame-ancestors`` for old browsers), ``Referrer-Policy: same-origin`` (nothing leaves the
  site; same-origin form posts keep their ``Referer`` for CSRF checks),
  ``Cross-Origin-Opener-Policy`` and ``Cross-Origin-Resource-Policy: same-origin``;
- ``Cache-Control: no-store``: answers hold other agencies' plans; nothing is kept by caches.

``Strict-Transport-Security`` belongs to the TLS-terminating proxy (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "SecurityHeadersMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'"
)

#: (name, value) pairs, lower-case names as ASGI wants them.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
