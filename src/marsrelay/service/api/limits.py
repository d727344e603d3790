"""Body size limits and response headers, as one pure ASGI middleware.

Bodies of writes are limited before they reach a route: forward files and trajectories to
``max_file_bytes`` plus 64 KiB of multipart framing, everything else to ``max_body_bytes``
(defaults 16 MiB and 1 MiB, :mod:`marsrelay.service.config`). A larger ``Content-Length``, or a
chunked body that grows past the limit, is answered 413 without reading further. Every
response carries ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["LimitsMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_file_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_file_bytes + 65536

    def limit_for(self, path: str) -> int:
        if path.endswith("/files") or path.endswith("/trajectory"):
            return self.max_upload_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in names]
                message["headers"] = headers
            await send(message)

        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send_with_headers)
            return
        limit = self.limit_for(scope.get("path", ""))
        length = None
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                length = value.decode("latin-1").strip()
        if length is not None:
            if not length.isdigit():
                await _reply(send_with_headers, 400, "Content-Length is not a number")
                return
            if int(length) > limit:
                await _reply(
                    send_with_headers,
                    413,
                    f"the body of {length} bytes is over the limit of {limit} bytes",
                )
                return
            await self.app(scope, receive, send_with_headers)
            return
        # No Content-Length (chunked): read up to the limit, then replay.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send_with_headers)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _reply(send_with_headers, 413, f"the body is over the limit of {limit} bytes")
                return
            chunks.append(body)
            more = message.get("more_body", False)
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send_with_headers)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    queue = list(messages)

    async def _receive() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return _receive


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
