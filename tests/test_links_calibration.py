"""Calibration of the links stage: the built-in 2019 scenario's per-pass volumes for Curiosity
(via MRO, TGO, MAVEN, Odyssey) against published figures, and where they still disagree, why.

Published figures (copied here with their sources; none is read at run time):

1. NASA/JPL MSL "Communication with Earth: Data Rates/Returns" page
   (mars.jpl.nasa.gov/msl/mission/communicationwithearth/data/): "The data rate to the Mars
   Reconnaissance Orbiter is selected automatically and continuously ... as high as 2 million
   bits per second. The data rate to the Odyssey orbiter is a selectable 128,000 or 256,000
   bits per second ... An orbiter passes over the rover ... for about eight minutes at a time,
   per sol. In that time, between 100 and 250 megabits of data can be transmitted."
2. Bell et al., "MRO relay telecom support of Mars Science Laboratory surface operations",
   IEEE Aerospace Conference 2014 (abstract): ADR raised the MRO link from 256 to 2048 kbps;
   "during the first 200 sols, the telecom operations team has been able to tune the radio and
   protocol parameters to maximize return-link data volume, which is now averaging roughly 500
   Mbits per sol or twice the design requirement of 250 Mbits per sol".
3. NASA release, 2014-11-10 ("NASA's MAVEN ... relays 550 megabits"): MAVEN's first relay of
   Curiosity data, 2014-11-06, "handled a copious 550 megabits", adaptive data rate, with MAVEN
   680 to 2,300 miles (1,110 to 3,700 km) from Mars... over the rover.
4. NASA/JPL MSL "Preventing Busy Signals" page: Curiosity usually has two relay sessions per
   relay orbiter (Odyssey, MRO) per sol.

Calibration statement (the numbers asserted below):

- Odyssey (CE-505, fixed 256 kbps, residual carrier): per-pass median and p90 inside figure 1's
  100-250 Mbit.
- MAVEN (Electra-Lite, adaptive rate): passes of the 2014 geometry (closest approach within 15%
  of 1,110 km, clipped at 3,700 km) carry 0.5-1.5x figure 3's 550 Mbit (model: 300-710, median
  ~630). This pins the lander side of the UHF budget (Curiosity's Electra-Lite, its antenna and
  the Proximity-1 coding), which MRO and TGO passes share.
- MRO (Electra, adaptive rate): the model's per-pass median is 2.3-2.8x the top of figure 1's
  range and its capacity per sol, with every MRO pass used (about two a sol, as figure 4), is
  1.8-2.8x figure 2's achieved 500 Mbit/sol. This disagreement is NOT explained by the pass
  model: hail, rate-change down time, lag, framing and go-back-N together cost a few percent
  (tests/test_links_realism.py). What remains, none of it modelled: (a) figure 2 is an average
  over sols 1-200, during which the adaptive rate was first switched on and then tuned up;
  figure 1 is a round figure for ~8-minute passes from the mission's public pages; (b) MRO
  often points off nadir for its own science during passes, which the nadir-pointed UHF
  pattern here ignores; (c) the orbiter-side Electra parameters (antenna gain, system noise
  temperature) are approximations (links.catalogue marks them approx.), and the MAVEN check
  above does not constrain them because MAVEN carries an Electra-Lite and, per Chamberlain et
  al. 2012 ("MAVEN relay operations concept"), may use LDPC coding. A 3 dB poorer MRO receive
  chain would roughly close the gap; no published value justifies that change, so it is not
  made.
- TGO (Electra, 400 km): no per-pass figure is published (ESA's "about 60% of NASA's surface
  data" in 2019 is a share of data returned under scheduling, not a link figure). Its passes
  carry about what MRO's do, and the MRO explanation applies.
"""

from __future__ import annotations

import numpy as np
import pytest

from marsrelay.contacts import find_contacts
from marsrelay.contacts.table import ContactTable
from marsrelay.links import compute_links
from marsrelay.links.catalogue import PROXIMITY_RADIOS, expected_radio
from marsrelay.links.geometry import proximity_geometry
from marsrelay.scenario import builtin_scenario_names, load_scenario

MSL_PAGE_MBIT_PER_PASS = (100.0, 250.0)  # figure 1
BELL_MRO_MBIT_PER_SOL = 500.0  # figure 2
MAVEN_FIRST_PASS_MBIT = 550.0  # figure 3
MAVEN_FIRST_PASS_RANGE_KM = (1110.0, 3700.0)  # figure 3
SOL_S = 88775.244  # Allison & McEwen 2000 (Mars24)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("curiosity-insight-tgo-2019")


@pytest.fixture(scope="module")
def linked(scenario):
    return compute_links(scenario, find_contacts(scenario))


def _curiosity_passes(linked, orbiter: str) -> np.ndarray:
    ct = linked.contacts
    m = (ct.kind == "proximity") & (ct.source == "Curiosity") & (ct.target == orbiter)
    assert m.sum() > 50  # a month of passes
    return ct.volume_bits[m] / 1e6


