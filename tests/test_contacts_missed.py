"""No window is missed: marsrelay's finder against a brute-force sampler (every 0.5 s, 3 days).

The sampler evaluates every constraint every half second with the geometry core's own
functions and a separate implementation of the Earth-link geometry (light time by fixed-point
iteration on DE421, Mars occultation as a ray-ellipsoid quadratic in ``IAU_MARS``). Every
sampled window of 10 s or more must be found, one to one, with each edge inside the
half-second step where the sampler saw it change (plus 1 ms for the sampler's simpler
model: it places Mars at its centre's light time, see marsrelay.contacts.earth), and every
window marsrelay reports of 10 s or more must be one the sampler saw.

The span, 2030-11-05..08, holds the start of a TGO-like orbiter's Earth-occultation season
(occultations growing from nothing to 20 min: short gaps and short windows), low proximity
passes just above the mask, and MAVEN-like passes cut by the 5000 km range limit.
"""

from __future__ import annotations

import numpy as np
import pytest

from marsrelay.constants import C_KM_S, MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM
from marsrelay.contacts import find_contacts
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.sites import earth_icrf_to_itrs
from marsrelay.scenario import load_scenario

SCENARIO = """\
[scenario]
name = "missed-windows"
start = "2030-11-05T00:00:00Z"
end = "2030-11-08T00:00:00Z"

[[orbiter]]
name = "TGO"
max_range_km = 5000.0
[orbiter.elements]
a_km = 3796.19
e = 0.0
i_deg = 74.0
raan_deg = 30.0

[[orbiter]]
name = "MRO"
max_range_km = 5000.0
[orbiter.elements]
a_km = 3683.69
e = 0.008823
i_deg = 92.6
raan_deg = 320.5
argp_deg = 270.0
mean_anomaly_deg = 90.0

[[orbiter]]
name = "MAVEN"
max_range_km = 5000.0
[orbiter.elements]
a_km = 5721.19
e = 0.380166
i_deg = 75.0
raan_deg = 120.0
argp_deg = 90.0
mean_anomaly_deg = 270.0

[[lander]]
name = "Rosalind Franklin"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
elevation_mask_deg = 10.0
direct_to_earth = true

[[station]]
name = "DSA-1"
lat_deg = -31.0482
lon_east_deg = 116.1914
height_m = 252.0
elevation_mask_deg = 10.0

[[station]]
name = "DSS-14"
lat_deg = 35.4259
lon_east_deg = 243.1113
height_m = 1002.0
elevation_mask_deg = 10.0
"""

STEP_S = 0.5
MIN_S = 10.0
SLACK_S = 1e-3
RADII = np.array([MARS_EQ_RADIUS_KM, MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM])


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("missed") / "scenario.toml"
    path.write_text(SCENARIO)
    sc = load_scenario(path)
    t = np.arange(sc.start_tdb_s, sc.end_tdb_s + 0.25 * STEP_S, STEP_S)
    return sc, t, find_contacts(sc)


def _runs(t: np.ndarray, is_open: np.ndarray):
    """Sampled windows: (last closed or first sample, first open, last open, next closed)."""
    d = np.diff(np.r_[0, is_open.astype(np.int8), 0])
    first = np.flatnonzero(d == 1)
    last = np.flatnonzero(d == -1) - 1
    before = t[np.maximum(first - 1, 0)]
    after = t[np.minimum(last + 1, t.size - 1)]
    return before, t[first], t[last], after


def _compare(t, is_open, table, label):
    before, first, last, after = _runs(t, is_open)
    ours_a, ours_b = table.start_tdb_s, table.end_tdb_s
    long_sampled = (last - first) >= MIN_S
    assert long_sampled.sum() > 0, f"{label}: no sampled window (setup error)"
    for k in np.flatnonzero(long_sampled):
        hit = np.flatnonzero((ours_a <= last[k]) & (ours_b >= first[k]))
        assert hit.size == 1, f"{label}: sampled window {k} matched {hit.size} windows"
        j = hit[0]
        assert before[k] - SLACK_S <= ours_a[j] <= first[k] + SLACK_S, f"{label}: start {k}"
        assert last[k] - SLACK_S <= ours_b[j] <= after[k] + SLACK_S, f"{label}: end {k}"
    for j in np.flatnonzero(ours_b - ours_a >= MIN_S):
        assert np.any((first <= ours_b[j]) & (last >= ours_a[j])), f"{label}: spurious {j}"


