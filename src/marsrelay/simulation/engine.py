"""Store-and-forward simulation over a contact plan: the event engine.

The simulator is three parts, each in its module:

- :mod:`.events`: the event queue (contact starts and ends, bundle arrivals, transmission runs).
- :mod:`.cgr`: Contact Graph Routing (SABR semantics: route search, volume reservations,
  forwarding, limbo), which decides where each bundle goes.
- :mod:`.transmission`: transmitters and their per-contact queues (the bulk data path, numpy
  arrays of bundle indices).

This module holds the node model and drives the other three (:class:`_Simulator`), and
:func:`simulate`, the entry point.

Simulation model (the contract the tests check):

- Nodes store bundles from arrival (or creation) until their transmission starts; a bundle that
  would overflow a node's storage is dropped (``buffer_full``). Admission is checked when a
  batch of bundles reaches the node, against the storage in use at that moment.
- A node sends on one contact per transmitter at a time (contacts sharing a transmitter: with
  ``one_transmitter_per_band`` the sender's band, else the node pair), non-preemptively,
  highest priority first and first-come first-served within a priority; a bundle is sent only if
  its last bit leaves before the contact ends. It arrives one light time after its last bit.
- A bundle sent on a contact is lost with the contact's ``loss`` probability (``lost_on_link``).
- A bundle is dropped ``expired`` when its expiry time passes while it is stored, or when it
  would arrive after it.
- Re-routing: bundles still queued when their contact ends, or whose contact turns out to be
  missed (a contact happens with probability ``confidence``), are routed again at that moment;
  bundles with no route wait in the node's limbo and are retried whenever one of the node's
  contacts starts.
- The run covers [start, end]; transmissions end by ``end``, bundles already in flight at
  ``end`` still arrive (and a delivery to Earth counts). At the end every bundle is delivered,
  stored at a named node, or dropped with a reason; :func:`simulate` checks that the bits add up
  and raises :class:`ConservationError` if not.

Speed: bundles move in batches (a creation interval, the bundles of one transmission run) as
numpy index arrays; routes are reused while they stay viable (:mod:`.cgr`); a transmitter sends,
in one run, every bundle that starts before the next event that could change its order.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from itertools import pairwise

import numpy as np

from marsrelay.simulation.cgr import ContactGraph, Router
from marsrelay.simulation.events import EventKind, EventQueue
from marsrelay.simulation.outcome import (
    DROP_REASONS,
    REASON_BUFFER_FULL,
    REASON_EXPIRED,
    REASON_LOST,
    STATUS_DELIVERED,
    STATUS_DROPPED,
    STATUS_STORED,
    ConservationError,
    SimulationOutcome,
    check_conservation,
    paths,
    storage_changes,
)
from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.traffic import Bundles
from marsrelay.simulation.transmission import Transmitters, run_times

__all__ = [
    "DROP_REASONS",
    "STATUS_DELIVERED",
    "STATUS_DROPPED",
    "STATUS_STORED",
    "ConservationError",
    "SimulationOutcome",
    "simulate",
]

_RUN_CAP = 8192  # bundles examined per transmission run
_CONTACT_START, _ARRIVAL, _TRANSMIT = EventKind.CONTACT_START, EventKind.ARRIVAL, EventKind.TRANSMIT
_CREATION_BATCH_S = 6 * 3600.0  # longest creation batch, s


class _Simulator:
    """One simulation run: the bundles' state, the nodes' storage and the event handlers."""

    def __init__(self, plan: ContactPlan, bundles: Bundles, storage_bits: np.ndarray,
                 seed: int, start_s: float, end_s: float, one_transmitter_per_band: bool) -> None:
        self.plan = plan
        self.bundles = bundles
        self.start_s, self.end_s = start_s, end_s
        self.rng = np.random.default_rng(seed)
        self.events = EventQueue()
        self.stats = {"events": 0, "routes_computed": 0, "transmission_runs": 0,
                      "batches_routed": 0}
        # contacts and nodes
        self.graph = graph = ContactGraph(plan)
        self.transmitters = Transmitters(plan, one_transmitter_per_band)
        self.contact_loss: list[float] = plan.loss.tolist()
        self.contact_confidence: list[float] = plan.confidence.tolist()
        self.contact_started: list[bool] = [False] * len(plan)
        self.capacity_bits = np.asarray(storage_bits, dtype=float)  # per node
        # each node's contact starts and ends: what can change the order of its queues
        self.node_edges_s: list[list[float]] = []
        for node in range(len(plan.node_names)):
            sends = plan.from_node == node
            self.node_edges_s.append(np.unique(np.concatenate(
                [plan.start_tdb_s[sends], plan.end_tdb_s[sends]])).tolist())
        self.pending_arrivals_s: list[list[float]] = [[] for _ in plan.node_names]  # heaps
        # bundle state
        n = len(bundles)
        self.bits = bundles.bits
        self.expiry_s = bundles.expiry_tdb_s
        # can any bundle expire before it is delivered or the run ends (arrivals come at most
        # one light time after the end)? If not, no expiry test is needed
        latest_arrival_s = end_s + max(graph.owlt_s, default=0.0)
        self.may_expire = bool(n and self.expiry_s.min() <= latest_arrival_s)
        self.ready_s = bundles.created_tdb_s.copy()  # when each is (or will be) at its node
        self.status = np.zeros(n, dtype=np.int8)
        self.reason = np.zeros(n, dtype=np.int8)
        self.node = bundles.source.astype(np.int32).copy()
        self.prev_node = np.full(n, -1, dtype=np.int32)
        self.done_s = np.full(n, np.nan)
        # what the transmissions did, applied to the bundle arrays at the end (fewer array
        # operations per run): contacts sent on, and deliveries (station, bundles, arrival)
        self.sent_contact: list[int] = []
        self.sent_bundles: list[np.ndarray] = []
        self.deliveries: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.hops = np.zeros((0, 0), dtype=np.int32)  # filled by finalize()
        self.n_hops = np.zeros(0, dtype=np.int16)
        self.router = Router(graph, self.transmitters, bundles.bits, bundles.priority,
                             bundles.expiry_tdb_s, self.ready_s, self.prev_node, start_s,
                             end_s, self.may_expire, self.stats)
        # storage and running totals
        self.stored_bits = np.zeros(len(plan.node_names))  # per node
        self.occupancy_time_s: list[np.ndarray] = []
        self.occupancy_node: list[np.ndarray | int] = []
        self.occupancy_delta_bits: list[np.ndarray] = []
        self.delivered_bits_total = 0.0
        self.dropped_bits_total = [0.0] * len(DROP_REASONS)

    # Short names kept for tests/test_simulation_engine.py, which injects a bookkeeping fault.
    @property
    def occ(self) -> np.ndarray:
        """Alias of :attr:`stored_bits`."""
        return self.stored_bits

    @property
    def frm(self) -> list[int]:
        """Alias of the contacts' sending nodes (``graph.sender``)."""
        return self.graph.sender

    # ------------------------------------------------------------------ events
    def schedule(self, t: float, kind: EventKind, payload: object) -> None:
        self.events.schedule(t, kind, payload)
        if kind == _ARRIVAL:
            heapq.heappush(self.pending_arrivals_s[payload[0]], t)  # type: ignore[index]

    def schedule_run(self, transmitter: int, t: float) -> None:
        """Make sure transmitter ``transmitter`` runs at ``t`` or earlier."""
        next_run = self.transmitters.next_run_s
        if t < next_run[transmitter]:
            next_run[transmitter] = t
            self.schedule(t, EventKind.TRANSMIT, transmitter)

    def record_storage(self, t: np.ndarray, node: np.ndarray | int,
                       delta_bits: np.ndarray) -> None:
        """Storage at ``node`` (one, or one per change) changes by ``delta_bits`` at ``t``."""
        if not isinstance(node, np.ndarray):
            node = int(node)
        self.occupancy_time_s.append(t)
        self.occupancy_node.append(node)
        self.occupancy_delta_bits.append(delta_bits)

    def run(self) -> None:
        """Schedule the contacts and the bundles' creation, then handle every event."""
        g = self.graph
        for c in range(len(self.plan)):
            self.schedule(g.start_s[c], EventKind.CONTACT_START, c)
            self.schedule(g.end_s[c], EventKind.CONTACT_END, c)
        # creation batches: per source node, cut at that node's contact edges
        source = self.bundles.source
        span = np.arange(self.start_s, self.end_s + _CREATION_BATCH_S, _CREATION_BATCH_S)
        for node in np.unique(source):
            idx = np.flatnonzero(source == node)
            created = self.bundles.created_tdb_s[idx]
            cuts = np.unique(np.concatenate([self.node_edges_s[node], span]))
            pos = np.searchsorted(created, cuts, side="left")
            bounds = np.unique(np.concatenate([[0], pos, [len(created)]]))
            for a, z in pairwise(bounds):
                if z > a:
                    self.schedule(float(created[a]), EventKind.ARRIVAL,
                                  (int(node), idx[a:z], -1, -1))
        events = self.events
        next_run = self.transmitters.next_run_s
        handled = 0
        while events:
            t, kind, payload = events.pop()
            handled += 1
            if kind == _TRANSMIT:
                if t != next_run[payload]:
                    continue  # superseded by an earlier run
                next_run[payload] = np.inf
                self.transmit(payload, t)
            elif kind == _ARRIVAL:
                node, idx, prev, priority = payload
                heapq.heappop(self.pending_arrivals_s[node])
                self.arrive(node, idx, prev, t, priority)
            elif kind == _CONTACT_START:
                self.contact_start(payload, t)
            else:
                self.contact_end(payload, t)
        self.stats["events"] += handled
        self.finalize()

    # -------------------------------------------------------------- node events
    def drop(self, idx: np.ndarray, reason: int, t: np.ndarray, node: int | np.ndarray,
             stored: bool) -> None:
        """Drop bundles ``idx`` at times ``t``; ``stored``: they held storage at ``node``."""
        if not len(idx):
            return
        self.status[idx] = STATUS_DROPPED
        self.reason[idx] = reason
        self.done_s[idx] = t
        self.node[idx] = node
        bits = self.bits[idx]
        self.dropped_bits_total[reason - 1] += float(bits.sum())
        if stored:
            np.subtract.at(self.stored_bits, node if isinstance(node, np.ndarray)
                           else np.full(len(idx), node), bits)
            self.record_storage(t, node, -bits)

    def route(self, node: int, idx: np.ndarray, t_now: float, came_from: int | None = None,
              priority: int | None = None) -> None:
        """Route bundles stored at ``node`` (``came_from``: all arrived from that node, -1 if
        created there; ``priority``: all have it); start the transmitters that got bundles."""
        g = self.graph
        for contact, queued in self.router.forward(node, idx, t_now, came_from, priority):
            if self.contact_started[contact] and not g.ended[contact]:
                first = max(t_now, float(self.ready_s[queued].min()), g.start_s[contact])
                self.schedule_run(self.transmitters.of_contact[contact], first)

    def arrive(self, node: int, idx: np.ndarray, prev: int, t_now: float, priority: int = -1
               ) -> None:
        """Bundles reach ``node`` (created there, or arrived from ``prev``; ``priority``: all
        have it, -1 if not known)."""
        if prev >= 0:
            self.router.release(idx, 1, priority)
        self.prev_node[idx] = prev
        self.node[idx] = node
        ready = self.ready_s[idx]
        if self.may_expire:
            expired = self.expiry_s[idx] < ready
            if expired.any():
                self.drop(idx[expired], REASON_EXPIRED, self.expiry_s[idx[expired]], node,
                          stored=False)
                idx, ready = idx[~expired], ready[~expired]
        bits = self.bits[idx]
        total = float(bits.sum())
        capacity = self.capacity_bits[node]
        if self.stored_bits[node] + total > capacity:
            fits = self.stored_bits[node] + np.cumsum(bits) <= capacity
            k = int(np.argmin(fits)) if not fits.all() else len(fits)
            self.drop(idx[k:], REASON_BUFFER_FULL, ready[k:], node, stored=False)
            idx, ready, bits = idx[:k], ready[:k], bits[:k]
            total = float(bits.sum())
        if not len(idx):
            return
        self.stored_bits[node] += total
        self.record_storage(ready, node, bits)
        self.route(node, idx, t_now, came_from=prev, priority=priority if priority >= 0 else None)

    def contact_start(self, c: int, t: float) -> None:
        self.contact_started[c] = True
        confidence = self.contact_confidence[c]
        if confidence < 1.0 and self.rng.random() >= confidence:
            self.graph.missed[c] = True
            self.router.forget_routes()
            self.reroute_queued(c, t)
        else:
            transmitter = self.transmitters.of_contact[c]
            self.transmitters.open_contacts[transmitter].append(c)
            if self.transmitters.has_queued(c):
                self.schedule_run(transmitter, t)
        node = self.graph.sender[c]
        waiting = self.router.take_limbo(node)
        if waiting is not None:
            expired = self.expiry_s[waiting] < t
            if expired.any():
                self.drop(waiting[expired], REASON_EXPIRED, self.expiry_s[waiting[expired]],
                          node, stored=True)
                waiting = waiting[~expired]
            self.route(node, waiting, t)

    def contact_end(self, c: int, t: float) -> None:
        self.graph.ended[c] = True
        if not self.graph.missed[c]:
            still_open = self.transmitters.open_contacts[self.transmitters.of_contact[c]]
            if c in still_open:
                still_open.remove(c)
        self.reroute_queued(c, t)

    def reroute_queued(self, c: int, t: float) -> None:
        """Route again every bundle still queued on contact ``c``."""
        parts = []
        tx = self.transmitters
        for p, queue in enumerate(tx.queues[c]):
            if queue is not None and queue.n:
                part = queue.take_all()
                tx.dequeued(c, p, float(self.bits[part].sum()))
                parts.append(part)
        if not parts:
            return
        idx = np.concatenate(parts)
        self.router.release(idx, 0)
        node = self.graph.sender[c]
        expired = self.expiry_s[idx] < t
        if expired.any():
            self.drop(idx[expired], REASON_EXPIRED, self.expiry_s[idx[expired]], node,
                      stored=True)
            idx = idx[~expired]
        self.ready_s[idx] = np.maximum(self.ready_s[idx], t)
        self.route(node, idx, t)

    # -------------------------------------------------------------- transmission
    def transmit(self, transmitter: int, t_event: float) -> None:
        """Let ``transmitter`` send, from ``t_event``, every bundle that starts before the next
        event that could change the order (so that no later decision could have)."""
        g, tx = self.graph, self.transmitters
        node = tx.node[transmitter]
        edges = self.node_edges_s[node]
        k = bisect_left(edges, t_event)
        horizon = edges[k] if k < len(edges) else np.inf
        pending = self.pending_arrivals_s[node]
        if pending and pending[0] < horizon:
            horizon = pending[0]
        t_free = max(t_event, tx.free_s[transmitter])
        ready_s, start_s, end_s = self.ready_s, g.start_s, g.end_s
        while True:
            # the queue heads: the highest priority ready now goes first, earliest end first
            best_p, best_c, best_end = -1, -1, np.inf
            heads: list[tuple[int, float]] = []
            for c in tx.open_contacts[transmitter]:
                if tx.exhausted[c]:
                    continue
                for p in (2, 1, 0):
                    queue = tx.queues[c][p]
                    if queue is None or not queue.n:
                        continue
                    head_ready = max(ready_s[queue.first()], start_s[c])
                    heads.append((p, head_ready))
                    if head_ready <= t_free and (
                            p > best_p or (p == best_p and end_s[c] < best_end)):
                        best_p, best_c, best_end = p, c, end_s[c]
            if not heads:
                return
            if best_c < 0:
                next_ready = min(r for _, r in heads)
                if next_ready >= horizon:
                    self.schedule_run(transmitter, next_ready)
                    return
                t_free = next_ready
                continue
            # a higher priority bundle that becomes ready ends the run
            higher_ready = min((r for p, r in heads if p > best_p), default=np.inf)
            c, p = best_c, best_p
            queue = tx.queues[c][p]
            assert queue is not None
            idx = queue.peek(_RUN_CAP)
            start, finish = run_times(ready_s[idx], self.bits[idx] / g.rate_bps[c], t_free)
            cut = min(horizon, higher_ready)
            if finish[-1] <= end_s[c] and start.max() < cut:  # finish is non-decreasing
                k = len(idx)
            else:
                ok = (finish <= end_s[c]) & ((start < cut) | (start <= t_event))
                k = len(ok) if ok.all() else int(np.argmin(ok))
            if k:
                expired = self.expiry_s[idx[:k]] < start[:k] if self.may_expire else None
                if expired is not None and expired.any():
                    queue.pop(k)
                    queue.push_front(idx[:k][~expired])
                    gone = idx[:k][expired]
                    tx.dequeued(c, p, float(self.bits[gone].sum()))
                    self.router.release(gone, 0)
                    self.drop(gone, REASON_EXPIRED,
                              np.maximum(self.expiry_s[gone], ready_s[gone]),
                              g.sender[c], stored=True)
                    continue
                queue.pop(k)
                self.commit(c, p, idx[:k], start[:k], finish[:k])
                t_free = float(finish[k - 1])
                tx.free_s[transmitter] = t_free
                continue
            if finish[0] > end_s[c]:
                tx.exhausted[c] = True
                continue
            self.schedule_run(transmitter, max(float(start[0]), t_free))
            return

    def commit(self, c: int, p: int, idx: np.ndarray, start_s: np.ndarray,
               finish_s: np.ndarray) -> None:
        """Bundles ``idx`` of priority ``p`` are sent on contact ``c`` (first bits at
        ``start_s``, last at ``finish_s``): free their storage, then deliver them, drop them,
        or schedule their arrival at the next node."""
        self.stats["transmission_runs"] += 1
        g = self.graph
        bits = self.bits[idx]
        total = float(bits.sum())
        self.transmitters.dequeued(c, p, total)
        sender = g.sender[c]
        self.stored_bits[sender] -= total
        self.record_storage(start_s, sender, -bits)
        self.sent_contact.append(c)
        self.sent_bundles.append(idx)
        arrival = finish_s + g.owlt_s[c]
        receiver = g.receiver[c]
        if self.contact_loss[c] > 0.0:
            lost = self.rng.random(len(idx)) < self.contact_loss[c]
            if lost.any():
                gone = idx[lost]
                self.router.release(gone, 1)
                self.drop(gone, REASON_LOST, arrival[lost], sender, stored=False)
                idx, arrival = idx[~lost], arrival[~lost]
                total = float(self.bits[idx].sum())
                if not len(idx):
                    return
        if g.is_sink[receiver]:
            late = arrival > self.expiry_s[idx] if self.may_expire else None
            if late is not None and late.any():
                self.drop(idx[late], REASON_EXPIRED, arrival[late], receiver, stored=False)
                idx, arrival = idx[~late], arrival[~late]
                total = float(self.bits[idx].sum())
            self.deliveries.append((receiver, idx, arrival))
            self.delivered_bits_total += total
            return
        self.ready_s[idx] = arrival
        self.schedule(float(arrival.min()), EventKind.ARRIVAL, (receiver, idx, sender, p))

    # ------------------------------------------------------------------ the end
    def finalize(self) -> None:
        """Record deliveries and paths; bundles still stored whose expiry passed by the end
        are dropped ``expired``."""
        for station, idx, arrival in self.deliveries:
            self.status[idx] = STATUS_DELIVERED
            self.done_s[idx] = arrival
            self.node[idx] = station
        self.hops, self.n_hops = paths(len(self.bits), self.sent_contact, self.sent_bundles)
        left = np.flatnonzero(self.status == STATUS_STORED)
        self.router.release(left, 0)
        expired = left[self.expiry_s[left] <= self.end_s]
        if len(expired):
            self.drop(expired, REASON_EXPIRED,
                      np.maximum(self.expiry_s[expired], self.ready_s[expired]),
                      self.node[expired], stored=True)


