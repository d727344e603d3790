"""Calibration of the links stage: the built-in 2019 scenario's per-pass volumes for Curiosity
(via MRO, Odyssey, MAVEN, TGO) against published figures.

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
   680 to 2,300 miles (1,110 to 3,700 km) from Mars.
4. NASA/JPL MSL "Preventing Busy Signals" page (project reference facts): Curiosity usually has
   two relay sessions per relay orbiter (Odyssey, MRO) per sol, two overnight and two in the late
   afternoon.
5. D. Sumner, MSL mission update for sol 2162 (September 2018, quoted by leonarddavid.com,
   "Curiosity Mars rover: downlink delight"): "Usually, we use the Mars Reconnaissance Orbiter
   (MRO) and Mars Odyssey (ODY) to transmit our data, and we get an average of 500 megabits of
   data per sol." Data returned: at most what the passes can carry.
6. ExoMars rover data budget of the pre-2022 design, 150 Mbit/sol, returned through TGO (ExoMars
   science working team #7, 2014; ESA ExoMars rover pages; project reference facts).

Used passes (figure 4): of each orbiter's overflights in one overnight or one afternoon (a half
local sol), the best. The per-pass figures are compared with those; per-sol figures too.

Calibration statement. Nothing is fitted: the parameters that set these volumes are the
catalogue's, each with its source (``marsrelay.links.catalogue``, ``UHF_RELAY_HARDWARE``): the
orbiter receive chain at Mars (632.8 K, 1.1 dB front end) and the lander transmit loss (1.5 dB)
of DESCANSO 18 Table 5-5, Electra's low-gain helix at the 3 dBi of the other orbiter UHF
antennas, Proximity-1 framing/ARQ/hail, and the adaptive rate deciding at FER 1e-4. The model
then gives (June 2019, used passes):

- Odyssey: median ~120 Mbit, p90 ~135, inside figure 1 (256 kbps for the ~9-12 min above the
  10 deg mask: 256 kbps x 8 min = 123 Mbit).
- MRO: median ~240 Mbit, inside figure 1; ~580 Mbit/sol, ~1.2x figure 2's ~500; at a fixed
  256 kbps the same passes carry ~195 Mbit/sol, ~0.8x figure 2's 250 Mbit/sol design
  requirement (the adaptive rate: 3x that).
- MAVEN: best pass of the month ~450 Mbit and passes of the 2014 geometry ~310 Mbit: of the
  order of figure 3's 550 Mbit (0.8x and 0.56x).
- MRO + Odyssey ~780 Mbit/sol of capacity against figure 5's 500 Mbit/sol returned in 2018.

What still disagrees, and why:

- MRO's best passes carry up to ~590 Mbit (p90 ~550), above figure 1's 250: figure 1 is a round
  range for a typical ~8 min pass written before landing, with Odyssey at 128/256 kbps as its
  low end; a high MRO pass at up to 2048 kbps carries more. MRO's per sol is 1.2x figure 2, which
  averages sols 1-200 while the adaptive rate was being tuned; and the 256 kbps design, 0.8x its
  requirement here, was presumably sized with the design's own (unpublished here) pass
  assumptions: the low-elevation ends of the passes, where 256 kbps does not close at 3 dB in
  this model, are where the model is least certain (rover antenna pattern, multipath).
- MAVEN passes of the 2014 geometry (clipped from the 2019 orbit to 1,110-3,700 km of range)
  carry ~0.56x figure 3: the 2014 pass ran 1,110 to 3,700 km of *altitude* on the 6,200 km
  apoapsis orbit (about 35 min for one leg), longer than these clipped windows (22-30 min).
  The adaptive rate's margin is pinned by this figure: keeping the predicted links' 3 dB instead
  of the FER 1e-4 point (0.9 dB) would bring MRO to ~220 Mbit but these MAVEN passes to ~0.34x.
- Capacity is ~1.6x figure 5: returned data also depends on what the rover had to send, the
  passes it chose and its power; figure 5 is a lower bound on capacity, not an estimate of it.
- TGO has no published per-pass figure; its passes (median ~270 Mbit, used) follow from the same
  Electra hardware as MRO's at TGO's 400 km altitude.
- Terrain: Curiosity works inside Gale crater at the foot of Mount Sharp, which raises the
  southern horizon well above the scenario's 10 deg mask; the contacts stage models a constant
  mask, so some southern low passes here would be blocked in reality.
"""

from __future__ import annotations

import numpy as np
import pytest

from marsrelay.config.links import AdaptiveRateConfig, LinksConfig
from marsrelay.contacts import find_contacts
from marsrelay.contacts.table import ContactTable
from marsrelay.geometry.solar_time import mars_sol_date
from marsrelay.links import compute_links
from marsrelay.links.catalogue import PROXIMITY_RADIOS, expected_radio
from marsrelay.links.geometry import proximity_geometry
from marsrelay.scenario import builtin_scenario_names, load_scenario

MSL_PAGE_MBIT_PER_PASS = (100.0, 250.0)  # figure 1
MSL_PAGE_ODYSSEY_RATES_BPS = {128e3, 256e3}  # figure 1
BELL_MRO_MBIT_PER_SOL = 500.0  # figure 2
BELL_DESIGN_MBIT_PER_SOL = 250.0  # figure 2 (the 256 kbps design)
MAVEN_FIRST_PASS_MBIT = 550.0  # figure 3
MAVEN_FIRST_PASS_RANGE_KM = (1110.0, 3700.0)  # figure 3
SUMNER_MRO_ODY_MBIT_PER_SOL = 500.0  # figure 5
EXOMARS_ROVER_MBIT_PER_SOL = 150.0  # figure 6
SOL_S = 88775.244  # Allison & McEwen 2000 (Mars24)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("curiosity-insight-tgo-2019")


