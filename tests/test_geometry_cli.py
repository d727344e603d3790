"""``geometry_snapshot`` and ``marsrelay geometry`` against NAIF SPICE and published figures.

SPICE is given kernels this test writes itself (tests/spicekit.py): a text PCK with the IAU 2009
Mars constants typed in from NAIF's pck00010.tpc, type 9 SPKs of each orbiter sampled from
marsrelay's J2 orbits (so the trajectories agree by construction and what is tested is the
geometry built on them), and a type 2 planetary SPK from DE421's Chebyshev coefficients.
SPICE then computes the sub-orbiter points (``subpnt``, ``NEAR POINT/ELLIPSOID``), the landers'
topocentric frames (``srfrec``, ``surfnm``, ``twovec``), azimuth/elevation (``recazl``) and the
Sun-Earth-Mars angle (``vsep``) on its own.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import spiceypy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers.spicekit import (
    LoadedKernels,
    write_lsk,
    write_orbiter_spk,
    write_pck,
    write_planetary_spk,
)
from marsrelay.cli.main import app
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.snapshot import nearest_ellipsoid_point
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.scenario import load_scenario

# NAIF pck00010.tpc, BODY499_RADII (typed in, not read from marsrelay).
A_KM, C_KM = 3396.19, 3376.20

SCENARIO = """
[scenario]
name = "spice-check"
start = "2030-06-01T00:00:00Z"
end = "2030-06-02T00:00:00Z"

[[orbiter]]
name = "TGO-like"
[orbiter.elements]
a_km = 3796.19
i_deg = 74.0
raan_deg = 30.0

[[orbiter]]
name = "MRO-like"
[orbiter.elements]
a_km = 3683.69
e = 0.008823
i_deg = 92.6
raan_deg = 320.5
argp_deg = 270.0
mean_anomaly_deg = 90.0

[[orbiter]]
name = "MAVEN-like"
[orbiter.elements]
a_km = 5721.19
e = 0.380166
i_deg = 75.0
raan_deg = 120.0
argp_deg = 90.0
mean_anomaly_deg = 270.0

[[orbiter]]
name = "polar"
[orbiter.elements]
a_km = 3700.0
i_deg = 90.0
raan_deg = 200.0
mean_anomaly_deg = 45.0

[[orbiter]]
name = "equatorial"
[orbiter.elements]
a_km = 4200.0
e = 0.05
i_deg = 0.0
argp_deg = 10.0

[[lander]]
name = "Oxia"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0

[[lander]]
name = "South"
lat_deg = -62.5
lon_east_deg = -120.25
height_km = 4.5

[[lander]]
name = "Equator"
lat_deg = 0.0
lon_east_deg = 0.0
height_km = 0.0
"""

NAIF_IDS = (-901, -902, -903, -904, -905)
STEP_S = 60.0


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The scenario, its sample times (on the SPK grid) and loaded SPICE kernels."""
    folder = tmp_path_factory.mktemp("geometry_spice")
    path = folder / "scenario.toml"
    path.write_text(SCENARIO)
    sc = load_scenario(path)
    grid = sc.start_tdb_s + np.arange(0.0, sc.duration_s + STEP_S, STEP_S)
    files = [write_lsk(folder), write_pck(folder, "iau2009")]
    for naif_id, orbiter in zip(NAIF_IDS, sc.orbiters, strict=True):
        pos, vel = orbiter.trajectory(sc.rotation).state_km(grid)
        files.append(write_orbiter_spk(folder / f"{-naif_id}.bsp", naif_id, grid, pos, vel,
                                       spk_type=9, degree=7))
    files.append(write_planetary_spk(folder / "planets.bsp", Ephemeris.de421(),
                                     grid[0] - 86400.0, grid[-1] + 86400.0))
    times = grid[7::97][:15]  # 15 instants spread over the day, each a grid node
    with LoadedKernels(files):
        yield sc, times, path


def _site_frame(lander) -> tuple[np.ndarray, np.ndarray]:
    """SPICE: the lander's body-fixed position and its (north, west, up) rotation matrix."""
    surface = np.asarray(sp.srfrec(499, math.radians(lander.site.lon_east_deg),
                                   math.radians(lander.site.lat_deg)))
    normal = np.asarray(sp.surfnm(A_KM, A_KM, C_KM, surface))
    site = surface + lander.site.height_km * normal
    return site, np.asarray(sp.twovec(normal, 3, [0.0, 0.0, 1.0], 1))


def _spice_azel(target_body_km: np.ndarray, lander) -> tuple[float, float, float]:
    site, frame = _site_frame(lander)
    rng, az, el = sp.recazl(frame @ (target_body_km - site), False, True)
    return math.degrees(az), math.degrees(el), rng


