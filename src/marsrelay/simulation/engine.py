"""Store-and-forward simulation over a contact plan, routed by Contact Graph Routing.

Routing follows the semantics of Schedule-Aware Bundle Routing (SABR, CCSDS 734.3-B-1, Blue Book
July 2019) as ION's ``libcgr.c`` implements them; section numbers below are the Blue Book's.

- Contact graph (3.2.1): vertices are contacts, an edge joins a contact into node N to a
  contact out of N. Contacts whose end time has passed are ignored (3.2.3.2).
- Route search (3.2.6.10, 3.2.4.1): a Dijkstra search from the local node for the earliest
  arrival at any Earth station (every station is a sink). A contact is usable when it ends after
  the data reach its sender (ION: ``toTime > arrivalTime``); transmission starts at
  max(arrival, contact start) and arrival adds the contact's one-way light time (3.2.4.1.1-2).
  The cost is the projected arrival of the bundle's last byte (3.2.6.2-3.2.6.6): on the first
  contact the earliest transmission opportunity counts the bundle's backlog (bits queued at its
  priority or higher), and every contact adds the bundle's transmission time. Ties go to fewer
  hops, then the smaller entry node (3.2.8.1.4 a, keys 1, 2 and 4).
- Volume (3.2.6.8): every contact keeps a maximum transmission volume per priority, MTV[p],
  initially its volume. Forwarding a bundle of priority p onto a route reserves its size on
  every contact of the route, for priorities 0..p (ION ``enqueueToEntryNode``), so expedited
  traffic may displace bulk traffic but not the reverse. A contact whose MTV[p] cannot hold the
  bundle is skipped (3.2.6.8.11, 3.2.6.9 f-g: no fragmentation), as is a route whose projected
  arrival is after the bundle's expiry (3.2.6.9 a, e).
- Forwarding (3.2.8.1.4 b): the bundle joins the queue of the route's first contact. When it
  arrives at the next node, the reservations on the rest of its route are released and it is
  routed again there, excluding a return to the node it came from (as ION and pydtnsim do).
- Re-routing: bundles still queued when their contact ends, or whose contact turns out to be
  missed (a contact happens with probability ``confidence``), are routed again at that moment;
  bundles with no route wait in the node's limbo and are retried whenever one of the node's
  contacts starts (ION re-forwards limbo when the plan changes).

Simulation model (the contract the tests check):

- Nodes store bundles from arrival (or creation) until their transmission starts; a bundle that
  would overflow a node's storage is dropped (``buffer_full``). Admission is checked when a
  batch of bundles reaches the node, against the storage in use at that moment.
- A node sends on one contact per transmitter at a time (contacts sharing a ``server``: with
  ``one_transmitter_per_band`` the sender's band, else the node pair), non-preemptively,
  highest priority first and first-come first-served within a priority; a bundle is sent only if
  its last bit leaves before the contact ends. It arrives one light time after its last bit.
- A bundle sent on a contact is lost with the contact's ``loss`` probability (``lost_on_link``).
- A bundle is dropped ``expired`` when its expiry time passes while it is stored, or when it
  would arrive after it.
- The run covers [start, end]; transmissions end by ``end``, bundles already in flight at
  ``end`` still arrive (and a delivery to Earth counts). At the end every bundle is delivered,
  stored at a named node, or dropped with a reason; :func:`simulate` checks that the bits add up
  and raises :class:`ConservationError` if not.

Speed: routes are computed once per (node, priority, previous node) and reused for the next
bundles while they stay viable; bundles are handled in batches (a creation interval, the bundles
of one transmission run) with numpy, and the event loop is a heap over contact starts and ends,
batch arrivals and transmitter runs.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, field
from itertools import islice, pairwise

import numpy as np

from marsrelay.simulation.plan import BAND_EARTH, BAND_PROXIMITY, ContactPlan
from marsrelay.simulation.traffic import Bundles

__all__ = [
    "DROP_REASONS",
    "STATUS_DELIVERED",
    "STATUS_DROPPED",
    "STATUS_STORED",
    "ConservationError",
    "SimulationOutcome",
    "simulate",
]

STATUS_STORED: int = 0
STATUS_DELIVERED: int = 1
STATUS_DROPPED: int = 2
#: Drop reasons, indexed by ``reason`` - 1.
DROP_REASONS: tuple[str, ...] = ("buffer_full", "expired", "lost_on_link")
_BUFFER_FULL, _EXPIRED, _LOST = 1, 2, 3

_START, _INJECT, _SERVE, _END = 0, 1, 2, 3
_RUN_CAP = 8192  # bundles examined per transmission run
_GEN_CHUNK_S = 6 * 3600.0  # longest creation batch, s
_VOL_EPS = 1e-6  # bits


class ConservationError(RuntimeError):
    """The bits generated do not equal delivered + stored + dropped (a simulator bug)."""


@dataclass
class SimulationOutcome:
    """Per-bundle results of :func:`simulate` (arrays indexed like the input bundles).

    - ``status``: :data:`STATUS_DELIVERED`, :data:`STATUS_DROPPED` or :data:`STATUS_STORED`.
    - ``reason``: 0, or 1 + index in :data:`DROP_REASONS` for dropped bundles.
    - ``node``: the station that received it, the node holding it at the end, or where it
      was dropped.
    - ``done_tdb_s``: delivery or drop time (NaN while stored).
    - ``hops``: contact indices (into ``plan``) the bundle was sent on, -1 padded;
      ``n_hops`` how many.
    - ``occupancy_*``: storage changes (time TDB s, node, delta bits), unsorted.
    """

    plan: ContactPlan
    bundles: Bundles
    start_tdb_s: float
    end_tdb_s: float
    storage_bits: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    node: np.ndarray
    done_tdb_s: np.ndarray
    hops: np.ndarray
    n_hops: np.ndarray
    occupancy_tdb_s: np.ndarray
    occupancy_node: np.ndarray
    occupancy_delta_bits: np.ndarray
    conservation: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def delivered(self) -> np.ndarray:
        """Mask of delivered bundles."""
        return self.status == STATUS_DELIVERED

    @property
    def latency_s(self) -> np.ndarray:
        """Delivery time minus creation time, s (NaN if not delivered)."""
        out = np.full(len(self.status), np.nan)
        m = self.delivered
        out[m] = self.done_tdb_s[m] - self.bundles.created_tdb_s[m]
        return out

    def path_nodes(self, i: int) -> list[str]:
        """Node names bundle ``i`` went through, source first."""
        names = self.plan.node_names
        out = [names[int(self.bundles.source[i])]]
        for c in self.hops[i, : int(self.n_hops[i])]:
            out.append(names[int(self.plan.to_node[c])])
        return out


class _Fifo:
    """A FIFO of bundle indices kept as a deque of numpy chunks."""

    __slots__ = ("chunks", "head", "n")

    def __init__(self) -> None:
        self.chunks: deque[np.ndarray] = deque()
        self.head = 0
        self.n = 0

    def push(self, arr: np.ndarray) -> None:
        if len(arr):
            self.chunks.append(arr)
            self.n += len(arr)

    def push_front(self, arr: np.ndarray) -> None:
        if not len(arr):
            return
        if self.head:
            self.chunks[0] = self.chunks[0][self.head:]
            self.head = 0
        self.chunks.appendleft(arr)
        self.n += len(arr)

    def first(self) -> int:
        return int(self.chunks[0][self.head])

    def peek(self, m: int) -> np.ndarray:
        c0 = self.chunks[0][self.head:]
        if len(c0) >= m or len(self.chunks) == 1:
            return c0[:m]
        parts, got = [c0], len(c0)
        for c in islice(self.chunks, 1, None):
            parts.append(c)
            got += len(c)
            if got >= m:
                break
        return np.concatenate(parts)[:m]

    def pop(self, k: int) -> None:
        self.n -= k
        while k:
            c0 = self.chunks[0]
            left = len(c0) - self.head
            if k < left:
                self.head += k
                return
            k -= left
            self.chunks.popleft()
            self.head = 0

    def take_all(self) -> np.ndarray:
        if not self.n:
            return np.zeros(0, dtype=np.int64)
        parts = list(self.chunks)
        parts[0] = parts[0][self.head:]
        self.chunks.clear()
        self.head = 0
        self.n = 0
        return np.concatenate(parts)


class _Simulator:
    def __init__(self, plan: ContactPlan, bundles: Bundles, storage_bits: np.ndarray,
                 seed: int, start: float, end: float, one_tx: bool) -> None:
        self.plan = plan
        self.bundles = bundles
        self.start_t, self.end_t = start, end
        self.rng = np.random.default_rng(seed)
        n_nodes = len(plan.node_names)
        C = len(plan)
        self.C = C
        self.frm = plan.from_node.tolist()
        self.to = plan.to_node.tolist()
        self.cstart = plan.start_tdb_s.tolist()
        self.cend = plan.end_tdb_s.tolist()
        self.rate = plan.rate_bps.tolist()
        self.owlt = plan.owlt_s.tolist()
        self.loss = plan.loss.tolist()
        self.conf = plan.confidence.tolist()
        self.sink = plan.is_sink.tolist()
        self.storage = np.asarray(storage_bits, dtype=float)
        # servers: contacts that share one transmitter
        keys: dict[tuple[int, ...], int] = {}
        self.server_of: list[int] = []
        for c in range(C):
            b = int(plan.band[c])
            if one_tx and b in (BAND_PROXIMITY, BAND_EARTH):
                k: tuple[int, ...] = (self.frm[c], b)
            else:
                k = (self.frm[c], self.to[c], b, -1)
            self.server_of.append(keys.setdefault(k, len(keys)))
        S = len(keys)
        self.free = [-np.inf] * S
        self.next_serve = [np.inf] * S
        self.active: list[list[int]] = [[] for _ in range(S)]
        # per node: outgoing pairs (peer, contacts, starts, ends), contacts in start order
        pairs: dict[tuple[int, int], list[int]] = {}
        for c in range(C):
            pairs.setdefault((self.frm[c], self.to[c]), []).append(c)
        self.pairs: list[list[tuple[int, list[int], list[float], list[float]]]] = [
            [] for _ in range(n_nodes)]
        for (f, t), cl in sorted(pairs.items()):
            cl.sort(key=lambda c: (self.cend[c], self.cstart[c]))
            self.pairs[f].append((t, cl, [self.cstart[c] for c in cl],
                                  [self.cend[c] for c in cl]))
        self.mtv = np.repeat(plan.volume_bits[:, None], 3, axis=1)
        self.qsrv = np.zeros((S, 3))  # bits queued on a transmitter at priority >= p
        self.missed = np.zeros(C, dtype=bool)
        self.exhausted = [False] * C
        self.started = [False] * C
        self.ended = [False] * C
        self.queues: list[list[_Fifo | None]] = [[None, None, None] for _ in range(C)]
        self.route_hops: list[tuple[int, ...]] = []
        self.route_index: dict[tuple[int, ...], int] = {}
        self.cache: dict[tuple[int, int, int], tuple[int, int]] = {}
        self.limbo: list[list[np.ndarray]] = [[] for _ in range(n_nodes)]
        # what can change the order of a node's queues: its contact edges and arrivals
        self.edges: list[list[float]] = [
            sorted({self.cstart[c] for c in range(C) if self.frm[c] == n}
                   | {self.cend[c] for c in range(C) if self.frm[c] == n})
            for n in range(n_nodes)]
        self.inj_pending: list[list[float]] = [[] for _ in range(n_nodes)]
        self.server_node: list[int] = [0] * S
        for c in range(C):
            self.server_node[self.server_of[c]] = self.frm[c]
        # bundle state
        N = len(bundles)
        self.bits = bundles.bits
        self.prio = bundles.priority
        self.expiry = bundles.expiry_tdb_s
        self.ready = bundles.created_tdb_s.copy()
        self.status = np.zeros(N, dtype=np.int8)
        self.reason = np.zeros(N, dtype=np.int8)
        self.node = bundles.source.astype(np.int32).copy()
        self.prev = np.full(N, -1, dtype=np.int32)
        self.done = np.full(N, np.nan)
        self.route_of = np.full(N, -1, dtype=np.int32)
        self.hops = np.full((N, 4), -1, dtype=np.int32)
        self.n_hops = np.zeros(N, dtype=np.int16)
        self.occ = np.zeros(n_nodes)
        self.occ_t: list[np.ndarray] = []
        self.occ_n: list[np.ndarray] = []
        self.occ_d: list[np.ndarray] = []
        self.count_delivered = 0.0
        self.count_dropped = [0.0, 0.0, 0.0]
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.stats = {"events": 0, "routes_computed": 0, "transmission_runs": 0,
                      "batches_routed": 0}

    # ------------------------------------------------------------------ events
    def push(self, t: float, kind: int, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, kind, self.seq, payload))
        if kind == _INJECT:
            heapq.heappush(self.inj_pending[payload[0]], t)  # type: ignore[index]

    def schedule_serve(self, srv: int, t: float) -> None:
        if t < self.next_serve[srv]:
            self.next_serve[srv] = t
            self.push(t, _SERVE, srv)

    def occupancy(self, t: np.ndarray, node: int | np.ndarray, delta: np.ndarray) -> None:
        self.occ_t.append(t)
        self.occ_n.append(node)  # type: ignore[arg-type]
        self.occ_d.append(delta)

    def run(self) -> None:
        b = self.bundles
        for c in range(self.C):
            self.push(self.cstart[c], _START, c)
            self.push(self.cend[c], _END, c)
        # creation batches: per source node, cut at that node's contact edges
        src = b.source
        for n in np.unique(src):
            idx = np.flatnonzero(src == n)
            t = b.created_tdb_s[idx]
            edges = np.unique(np.concatenate([
                [self.cstart[c] for c in range(self.C) if self.frm[c] == n],
                [self.cend[c] for c in range(self.C) if self.frm[c] == n]]))
            span = np.arange(self.start_t, self.end_t + _GEN_CHUNK_S, _GEN_CHUNK_S)
            cuts = np.unique(np.concatenate([edges, span]))
            pos = np.searchsorted(t, cuts, side="left")
            bounds = np.unique(np.concatenate([[0], pos, [len(t)]]))
            for a, z in pairwise(bounds):
                if z > a:
                    chunk = idx[a:z]
                    self.push(float(t[a]), _INJECT, (int(n), chunk, -1))
        heap = self.heap
        while heap:
            t, kind, _, payload = heapq.heappop(heap)
            self.stats["events"] += 1
            if kind == _SERVE:
                srv = int(payload)  # type: ignore[call-overload]
                if t != self.next_serve[srv]:
                    continue
                self.next_serve[srv] = np.inf
                self.serve(srv, t)
            elif kind == _INJECT:
                node, idx, prev = payload  # type: ignore[misc]
                heapq.heappop(self.inj_pending[node])
                self.inject(node, idx, prev, t)
            elif kind == _START:
                self.contact_start(int(payload), t)  # type: ignore[call-overload]
            else:
                self.contact_end(int(payload), t)  # type: ignore[call-overload]
        self.finalize()

    # ------------------------------------------------------------------ routing
    def dijkstra(self, X: int, t: float, b: float, p: int, excl: int,
                 skip: int = -1) -> tuple[int, ...] | None:
        """Route of earliest projected arrival for a ``b``-bit, priority-``p`` bundle at node X
        at time t, not entering node ``excl`` first nor starting with contact ``skip``."""
        self.stats["routes_computed"] += 1
        mtv, missed, qsrv = self.mtv, self.missed, self.qsrv
        rate, owlt, to, sink = self.rate, self.owlt, self.to, self.sink
        free, server_of = self.free, self.server_of
        heap: list[tuple[float, int, int, int, int]] = []
        for m, cl, sl, el in self.pairs[X]:
            if m == excl:
                continue
            k = bisect_right(el, t)
            while k < len(cl):
                c = cl[k]
                if c != skip and not missed[c] and mtv[c, p] >= b - _VOL_EPS:
                    r = rate[c]
                    srv = server_of[c]
                    f0 = max(sl[k], free[srv]) + qsrv[srv, p] / r
                    last = (t if t > f0 else f0) + b / r
                    if last <= el[k]:
                        heapq.heappush(heap, (last + owlt[c], 1, m, c, -1))
                        break
                k += 1
        settled = {X}
        pred: dict[int, int] = {}
        while heap:
            arr, hops, entry, c, pc = heapq.heappop(heap)
            n = to[c]
            if n in settled:
                continue
            settled.add(n)
            pred[c] = pc
            if sink[n]:
                route = [c]
                while pred[route[-1]] >= 0:
                    route.append(pred[route[-1]])
                return tuple(reversed(route))
            for m, cl, sl, el in self.pairs[n]:
                if m in settled:
                    continue
                k = bisect_right(el, arr)
                while k < len(cl):
                    c2 = cl[k]
                    if not missed[c2] and mtv[c2, p] >= b - _VOL_EPS:
                        tx = arr if arr > sl[k] else sl[k]
                        last = tx + b / rate[c2]
                        if last <= el[k]:
                            heapq.heappush(heap, (last + owlt[c2], hops + 1, entry, c2, c))
                            break
                    k += 1
        return None

    def route_id(self, hops: tuple[int, ...]) -> int:
        rid = self.route_index.get(hops)
        if rid is None:
            rid = len(self.route_hops)
            self.route_index[hops] = rid
            self.route_hops.append(hops)
        return rid

    def pbat(self, hops: tuple[int, ...], t: np.ndarray, b: np.ndarray, p: int,
             before: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Projected arrival of each bundle on ``hops`` and whether it fits each contact's time;
        ``before``: bits queued ahead of each bundle on the first transmitter (None: the
        bundles queue one after another on it)."""
        c1 = hops[0]
        r1 = self.rate[c1]
        srv = self.server_of[c1]
        f0 = max(self.cstart[c1], self.free[srv]) + self.qsrv[srv, p] / r1
        d = b / r1
        if before is None:
            S = np.cumsum(d)
            fin = S + np.maximum(f0, np.maximum.accumulate(t - (S - d)))
        else:
            fin = np.maximum(f0 + before / r1, t) + d
        ok = fin <= self.cend[c1]
        arr = fin + self.owlt[c1]
        for h in hops[1:]:
            last = np.maximum(arr, self.cstart[h]) + b / self.rate[h]
            ok &= last <= self.cend[h]
            arr = last + self.owlt[h]
        return arr, ok

    def viable_count(self, rid: int, t: np.ndarray, b: np.ndarray, x: np.ndarray,
                     p: int, rival: int = -1) -> int:
        """How many of the bundles (in order) route ``rid`` takes, all booked on it: it must
        fit them (time, volume, expiry) and arrive no later than route ``rival`` would."""
        hops = self.route_hops[rid]
        c1 = hops[0]
        if self.ended[c1] or self.missed[list(hops)].any():
            return 0
        arr, ok = self.pbat(hops, t, b, p, None)
        cb = np.cumsum(b)
        mtv = self.mtv
        for h in hops:
            ok &= cb <= mtv[h, p] + _VOL_EPS
        ok &= arr <= x
        if rival >= 0:
            rh = self.route_hops[rival]
            if not (self.ended[rh[0]] or self.missed[list(rh)].any()):
                shared = self.server_of[rh[0]] == self.server_of[c1]
                before = cb - b if shared else np.zeros(len(b))
                rarr, rok = self.pbat(rh, t, b, p, before)
                for h in rh:
                    rok &= b <= mtv[h, p] + _VOL_EPS
                ok &= ~rok | (arr <= rarr)
        if ok.all():
            return len(ok)
        return int(np.argmin(ok))

    def book(self, rid: int, idx: np.ndarray, p: int, tnow: float) -> None:
        hops = self.route_hops[rid]
        c1 = hops[0]
        tot = float(self.bits[idx].sum())
        self.mtv[list(hops), : p + 1] -= tot
        q = self.queues[c1][p]
        if q is None:
            q = self.queues[c1][p] = _Fifo()
        q.push(idx)
        self.qsrv[self.server_of[c1], : p + 1] += tot
        self.route_of[idx] = rid
        if self.started[c1] and not self.ended[c1]:
            t0 = max(tnow, float(self.ready[idx].min()), self.cstart[c1])
            self.schedule_serve(self.server_of[c1], t0)

    def release(self, idx: np.ndarray, from_hop: int) -> None:
        """Give back the reservations of ``idx`` on their routes' hops ``from_hop``.."""
        rids = self.route_of[idx]
        has = rids >= 0
        if not has.any():
            return
        idx, rids = idx[has], rids[has]
        pr = self.prio[idx]
        r0, p0 = int(rids[0]), int(pr[0])
        if (rids == r0).all() and (pr == p0).all():
            hops = self.route_hops[r0][from_hop:]
            if hops:
                self.mtv[list(hops), : p0 + 1] += float(self.bits[idx].sum())
            self.route_of[idx] = -1
            return
        key = rids.astype(np.int64) * 4 + pr
        ukeys, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv, weights=self.bits[idx])
        for k, tot in zip(ukeys.tolist(), sums.tolist(), strict=True):
            hops = self.route_hops[k // 4][from_hop:]
            if hops:
                self.mtv[list(hops), : k % 4 + 1] += tot
        self.route_of[idx] = -1

    def route_batch(self, node: int, idx: np.ndarray, tnow: float) -> None:
        """Route bundles stored at ``node`` (any priorities, any previous nodes)."""
        if not len(idx):
            return
        self.stats["batches_routed"] += 1
        if tnow > self.end_t:
            self.limbo[node].append(idx)
            return
        pr = self.prio[idx]
        pv = self.prev[idx]
        for p in (2, 1, 0):
            sel = idx if (pr == p).all() else idx[pr == p]
            if not len(sel):
                continue
            pvs = self.prev[sel]
            if len(pvs) and (pvs == pvs[0]).all():
                self.route_group(node, sel, p, int(pvs[0]), tnow)
            else:
                for e in np.unique(pv[pr == p]):
                    self.route_group(node, sel[pvs == e], p, int(e), tnow)

    def routes_for(self, node: int, p: int, excl: int, t: float, b: float
                   ) -> tuple[int, int] | None:
        """Best route and its best rival (a route not starting on the same contact)."""
        hops = self.dijkstra(node, t, b, p, excl)
        if hops is None:
            return None
        rival = self.dijkstra(node, t, b, p, excl, skip=hops[0])
        return self.route_id(hops), (self.route_id(rival) if rival is not None else -1)

    def route_group(self, node: int, idx: np.ndarray, p: int, excl: int, tnow: float) -> None:
        t = np.maximum(self.ready[idx], tnow)
        b = self.bits[idx]
        x = self.expiry[idx]
        key = (node, p, excl)
        i, n = 0, len(idx)
        while i < n:
            got = self.cache.get(key)
            k = self.viable_count(got[0], t[i:], b[i:], x[i:], p, got[1]) if got else 0
            if k == 0:
                got = self.routes_for(node, p, excl, float(t[i]), float(b[i]))
                if got is None:
                    self.cache.pop(key, None)
                    # no route for this size now: none for larger ones later either
                    big = b[i:] >= b[i] - _VOL_EPS
                    self.limbo[node].append(idx[i:][big])
                    idx, t, b, x = idx[i:][~big], t[i:][~big], b[i:][~big], x[i:][~big]
                    i, n = 0, len(idx)
                    continue
                self.cache[key] = got
                k = self.viable_count(got[0], t[i:], b[i:], x[i:], p, got[1])
                if k == 0:
                    # the rival is better for this bundle: take it (with its own rival)
                    if got[1] >= 0:
                        hops = self.route_hops[got[1]]
                        rival = self.dijkstra(node, float(t[i]), float(b[i]), p, excl,
                                              skip=hops[0])
                        got = (got[1], self.route_id(rival) if rival is not None else -1)
                        self.cache[key] = got
                        k = self.viable_count(got[0], t[i:], b[i:], x[i:], p, got[1])
                    if k == 0:  # only its expiry forbids it: no route can be earlier
                        self.limbo[node].append(idx[i:i + 1])
                        i += 1
                        continue
            self.book(got[0], idx[i:i + k], p, tnow)
            i += k

    # -------------------------------------------------------------- node events
    def drop(self, idx: np.ndarray, reason: int, t: np.ndarray, node: int | np.ndarray,
             stored: bool) -> None:
        """Drop ``idx`` at times ``t``; ``stored``: they held storage at ``node``."""
        if not len(idx):
            return
        self.status[idx] = STATUS_DROPPED
        self.reason[idx] = reason
        self.done[idx] = t
        self.node[idx] = node
        b = self.bits[idx]
        self.count_dropped[reason - 1] += float(b.sum())
        if stored:
            nodes = np.broadcast_to(np.asarray(node), len(idx))
            np.subtract.at(self.occ, nodes, b)
            self.occupancy(t, nodes, -b)

    def inject(self, node: int, idx: np.ndarray, prev: int, tnow: float) -> None:
        """Bundles reach ``node`` (created there, or arrived from ``prev``)."""
        if prev >= 0:
            self.release(idx, 1)
        self.prev[idx] = prev
        self.node[idx] = node
        rdy = self.ready[idx]
        exp = self.expiry[idx] < rdy
        if exp.any():
            self.drop(idx[exp], _EXPIRED, self.expiry[idx[exp]], node, stored=False)
            idx, rdy = idx[~exp], rdy[~exp]
        b = self.bits[idx]
        cap = self.storage[node]
        if self.occ[node] + b.sum() > cap:
            fits = self.occ[node] + np.cumsum(b) <= cap
            k = int(np.argmin(fits)) if not fits.all() else len(fits)
            self.drop(idx[k:], _BUFFER_FULL, rdy[k:], node, stored=False)
            idx, rdy, b = idx[:k], rdy[:k], b[:k]
        if not len(idx):
            return
        self.occ[node] += float(b.sum())
        self.occupancy(rdy, node, b)
        self.route_batch(node, idx, tnow)

    def contact_start(self, c: int, t: float) -> None:
        self.started[c] = True
        if self.conf[c] < 1.0 and self.rng.random() >= self.conf[c]:
            self.missed[c] = True
            self.cache.clear()
            self.flush(c, t)
        else:
            srv = self.server_of[c]
            self.active[srv].append(c)
            if any(q is not None and q.n for q in self.queues[c]):
                self.schedule_serve(srv, t)
        node = self.frm[c]
        if self.limbo[node]:
            lim = np.concatenate(self.limbo[node])
            self.limbo[node] = []
            exp = self.expiry[lim] < t
            if exp.any():
                self.drop(lim[exp], _EXPIRED, self.expiry[lim[exp]], node, stored=True)
                lim = lim[~exp]
            self.route_batch(node, lim, t)

    def contact_end(self, c: int, t: float) -> None:
        self.ended[c] = True
        if not self.missed[c]:
            act = self.active[self.server_of[c]]
            if c in act:
                act.remove(c)
        self.flush(c, t)

    def flush(self, c: int, t: float) -> None:
        """Route again every bundle still queued on contact ``c``."""
        parts = []
        srv = self.server_of[c]
        for p in range(3):
            q = self.queues[c][p]
            if q is not None and q.n:
                part = q.take_all()
                self.qsrv[srv, : p + 1] -= float(self.bits[part].sum())
                parts.append(part)
        if not parts:
            return
        idx = np.concatenate(parts)
        self.release(idx, 0)
        node = self.frm[c]
        exp = self.expiry[idx] < t
        if exp.any():
            self.drop(idx[exp], _EXPIRED, self.expiry[idx[exp]], node, stored=True)
            idx = idx[~exp]
        self.ready[idx] = np.maximum(self.ready[idx], t)
        self.route_batch(node, idx, t)

    # -------------------------------------------------------------- transmission
    def serve(self, srv: int, T: float) -> None:
        """Let transmitter ``srv`` send, from time T, every bundle that starts before the
        next event (so that no later decision could have changed the order)."""
        node = self.server_node[srv]
        edges = self.edges[node]
        k = bisect_left(edges, T)
        H = edges[k] if k < len(edges) else np.inf
        pend = self.inj_pending[node]
        if pend and pend[0] < H:
            H = pend[0]
        tau = max(T, self.free[srv])
        act = self.active[srv]
        ready, cstart, cend = self.ready, self.cstart, self.cend
        while True:
            best_p, best_c, best_end = -1, -1, np.inf
            heads: list[tuple[int, float]] = []
            for c in act:
                if self.exhausted[c]:
                    continue
                for p in (2, 1, 0):
                    q = self.queues[c][p]
                    if q is None or not q.n:
                        continue
                    r = max(ready[q.first()], cstart[c])
                    heads.append((p, r))
                    if r <= tau and (p > best_p or (p == best_p and cend[c] < best_end)):
                        best_p, best_c, best_end = p, c, cend[c]
            if not heads:
                return
            if best_c < 0:
                nxt = min(r for _, r in heads)
                if nxt >= H:
                    self.schedule_serve(srv, nxt)
                    return
                tau = nxt
                continue
            hp = min((r for p, r in heads if p > best_p), default=np.inf)
            c, p = best_c, best_p
            q = self.queues[c][p]
            assert q is not None
            idx = q.peek(_RUN_CAP)
            b = self.bits[idx]
            d = b / self.rate[c]
            S = np.cumsum(d)
            rdy = ready[idx]
            fin = S + np.maximum(tau, np.maximum.accumulate(rdy - (S - d)))
            st = np.maximum(rdy, np.concatenate(([tau], fin[:-1])))
            cut = min(H, hp)
            ok = (fin <= cend[c]) & ((st < cut) | (st <= T))
            k = len(ok) if ok.all() else int(np.argmin(ok))
            if k:
                exp = self.expiry[idx[:k]] < st[:k]
                if exp.any():
                    q.pop(k)
                    q.push_front(idx[:k][~exp])
                    gone = idx[:k][exp]
                    self.qsrv[srv, : p + 1] -= float(self.bits[gone].sum())
                    self.release(gone, 0)
                    self.drop(gone, _EXPIRED, np.maximum(self.expiry[gone], self.ready[gone]),
                              self.frm[c], stored=True)
                    continue
                q.pop(k)
                self.commit(c, p, idx[:k], st[:k], fin[:k])
                tau = float(fin[k - 1])
                self.free[srv] = tau
                continue
            if fin[0] > cend[c]:
                self.exhausted[c] = True
                continue
            self.schedule_serve(srv, max(float(st[0]), tau))
            return

    def commit(self, c: int, p: int, idx: np.ndarray, st: np.ndarray, fin: np.ndarray) -> None:
        self.stats["transmission_runs"] += 1
        b = self.bits[idx]
        tot = float(b.sum())
        self.qsrv[self.server_of[c], : p + 1] -= tot
        src = self.frm[c]
        self.occ[src] -= tot
        self.occupancy(st, src, -b)
        nh = self.n_hops[idx]
        if int(nh.max()) >= self.hops.shape[1]:
            grow = np.full((len(self.hops), self.hops.shape[1]), -1, dtype=np.int32)
            self.hops = np.concatenate([self.hops, grow], axis=1)
        self.hops[idx, nh] = c
        self.n_hops[idx] = nh + 1
        arr = fin + self.owlt[c]
        dest = self.to[c]
        if self.loss[c] > 0.0:
            lost = self.rng.random(len(idx)) < self.loss[c]
            if lost.any():
                gone = idx[lost]
                self.release(gone, 1)
                self.drop(gone, _LOST, arr[lost], src, stored=False)
                idx, arr = idx[~lost], arr[~lost]
                if not len(idx):
                    return
        if self.sink[dest]:
            late = arr > self.expiry[idx]
            if late.any():
                self.drop(idx[late], _EXPIRED, arr[late], dest, stored=False)
                idx, arr = idx[~late], arr[~late]
            self.status[idx] = STATUS_DELIVERED
            self.done[idx] = arr
            self.node[idx] = dest
            self.count_delivered += float(self.bits[idx].sum())
            return
        self.ready[idx] = arr
        self.push(float(arr.min()), _INJECT, (dest, idx, src))

    # ------------------------------------------------------------------ the end
    def finalize(self) -> None:
        left = np.flatnonzero(self.status == STATUS_STORED)
        self.release(left, 0)
        exp = left[self.expiry[left] <= self.end_t]
        if len(exp):
            self.drop(exp, _EXPIRED, np.maximum(self.expiry[exp], self.ready[exp]),
                      self.node[exp], stored=True)


def _check_conservation(sim: _Simulator) -> dict[str, float]:
    """Compare the per-bundle outcome with the simulator's running totals."""
    bits = sim.bits
    st = sim.status
    total = float(bits.sum())
    delivered = float(bits[st == STATUS_DELIVERED].sum())
    stored = float(bits[st == STATUS_STORED].sum())
    dropped = {r: float(bits[(st == STATUS_DROPPED) & (sim.reason == k + 1)].sum())
               for k, r in enumerate(DROP_REASONS)}
    tol = 1e-6 * max(total, 1.0)
    problems = []
    if np.any((st == STATUS_DROPPED) != (sim.reason > 0)):
        problems.append("a bundle is dropped without a reason (or has a reason and is not)")
    if abs(delivered + stored + sum(dropped.values()) - total) > tol:
        problems.append(f"generated {total} != delivered {delivered} + stored {stored} "
                        f"+ dropped {sum(dropped.values())}")
    if abs(delivered - sim.count_delivered) > tol:
        problems.append(f"delivered bits {delivered} != running total {sim.count_delivered}")
    for k, r in enumerate(DROP_REASONS):
        if abs(dropped[r] - sim.count_dropped[k]) > tol:
            problems.append(f"{r} bits {dropped[r]} != running total {sim.count_dropped[k]}")
    per_node = np.bincount(sim.node[st == STATUS_STORED], weights=bits[st == STATUS_STORED],
                           minlength=len(sim.occ))
    if np.any(np.abs(per_node - sim.occ) > tol):
        worst = int(np.argmax(np.abs(per_node - sim.occ)))
        problems.append(f"node {sim.plan.node_names[worst]!r} stores {per_node[worst]} bits "
                        f"but its storage counter says {sim.occ[worst]}")
    if np.any(sim.mtv > sim.plan.volume_bits[:, None] + tol):
        problems.append("a contact's residual volume exceeds its volume (double release)")
    if problems:
        raise ConservationError("; ".join(problems))
    return {"generated_bits": total, "delivered_bits": delivered, "stored_bits": stored,
            **{f"dropped_{r}_bits": v for r, v in dropped.items()}}


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
    conservation = _check_conservation(sim)
    occ_d = [np.atleast_1d(np.asarray(d, dtype=float)) for d in sim.occ_d]
    occ_t = np.concatenate([np.broadcast_to(np.asarray(t, dtype=float), len(d))
                            for t, d in zip(sim.occ_t, occ_d, strict=True)]) if occ_d else (
        np.zeros(0))
    occ_n = np.concatenate([np.broadcast_to(np.asarray(n, dtype=np.int32), len(d))
                            for n, d in zip(sim.occ_n, occ_d, strict=True)]) if occ_d else (
        np.zeros(0, np.int32))
    occ_d = np.concatenate(occ_d) if occ_d else np.zeros(0)
    return SimulationOutcome(
        plan=clipped, bundles=bundles, start_tdb_s=start, end_tdb_s=end, storage_bits=storage,
        status=sim.status, reason=sim.reason, node=sim.node, done_tdb_s=sim.done,
        hops=sim.hops, n_hops=sim.n_hops, occupancy_tdb_s=occ_t, occupancy_node=occ_n,
        occupancy_delta_bits=occ_d, conservation=conservation, stats=dict(sim.stats),
    )
