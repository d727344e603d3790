"""uvicorn's HTTP protocol (httptools) with a deadline for the request headers.

uvicorn times out idle keep-alive connections, but not a client that opens a connection and
then sends its request line and headers slowly, or not at all (a "slowloris"): each such
connection would stay open for as long as the client likes. :class:`GuardedHttpProtocol`
starts a timer when a connection opens and whenever a new request begins to arrive; if the
headers are not complete within ``marsrelay_header_timeout_s`` (an attribute ``serve`` sets
on the uvicorn config; ``MARSRELAY_CLIENT_TIMEOUT_S``, default 15 s) it answers 408 and
closes the connection. Slow bodies are the ASGI middleware's (``api/limits.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["DEFAULT_HEADER_TIMEOUT_S", "GuardedHttpProtocol"]

DEFAULT_HEADER_TIMEOUT_S = 15.0

_TIMEOUT_REPLY = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 36\r\nconnection: close\r\n\r\n"
    b"the request headers came too slowly\n"
)


class GuardedHttpProtocol(HttpToolsProtocol):
    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout_s = float(
            getattr(config, "marsrelay_header_timeout_s", DEFAULT_HEADER_TIMEOUT_S)
        )
        self._header_timer: asyncio.TimerHandle | None = None

    def _awaiting_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self.transport.write(_TIMEOUT_REPLY)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            self._disarm()
        elif self._awaiting_headers():
            self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # idle keep-alive: uvicorn's own keep-alive timeout applies

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
