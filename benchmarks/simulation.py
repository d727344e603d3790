"""Benchmark: marsrelay's store-and-forward simulator against pydtnsim, like for like, and
marsrelay's own scaling. Prints ONE JSON line.

1. Like for like, per span (1, 2, 4, 8, 16 days from the start of exomars-2030): both
   simulators get the same contact plan and the same bundles, built so that both models provably
   apply to it, and their deliveries are compared bundle by bundle.

   - The plan is the scenario's own (contacts and links stages). pydtnsim sends a packet to one
     destination and ignores contact delay, and each of its contacts transmits on its own (a
     node may send on two overlapping contacts at once), while marsrelay delivers at any Earth
     station, adds the light time, and sends on one contact per transmitter at a time. So the
     nine stations are merged into one sink, "Earth"; every sender keeps, at each instant, its
     one best-rate contact (continuing the current one on a tie); light times are 0.
   - pydtnsim counts whole milliseconds: contact edges and creation times are rounded to the
     ms; pydtnsim runs in ms (rates in bits per ms), marsrelay in s from the span's start.
   - Traffic: Rosalind Franklin's 150 Mbit/sol (its data budget) in 2 Mbit products of 50 kbit
     bundles, no expiry (pydtnsim packets have none).
   - pydtnsim is used as its documentation shows (``examples/minimal_example.py``): a
     ContactPlan, its ContactGraph, one Contact per planned contact, one SimpleCGRNode with
     ``cgr_basic.cgr`` per node, BatchPacketGenerators (one per batch size, with all its times).
   - Timing: each side from the same arrays to its result (building its plan objects included),
     best of a few interleaved runs (the machine may be shared); ``speedup`` is pydtnsim's time
     over marsrelay's.

2. Stations: marsrelay on the scenario's plan with its nine stations (light time 0, as in the
   like-for-like plan, and with the real light time) against the merged like-for-like plan, same
   bundles, 4 days.

3. Scaling: one year of the scenario's plan and the same 150 Mbit/sol in bundles of 5 Mbit down
   to 5 kbit (10^4 .. 10^7 bundles): seconds and bundles per second.

    python benchmarks/simulation.py [--synthetic] [--compare-only DAYS]

``--synthetic`` takes the year-long plan of :mod:`marsrelay.simulation.synthetic` for the scaling
part (skips about 30 s of geometry). ``--compare-only DAYS`` runs only the like-for-like
comparison over DAYS (one run each) and prints its JSON line; the tests use it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from marsrelay.config.traffic import TrafficConfig, TrafficSource
from marsrelay.constants import DAY_S
from marsrelay.scenario import load_scenario
from marsrelay.simulation import Bundles, ContactPlan, SimulationOutcome, simulate
from marsrelay.simulation.synthetic import synthetic_mars_plan
from marsrelay.simulation.traffic import generate_traffic

SCENARIO = "exomars-2030"
SPANS_DAYS = (1, 2, 4, 8, 16)
SCALING_BUNDLE_BITS = (5e6, 5e5, 5e4, 5e3)  # about 10^4 .. 10^7 bundles in a year
#: Rosalind Franklin's budget (150 Mbit/sol) in 2 Mbit products of 50 kbit bundles
TRAFFIC = dict(bits_per_sol=150e6, bundle_bits=5e4, product_bits=2e6, profile="daytime")
SINK = "Earth"
MS = 1000.0


# ------------------------------------------------------------------- inputs
def scenario_plan(days: float) -> tuple[ContactPlan, float, str, float]:
    """The scenario's plan over ``days`` from its start (contacts and links stages), the start
    (TDB s), the lander's name and its longitude."""
    from marsrelay.contacts.api import find_contacts
    from marsrelay.links.compute import compute_links

    sc = load_scenario(SCENARIO)
    sc = sc.with_overrides(end_tdb_s=sc.start_tdb_s + days * DAY_S)
    linked = compute_links(sc, find_contacts(sc))
    plan = ContactPlan.from_contact_table(linked.contacts, sc, sc.simulation)
    lander = sc.landers[0]
    return plan, sc.start_tdb_s, lander.name, float(lander.site.lon_east_deg)


def traffic(plan: ContactPlan, t0: float, days: float, lander: str, lon: float,
            **overrides: float) -> Bundles:
    source = TrafficSource(node=lander, **{**TRAFFIC, **overrides})
    return generate_traffic(TrafficConfig(source=[source]), plan.node_names, plan.node_kind,
                            t0, t0 + days * DAY_S, {lander: lon})


