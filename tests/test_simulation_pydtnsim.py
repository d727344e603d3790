"""The same plan and traffic in pydtnsim (an independent CGR simulator, PyPI ``pydtnsim``) and in
marsrelay give the same delivery set, times and paths.

pydtnsim counts time in ms and rates in bits/ms and ignores propagation delay at hand-over, so
the plan uses zero light times and whole-ms numbers; marsrelay's units are just the same numbers.
The plan is built so that no route choice is a tie (pydtnsim breaks ties on string hashes).
"""

from __future__ import annotations

import numpy as np
import pytest
from pydtnsim import Contact, ContactGraph, ContactPlan, Simulator
from pydtnsim.monitors import BaseMonitor
from pydtnsim.nodes import SimpleCGRNode
from pydtnsim.packet_generators import BatchPacketGenerator
from pydtnsim.routing import cgr_basic

from marsrelay.simulation import Bundles, simulate
from marsrelay.simulation import ContactPlan as MrPlan

# (from, to, start ms, end ms, rate bits/ms)
CONTACTS = [
    ("L", "A", 1000, 3000, 1),
    ("L", "B", 2000, 6000, 1),
    ("A", "G", 4000, 5000, 2),
    ("B", "G", 7000, 9000, 2),
    ("A", "B", 3500, 3600, 1),
]
# (time ms, packets, size bits)
BATCHES = [(0, 10, 300), (5000, 3, 300)]


class _Deliveries(BaseMonitor):
    def __init__(self, env):
        super().__init__(env)
        self.done: dict[int, tuple[int, tuple[str, ...]]] = {}

    def packet_destination_reached(self, packet, node):
        self.done[packet.identifier] = (self.env.now, tuple(packet.hops))


def _pydtnsim() -> dict[int, tuple[int, tuple[str, ...]]]:
    sim = Simulator()
    plan = ContactPlan(1, 0)
    for f, t, s, e, r in CONTACTS:
        plan.add_contact(f, t, s, e, datarate=r, delay=0, bidirectional=False)
    graph = ContactGraph(plan)
    for c in plan.get_contacts():
        sim.register_contact(Contact(c.from_time, c.to_time, c.datarate, c.from_node,
                                     c.to_node, c.delay))
    for node in plan.get_nodes():
        SimpleCGRNode(node, sim.get_contact_dict(plan.get_outbound_contacts_of_node(node)),
                      cgr_basic.cgr, graph, sim, [])
    for t, n, size in BATCHES:
        sim.register_generator(BatchPacketGenerator(n, size, ["L"], ["G"], [t]))
    mon = _Deliveries(sim.env)
    sim.register_monitor(mon)
    sim.run_simulation(20000)
    return mon.done


def test_same_deliveries_as_pydtnsim(capsys: pytest.CaptureFixture[str]) -> None:
    ref = _pydtnsim()
    capsys.readouterr()
    kinds = {"L": "lander", "A": "orbiter", "B": "orbiter", "G": "station"}
    plan = MrPlan.from_rows([(f, t, s, e, r, 0.0) for f, t, s, e, r in CONTACTS], kinds)
    created = np.concatenate([np.full(n, float(t)) for t, n, _ in BATCHES])
    bits = np.concatenate([np.full(n, float(s)) for _, n, s in BATCHES])
    out = simulate(plan, Bundles.from_arrays(0, created, bits), start_tdb_s=0.0,
                   end_tdb_s=20000.0)
    mine = {i: (out.done_tdb_s[i], tuple(out.path_nodes(i)))
            for i in np.flatnonzero(out.delivered)}
    # pydtnsim numbers packets in creation order, as marsrelay's bundles are
    assert len(ref) == sum(n for _, n, _ in BATCHES) == len(mine)
    assert sorted(ref) == sorted(mine)
    for i, (t, hops) in ref.items():
        assert mine[i][0] == pytest.approx(t, abs=1e-9)
        assert mine[i][1] == hops
    # and the plan exercised both relays (volume exhaustion moved bundles to B)
    assert {h[1] for _, h in ref.values()} == {"A", "B"}