def simulate(
    plan: ContactPlan,
    bundles: Bundles,
    *,
    start_tdb_s: float | None = None,
    end_tdb_s: float | None = None,
    storage_bits: np.ndarray | float | None = None,
    seed: int = 0,
    one_transmitter_per_band: bool = True,
) -> SimulationOutcome:
    """Run the store-and-forward simulation of ``bundles`` over ``plan`` (see module doc).

    ``start_tdb_s``/``end_tdb_s`` bound the run (default: the plan's and the traffic's span);
    contacts are clipped to it. ``storage_bits`` is one value for every node or one per plan
    node (None: unlimited). ``seed`` seeds link loss and missed contacts: the same inputs and
    seed give the same outcome. Raises :class:`ConservationError` if the bits do not add up.
    """
    t_candidates = [*plan.start_tdb_s[:1], *bundles.created_tdb_s[:1]]
    start = float(start_tdb_s) if start_tdb_s is not None else (
        min(t_candidates) if t_candidates else 0.0)
    if end_tdb_s is not None:
        end = float(end_tdb_s)
    else:
        ends = [*plan.end_tdb_s.tolist(), *bundles.created_tdb_s[-1:].tolist(), start]
        end = float(max(ends))
    if end < start:
        raise ValueError("end_tdb_s is before start_tdb_s")
    n_nodes = len(plan.node_names)
    if storage_bits is None:
        storage = np.full(n_nodes, np.inf)
    else:
        storage = np.broadcast_to(np.asarray(storage_bits, dtype=float), n_nodes).copy()
    if len(bundles):
        if bundles.source.max() >= n_nodes:
            raise ValueError("a bundle's source is not a node of the plan")
        if np.any(plan.is_sink[bundles.source]):
            raise ValueError("bundles cannot be created at an Earth station")
    inside = (bundles.created_tdb_s >= start) & (bundles.created_tdb_s <= end)
    if not inside.all():
        raise ValueError("every bundle must be created inside [start_tdb_s, end_tdb_s]")
    clipped = plan.clip(start, end)
    sim = _Simulator(clipped, bundles, storage, seed, start, end, one_transmitter_per_band)
    sim.run()
    conservation = check_conservation(
        clipped, sim.bits, sim.status, sim.reason, sim.node, sim.stored_bits,
        sim.delivered_bits_total, sim.dropped_bits_total, sim.graph.residual_bits)
    occupancy_t, occupancy_node, occupancy_delta = storage_changes(
        sim.occupancy_time_s, sim.occupancy_node, sim.occupancy_delta_bits)
    return SimulationOutcome(
        plan=clipped, bundles=bundles, start_tdb_s=start, end_tdb_s=end, storage_bits=storage,
        status=sim.status, reason=sim.reason, node=sim.node, done_tdb_s=sim.done_s,
        hops=sim.hops, n_hops=sim.n_hops, occupancy_tdb_s=occupancy_t,
        occupancy_node=occupancy_node, occupancy_delta_bits=occupancy_delta,
        conservation=conservation, stats=dict(sim.stats),
    )