@dataclass(frozen=True)
class LikePlan:
    """The like-for-like plan and bundles; times in ms from the span's start."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    sender: np.ndarray
    receiver: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray
    rate_bps: np.ndarray
    source: str
    created_ms: np.ndarray
    bundle_bits: float
    end_of_run_ms: int


def like_for_like(plan: ContactPlan, bundles: Bundles, t0: float, days: float) -> LikePlan:
    """Merge the stations into one sink, round to the ms, keep one contact per sender at a
    time (its best rate at each instant), light time 0 (see the module docstring)."""
    end_ms = round(days * DAY_S * MS)
    names = [n for n, k in zip(plan.node_names, plan.node_kind, strict=True) if k != "station"]
    kinds = [k for k in plan.node_kind if k != "station"]
    new_index = [names.index(n) if k != "station" else len(names)
                 for n, k in zip(plan.node_names, plan.node_kind, strict=True)]
    names.append(SINK)
    kinds.append("station")
    sender = np.array(new_index)[plan.from_node]
    receiver = np.array(new_index)[plan.to_node]
    start = np.clip(np.round((plan.start_tdb_s - t0) * MS), 0, end_ms).astype(np.int64)
    end = np.clip(np.round((plan.end_tdb_s - t0) * MS), 0, end_ms).astype(np.int64)
    rows: list[tuple[int, int, int, int, float]] = []
    for node in np.unique(sender):
        mine = np.flatnonzero((sender == node) & (end > start))
        edges = np.unique(np.concatenate([start[mine], end[mine]]))
        current = -1
        for a, z in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
            active = mine[(start[mine] <= a) & (end[mine] >= z)]
            if not len(active):
                current = -1
                continue
            rates = plan.rate_bps[active]
            best = int(active[np.argmax(rates)])
            if current in active and plan.rate_bps[current] >= rates.max():
                best = current
            if best == current and rows and rows[-1][3] == a:
                rows[-1] = (*rows[-1][:3], z, rows[-1][4])
            else:
                rows.append((int(node), int(receiver[best]), a, z, plan.rate_bps[best]))
            current = best
    cols = np.array(rows, dtype=float).T if rows else np.zeros((5, 0))
    created = np.round((bundles.created_tdb_s - t0) * MS).astype(np.int64)
    sources = np.unique(bundles.source)
    sizes = np.unique(bundles.bits)
    if len(sources) != 1 or len(sizes) != 1:
        raise ValueError("the comparison takes one source and one bundle size")
    return LikePlan(tuple(names), tuple(kinds), cols[0].astype(np.int32),
                    cols[1].astype(np.int32), cols[2].astype(np.int64), cols[3].astype(np.int64),
                    cols[4], plan.node_names[int(sources[0])], created, float(sizes[0]), end_ms)


# ------------------------------------------------------------------ the two
def run_marsrelay(like: LikePlan) -> SimulationOutcome:
    """marsrelay on the like-for-like plan, in s from the span's start."""
    plan = ContactPlan(like.names, like.kinds, like.sender, like.receiver, like.start_ms / MS,
                       like.end_ms / MS, like.rate_bps, np.zeros(len(like.sender)))
    source = like.names.index(like.source)
    bundles = Bundles.from_arrays(source, like.created_ms / MS, like.bundle_bits)
    return simulate(plan, bundles, start_tdb_s=0.0, end_tdb_s=like.end_of_run_ms / MS)


def deliveries(out: SimulationOutcome) -> dict[int, float]:
    """Delivered bundle -> delivery time, ms."""
    delivered = np.flatnonzero(out.delivered)
    return dict(zip(delivered.tolist(), (out.done_tdb_s[delivered] * MS).tolist(), strict=True))


