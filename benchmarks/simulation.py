"""Benchmark: one year of exomars-2030 traffic (>= 1 million bundles) through marsrelay's
store-and-forward simulator, against pydtnsim on a fraction of the same plan and traffic.

Prints ONE JSON line. The contact plan is the scenario's own, from the contacts and links
stages over the year (about half a minute of geometry, not timed); with ``--synthetic`` it is a
synthetic year-long plan with realistic pass patterns (:mod:`marsrelay.simulation.synthetic`).
``plan`` says which.
pydtnsim (ms time steps, no light time) runs the first ``PYDTNSIM_DAYS`` days; the speed-up is
the ratio of seconds per bundle.

    python benchmarks/simulation.py [--synthetic]
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from marsrelay.config.traffic import TrafficConfig, TrafficSource
from marsrelay.constants import DAY_S
from marsrelay.scenario import load_scenario
from marsrelay.simulation import simulate
from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.synthetic import synthetic_mars_plan
from marsrelay.simulation.traffic import generate_traffic

YEAR_DAYS = 365.0
PYDTNSIM_DAYS = 2.0
#: 150 Mbit/sol (Rosalind Franklin budget) in 50 kbit bundles, 2 Mbit products: ~1.07 M bundles
TRAFFIC = dict(bits_per_sol=150e6, bundle_bits=5e4, product_bits=2e6, profile="daytime")


def _plan(sc, real: bool) -> tuple[ContactPlan, str]:
    if real:  # the scenario's own contacts and links over the year (slow: geometry)
        from marsrelay.contacts.api import find_contacts
        from marsrelay.links.compute import compute_links

        linked = compute_links(sc, find_contacts(sc))
        return (ContactPlan.from_contact_table(linked.contacts, sc, sc.simulation),
                "scenario (contacts + links stages)")
    plan = synthetic_mars_plan(sc.start_tdb_s, YEAR_DAYS, lander=sc.landers[0].name)
    return plan, "synthetic year-long plan with realistic pass patterns"


def _pydtnsim(plan: ContactPlan, bundles, t0: float, days: float) -> tuple[float, int, int]:
    from pydtnsim import Contact, ContactGraph, Simulator
    from pydtnsim import ContactPlan as PydPlan
    from pydtnsim.monitors import BaseMonitor
    from pydtnsim.nodes import SimpleCGRNode
    from pydtnsim.packet_generators import BatchPacketGenerator
    from pydtnsim.routing import cgr_basic

    class Count(BaseMonitor):
        delivered = 0

        def packet_destination_reached(self, packet, node):
            Count.delivered += 1

    end_ms = int(days * DAY_S * 1000)
    names = plan.node_names
    sinks = [n for n, k in zip(names, plan.node_kind, strict=True) if k == "station"]
    earth = "Earth"  # pydtnsim has one destination per packet: merge the stations
    pplan = PydPlan(1, 0)
    for i in range(len(plan)):
        s = int((plan.start_tdb_s[i] - t0) * 1000)
        e = int((plan.end_tdb_s[i] - t0) * 1000)
        if s >= end_ms:
            continue
        f, t = names[plan.from_node[i]], names[plan.to_node[i]]
        pplan.add_contact(f, earth if t in sinks else t, s, min(e, end_ms),
                          datarate=plan.rate_bps[i] / 1000.0, delay=0, bidirectional=False)
    graph = ContactGraph(pplan)
    sim = Simulator()
    for c in pplan.get_contacts():
        sim.register_contact(Contact(c.from_time, c.to_time, c.datarate, c.from_node,
                                     c.to_node, c.delay))
    for node in pplan.get_nodes():
        SimpleCGRNode(node, sim.get_contact_dict(pplan.get_outbound_contacts_of_node(node)),
                      cgr_basic.cgr, graph, sim, [])
    m = bundles.created_tdb_s < t0 + days * DAY_S
    times = ((bundles.created_tdb_s[m] - t0) * 1000).astype(np.int64)
    size = float(bundles.bits[0])
    src = names[int(bundles.source[0])]
    uniq, counts = np.unique(times, return_counts=True)
    for tm, n in zip(uniq.tolist(), counts.tolist(), strict=True):
        sim.register_generator(BatchPacketGenerator(n, size, [src], [earth], [tm]))
    sim.register_monitor(Count(sim.env))
    start = time.perf_counter()
    sim.run_simulation(end_ms)
    return time.perf_counter() - start, int(m.sum()), Count.delivered


def main() -> None:
    sc = load_scenario("exomars-2030")
    sc = sc.with_overrides(end_tdb_s=sc.start_tdb_s + YEAR_DAYS * DAY_S)
    plan, kind = _plan(sc, "--synthetic" not in sys.argv[1:])
    t0, t1 = sc.start_tdb_s, sc.start_tdb_s + YEAR_DAYS * DAY_S
    lander = sc.landers[0]
    cfg = TrafficConfig(source=[TrafficSource(node=lander.name, **TRAFFIC)])
    start = time.perf_counter()
    bundles = generate_traffic(cfg, plan.node_names, plan.node_kind, t0, t1,
                               {lander.name: lander.site.lon_east_deg})
    out = simulate(plan, bundles, start_tdb_s=t0, end_tdb_s=t1)
    marsrelay_s = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    c = out.conservation
    parts = c["delivered_bits"] + c["stored_bits"] + sum(
        v for k, v in c.items() if k.startswith("dropped_"))
    conservation_ok = bool(np.isclose(parts, c["generated_bits"]))
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # pydtnsim prints progress
    try:
        pyd_s, pyd_n, pyd_delivered = _pydtnsim(plan, bundles, t0, PYDTNSIM_DAYS)
    finally:
        sys.stdout = real_stdout
    per_mr = marsrelay_s / max(len(bundles), 1)
    per_pyd = pyd_s / max(pyd_n, 1)
    print(json.dumps({
        "bundles": len(bundles),
        "contacts": len(plan),
        "plan": kind,
        "span_days": YEAR_DAYS,
        "marsrelay_s": round(marsrelay_s, 3),
        "delivered_fraction": round(c["delivered_bits"] / c["generated_bits"], 6),
        "pydtnsim_s": round(pyd_s, 3),
        "pydtnsim_bundles": pyd_n,
        "pydtnsim_delivered": pyd_delivered,
        "pydtnsim_fraction": round(pyd_n / max(len(bundles), 1), 6),
        "speedup_vs_pydtnsim": round(per_pyd / per_mr, 1),
        "peak_rss_mb": round(rss_mb, 1),
        "conservation_ok": conservation_ok,
        "routes_computed": out.stats["routes_computed"],
    }))


if __name__ == "__main__":
    main()