@pytest.fixture(scope="module")
def linked(scenario):
    return compute_links(scenario, find_contacts(scenario))


def _sols(scenario) -> float:
    return (scenario.end_tdb_s - scenario.start_tdb_s) / SOL_S


def _pass_rows(linked, lander: str, orbiter: str) -> np.ndarray:
    ct = linked.contacts
    rows = np.nonzero((ct.kind == "proximity") & (ct.source == lander)
                      & (ct.target == orbiter))[0]
    assert len(rows) > 50  # a month of passes
    return rows


def _used_passes_mbit(linked, scenario, lander: str, orbiter: str) -> np.ndarray:
    """Figure 4: the best pass of each overnight and each afternoon (half local sol)."""
    ct = linked.contacts
    rows = _pass_rows(linked, lander, orbiter)
    lon = next(spec.site.lon_east_deg for spec in scenario.landers if spec.name == lander)
    mid = 0.5 * (ct.start_tdb_s[rows] + ct.end_tdb_s[rows])
    half = np.floor(2.0 * (mars_sol_date(mid) + lon / 360.0)).astype(np.int64)
    best: dict[int, float] = {}
    for h, v in zip(half.tolist(), (ct.volume_bits[rows] / 1e6).tolist(), strict=True):
        best[h] = max(best.get(h, 0.0), v)
    used = np.array(list(best.values()))
    assert 1.6 <= len(used) / _sols(scenario) <= 2.1  # two a sol (figure 4)
    return used


def test_odyssey_passes_inside_the_msl_range(scenario, linked) -> None:
    v = _used_passes_mbit(linked, scenario, "Curiosity", "Odyssey")
    lo, hi = MSL_PAGE_MBIT_PER_PASS
    assert lo <= np.median(v) <= hi
    assert np.percentile(v, 90) <= hi
    ct = linked.contacts
    rows = _pass_rows(linked, "Curiosity", "Odyssey")
    # figure 1: 128 or 256 kbps on every pass rising above 25 deg; a pass staying lower gets
    # 32 kbps from the CE-505 table at the 3 dB margin, a pass operations would not take
    high = rows[ct.max_elevation_deg[rows] >= 25.0]
    assert len(high) >= 0.55 * len(rows)
    assert set(np.unique(linked.result.peak_rate_bps[high])) <= MSL_PAGE_ODYSSEY_RATES_BPS


def test_mro_passes_inside_the_msl_range_and_about_bells_volume_per_sol(scenario,
                                                                         linked) -> None:
    v = _used_passes_mbit(linked, scenario, "Curiosity", "MRO")
    lo, hi = MSL_PAGE_MBIT_PER_PASS
    assert lo <= np.median(v) <= hi  # figure 1
    assert 0.8 <= v.sum() / _sols(scenario) / BELL_MRO_MBIT_PER_SOL <= 1.3  # figure 2
    ct, r = linked.contacts, linked.result
    rows = _pass_rows(linked, "Curiosity", "MRO")
    assert r.peak_rate_bps[rows].max() == 2048e3  # "as high as 2 million bits per second"
    # figure 2: the adaptive rate at least doubled what the 256 kbps design returns over the
    # same passes (which is ~0.8x the design requirement here, module docstring)
    fixed = compute_links(scenario.with_overrides(
        links=LinksConfig(adr=False, fixed_rate_bps=256e3)), ct.take(rows))
    design = fixed.contacts.volume_bits.sum() / 1e6 / _sols(scenario)
    assert 0.6 <= design / BELL_DESIGN_MBIT_PER_SOL <= 1.2
    assert ct.volume_bits[rows].sum() / fixed.contacts.volume_bits.sum() >= 2.0


def test_maven_best_pass_of_the_order_of_its_first_relay(scenario, linked) -> None:
    rows = _pass_rows(linked, "Curiosity", "MAVEN")
    best = linked.contacts.volume_bits[rows].max() / 1e6
    assert 0.5 * MAVEN_FIRST_PASS_MBIT <= best <= 2.0 * MAVEN_FIRST_PASS_MBIT


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
    # the adaptive rate's margin is pinned by this figure (module docstring): at the predicted
    # links' 3 dB these passes would carry a third of it
    at3 = compute_links(scenario.with_overrides(links=LinksConfig(
        adaptive_rate=AdaptiveRateConfig(margin_db=3.0))), clipped).contacts.volume_bits / 1e6
    assert np.median(at3) < 0.45 * MAVEN_FIRST_PASS_MBIT


def test_mro_and_odyssey_capacity_covers_the_2018_return(scenario, linked) -> None:
    per_sol = sum(_used_passes_mbit(linked, scenario, "Curiosity", o).sum()
                  for o in ("MRO", "Odyssey")) / _sols(scenario)
    assert 1.0 <= per_sol / SUMNER_MRO_ODY_MBIT_PER_SOL <= 2.0  # figure 5: returned <= capacity


def test_rosalind_franklin_budget_closes_through_tgo() -> None:
    sc = load_scenario("exomars-2030")
    lk = compute_links(sc, find_contacts(sc))
    used = _used_passes_mbit(lk, sc, "Rosalind Franklin", "TGO")
    per_sol = used.sum() / _sols(sc)
    # figure 6: the design returns 150 Mbit/sol through TGO, with margin, in passes of the same
    # order as Curiosity's (a 512 kbps ceiling instead of 2048)
    assert 1.2 <= per_sol / EXOMARS_ROVER_MBIT_PER_SOL <= 4.0
    lo, hi = MSL_PAGE_MBIT_PER_PASS
    assert 0.5 * lo <= np.median(used) <= hi


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