def run_pydtnsim(like: LikePlan) -> dict[int, float]:
    """Delivered packet -> delivery time, ms (packets are numbered in creation order)."""
    from pydtnsim import Contact, ContactGraph, Simulator
    from pydtnsim import ContactPlan as PydtnsimPlan
    from pydtnsim.monitors import BaseMonitor
    from pydtnsim.nodes import SimpleCGRNode
    from pydtnsim.packet_generators import BatchPacketGenerator
    from pydtnsim.routing import cgr_basic

    class Deliveries(BaseMonitor):
        def __init__(self, env):
            super().__init__(env)
            self.done: dict[int, float] = {}

        def packet_destination_reached(self, packet, node):
            self.done[packet.identifier] = self.env.now

    simulator = Simulator()
    contact_plan = PydtnsimPlan(1, 0)
    for f, t, s, e, r in zip(like.sender.tolist(), like.receiver.tolist(),
                             like.start_ms.tolist(), like.end_ms.tolist(),
                             like.rate_bps.tolist(), strict=True):
        contact_plan.add_contact(like.names[f], like.names[t], s, e, datarate=r / MS, delay=0,
                                 bidirectional=False)
    contact_graph = ContactGraph(contact_plan)
    for planned in contact_plan.get_contacts():
        simulator.register_contact(Contact(planned.from_time, planned.to_time,
                                           planned.datarate, planned.from_node,
                                           planned.to_node, planned.delay))
    for planned_node in contact_plan.get_nodes():
        contact_dict = simulator.get_contact_dict(
            contact_plan.get_outbound_contacts_of_node(planned_node))
        SimpleCGRNode(planned_node, contact_dict, cgr_basic.cgr, contact_graph, simulator, [])
    times, counts = np.unique(like.created_ms, return_counts=True)
    for count in np.unique(counts).tolist():
        simulator.register_generator(BatchPacketGenerator(
            count, like.bundle_bits, [like.source], [SINK], times[counts == count].tolist()))
    deliveries = Deliveries(simulator.env)
    simulator.register_monitor(deliveries)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a summary
        simulator.run_simulation(like.end_of_run_ms)
    return deliveries.done


