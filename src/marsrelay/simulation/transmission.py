"""Transmitters and their queues: the bulk data path of the simulator, on arrays of bundles.

A transmitter belongs to one node and serves the contacts that share it (with
``one_transmitter_per_band`` every contact of the node in one band, else each node pair). Each
contact has one FIFO of bundle indices per priority; the transmitter sends one contact at a
time, non-preemptively, highest priority first. Bundles are handled as numpy index arrays: a
transmission run sends the longest prefix of one queue that no later decision could reorder.
"""

from __future__ import annotations

from collections import deque
from itertools import islice

import numpy as np

from marsrelay.simulation.plan import BAND_EARTH, BAND_PROXIMITY, ContactPlan

__all__ = ["N_PRIORITIES", "BundleQueue", "Transmitters", "run_times"]

#: Priorities 0 (bulk), 1 (normal), 2 (expedited).
N_PRIORITIES = 3


class BundleQueue:
    """A FIFO of bundle indices kept as a deque of numpy chunks."""

    __slots__ = ("chunks", "head", "n")

    def __init__(self) -> None:
        self.chunks: deque[np.ndarray] = deque()
        self.head = 0  # bundles of chunks[0] already taken
        self.n = 0  # bundles queued

    def push(self, bundle_idx: np.ndarray) -> None:
        """Append bundles at the back."""
        if len(bundle_idx):
            self.chunks.append(bundle_idx)
            self.n += len(bundle_idx)

    def push_front(self, bundle_idx: np.ndarray) -> None:
        """Put bundles back at the front (in their order)."""
        if not len(bundle_idx):
            return
        if self.head:
            self.chunks[0] = self.chunks[0][self.head:]
            self.head = 0
        self.chunks.appendleft(bundle_idx)
        self.n += len(bundle_idx)

    def first(self) -> int:
        """The bundle at the front."""
        return int(self.chunks[0][self.head])

    def peek(self, at_most: int) -> np.ndarray:
        """The first ``at_most`` bundles (or all), without removing them."""
        front = self.chunks[0][self.head:]
        if len(front) >= at_most or len(self.chunks) == 1:
            return front[:at_most]
        parts, got = [front], len(front)
        for chunk in islice(self.chunks, 1, None):
            parts.append(chunk)
            got += len(chunk)
            if got >= at_most:
                break
        return np.concatenate(parts)[:at_most]

    def pop(self, count: int) -> None:
        """Remove the first ``count`` bundles."""
        self.n -= count
        while count:
            front = self.chunks[0]
            left = len(front) - self.head
            if count < left:
                self.head += count
                return
            count -= left
            self.chunks.popleft()
            self.head = 0

    def take_all(self) -> np.ndarray:
        """Remove and return every queued bundle, in order."""
        if not self.n:
            return np.zeros(0, dtype=np.int64)
        parts = list(self.chunks)
        parts[0] = parts[0][self.head:]
        self.chunks.clear()
        self.head = 0
        self.n = 0
        return np.concatenate(parts)