def _angle_diff_deg(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_sub_orbiter_points_match_spice_subpnt(world) -> None:
    sc, times, _ = world
    worst_deg, worst_km = 0.0, 0.0
    for t in times:
        snap = sc.geometry_at(t)
        for naif_id, point in zip(NAIF_IDS, snap.sub_orbiter_points, strict=True):
            spoint, _, srfvec = sp.subpnt("NEAR POINT/ELLIPSOID", "MARS", float(t), "IAU_MARS",
                                          "NONE", str(naif_id))
            _, lon, lat = sp.reclat(spoint)
            worst_deg = max(worst_deg, abs(point.lat_deg - math.degrees(lat)),
                            _angle_diff_deg(point.lon_east_deg, math.degrees(lon)))
            worst_km = max(worst_km, abs(point.altitude_km - sp.vnorm(srfvec)))
            assert 0.0 <= point.lon_east_deg < 360.0
    assert worst_deg < 1e-6
    assert worst_km < 1e-3  # 1 m


def test_orbiters_seen_from_landers_match_spice(world) -> None:
    sc, times, _ = world
    checked_above = 0
    for t in times:
        snap = sc.geometry_at(t)
        views = iter(snap.lander_orbiter_views)
        for lander in sc.landers:
            for naif_id, orbiter in zip(NAIF_IDS, sc.orbiters, strict=True):
                view = next(views)
                assert (view.lander, view.orbiter) == (lander.name, orbiter.name)
                target = np.asarray(sp.spkpos(str(naif_id), float(t), "IAU_MARS", "NONE",
                                              "499")[0])
                az, el, rng = _spice_azel(target, lander)
                assert view.elevation_deg == pytest.approx(el, abs=1e-6)
                assert view.range_km == pytest.approx(rng, abs=1e-3)
                if el < 89.9:
                    assert _angle_diff_deg(view.azimuth_deg, az) < 1e-6
                expected = el >= lander.site.elevation_mask_deg and rng <= orbiter.max_range_km
                assert view.in_view == expected
                checked_above += el > 0.0
    assert checked_above > 0  # some orbiters were above a horizon among the samples


def test_earth_direction_distance_and_sep_match_spice(world) -> None:
    sc, times, _ = world
    for t in times[::3]:
        snap = sc.geometry_at(t)
        earth = np.asarray(sp.spkpos("EARTH", float(t), "IAU_MARS", "NONE", "MARS")[0])
        for lander, view in zip(sc.landers, snap.lander_earth_views, strict=True):
            az, el, _ = _spice_azel(earth, lander)
            assert view.elevation_deg == pytest.approx(el, abs=1e-7)
            assert _angle_diff_deg(view.azimuth_deg, az) < 1e-7
        mars = np.asarray(sp.spkpos("MARS", float(t), "J2000", "NONE", "EARTH")[0])
        sun = np.asarray(sp.spkpos("SUN", float(t), "J2000", "NONE", "EARTH")[0])
        assert snap.earth_mars_distance_km == pytest.approx(sp.vnorm(mars), abs=1e-3)
        assert snap.sun_earth_mars_deg == pytest.approx(math.degrees(sp.vsep(sun, mars)),
                                                        abs=1e-8)
        assert snap.one_way_light_time_s == pytest.approx(sp.vnorm(mars) / sp.clight(),
                                                          rel=1e-12)


def _table_rows(text: str, first_cells: set[str]) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] in first_cells:
            rows[cells[0]] = cells
    return rows


def test_cli_geometry_prints_the_spice_sub_points(world) -> None:
    sc, _, path = world
    utc = "2030-06-01T13:17:42.500Z"
    result = CliRunner().invoke(app, ["geometry", str(path), "--at", utc],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    et = sp.str2et(utc[:-1])  # SPICE's own UTC -> TDB with the LSK written above
    rows = _table_rows(result.stdout, {o.name for o in sc.orbiters})
    assert set(rows) == {o.name for o in sc.orbiters}
    for naif_id, orbiter in zip(NAIF_IDS, sc.orbiters, strict=True):
        spoint, _, srfvec = sp.subpnt("NEAR POINT/ELLIPSOID", "MARS", et, "IAU_MARS", "NONE",
                                      str(naif_id))
        _, lon, lat = sp.reclat(spoint)
        lat_txt, lon_txt, alt_txt = rows[orbiter.name][1:4]
        assert float(lat_txt) == pytest.approx(math.degrees(lat), abs=6e-5)  # 4 decimals shown
        assert _angle_diff_deg(float(lon_txt), math.degrees(lon)) < 6e-5
        assert float(alt_txt) == pytest.approx(sp.vnorm(srfvec), abs=6e-4)


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-90.0, 90.0),
    lon=st.floats(-180.0, 180.0),
    height_km=st.one_of(st.floats(-200.0, 200.0), st.floats(200.0, 1.0e5)),
)
def test_nearest_ellipsoid_point_matches_spice_nearpt(lat, lon, height_km) -> None:
    """Any point from 200 km under the surface to 100,000 km above it (SPICE ``nearpt``)."""
    la, lo = math.radians(lat), math.radians(lon)
    direction = np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
    surface_r = 1.0 / math.sqrt((math.cos(la) / A_KM) ** 2 + (math.sin(la) / C_KM) ** 2)
    point = (surface_r + height_km) * direction
    near, alt = sp.nearpt(point, A_KM, A_KM, C_KM)
    ours, our_alt = nearest_ellipsoid_point(point[None, :], (A_KM, C_KM))
    assert np.allclose(ours[0], near, rtol=0.0, atol=1e-6)
    assert our_alt[0] == pytest.approx(alt, abs=1e-6)