def best_time(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare(like: LikePlan, repeats_marsrelay: int = 1, repeats_pydtnsim: int = 1
            ) -> dict[str, float | int]:
    """Both simulators on ``like`` (runs interleaved, best time of each; each to its own form
    of result: marsrelay's outcome arrays, pydtnsim's monitor): times, delivered counts, and
    how far the deliveries differ (bundles delivered by one only; largest delivery-time
    difference, ms)."""
    mr_s = pyd_s = np.inf
    mine: dict[int, float] = {}
    theirs: dict[int, float] = {}
    for k in range(max(repeats_marsrelay, repeats_pydtnsim)):
        if k < repeats_marsrelay:
            seconds, out = best_time(lambda: run_marsrelay(like), 1)
            mine = deliveries(out)  # type: ignore[arg-type]
            mr_s = min(mr_s, seconds)
        if k < repeats_pydtnsim:
            seconds, theirs = best_time(lambda: run_pydtnsim(like), 1)  # type: ignore[assignment]
            pyd_s = min(pyd_s, seconds)
    both = sorted(set(mine) & set(theirs))
    diff = max((abs(mine[i] - theirs[i]) for i in both), default=0.0)
    return {"bundles": len(like.created_ms), "contacts": len(like.sender),
            "delivered_marsrelay": len(mine), "delivered_pydtnsim": len(theirs),
            "delivered_by_one_only": len(set(mine) ^ set(theirs)),
            "max_delivery_time_diff_ms": diff,
            "marsrelay_s": mr_s, "pydtnsim_s": pyd_s, "speedup": pyd_s / mr_s}


# ---------------------------------------------------------------------- main
def compare_only(days: float) -> None:
    plan, t0, lander, lon = scenario_plan(days)
    like = like_for_like(plan.clip(t0, t0 + days * DAY_S), traffic(plan, t0, days, lander, lon),
                         t0, days)
    print(json.dumps({"span_days": days, **compare(like)}))


def stations(plan: ContactPlan, t0: float, like: LikePlan, days: float, repeats: int
             ) -> dict[str, float]:
    """marsrelay on the nine-station plan (light time 0, and real) vs the merged one."""
    bundles = Bundles.from_arrays(plan.node_names.index(like.source),
                                  t0 + like.created_ms / MS, like.bundle_bits)
    span = plan.clip(t0, t0 + days * DAY_S)
    zero = ContactPlan(span.node_names, span.node_kind, span.from_node, span.to_node,
                       span.start_tdb_s, span.end_tdb_s, span.rate_bps, np.zeros(len(span)),
                       band=span.band)
    out: dict[str, float] = {}
    for key, p in (("nine_stations_owlt0_s", zero), ("nine_stations_s", span)):
        out[key] = best_time(lambda p=p: simulate(p, bundles, start_tdb_s=t0,
                                                  end_tdb_s=t0 + days * DAY_S), repeats)[0]
    out["merged_s"] = best_time(lambda: run_marsrelay(like), repeats)[0]
    out["nine_over_merged"] = out["nine_stations_owlt0_s"] / out["merged_s"]
    return out


def scaling(synthetic: bool) -> dict[str, list[float]]:
    """One year, the same data volume in ever smaller bundles."""
    if synthetic:
        sc = load_scenario(SCENARIO)
        lander = sc.landers[0]
        t0 = sc.start_tdb_s
        plan = synthetic_mars_plan(t0, 365.0, lander=lander.name)
        lon = float(lander.site.lon_east_deg)
        name = lander.name
    else:
        plan, t0, name, lon = scenario_plan(365.0)
    result: dict[str, list[float]] = {"bundles": [], "seconds": [], "bundles_per_s": []}
    for bits in SCALING_BUNDLE_BITS:
        bundles = traffic(plan, t0, 365.0, name, lon, bundle_bits=bits,
                          product_bits=max(bits, TRAFFIC["product_bits"]))
        seconds = best_time(lambda b=bundles: simulate(
            plan, b, start_tdb_s=t0, end_tdb_s=t0 + 365.0 * DAY_S), 1)[0]
        result["bundles"].append(len(bundles))
        result["seconds"].append(round(seconds, 3))
        result["bundles_per_s"].append(round(len(bundles) / seconds))
    result["contacts"] = [len(plan)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--compare-only", type=float, metavar="DAYS")
    args = parser.parse_args()
    if args.compare_only:
        compare_only(args.compare_only)
        return
    longest = max(SPANS_DAYS)
    plan, t0, lander, lon = scenario_plan(longest)
    per_span = []
    four_days = None
    for days in SPANS_DAYS:
        like = like_for_like(plan.clip(t0, t0 + days * DAY_S),
                             traffic(plan, t0, days, lander, lon), t0, days)
        per_span.append(compare(like, repeats_marsrelay=9,
                                repeats_pydtnsim=5 if days <= 4 else 2 if days <= 8 else 1))
        if days == 4:
            four_days = like
    assert four_days is not None
    station_cost = stations(plan, t0, four_days, 4.0, repeats=5)
    scale = scaling(args.synthetic)
    rows = {k: [r[k] for r in per_span] for k in per_span[0]}
    speedup_4d = rows["speedup"][SPANS_DAYS.index(4)]
    print(json.dumps({
        "scenario": SCENARIO,
        "like_for_like": "stations merged into one sink, one contact per sender at a time "
                         "(best rate), light time 0, ms grid, 50 kbit bundles, no expiry",
        "spans_days": list(SPANS_DAYS),
        "bundles": rows["bundles"],
        "contacts": rows["contacts"],
        "delivered_marsrelay": rows["delivered_marsrelay"],
        "delivered_pydtnsim": rows["delivered_pydtnsim"],
        "delivered_by_one_only": rows["delivered_by_one_only"],
        "max_delivery_time_diff_ms": [float(f"{x:.3g}") for x in
                                      rows["max_delivery_time_diff_ms"]],
        "marsrelay_s": [round(x, 4) for x in rows["marsrelay_s"]],
        "pydtnsim_s": [round(x, 3) for x in rows["pydtnsim_s"]],
        "speedup": [round(x, 1) for x in rows["speedup"]],
        "speedup_4d": round(speedup_4d, 1),
        "goal_speedup_4d": 50,
        "nine_stations_owlt0_s": round(station_cost["nine_stations_owlt0_s"], 4),
        "nine_stations_real_owlt_s": round(station_cost["nine_stations_s"], 4),
        "merged_one_sink_s": round(station_cost["merged_s"], 4),
        "nine_over_merged": round(station_cost["nine_over_merged"], 2),
        "goal_nine_over_merged": 2.0,
        "scaling_plan": "synthetic year" if args.synthetic else "scenario year",
        "scaling_contacts": scale["contacts"][0],
        "scaling_bundles": scale["bundles"],
        "scaling_s": scale["seconds"],
        "scaling_bundles_per_s": scale["bundles_per_s"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }))


if __name__ == "__main__":
    main()