class Transmitters:
    """Every node's transmitters: which contacts share one, when each is free, what is queued.

    - ``of_contact[c]``: the transmitter contact ``c`` is sent with; ``node[s]``: its node.
    - ``free_s[s]``: when transmitter ``s`` finishes its current run.
    - ``next_run_s[s]``: the time of its pending TRANSMIT event (inf: none).
    - ``open_contacts[s]``: its contacts that have started, not ended and not been missed.
    - ``backlog_bits[s, p]``: bits queued on it at priority ``p`` or higher;
      ``contact_backlog_bits[c, p]`` the same for contact ``c`` alone, and ``queued_on[s]`` the
      contacts of ``s`` with bundles queued. Routing counts, as the first hop's backlog (SABR
      3.2.6.2), only the bits queued on contacts whose windows meet the candidate contact's
      (:meth:`ahead_bits`): bits bound to a contact that ends before it starts, or starts after
      it ends, are sent (or routed again) outside it, as ION's prior claims are absorbed by the
      earlier contacts to the neighbour.
    - ``queues[c][p]``: the FIFO of contact ``c`` at priority ``p`` (None until used);
      ``exhausted[c]``: no queued bundle fits in what is left of contact ``c``.
    """

    def __init__(self, plan: ContactPlan, one_transmitter_per_band: bool) -> None:
        keys: dict[tuple[int, ...], int] = {}
        sender = plan.from_node.tolist()
        receiver = plan.to_node.tolist()
        self.of_contact: list[int] = []
        for c, band in enumerate(plan.band.tolist()):
            if one_transmitter_per_band and band in (BAND_PROXIMITY, BAND_EARTH):
                key: tuple[int, ...] = (sender[c], band)
            else:
                key = (sender[c], receiver[c], band, -1)
            self.of_contact.append(keys.setdefault(key, len(keys)))
        n_transmitters = len(keys)
        self.node: list[int] = [0] * n_transmitters
        for c, s in enumerate(self.of_contact):
            self.node[s] = sender[c]
        self.free_s: list[float] = [-np.inf] * n_transmitters
        self.next_run_s: list[float] = [np.inf] * n_transmitters
        self.open_contacts: list[list[int]] = [[] for _ in range(n_transmitters)]
        self.backlog_bits = np.zeros((n_transmitters, N_PRIORITIES))
        self.contact_backlog_bits = np.zeros((len(plan), N_PRIORITIES))
        self.queued_on: list[dict[int, None]] = [{} for _ in range(n_transmitters)]
        self.start_s: list[float] = plan.start_tdb_s.tolist()
        self.end_s: list[float] = plan.end_tdb_s.tolist()
        self.queues: list[list[BundleQueue | None]] = [
            [None] * N_PRIORITIES for _ in range(len(plan))]
        self.exhausted: list[bool] = [False] * len(plan)

    def has_queued(self, contact: int) -> bool:
        """Whether any bundle waits on ``contact``."""
        return any(q is not None and q.n for q in self.queues[contact])

    def enqueue(self, contact: int, priority: int, bundle_idx: np.ndarray, bits: float) -> None:
        """Queue bundles (``bits`` in total) on ``contact`` at ``priority``."""
        queue = self.queues[contact][priority]
        if queue is None:
            queue = self.queues[contact][priority] = BundleQueue()
        queue.push(bundle_idx)
        s = self.of_contact[contact]
        self.backlog_bits[s, : priority + 1] += bits
        self.contact_backlog_bits[contact, : priority + 1] += bits
        self.queued_on[s][contact] = None

    def dequeued(self, contact: int, priority: int, bits: float) -> None:
        """Bundles (``bits`` in total) of ``priority`` have left ``contact``'s queue (sent,
        dropped or taken to be routed again)."""
        s = self.of_contact[contact]
        self.backlog_bits[s, : priority + 1] -= bits
        if self.has_queued(contact):
            self.contact_backlog_bits[contact, : priority + 1] -= bits
        else:
            self.contact_backlog_bits[contact] = 0.0
            self.queued_on[s].pop(contact, None)

    def ahead_bits(self, transmitter: int, contact: int, priority: int) -> float:
        """Bits queued on ``transmitter`` at ``priority`` or higher that can delay a new
        bundle on ``contact``: those on its contacts whose windows meet ``contact``'s."""
        total = float(self.backlog_bits[transmitter, priority])
        queued = self.queued_on[transmitter]
        if not queued or (len(queued) == 1 and contact in queued):
            return total
        start, end = self.start_s[contact], self.end_s[contact]
        for other in queued:
            if other != contact and (self.end_s[other] <= start or self.start_s[other] >= end):
                total -= float(self.contact_backlog_bits[other, priority])
        return total if total > 0.0 else 0.0


def run_times(ready_s: np.ndarray, duration_s: np.ndarray, from_s: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish of bundles sent back to back from ``from_s``, each no earlier than it
    is ready: ``finish[i] = max(start[i], ready[i]) + duration[i]`` as a prefix scan."""
    elapsed = duration_s.cumsum()
    start = np.empty_like(elapsed)  # each starts when ready and the one before has finished
    start[0] = from_s
    if ready_s.max() <= from_s:  # all are waiting: back to back from from_s
        finish = elapsed + from_s
        start[1:] = finish[:-1]
        return start, finish
    finish = elapsed + np.maximum(from_s, np.maximum.accumulate(ready_s - (elapsed - duration_s)))
    start[1:] = finish[:-1]
    return np.maximum(ready_s, start, out=start), finish
