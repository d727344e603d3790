"""Hand-solvable cases of the store-and-forward simulator: every expected time is worked out
in the comments from the model in marsrelay.simulation.engine's docstring."""

from __future__ import annotations

import numpy as np
import pytest

from marsrelay.simulation import Bundles, ConservationError, ContactPlan, simulate
from marsrelay.simulation.engine import STATUS_DELIVERED, STATUS_DROPPED, STATUS_STORED

KINDS = {"L": "lander", "A": "orbiter", "B": "orbiter", "G": "station", "H": "station"}


def plan(*rows):
    return ContactPlan.from_rows(rows, KINDS)


def test_two_hop_chain_times_with_light_time():
    # L->A 100..200 at 10 bps; A->G 300..400 at 10 bps, OWLT 5 s. 100-bit bundles take 10 s.
    p = plan(("L", "A", 100, 200, 10, 0), ("A", "G", 300, 400, 10, 5))
    out = simulate(p, Bundles.from_arrays(0, [0, 10, 20], 100), end_tdb_s=1000)
    # at A: 110, 120, 130; sent to G from 300: last bits at 310, 320, 330, +5 s light time
    assert out.done_tdb_s.tolist() == [315.0, 325.0, 335.0]
    assert [out.path_nodes(i) for i in range(3)] == [["L", "A", "G"]] * 3
    assert out.latency_s.tolist() == [315.0, 315.0, 315.0]


def test_earliest_arrival_route_beats_earlier_first_contact():
    # A is reached first (t=10) but only reaches Earth at 500; B at 50 reaches Earth at 100.
    p = plan(("L", "A", 10, 20, 100, 0), ("A", "G", 500, 600, 100, 0),
             ("L", "B", 50, 60, 100, 0), ("B", "G", 100, 200, 100, 1))
    out = simulate(p, Bundles.from_arrays(0, [0.0], 100), end_tdb_s=1000)
    assert out.path_nodes(0) == ["L", "B", "G"]
    assert out.done_tdb_s[0] == 102.0  # 50+1 at B, 100+1 sent, +1 s light time


def test_volume_exhaustion_overflows_to_next_route():
    # L->A holds 2 bundles (200 bits); the third goes via B. Direct L->G later is worse.
    p = plan(("L", "A", 0, 20, 10, 0), ("A", "G", 30, 100, 10, 0),
             ("L", "B", 0, 100, 10, 0), ("B", "G", 50, 100, 10, 0), ("L", "G", 500, 600, 10, 0))
    out = simulate(p, Bundles.from_arrays(0, [0, 0, 0], 100), end_tdb_s=1000)
    assert [out.path_nodes(i)[1] for i in range(3)] == ["A", "A", "B"]
    # A: arrive 10, 20; A->G from 30: 40, 50.  B: L->B sends at 0..10, B->G at 50..60
    assert out.done_tdb_s.tolist() == [40.0, 50.0, 60.0]


def test_expedited_bundle_overtakes_queued_bulk_without_preemption():
    # L->G 0..1000 at 1 bps: ten 10-bit bulk bundles from t=0, one expedited at t=15.
    p = plan(("L", "G", 0, 1000, 1, 2))
    b = Bundles.from_arrays([0] * 11, [0.0] * 10 + [15.0], 10, [0] * 10 + [2])
    out = simulate(p, b, end_tdb_s=1000)
    # bulk 0 sent 0..10, bulk 1 10..20 (already started at 15), expedited 20..30 (+2 s light)
    assert out.done_tdb_s[10] == 32.0
    assert out.done_tdb_s[:3].tolist() == [12.0, 22.0, 42.0]
    assert out.done_tdb_s[9] == 112.0


def test_expired_bundle_is_dropped_at_its_expiry():
    p = plan(("L", "A", 100, 200, 10, 0), ("A", "G", 300, 400, 10, 0))
    b = Bundles.from_arrays(0, [0.0, 0.0], 100, 1, [250.0, 1000.0])
    out = simulate(p, b, end_tdb_s=1000)
    # bundle 0 would reach Earth at 310 > expiry 250: no route, waits in limbo, expires
    assert out.status.tolist() == [STATUS_DROPPED, STATUS_DELIVERED]
    assert out.reason[0] == 2 and out.done_tdb_s[0] == 250.0
    assert out.conservation["dropped_expired_bits"] == 100.0