def _chunks(t: np.ndarray, n: int = 86400 * 2):
    for i in range(0, t.size, n):
        yield slice(i, min(i + n, t.size))


def test_proximity_windows_none_missed(setup):
    sc, t, table = setup
    rot = sc.rotation
    lander = sc.landers[0]
    for orb in sc.orbiters:
        traj = orb.trajectory(rot)
        is_open = np.empty(t.size, bool)
        for s in _chunks(t):
            p, _ = traj.state_km(t[s])
            pb = np.einsum("nij,nj->ni", rot.icrf_to_body(t[s]), p)
            aer = lander.site.azel_of_body_fixed(pb)
            is_open[s] = ((aer.elevation_deg > lander.site.elevation_mask_deg)
                          & (aer.range_km <= orb.max_range_km))
        rows = table.select(source=lander.name, target=orb.name, kind="proximity")
        _compare(t, is_open, rows, f"{lander.name} -> {orb.name}")


def _station_receive(eph, station, t, x_fn):
    """Station barycentric position at reception of signals leaving ``x_fn(t)`` at ``t``,
    the station's elevation of the sender, and the light time (fixed-point iteration)."""
    x = x_fn(t)
    tau = np.linalg.norm(eph.position_km("earth", t) - x, axis=1) / C_KM_S
    for _ in range(3):
        tr = t + tau
        rot_e = earth_icrf_to_itrs(tr)
        earth = eph.position_km("earth", tr)
        s = earth + station.position_icrf_km(tr, rotation=rot_e)
        tau = np.linalg.norm(s - x, axis=1) / C_KM_S
    el = station.azel_of_icrf(x - earth, tr, rotation=rot_e).elevation_deg
    return x, s, el, tau


def test_orbiter_earth_windows_none_missed(setup):
    sc, t, table = setup
    rot = sc.rotation
    eph = Ephemeris.de421()
    for orb in sc.orbiters:
        traj = orb.trajectory(rot)
        for station in sc.stations:
            is_open = np.empty(t.size, bool)
            for s in _chunks(t):
                ts = t[s]

                def sender(tt, traj=traj):
                    return eph.position_km("mars", tt) + traj.state_km(tt)[0]

                x, st, el, tau = _station_receive(eph, station, ts, sender)
                # Mars at its centre's light time from the station (SPICE 'CN' centre).
                delta = np.zeros_like(ts)
                for _ in range(2):
                    c = eph.position_km("mars", ts + delta)
                    delta = tau - np.linalg.norm(st - c, axis=1) / C_KM_S
                r = rot.icrf_to_body(ts)
                o = np.einsum("nij,nj->ni", r, x - c) / RADII
                d = np.einsum("nij,nj->ni", r, st - x)
                d = d / np.linalg.norm(d, axis=1)[:, None] / RADII
                a2 = (d * d).sum(1)
                b = 2.0 * (o * d).sum(1)
                cc = (o * o).sum(1) - 1.0
                occulted = (b * b - 4.0 * a2 * cc > 0.0) & (b < 0.0)
                is_open[s] = (el > station.elevation_mask_deg) & ~occulted
            rows = table.select(source=orb.name, target=station.name, kind="orbiter_earth")
            _compare(t, is_open, rows, f"{orb.name} -> {station.name}")


def test_direct_earth_windows_none_missed(setup):
    sc, t, table = setup
    rot = sc.rotation
    eph = Ephemeris.de421()
    lander = sc.landers[0]
    site = lander.site
    for station in sc.stations:
        is_open = np.empty(t.size, bool)
        for s in _chunks(t):
            ts = t[s]
            r = rot.icrf_to_body(ts)

            def sender(tt, r=r):
                return eph.position_km("mars", tt) + np.einsum("nji,j->ni", r,
                                                               site.position_body_km)

            _, st, el, _ = _station_receive(eph, station, ts, sender)
            rel_body = np.einsum("nij,nj->ni", r, st - eph.position_km("mars", ts))
            el_lander = site.azel_of_body_fixed(rel_body).elevation_deg
            is_open[s] = ((el > station.elevation_mask_deg)
                          & (el_lander > site.elevation_mask_deg))
        rows = table.select(source=lander.name, target=station.name, kind="direct_earth")
        _compare(t, is_open, rows, f"{lander.name} -> {station.name}")
