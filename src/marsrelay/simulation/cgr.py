"""Contact Graph Routing for the simulator, after Schedule-Aware Bundle Routing (SABR, CCSDS
734.3-B-1, Blue Book July 2019) as ION's ``libcgr.c`` implements it; section numbers are the
Blue Book's.

- Contact graph (3.2.1): vertices are contacts, an edge joins a contact into node N to a
  contact out of N. Contacts whose end time has passed are ignored (3.2.3.2), as are contacts
  found missed.
- Route search (3.2.6.10, 3.2.4.1): a Dijkstra search from the local node for the earliest
  arrival at any Earth station (every station is a sink). A contact is usable when it ends after
  the data reach its sender (ION: ``toTime > arrivalTime``); transmission starts at
  max(arrival, contact start) and arrival adds the contact's one-way light time (3.2.4.1.1-2).
  The cost is the projected arrival of the bundle's last byte (3.2.6.2-3.2.6.6): on the first
  contact the earliest transmission opportunity counts the bundle's backlog (bits queued on the
  transmitter at its priority or higher, on contacts whose windows meet this one's: see
  ``Transmitters.ahead_bits``), and every contact adds the bundle's transmission
  time. Ties go to fewer hops, then the smaller entry node (3.2.8.1.4 a, keys 1, 2 and 4).
- Volume (3.2.6.8): every contact keeps a maximum transmission volume per priority, MTV[p],
  initially its volume. Forwarding a bundle of priority p onto a route reserves its size on
  every contact of the route, for priorities 0..p (ION ``enqueueToEntryNode``), so expedited
  traffic may displace bulk traffic but not the reverse. A contact whose MTV[p] cannot hold the
  bundle is skipped (3.2.6.8.11, 3.2.6.9 f-g: no fragmentation), as is a route whose projected
  arrival is after the bundle's expiry (3.2.6.9 a, e).
- Forwarding (3.2.8.1.4 b): the bundle joins the queue of the route's first contact. When it
  arrives at the next node, the reservations on the rest of its route are released and it is
  routed again there, excluding a return to the node it came from (as ION and pydtnsim do).
  Bundles with no route wait in the node's limbo (ION re-forwards limbo when the plan changes).

Speed: a route is computed once per (node, priority, previous node) and reused for the next
bundles while it stays viable, together with its best *rival* (the best route that does not
start on the same contact): :meth:`Router.viable_count` takes, in one array pass, the longest
run of bundles that the route still fits and that reach Earth no later on it than on the rival.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from typing import NamedTuple

import numpy as np

from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.transmission import N_PRIORITIES, Transmitters

__all__ = ["VOLUME_TOLERANCE_BITS", "ContactGraph", "PeerContacts", "Router"]

#: Volumes are compared with this slack (bits), for sums of bundle sizes.
VOLUME_TOLERANCE_BITS = 1e-6
_TIE_ULPS = 4


class PeerContacts(NamedTuple):
    """The contacts from one node to one peer, in (end, start) order, with their times."""

    peer: int
    contacts: list[int]
    starts_s: list[float]
    ends_s: list[float]


class ContactGraph:
    """The contact plan as routing sees it: contact columns as Python lists (fast scalar
    access), each node's outgoing contacts grouped by peer, and the state that removes or
    shrinks contacts: ``residual_bits[c, p]`` (MTV), ``missed[c]`` and ``ended[c]``."""

    def __init__(self, plan: ContactPlan) -> None:
        self.sender: list[int] = plan.from_node.tolist()
        self.receiver: list[int] = plan.to_node.tolist()
        self.start_s: list[float] = plan.start_tdb_s.tolist()
        self.end_s: list[float] = plan.end_tdb_s.tolist()
        self.rate_bps: list[float] = plan.rate_bps.tolist()
        self.owlt_s: list[float] = plan.owlt_s.tolist()
        self.is_sink: list[bool] = plan.is_sink.tolist()
        by_pair: dict[tuple[int, int], list[int]] = {}
        for c, pair in enumerate(zip(self.sender, self.receiver, strict=True)):
            by_pair.setdefault(pair, []).append(c)
        self.outgoing: list[list[PeerContacts]] = [[] for _ in plan.node_names]
        for (sender, peer), contacts in sorted(by_pair.items()):
            contacts.sort(key=lambda c: (self.end_s[c], self.start_s[c]))
            self.outgoing[sender].append(PeerContacts(
                peer, contacts, [self.start_s[c] for c in contacts],
                [self.end_s[c] for c in contacts]))
        self.residual_bits = np.repeat(plan.volume_bits[:, None], N_PRIORITIES, axis=1)
        self.missed: list[bool] = [False] * len(plan)
        self.ended: list[bool] = [False] * len(plan)


class Router:
    """Routes bundles over a :class:`ContactGraph` and keeps their volume reservations.

    ``reserved_route[i]``: the route bundle ``i`` holds reservations on (-1: none); routes are
    numbered as found (``route_hops[r]``: its contacts). ``limbo[node]``: bundles waiting there
    for a route. The bundle arrays (``ready_s``, ``prev_node``) are the engine's, read here.
    """

    def __init__(self, graph: ContactGraph, transmitters: Transmitters, bits: np.ndarray,
                 priority: np.ndarray, expiry_s: np.ndarray, ready_s: np.ndarray,
                 prev_node: np.ndarray, start_s: float, end_s: float, may_expire: bool,
                 stats: dict[str, int]) -> None:
        self.graph = graph
        self.transmitters = transmitters
        self.bits, self.priority, self.expiry_s = bits, priority, expiry_s
        self.ready_s, self.prev_node = ready_s, prev_node
        self.end_s = end_s
        self.may_expire = may_expire  # False: no bundle can expire in the run
        # a route and its rival arriving within this of each other tie (the route keeps its
        # bundles): their projections round differently, by an ulp or two of the time
        self.tie_s = _TIE_ULPS * float(np.spacing(max(abs(start_s), abs(end_s), 1.0)))
        self.stats = stats
        self.route_hops: list[tuple[int, ...]] = []
        self._route_number: dict[tuple[int, ...], int] = {}
        # (node, priority, excluded node) -> (route, its rival or -1)
        self._cached: dict[tuple[int, int, int], tuple[int, int]] = {}
        self.reserved_route = np.full(len(bits), -1, dtype=np.int32)
        self.limbo: list[list[np.ndarray]] = [[] for _ in graph.outgoing]

    # ----------------------------------------------------------------- search
    def search(self, node: int, t: float, bits: float, priority: int, excluded_node: int,
               skip_contact: int = -1) -> tuple[int, ...] | None:
        """Contacts of the route of earliest projected arrival at Earth for a ``bits``-bit
        bundle of ``priority`` at ``node`` at time ``t``, not entering ``excluded_node`` first
        nor starting with contact ``skip_contact`` (None: no route)."""
        self.stats["routes_computed"] += 1
        g, tx = self.graph, self.transmitters
        residual, missed = g.residual_bits, g.missed
        rate, owlt, receiver, is_sink = g.rate_bps, g.owlt_s, g.receiver, g.is_sink
        free_s, transmitter_of, ahead_bits = tx.free_s, tx.of_contact, tx.ahead_bits
        need = bits - VOLUME_TOLERANCE_BITS
        # (projected arrival, hops, entry node, contact, previous contact)
        frontier: list[tuple[float, int, int, int, int]] = []
        for peer, contacts, starts, ends in g.outgoing[node]:
            if peer == excluded_node:
                continue
            k = bisect_right(ends, t)
            while k < len(contacts):
                c = contacts[k]
                if c != skip_contact and not missed[c] and residual[c, priority] >= need:
                    r = rate[c]
                    s = transmitter_of[c]
                    first_opportunity = (max(starts[k], free_s[s])
                                         + ahead_bits(s, c, priority) / r)
                    last_bit = (t if t > first_opportunity else first_opportunity) + bits / r
                    if last_bit <= ends[k]:
                        heapq.heappush(frontier, (last_bit + owlt[c], 1, peer, c, -1))
                        break
                k += 1
        settled = {node}
        previous_contact: dict[int, int] = {}
        while frontier:
            arrival, hops, entry, c, prev_c = heapq.heappop(frontier)
            reached = receiver[c]
            if reached in settled:
                continue
            settled.add(reached)
            previous_contact[c] = prev_c
            if is_sink[reached]:
                route = [c]
                while previous_contact[route[-1]] >= 0:
                    route.append(previous_contact[route[-1]])
                return tuple(reversed(route))
            for peer, contacts, starts, ends in g.outgoing[reached]:
                if peer in settled:
                    continue
                k = bisect_right(ends, arrival)
                while k < len(contacts):
                    c2 = contacts[k]
                    if not missed[c2] and residual[c2, priority] >= need:
                        tx_start = arrival if arrival > starts[k] else starts[k]
                        last_bit = tx_start + bits / rate[c2]
                        if last_bit <= ends[k]:
                            heapq.heappush(frontier, (last_bit + owlt[c2], hops + 1, entry, c2, c))
                            break
                    k += 1
        return None

    def _number(self, hops: tuple[int, ...]) -> int:
        route = self._route_number.get(hops)
        if route is None:
            route = len(self.route_hops)
            self._route_number[hops] = route
            self.route_hops.append(hops)
        return route

    def route_and_rival(self, node: int, priority: int, excluded_node: int, t: float,
                        bits: float) -> tuple[int, int] | None:
        """Best route and its best rival (a route not starting on the same contact, or -1)."""
        hops = self.search(node, t, bits, priority, excluded_node)
        if hops is None:
            return None
        rival = self.search(node, t, bits, priority, excluded_node, skip_contact=hops[0])
        return self._number(hops), (self._number(rival) if rival is not None else -1)

    def forget_routes(self) -> None:
        """Drop every cached route (the graph lost a contact)."""
        self._cached.clear()

    # ------------------------------------------------------------- projection
    def _first_opportunity(self, contact: int, priority: int) -> float:
        """When a new bundle of ``priority`` could start on ``contact`` (TDB s): its start or
        its transmitter's free time, plus the bits queued ahead of it (SABR 3.2.6.2)."""
        g, tx = self.graph, self.transmitters
        s = tx.of_contact[contact]
        return (max(g.start_s[contact], tx.free_s[s])
                + tx.ahead_bits(s, contact, priority) / g.rate_bps[contact])

    def projected_arrival(self, hops: tuple[int, ...], t: np.ndarray, bits: np.ndarray,
                          priority: int, queued_ahead_bits: np.ndarray | None
                          ) -> tuple[np.ndarray, np.ndarray | None, float]:
        """Projected arrival of each bundle on ``hops``, whether it fits each contact's time
        (None: all fit), and the latest arrival; ``queued_ahead_bits``: bits queued ahead of
        each bundle on the first transmitter (None: the bundles queue one after another)."""
        g = self.graph
        first = hops[0]
        rate = g.rate_bps[first]
        first_opportunity = self._first_opportunity(first, priority)
        duration = bits / rate
        fits = None
        if queued_ahead_bits is None:
            elapsed = duration.cumsum()
            if t.max() <= first_opportunity:  # all wait for the first opportunity
                last_bit = elapsed + first_opportunity
            else:
                last_bit = elapsed + np.maximum(
                    first_opportunity, np.maximum.accumulate(t - (elapsed - duration)))
            latest = last_bit[-1]  # back to back: the last bit of the last bundle is latest
        else:
            last_bit = np.maximum(first_opportunity + queued_ahead_bits / rate, t) + duration
            latest = last_bit.max()
        if latest > g.end_s[first]:
            fits = last_bit <= g.end_s[first]
        arrival = last_bit + g.owlt_s[first]
        for c in hops[1:]:
            last_bit = np.maximum(arrival, g.start_s[c]) + bits / g.rate_bps[c]
            latest = last_bit.max()
            if latest > g.end_s[c]:
                fits = last_bit <= g.end_s[c] if fits is None else fits & (last_bit <= g.end_s[c])
            arrival = last_bit + g.owlt_s[c]
        # rounding is monotone: the latest arrival is the latest last bit plus the light time
        return arrival, fits, float(latest + g.owlt_s[hops[-1]])

    def _arrival_bound(self, hops: tuple[int, ...], t: float, bits: float, priority: int
                       ) -> float:
        """A lower bound of :meth:`projected_arrival` with bits queued ahead for bundles no
        earlier than ``t`` and no smaller than ``bits`` (the same operations on the smallest
        operands: rounding is monotone, so the bound holds exactly)."""
        g = self.graph
        first = hops[0]
        arrival = (max(self._first_opportunity(first, priority), t) + bits / g.rate_bps[first]
                   + g.owlt_s[first])
        for c in hops[1:]:
            arrival = max(arrival, g.start_s[c]) + bits / g.rate_bps[c] + g.owlt_s[c]
        return arrival

    def _gone(self, hops: tuple[int, ...]) -> bool:
        missed = self.graph.missed
        return self.graph.ended[hops[0]] or any(missed[c] for c in hops)

    def viable_count(self, route: int, t: np.ndarray, bits: np.ndarray, expiry_s: np.ndarray,
                     priority: int, rival: int = -1) -> int:
        """How many of the bundles (in order) ``route`` takes, all booked on it: it must fit
        them (time, volume, expiry) and reach Earth no later than ``rival`` would.

        Each condition is first tested on its extreme value and only built as a mask when some
        bundle fails it (``ok`` None: every bundle passed so far)."""
        hops = self.route_hops[route]
        if self._gone(hops):
            return 0
        arrival, ok, latest = self.projected_arrival(hops, t, bits, priority, None)
        cumulative = bits.cumsum()
        residual = self.graph.residual_bits
        volume = min(residual[c, priority] for c in hops) + VOLUME_TOLERANCE_BITS
        if cumulative[-1] > volume:
            ok = cumulative <= volume if ok is None else ok & (cumulative <= volume)
        if self.may_expire and latest > expiry_s.min():
            ok = arrival <= expiry_s if ok is None else ok & (arrival <= expiry_s)
        if rival >= 0:
            rival_hops = self.route_hops[rival]
            if not self._gone(rival_hops) and latest > self._arrival_bound(
                    rival_hops, float(t.min()), float(bits.min()), priority) + self.tie_s:
                of_contact = self.transmitters.of_contact
                shared = of_contact[rival_hops[0]] == of_contact[hops[0]]
                ahead = cumulative - bits if shared else np.zeros(len(bits))
                rival_arrival, rival_ok, _ = self.projected_arrival(
                    rival_hops, t, bits, priority, ahead)
                if rival_ok is None:
                    rival_ok = np.ones(len(bits), dtype=bool)
                for c in rival_hops:
                    rival_ok &= bits <= residual[c, priority] + VOLUME_TOLERANCE_BITS
                no_worse = ~rival_ok | (arrival <= rival_arrival + self.tie_s)
                ok = no_worse if ok is None else ok & no_worse
        if ok is None or ok.all():
            return len(bits)
        return int(ok.argmin())

    # ------------------------------------------------------------ reservations
    def reserve(self, route: int, bundle_idx: np.ndarray, priority: int, total: float) -> int:
        """Book bundles (``total`` bits) on ``route``: reserve their volume on every contact of
        it and queue them on its first contact. Returns that contact."""
        hops = self.route_hops[route]
        residual = self.graph.residual_bits
        for c in hops:
            residual[c, : priority + 1] -= total
        self.transmitters.enqueue(hops[0], priority, bundle_idx, total)
        self.reserved_route[bundle_idx] = route
        return hops[0]

    def release(self, bundle_idx: np.ndarray, from_hop: int, priority: int = -1) -> None:
        """Give back the reservations of bundles on their routes' hops ``from_hop`` onwards
        (``priority``: the bundles' priority if they share one, else -1)."""
        routes = self.reserved_route[bundle_idx]
        has = routes >= 0
        if not len(has):
            return
        if not has.all():
            if not has.any():
                return
            bundle_idx, routes = bundle_idx[has], routes[has]
        prio = self.priority[bundle_idx] if priority < 0 else priority
        route0 = int(routes[0])
        prio0 = int(prio[0]) if priority < 0 else priority
        residual = self.graph.residual_bits
        if (routes == route0).all() and (priority >= 0 or (prio == prio0).all()):
            hops = self.route_hops[route0][from_hop:]
            if hops:
                total = float(self.bits[bundle_idx].sum())
                for c in hops:
                    residual[c, : prio0 + 1] += total
            self.reserved_route[bundle_idx] = -1
            return
        key = routes.astype(np.int64) * 4 + prio
        keys, group = np.unique(key, return_inverse=True)
        sums = np.bincount(group, weights=self.bits[bundle_idx])
        for k, total in zip(keys.tolist(), sums.tolist(), strict=True):
            for c in self.route_hops[k // 4][from_hop:]:
                residual[c, : k % 4 + 1] += total
        self.reserved_route[bundle_idx] = -1

    # -------------------------------------------------------------- forwarding
    def forward(self, node: int, bundle_idx: np.ndarray, t_now: float,
                came_from: int | None = None, priority: int | None = None
                ) -> list[tuple[int, np.ndarray]]:
        """Route bundles stored at ``node`` (any priorities and previous nodes, unless all came
        from ``came_from`` or all have ``priority``): book each on a route or put it in limbo.
        Returns the (first contact, bundles) queued, in order."""
        queued: list[tuple[int, np.ndarray]] = []
        if not len(bundle_idx):
            return queued
        self.stats["batches_routed"] += 1
        if t_now > self.end_s:
            self.limbo[node].append(bundle_idx)
            return queued
        if priority is not None and came_from is not None:  # one group, known
            self._forward_group(node, bundle_idx, priority, came_from, t_now, queued)
            return queued
        prio = self.priority[bundle_idx]
        if (prio == prio[0]).all():  # the usual batch: one group
            if came_from is not None:
                self._forward_group(node, bundle_idx, int(prio[0]), came_from, t_now, queued)
                return queued
            prev = self.prev_node[bundle_idx]
            if (prev == prev[0]).all():
                self._forward_group(node, bundle_idx, int(prio[0]), int(prev[0]), t_now, queued)
                return queued
        prev = self.prev_node[bundle_idx]
        for p in (2, 1, 0):  # highest priority first
            group = bundle_idx[prio == p]
            if not len(group):
                continue
            group_prev = self.prev_node[group]
            if (group_prev == group_prev[0]).all():
                self._forward_group(node, group, p, int(group_prev[0]), t_now, queued)
            else:
                for excluded in np.unique(prev[prio == p]):
                    self._forward_group(node, group[group_prev == excluded], p, int(excluded),
                                        t_now, queued)
        return queued

    def _forward_group(self, node: int, bundle_idx: np.ndarray, priority: int,
                       excluded_node: int, t_now: float,
                       queued: list[tuple[int, np.ndarray]]) -> None:
        """Route bundles of one priority that came from one node, in order."""
        t = np.maximum(self.ready_s[bundle_idx], t_now)
        bits = self.bits[bundle_idx]
        expiry = self.expiry_s[bundle_idx]
        key = (node, priority, excluded_node)
        i, n = 0, len(bundle_idx)
        while i < n:
            got = self._cached.get(key)
            k = self.viable_count(got[0], t[i:], bits[i:], expiry[i:], priority, got[1]
                                  ) if got else 0
            if k == 0:
                got = self.route_and_rival(node, priority, excluded_node, float(t[i]),
                                           float(bits[i]))
                if got is None:
                    self._cached.pop(key, None)
                    # no route for this size now: none for larger ones later either
                    big = bits[i:] >= bits[i] - VOLUME_TOLERANCE_BITS
                    self.limbo[node].append(bundle_idx[i:][big])
                    bundle_idx, t = bundle_idx[i:][~big], t[i:][~big]
                    bits, expiry = bits[i:][~big], expiry[i:][~big]
                    i, n = 0, len(bundle_idx)
                    continue
                self._cached[key] = got
                k = self.viable_count(got[0], t[i:], bits[i:], expiry[i:], priority, got[1])
                if k == 0:
                    best = got[0]
                    # the rival is better for this bundle: take it (with its own rival)
                    if got[1] >= 0:
                        hops = self.route_hops[got[1]]
                        rival = self.search(node, float(t[i]), float(bits[i]), priority,
                                            excluded_node, skip_contact=hops[0])
                        got = (got[1], self._number(rival) if rival is not None else -1)
                        self._cached[key] = got
                        k = self.viable_count(got[0], t[i:], bits[i:], expiry[i:], priority,
                                              got[1])
                    if k == 0:  # only its expiry forbids it: no route can be earlier
                        # nor for the next bundles of its time and size that expire before
                        # the best route would deliver (their searches would repeat its own)
                        arrival = self.projected_arrival(
                            self.route_hops[best], t[i:i + 1], bits[i:i + 1], priority, None)[0]
                        alike = ((t[i:] == t[i]) & (bits[i:] == bits[i])
                                 & (expiry[i:] < arrival[0]))
                        run = len(alike) if alike.all() else max(int(np.argmin(alike)), 1)
                        self.limbo[node].append(bundle_idx[i:i + run])
                        i += run
                        continue
            part = bundle_idx[i:i + k]
            total = float(bits[i:i + k].sum())
            queued.append((self.reserve(got[0], part, priority, total), part))
            i += k

    def take_limbo(self, node: int) -> np.ndarray | None:
        """Remove and return the bundles waiting in ``node``'s limbo (None if empty)."""
        if not self.limbo[node]:
            return None
        waiting = np.concatenate(self.limbo[node])
        self.limbo[node] = []
        return waiting
