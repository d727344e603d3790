"""find_contacts on whole scenarios: blackouts, parallel workers, agreement with the per-kind
functions, and the invariants of every row."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import BASE_TOML
from marsrelay.contacts import (
    find_contacts,
    find_direct_earth_windows,
    find_orbiter_earth_windows,
    find_proximity_windows,
)
from marsrelay.contacts.earth_tables import EarthMarsTables
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.scenario import load_scenario

NOVEMBER = BASE_TOML.replace("2030-06-01T00:00:00Z", "2030-11-01T00:00:00Z").replace(
    "2030-06-02T00:00:00Z", "2030-11-03T00:00:00Z")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "november.toml"
    path.write_text(NOVEMBER)
    return load_scenario(path)


@pytest.fixture(scope="module")
def contacts(scenario):
    return find_contacts(scenario, workers=1)


def test_rows_are_consistent(contacts):
    c = contacts
    assert len(c) > 20
    assert np.all(np.diff(c.start_tdb_s) >= 0)
    assert np.all(c.end_tdb_s > c.start_tdb_s)
    assert np.all((c.max_elevation_tdb_s >= c.start_tdb_s - 1e-6)
                  & (c.max_elevation_tdb_s <= c.end_tdb_s + 1e-6))
    assert np.all(c.min_range_km <= c.max_range_km)
    prox = c.kind == "proximity"
    assert np.all(c.owlt_s[prox] == 0.0) and np.all(c.max_range_km[prox] <= 5000.0)
    assert np.all(c.max_elevation_deg[prox] >= 10.0 - 1e-9)
    earth = ~prox
    # owlt = range / c at mid-window, ranges of 1.9e8..3.2e8 km in Nov 2030
    assert np.all((c.owlt_s[earth] > 600) & (c.owlt_s[earth] < 1100))
    assert np.all(np.abs(c.min_range_km[earth] / 299792.458 - c.owlt_s[earth]) < 60.0)
    # no two windows of one pair overlap
    for key in {(s, t, k) for s, t, k in zip(c.source, c.target, c.kind, strict=True)}:
        rows = c.select(*key)
        assert np.all(rows.start_tdb_s[1:] > rows.end_tdb_s[:-1])


def test_parallel_workers_give_the_same_table(scenario, contacts):
    par = find_contacts(scenario, workers=2)
    assert len(par) == len(contacts)
    np.testing.assert_array_equal(par.source, contacts.source)
    np.testing.assert_array_equal(par.kind, contacts.kind)
    np.testing.assert_allclose(par.start_tdb_s, contacts.start_tdb_s, atol=1e-9)
    np.testing.assert_allclose(par.max_range_km, contacts.max_range_km, atol=1e-9)


def test_per_kind_functions_agree_with_find_contacts(scenario, contacts):
    t0, t1 = scenario.start_tdb_s, scenario.end_tdb_s
    rot = scenario.rotation
    lander, station = scenario.landers[0], scenario.stations[0]
    tables = EarthMarsTables(t0, t1, rot)
    for orb in scenario.orbiters:
        traj = orb.trajectory(rot)
        p = find_proximity_windows(lander.site, traj, rot, t0, t1, max_range_km=orb.max_range_km)
        rows = contacts.select(lander.name, orb.name, "proximity")
        np.testing.assert_allclose(p.start_tdb_s, rows.start_tdb_s, atol=2e-5)
        np.testing.assert_allclose(p.max_elevation_deg, rows.max_elevation_deg, atol=1e-6)
        e = find_orbiter_earth_windows(traj, station, rot, t0, t1, tables=tables)
        rows = contacts.select(orb.name, station.name, "orbiter_earth")
        np.testing.assert_allclose(e.end_tdb_s, rows.end_tdb_s, atol=2e-5)
    d = find_direct_earth_windows(lander.site, station, rot, t0, t1, tables=tables)
    rows = contacts.select(lander.name, station.name, "direct_earth")
    np.testing.assert_allclose(d.start_tdb_s, rows.start_tdb_s, atol=2e-5)


def _with_blackout(text: str, after: str, window: tuple[str, str]) -> str:
    line = f'blackouts = [["{window[0]}", "{window[1]}"]]\n'
    assert after in text
    return text.replace(after, after + line, 1)


def test_blackouts_cut_windows_exactly(tmp_path, contacts):
    """An orbiter blackout removes exactly its span from that orbiter's windows; a lander
    blackout from proximity and direct-to-Earth windows; a station blackout (in the station's
    receive time) from the send times one light time earlier."""
    black = ("2030-11-01T06:00:00Z", "2030-11-01T18:00:00Z")
    b0, b1 = (float(utc_to_tdb(x)) for x in black)
    text = _with_blackout(NOVEMBER, 'name = "TGO"\nagency = "ESA"\n', black)
    text = _with_blackout(text, 'name = "DSS-43"\n', black)
    text = _with_blackout(text, 'name = "Rosalind Franklin"\n', ("2030-11-02T00:00:00Z",
                                                                "2030-11-02T12:00:00Z"))
    path = tmp_path / "blackouts.toml"
    path.write_text(text)
    cut = find_contacts(load_scenario(path), workers=1)

    def overlap(rows, a, b):
        return np.minimum(rows.end_tdb_s, b) - np.maximum(rows.start_tdb_s, a)

    tgo = cut.select(source="TGO", kind="orbiter_earth")
    assert np.all(overlap(tgo, b0, b1) <= 0)
    before = contacts.select(source="TGO", kind="orbiter_earth")
    keep = overlap(before, b0, b1) <= 0  # windows clear of the blackout are untouched
    for a in before.start_tdb_s[keep]:  # (edges to 1e-5 s: searches differ by that)
        assert np.min(np.abs(tgo.start_tdb_s - a)) < 2e-5
    assert np.any(np.isclose(tgo.end_tdb_s, b0)) or np.any(np.isclose(tgo.start_tdb_s, b1))
    prox = cut.select(target="TGO", kind="proximity")
    assert np.all(overlap(prox, b0, b1) <= 0)
    l0, l1 = float(utc_to_tdb("2030-11-02T00:00:00Z")), float(utc_to_tdb("2030-11-02T12:00:00Z"))
    lander_rows = cut.select(source="Rosalind Franklin")
    assert np.all(overlap(lander_rows, l0, l1) <= 0)
    assert np.any(contacts.select(source="Rosalind Franklin").start_tdb_s > l0)
    # station: reception in [b0, b1] means sending one light time earlier (Mars' centre to
    # Earth's centre from DE421 here; the orbiter and station offsets add under 0.04 s)
    eph = Ephemeris.de421()
    send = []
    for b in (b0, b1):
        lt = 0.0
        for _ in range(4):
            lt = np.linalg.norm(eph.position_km("earth", [b]) - eph.position_km(
                "mars", [b - lt]), axis=1)[0] / 299792.458
        send.append(b - lt)
    dss = cut.select(source="MRO", target="DSS-43", kind="orbiter_earth")
    assert np.all(overlap(dss, send[0] + 0.05, send[1] - 0.05) <= 0)
    before = contacts.select(source="MRO", target="DSS-43")
    assert np.any(overlap(before, send[0], send[1]) > 0)  # the blackout did cut something


def test_workers_fork_only_from_a_main_thread():
    import threading

    from marsrelay.contacts.api import default_workers

    year = 365 * 86400.0
    assert default_workers(86400.0) == 1  # a fork does not pay on a short span
    assert default_workers(year) >= 1
    seen = []
    worker = threading.Thread(target=lambda: seen.append(default_workers(year)))
    worker.start()
    worker.join()
    assert seen == [1]  # e.g. inside a Dask task thread: search in-process


def test_eccentric_spk_orbiter_is_searched_not_rejected(tmp_path):
    """A MAVEN-like 150 x 4500 km orbit given as an SPK: its periapsis (3546 km) is above Mars,
    so the finder's motion bounds must not place it inside Mars (a sampled-minimum bound with a
    5% margin did), and its windows equal those of the same orbit given as elements."""
    from helpers.spicekit import write_orbiter_spk
    from marsrelay.contacts.motion import motion_bounds
    from marsrelay.geometry.orbits import J2Orbit, MeanElements, SpkTrajectory
    from marsrelay.geometry.rotation import rotation_model
    from marsrelay.geometry.sites import MarsSite

    a_km = 3396.19 + (150.0 + 4500.0) / 2.0
    e = (4500.0 - 150.0) / (2.0 * 3396.19 + 4650.0)
    orbit = J2Orbit(MeanElements(9.7e8, a_km, e, 75.0, 10.0, 20.0, 30.0))
    t = np.arange(9.7e8 - 600.0, 9.7e8 + 86400.0 + 600.0, 60.0)
    p, v = orbit.state_km(t)
    path = tmp_path / "maven.bsp"
    write_orbiter_spk(str(path), -202, t, p, v)
    site = MarsSite("Oxia", 18.275, 335.368, -3.0, elevation_mask_deg=10.0)
    rotation = rotation_model("iau2009")
    spk = SpkTrajectory(path, -202)
    try:
        b = motion_bounds(spk, 9.7e8, 9.7e8 + 86400.0)
        assert 3396.19 < b.r_min_km <= a_km * (1.0 - e)
        assert b.r_max_km >= a_km * (1.0 + e)
        got = find_proximity_windows(site, spk, rotation, 9.7e8, 9.7e8 + 86400.0)
    finally:
        spk.close()
    want = find_proximity_windows(site, orbit, rotation, 9.7e8, 9.7e8 + 86400.0)
    assert len(want) > 0 and len(got) == len(want)
    np.testing.assert_allclose(got.start_tdb_s, want.start_tdb_s, atol=1e-3)
    np.testing.assert_allclose(got.end_tdb_s, want.end_tdb_s, atol=1e-3)