def test_nearest_point_lies_on_the_ellipsoid_along_its_normal() -> None:
    rng = np.random.default_rng(7)
    d = rng.normal(size=(2000, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    p = d * rng.uniform(3500.0, 40000.0, size=(2000, 1))
    s, h = nearest_ellipsoid_point(p, (A_KM, C_KM))
    assert np.allclose((s[:, 0] ** 2 + s[:, 1] ** 2) / A_KM**2 + s[:, 2] ** 2 / C_KM**2, 1.0,
                       atol=1e-14)
    normal = s / np.array([A_KM**2, A_KM**2, C_KM**2])
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    assert np.allclose(p - s, h[:, None] * normal, atol=1e-8)
    assert np.all(h > 0.0)


def test_solar_conjunction_2019_below_two_degrees() -> None:
    """NASA paused commanding of its Mars missions from 2019-08-28 to 2019-09-07, the days the
    Sun-Earth-Mars angle was under 2 deg (NASA/JPL "Mars solar conjunction" release, 2019)."""
    sc = load_scenario("curiosity-insight-tgo-2019")
    sep = {d: sc.geometry_at(utc_to_tdb(f"{d}T12:00:00Z")).sun_earth_mars_deg
           for d in ("2019-08-20", "2019-09-02", "2019-09-15")}
    assert sep["2019-09-02"] < 2.0
    assert sep["2019-08-20"] > 2.0 and sep["2019-09-15"] > 2.0


def test_closest_approach_2003() -> None:
    """Mars' closest approach in ~60,000 years, 2003-08-27 09:51 UTC: 55.76 million km (NASA
    Mars fact sheet; facts: ~55.7 million km)."""
    sc = load_scenario("curiosity-insight-tgo-2019")
    snap = sc.geometry_at(utc_to_tdb("2003-08-27T09:51:00Z"))
    assert 55.70e6 < snap.earth_mars_distance_km < 55.80e6
    assert snap.one_way_light_time_s == pytest.approx(186.0, abs=1.0)  # ~3.1 min


def test_spk_orbiter_gives_the_same_geometry_and_unloads_its_kernel(tmp_path: Path) -> None:
    elements_path = tmp_path / "elements.toml"
    elements_path.write_text(SCENARIO)
    sc = load_scenario(elements_path)
    grid = sc.start_tdb_s + np.arange(0.0, 7200.0 + STEP_S, STEP_S)
    pos, vel = sc.orbiters[0].trajectory(sc.rotation).state_km(grid)
    (tmp_path / "kernels").mkdir()
    write_orbiter_spk(tmp_path / "kernels" / "tgo.bsp", -950, grid, pos, vel, spk_type=9,
                      degree=7)
    spk_text = SCENARIO.replace(
        "[orbiter.elements]\na_km = 3796.19\ni_deg = 74.0\nraan_deg = 30.0\n",
        '[orbiter.spk]\npath = "kernels/tgo.bsp"\nnaif_id = -950\n', 1)
    spk_path = tmp_path / "spk.toml"
    spk_path.write_text(spk_text)
    sc_spk = load_scenario(spk_path)
    assert sc_spk.orbiters[0].source == "spk"
    loaded_before = sp.ktotal("ALL")
    t = float(grid[37])
    a = sc.geometry_at(t).sub_orbiter_points[0]
    b = sc_spk.geometry_at(t).sub_orbiter_points[0]
    assert sp.ktotal("ALL") == loaded_before  # the SPK trajectory unloaded its file
    assert b.lat_deg == pytest.approx(a.lat_deg, abs=1e-9)
    assert b.lon_east_deg == pytest.approx(a.lon_east_deg, abs=1e-9)
    assert b.altitude_km == pytest.approx(a.altitude_km, abs=1e-6)
