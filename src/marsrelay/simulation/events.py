"""The event core of the simulator: a time-ordered queue of typed events (in the spirit of
simpy's core, without processes: the engine dispatches each kind to one handler).

Events are ``(time, kind, sequence, payload)``; at equal times the kind's order decides
(contacts open before arrivals, arrivals before transmission runs, contacts close last), then
the order of scheduling. Times are in the plan's unit (TDB seconds).
"""

from __future__ import annotations

import heapq
from enum import IntEnum
from typing import Any

__all__ = ["EventKind", "EventQueue"]


class EventKind(IntEnum):
    """What happens at an event; the value orders events at equal times."""

    CONTACT_START = 0  # payload: contact index
    ARRIVAL = 1  # payload: (node, bundle indices, previous node or -1 when created, their
    #              priority or -1 when they may differ)
    TRANSMIT = 2  # payload: transmitter index (a transmission run may start)
    CONTACT_END = 3  # payload: contact index


class EventQueue:
    """A heap of events; ``pop`` returns them in (time, kind, scheduling order)."""

    __slots__ = ("_heap", "_scheduled")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Any]] = []
        self._scheduled = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, time_s: float, kind: EventKind, payload: Any) -> None:
        """Add an event at ``time_s``."""
        self._scheduled += 1
        heapq.heappush(self._heap, (time_s, kind, self._scheduled, payload))

    def pop(self) -> tuple[float, int, Any]:
        """Remove and return the next event as (time, kind, payload)."""
        time_s, kind, _, payload = heapq.heappop(self._heap)
        return time_s, kind, payload
