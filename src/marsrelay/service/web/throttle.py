"""Log-in throttling: failed log-ins counted per user name and per client address.

After ``per_name`` failures for one user name, or ``per_address`` failures from one address,
within ``window_s``, further attempts are refused (429 with ``Retry-After``) until the oldest
of those failures leaves the window. A successful log-in clears its name's count (not the
address's: one address guessing many names stays limited). The counts live in the server
process (``marsrelay serve`` is one process); a restart forgets them.

Refused attempts never reach the password check, so the argon2id work an attacker can cause
is bounded too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LoginThrottle"]

#: Keys remembered at most per kind (names, addresses); the oldest are forgotten beyond.
MAX_KEYS = 100_000


@dataclass
class LoginThrottle:
    per_name: int = 5
    per_address: int = 20
    window_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _names: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _addresses: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def _name_key(name: str) -> str:
        return name.strip().casefold()[:64]

    def _wait(self, table: dict[str, deque[float]], key: str, limit: int, now: float) -> float:
        fails = table.get(key)
        if not fails:
            return 0.0
        while fails and fails[0] <= now - self.window_s:
            fails.popleft()
        if not fails:
            del table[key]
            return 0.0
        if len(fails) < limit:
            return 0.0
        return fails[-limit] + self.window_s - now

    def retry_after(self, name: str, address: str) -> float | None:
        """Seconds to wait before the next attempt for ``name`` from ``address`` (None: go)."""
        with self._lock:
            now = self.clock()
            wait = max(
                self._wait(self._names, self._name_key(name), self.per_name, now),
                self._wait(self._addresses, address, self.per_address, now),
            )
        return wait if wait > 0 else None

    def failed(self, name: str, address: str) -> None:
        """Count a failed log-in."""
        with self._lock:
            now = self.clock()
            for table, key in ((self._names, self._name_key(name)), (self._addresses, address)):
                if key not in table and len(table) >= MAX_KEYS:
                    table.pop(next(iter(table)))
                table.setdefault(key, deque()).append(now)

    def succeeded(self, name: str) -> None:
        """A successful log-in clears its name's failures."""
        with self._lock:
            self._names.pop(self._name_key(name), None)