def test_buffer_full_drops_what_does_not_fit():
    p = plan(("L", "G", 100, 200, 10, 0))
    b = Bundles.from_arrays(0, [0.0, 1.0, 2.0], 100)
    storage = np.array([250.0, np.inf, np.inf, np.inf, np.inf])
    out = simulate(p, b, storage_bits=storage, end_tdb_s=1000)
    assert out.status.tolist() == [STATUS_DELIVERED, STATUS_DELIVERED, STATUS_DROPPED]
    assert out.reason[2] == 1 and out.done_tdb_s[2] == 2.0
    assert out.done_tdb_s[:2].tolist() == [110.0, 120.0]


def test_certain_loss_drops_every_bundle_on_the_link():
    p = ContactPlan.from_rows([("L", "G", 0, 100, 10, 3, 1.0, 1.0)], KINDS)
    out = simulate(p, Bundles.from_arrays(0, [0.0, 0.0], 100), end_tdb_s=200)
    assert (out.reason == 3).all()
    assert out.done_tdb_s.tolist() == [13.0, 23.0]  # at the would-be arrival


def test_missed_contact_reroutes_to_the_next_one():
    # the first contact happens with probability 1e-12: missed; the bundle waits for the second
    p = ContactPlan.from_rows([("L", "G", 0, 100, 10, 0, 1e-12, 0.0),
                               ("L", "H", 200, 300, 10, 0)], KINDS)
    out = simulate(p, Bundles.from_arrays(0, [0.0], 100), end_tdb_s=1000)
    assert out.path_nodes(0) == ["L", "H"]
    assert out.done_tdb_s[0] == 210.0


def test_contact_too_short_leaves_rest_for_next_contact():
    # 25 s at 10 bps: two 100-bit bundles fit; the third is re-routed to the later contact
    p = plan(("L", "G", 0, 25, 10, 0), ("L", "G", 100, 200, 10, 0))
    out = simulate(p, Bundles.from_arrays(0, [0.0, 0.0, 0.0], 100), end_tdb_s=1000)
    assert out.done_tdb_s.tolist() == [10.0, 20.0, 110.0]


def test_one_transmitter_per_band_shares_overlapping_earth_contacts():
    # A sees G and H at the same time: with one transmitter the bundles go one after another
    rows = (("L", "A", 0, 10, 1000, 0), ("A", "G", 100, 200, 10, 0), ("A", "H", 100, 200, 10, 0))
    b = Bundles.from_arrays(0, [0.0] * 4, 100)
    one = simulate(plan(*rows), b, end_tdb_s=1000)
    two = simulate(plan(*rows), b, end_tdb_s=1000, one_transmitter_per_band=False)
    assert sorted(one.done_tdb_s.tolist()) == [110.0, 120.0, 130.0, 140.0]
    assert sorted(two.done_tdb_s.tolist()) == [110.0, 110.0, 120.0, 120.0]


def test_bundles_left_at_the_end_are_stored_at_their_node():
    # A->G is missed (confidence 1e-12): the bundle, already at A, has no route left
    p = ContactPlan.from_rows([("L", "A", 0, 100, 10, 0), ("A", "G", 200, 300, 10, 0, 1e-12)],
                              KINDS)
    out = simulate(p, Bundles.from_arrays(0, [0.0], 100), end_tdb_s=500)
    assert out.status[0] == STATUS_STORED
    assert out.node[0] == 1  # A
    assert out.conservation["stored_bits"] == 100.0


def test_same_seed_same_outcome_and_seed_matters():
    p = ContactPlan.from_rows([("L", "G", 0, 10000, 100, 0, 1.0, 0.5)], KINDS)
    b = Bundles.from_arrays(0, np.arange(200.0), 100)
    r1 = simulate(p, b, seed=7)
    r2 = simulate(p, b, seed=7)
    r3 = simulate(p, b, seed=8)
    assert np.array_equal(r1.status, r2.status)
    assert np.array_equal(r1.done_tdb_s, r2.done_tdb_s, equal_nan=True)
    assert not np.array_equal(r1.status, r3.status)
    assert 60 < int((r1.reason == 3).sum()) < 140


def test_conservation_check_fails_on_a_bookkeeping_error(monkeypatch):
    from marsrelay.simulation import engine

    original = engine._Simulator.commit

    def leaky(self, c, p, idx, st, fin):  # forgets to free the sender's storage
        original(self, c, p, idx, st, fin)
        self.occ[self.frm[c]] += float(self.bits[idx].sum())

    monkeypatch.setattr(engine._Simulator, "commit", leaky)
    p = plan(("L", "G", 0, 100, 10, 0))
    with pytest.raises(ConservationError, match="storage counter"):
        simulate(p, Bundles.from_arrays(0, [0.0], 100), end_tdb_s=200)
