"""ION contact plans: syntax per ionrc(5) (NASA JPL ION-DTN manual: ``a contact START STOP FROM
TO RATE [CONFIDENCE]`` in bytes/s, ``a range START STOP A B OWLT`` in light seconds, ``@`` sets
the reference time of ``+ss`` times) and lossless round trips."""

from __future__ import annotations

import numpy as np
import pytest

from marsrelay.errors import InputError
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.simulation import Bundles, ContactPlan, simulate
from marsrelay.simulation.ion import from_ion, read_ion, to_ion, write_ion

ION_TEXT = """\
## begin ionadmin
1 1 ''
@ 2030/11/01-00:00:00
a contact +0 +600 1 2 32000
a contact +3600 +4200 2 3 250000 0.9
a contact 2030/11/01-02:00:00 2030/11/01-02:30:00 1 3 1000
a range +0 +86400 1 2 0
a range +0 +86400 2 3 700
a range +0 +86400 3 1 690
m production 1000000
s
## end ionadmin
"""


def test_reads_ion_units_and_times():
    p = from_ion(ION_TEXT, earth_nodes=[3])
    ref = float(utc_to_tdb("2030-11-01T00:00:00Z"))
    assert p.node_names == ("ipn:1", "ipn:2", "ipn:3")
    assert p.node_kind == ("node", "node", "station")
    assert len(p) == 3
    i = int(np.flatnonzero(p.from_node == 1)[0])  # 2 -> 3
    assert p.start_tdb_s[i] == pytest.approx(ref + 3600, abs=1e-6)
    assert p.rate_bps[i] == 2_000_000.0  # 250000 bytes/s
    assert p.owlt_s[i] == 700.0
    assert p.confidence[i] == 0.9
    j = int(np.flatnonzero((p.from_node == 0) & (p.to_node == 2))[0])  # absolute times
    assert p.end_tdb_s[j] - p.start_tdb_s[j] == pytest.approx(1800.0, abs=1e-6)
    assert p.owlt_s[j] == 690.0  # the 3 -> 1 range serves 1 -> 3 (ranges are symmetric)


def test_contact_without_range_is_dropped_like_ion_cgr():
    text = "@ 2030/11/01-00:00:00\na contact +0 +60 1 2 100\n"
    assert len(from_ion(text)) == 0


def test_ion_file_survives_a_round_trip_unchanged(tmp_path):
    p = from_ion(ION_TEXT, earth_nodes=[3])
    text = to_ion(p, float(utc_to_tdb("2030-11-01T00:00:00Z")))
    again = from_ion(text)
    assert again.equals(p, atol=1e-3)  # ION's resolution is 1 s
    assert to_ion(again, float(utc_to_tdb("2030-11-01T00:00:00Z"))) == text
    path = write_ion(tmp_path / "plan.ionrc", again)
    assert read_ion(path).equals(p, atol=1e-3)


def test_marsrelay_plan_on_ion_grid_is_lossless_both_ways():
    kinds = {"Rosalind Franklin": "lander", "TGO": "orbiter", "DSS-63": "station"}
    t0 = float(utc_to_tdb("2030-11-01T00:00:00Z"))
    p = ContactPlan.from_rows([
        ("Rosalind Franklin", "TGO", t0 + 100, t0 + 700, 2_048_000, 0.0),
        ("TGO", "DSS-63", t0 + 1000, t0 + 5000, 4_000_000, 612.0, 0.95),
        ("Rosalind Franklin", "TGO", t0 + 8000, t0 + 8400, 256_000, 0.0),
    ], kinds)
    text = to_ion(p, t0)
    assert "# node 1 lander Rosalind Franklin" in text
    assert "a contact +1000 +5000 2 3 500000 0.95" in text
    assert "a range +1000 +5000 2 3 612" in text
    back = from_ion(text)
    assert back.equals(p)
    # absolute UTC times give the same plan
    assert from_ion(to_ion(p, t0, absolute=True)).equals(p, atol=1e-3)
    # and the same simulation results
    b = Bundles.from_arrays(0, [t0, t0 + 10], 1e6)
    r1, r2 = simulate(p, b), simulate(back, b)
    assert np.array_equal(r1.done_tdb_s, r2.done_tdb_s)


def test_bad_lines_are_input_errors():
    with pytest.raises(InputError, match="line 2"):
        from_ion("@ 2030/11/01-00:00:00\na contact +0 1 2 100\n")
    with pytest.raises(InputError, match="reference"):
        from_ion("a contact +0 +10 1 2 100\n")
