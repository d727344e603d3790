"""Rate limits: token buckets per key and action, for the API's writes and the pages' log-ins.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; each call takes one, and
a call that finds less than one is refused with the seconds until one is back (the API's 429
``Retry-After``). Refused calls take nothing, so a client that waits as told gets through.

``app.state.rate_limiter`` is a :class:`RateLimiter`; its :meth:`RateLimiter.check` is the
hook both front ends use:

- the API (``api/deps.write_guard``): ``check("token:" + SHA-256 of the bearer token,
  "write")`` before every write (per token, as SatNOGS and LCO throttle per user and action);
- the web pages: ``check("login:" + user name, "login")`` before checking a password (the
  pages also lock a user name out after repeated failures, per process: ``web/throttle``).

One server process keeps its buckets in memory. ``marsrelay serve --workers N`` runs N
processes behind one port; they share their buckets through a small SQLite file in a private
temporary folder (``MARSRELAY_RATE_STORE``, made and removed by ``serve``), so a client gets
the same budget whichever process answers it. Buckets are not durable and not shared between
hosts: behind a load balancer, limit at the proxy too.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from marsrelay.service.config import Settings

__all__ = ["Limit", "RateLimiter"]

log = logging.getLogger("marsrelay.service")


@dataclass(frozen=True)
class Limit:
    rate_per_s: float
    burst: int


class RateLimiter:
    """Token buckets; ``limits`` per action (an action without a limit is never refused).
    ``store``: path of the shared SQLite file, or None for memory. ``clock``: seconds,
    comparable between the processes (``time.monotonic`` is, on Linux)."""

    def __init__(
        self,
        limits: dict[str, Limit],
        store: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {a: lim for a, lim in limits.items() if lim.rate_per_s > 0}
        self.clock = clock
        self._lock = threading.Lock()
        self._memory: dict[tuple[str, str], tuple[float, float]] = {}
        self._store = store
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def check(self, key: str, action: str) -> float | None:
        """Take one token for ``key``'s ``action``: None when allowed, else the seconds to
        wait before the next call can pass."""
        limit = self.limits.get(action)
        if limit is None:
            return None
        now = self.clock()
        with self._lock:
            if self._store is None:
                return self._take_memory(key, action, limit, now)
            try:
                return self._take_shared(key, action, limit, now)
            except (sqlite3.Error, OSError) as exc:  # the shared file failed: limit here
                log.warning("rate-limit store %s: %s; limiting per process", self._store, exc)
                self._store = None
                return self._take_memory(key, action, limit, now)

    @staticmethod
    def _refill(state: tuple[float, float] | None, limit: Limit, now: float) -> float:
        if state is None:
            return float(limit.burst)
        tokens, stamp = state
        return min(float(limit.burst), tokens + max(0.0, now - stamp) * limit.rate_per_s)

    def _decide(self, tokens: float, limit: Limit) -> tuple[float, float | None]:
        if tokens >= 1.0:
            return tokens - 1.0, None
        return tokens, (1.0 - tokens) / limit.rate_per_s

    def _take_memory(self, key: str, action: str, limit: Limit, now: float) -> float | None:
        tokens = self._refill(self._memory.get((key, action)), limit, now)
        tokens, wait = self._decide(tokens, limit)
        if len(self._memory) > 100_000:
            self._memory.clear()
        self._memory[(key, action)] = (tokens, now)
        return wait

    def _take_shared(self, key: str, action: str, limit: Limit, now: float) -> float | None:
        conn = self._connect()
        # Processes queue on flock (woken as soon as it is free) rather than in SQLite's
        # busy handler, which sleeps in steps of up to 100 ms: this runs in the event loop.
        assert self._lock_fd is not None
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            return self._take_locked(conn, key, action, limit, now)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _take_locked(
        self, conn: sqlite3.Connection, key: str, action: str, limit: Limit, now: float
    ) -> float | None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT tokens, stamp FROM buckets WHERE key = ? AND action = ?", (key, action)
            ).fetchone()
            tokens, wait = self._decide(self._refill(row, limit, now), limit)
            conn.execute(
                "INSERT INTO buckets (key, action, tokens, stamp) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key, action) DO UPDATE SET tokens = excluded.tokens, "
                "stamp = excluded.stamp",
                (key, action, tokens, now),
            )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return wait

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self._store is not None
            self._lock_fd = os.open(f"{self._store}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                    0o600)
            conn = sqlite3.connect(self._store, timeout=10, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # buckets need not survive a crash
            conn.execute(
                "CREATE TABLE IF NOT EXISTS buckets (key TEXT, action TEXT, tokens REAL, "
                "stamp REAL, PRIMARY KEY (key, action))"
            )
            self._conn = conn
        return self._conn

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(
            {
                "write": Limit(settings.write_rate_per_s, settings.write_burst),
                "login": Limit(settings.login_rate_per_s, settings.login_burst),
            },
            store=settings.rate_store,
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