def test_odyssey_passes_inside_the_msl_range(linked) -> None:
    v = _curiosity_passes(linked, "Odyssey")
    lo, hi = MSL_PAGE_MBIT_PER_PASS
    assert lo <= np.median(v) <= hi
    assert np.percentile(v, 90) <= hi
    ct = linked.contacts
    m = (ct.target == "Odyssey") & (ct.source == "Curiosity")
    # figure 1: 128 or 256 kbps on every pass that rises above 20 deg (the best single rate of
    # a pass that stays below ~17 deg is 32 kbps: 7-14 Mbit, a pass operations would not take)
    high = m & (ct.max_elevation_deg >= 20.0)
    assert high.sum() >= 0.7 * m.sum()
    assert set(np.unique(linked.result.peak_rate_bps[high])) <= {128e3, 256e3}


def test_maven_passes_of_the_2014_geometry_near_550_mbit(scenario, linked) -> None:
    ct = linked.contacts
    near, far = MAVEN_FIRST_PASS_RANGE_KM
    sel = np.nonzero((ct.source == "Curiosity") & (ct.target == "MAVEN")
                     & (np.abs(ct.min_range_km - near) < 0.15 * near)
                     & (ct.max_range_km >= far))[0]
    assert len(sel) >= 3
    lander = scenario.landers[0]
    maven = next(o for o in scenario.orbiters if o.name == "MAVEN")
    rows = []
    for k in sel:  # the stretch around closest approach within 3,700 km, on a 1 s grid
        t = np.arange(ct.start_tdb_s[k], ct.end_tdb_s[k], 1.0)
        rng = proximity_geometry(lander.site, maven.trajectory(scenario.rotation),
                                 scenario.rotation, t).range_km
        c = int(np.argmin(rng))
        inside = rng <= far
        a = c - int(np.argmin(inside[c::-1])) + 1 if not inside[:c + 1].all() else 0
        b = c + int(np.argmin(inside[c:])) - 1 if not inside[c:].all() else len(t) - 1
        rows.append(("Curiosity", "MAVEN", "proximity", t[a], t[b], 0.0, t[c], rng[c],
                     rng[a:b + 1].max(), 0.0))
    cols = list(zip(*rows, strict=True))
    clipped = ContactTable(*[np.array(c, dtype=object if i < 3 else float)
                             for i, c in enumerate(cols)])
    assert np.all(clipped.max_range_km <= far + 1.0)
    v = compute_links(scenario, clipped).contacts.volume_bits / 1e6
    assert 0.5 * MAVEN_FIRST_PASS_MBIT <= np.median(v) <= 1.5 * MAVEN_FIRST_PASS_MBIT
    assert v.max() <= 2.0 * MAVEN_FIRST_PASS_MBIT


def test_mro_and_tgo_above_the_published_figures_by_the_stated_factor(scenario, linked) -> None:
    """The disagreement the module docstring explains, stated as numbers: if a change moves
    these factors, update the statement with it."""
    mro = _curiosity_passes(linked, "MRO")
    tgo = _curiosity_passes(linked, "TGO")
    top = MSL_PAGE_MBIT_PER_PASS[1]
    assert 2.3 <= np.median(mro) / top <= 2.8
    sols = (scenario.end_tdb_s - scenario.start_tdb_s) / SOL_S
    assert 1.7 <= len(mro) / sols <= 2.5  # about two MRO passes a sol (figure 4)
    assert 1.8 <= mro.sum() / sols / BELL_MRO_MBIT_PER_SOL <= 2.8
    assert 0.8 <= np.median(tgo) / np.median(mro) <= 1.25
    # the pass model is not what separates them: its overheads cost a few percent
    m = (linked.contacts.source == "Curiosity") & (linked.contacts.target == "MRO")
    ideal = linked.result.volume_ideal_bits[m] / 1e6
    assert 0.7 <= np.median(ideal) / np.median(mro) <= 1.0  # 3 dB vs the 0.9 dB decisions


# Relay radios of the spacecraft in the built-in scenarios, copied from the project's reference
# facts (NASA/JPL and ESA mission pages): Electra on TGO and MRO, CE-505 on Odyssey, Electra-Lite
# on MAVEN, Melacom on Mars Express; Electra-Lite on Curiosity (DESCANSO 14); InSight's Phoenix-
# heritage CE-505 class radio (DESCANSO 18, Table 5-5); the ExoMars rover's own UHF radio.
PUBLISHED_RADIOS = {
    "TGO": "electra", "MRO": "electra", "Odyssey": "ce-505", "MAVEN": "electra-lite",
    "Mars Express": "melacom", "Curiosity": "electra-lite", "InSight": "ce-505",
    "Rosalind Franklin": "exomars-uhf",
}


@pytest.mark.parametrize("name", builtin_scenario_names())
def test_builtin_scenarios_use_each_spacecrafts_radio(name: str) -> None:
    sc = load_scenario(name)
    for node in (*sc.orbiters, *sc.landers):
        assert node.radio in PROXIMITY_RADIOS
        if node.name in PUBLISHED_RADIOS:
            assert node.radio == PUBLISHED_RADIOS[node.name], (name, node.name)
            assert expected_radio(node.name) == node.radio
