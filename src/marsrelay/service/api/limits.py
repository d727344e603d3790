"""Body size limits and slow-body timeouts, as one pure ASGI middleware.

Sizes: bodies of writes are limited before they reach a route: forward files and trajectories
to ``max_file_bytes`` plus 64 KiB of multipart framing, everything else to ``max_body_bytes``
(defaults 16 MiB and 1 MiB, :mod:`marsrelay.service.config`). A larger ``Content-Length``, or a
chunked body that grows past the limit, is answered 413 without reading further.

Time: each read of a body must arrive within ``client_timeout_s`` of the last, and the whole
body within ``body_timeout_s``; a client that dawdles gets 408 and its connection is closed
(a slow client would otherwise hold a connection and a task for as long as it likes). The
request headers' own deadline is the HTTP protocol's (:mod:`marsrelay.service.http_protocol`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["LimitsMiddleware", "SlowBodyError"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SlowBodyError(Exception):
    """The client did not send its body in time (caught here: 408)."""


class LimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_file_bytes: int,
        client_timeout_s: float = 15.0,
        body_timeout_s: float = 120.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_file_bytes + 65536
        self.client_timeout_s = client_timeout_s
        self.body_timeout_s = body_timeout_s

    def limit_for(self, path: str) -> int:
        if path.endswith("/files") or path.endswith("/trajectory"):
            return self.max_upload_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        timed = self._timed(receive)
        try:
            await self._limited(scope, timed, tracking_send)
        except SlowBodyError:
            if not started:
                await _reply(send, 408, "the request body did not arrive in time")

    def _timed(self, receive: Receive) -> Receive:
        deadline = time.monotonic() + self.body_timeout_s
        done = False

        async def _receive() -> Message:
            nonlocal done
            if done:  # the body is in: what follows is a disconnect, wait for it freely
                return await receive()
            left = min(self.client_timeout_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, left))
            except TimeoutError:
                raise SlowBodyError from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                done = True
            return message

        return _receive

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope.get("path", ""))
        length = None
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                length = value.decode("latin-1").strip()
        if length is not None:
            if not length.isdigit():
                await _reply(send, 400, "Content-Length is not a number")
                return
            if int(length) > limit:
                await _reply(
                    send, 413, f"the body of {length} bytes is over the limit of {limit} bytes"
                )
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the limit, then replay.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _reply(send, 413, f"the body is over the limit of {limit} bytes")
                return
            chunks.append(body)
            more = message.get("more_body", False)
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


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
