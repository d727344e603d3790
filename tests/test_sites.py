"""Mars sites against SPICE (srfrec, surfnm, azlcpo); Earth stations against ERFA (c2t06a)."""

from __future__ import annotations

import math
import warnings

import erfa
import numpy as np
import pytest
import spiceypy as sp

from helpers.spicekit import LoadedKernels, write_lsk, write_orbiter_spk, write_pck
from marsrelay.geometry.orbits import J2Orbit, MeanElements
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import EarthStation, MarsSite, earth_icrf_to_itrs, topocentric_matrix
from marsrelay.geometry.time import utc_to_tdb

N_CASES = 1000
ANGLE_TOL_DEG = 1e-6
# NAIF pck00010.tpc BODY499_RADII (the PCK written for SPICE has the same numbers).
A_KM, C_KM = 3396.19, 3376.20
ORBITER_ID = -74


def _wrap_deg(x):
    return (np.asarray(x) + 180.0) % 360.0 - 180.0


def _random_sites(rng, n):
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))  # uniform over the sphere
    lon = rng.uniform(0.0, 360.0, n)
    height = rng.uniform(-8.0, 22.0, n)  # Hellas floor .. Olympus Mons summit, km
    return lat, lon, height


@pytest.fixture(scope="module")
def mars_spice(tmp_path_factory):
    """LSK, PCK (IAU 2009) and an orbiter SPK (type 13, 30 s steps) over three days."""
    d = tmp_path_factory.mktemp("sites")
    epoch = utc_to_tdb("2031-03-01T00:00:00Z")
    orbit = J2Orbit(MeanElements(epoch, 3396.19 + 286.0, 0.01, 92.65, 40.0, 270.0, 10.0))
    t = epoch + np.arange(0.0, 3 * 86400.0 + 1.0, 30.0)
    pos, vel = orbit.state_km(t)
    spk = write_orbiter_spk(d / "orbiter.bsp", ORBITER_ID, t, pos, vel, degree=15)
    with LoadedKernels([write_lsk(d), write_pck(d, "iau2009"), spk]):
        yield orbit, t[0], t[-1]


def _spice_site(lat, lon, height):
    surface = np.array(sp.srfrec(499, math.radians(lon), math.radians(lat)))
    normal = np.array(sp.surfnm(A_KM, A_KM, C_KM, surface))
    return surface + height * normal, normal


def test_site_position_matches_srfrec_surfnm(mars_spice):
    rng = np.random.default_rng(1)
    lat, lon, height = _random_sites(rng, N_CASES)
    worst_pos = worst_normal = 0.0
    for la, lo, h in zip(lat, lon, height, strict=True):
        site = MarsSite("s", float(la), float(lo), float(h))
        pos, normal = _spice_site(la, lo, h)
        worst_pos = max(worst_pos, np.abs(site.position_body_km - pos).max())
        worst_normal = max(worst_normal, np.abs(site.normal - normal).max())
    assert worst_pos < 1e-9  # km
    assert worst_normal < 1e-12


def test_worked_example_oxia_planum(mars_spice):
    site = MarsSite("Oxia", lat_deg=18.275, lon_east_deg=335.368, height_km=-3.0)
    pos, _ = _spice_site(18.275, 335.368, -3.0)
    assert np.abs(site.position_body_km - pos).max() < 1e-9
    # Planetocentric latitude of the surface point is the given one (SPICE reclat).
    _, lon, lat = sp.reclat(site.surface_point_km)
    assert math.degrees(lat) == pytest.approx(18.275, abs=1e-12)
    assert math.degrees(lon) % 360.0 == pytest.approx(335.368, abs=1e-12)


def _azlcpo(obs_body_km, et):
    state, _ = sp.azlcpo("ELLIPSOID", str(ORBITER_ID), float(et), "NONE", False, True,
                         obs_body_km, "MARS", "IAU_MARS")
    return state[0], math.degrees(state[1]), math.degrees(state[2])


def _ours(site, orbit, rot, et):
    pos_icrf, _ = orbit.state_km([et])
    target_body = rot.icrf_to_body([et])[0] @ pos_icrf[0]
    aer = site.azel_of_body_fixed(target_body)
    return aer.range_km[0], aer.azimuth_deg[0], aer.elevation_deg[0]


def test_azel_matches_azlcpo(mars_spice):
    orbit, first, last = mars_spice
    rot = rotation_model("iau2009")
    rng = np.random.default_rng(2)
    lat, lon, height = _random_sites(rng, N_CASES)
    times = rng.uniform(first, last, N_CASES)
    # Put half of the sites within ~20 deg of the orbiter's ground point, so that many cases
    # see it above the horizon.
    half = N_CASES // 2
    sub = np.einsum("nij,nj->ni", rot.icrf_to_body(times[:half]), orbit.state_km(times[:half])[0])
    sub_lat = np.degrees(np.arcsin(sub[:, 2] / np.linalg.norm(sub, axis=1)))
    sub_lon = np.degrees(np.arctan2(sub[:, 1], sub[:, 0]))
    lat[:half] = np.clip(sub_lat + rng.uniform(-20, 20, half), -89.9, 89.9)  # not at a pole
    lon[:half] = (sub_lon + rng.uniform(-20, 20, half)) % 360.0
    errs = np.zeros((N_CASES, 3))
    elevations = np.zeros(N_CASES)
    for k in range(N_CASES):
        site = MarsSite("s", float(lat[k]), float(lon[k]), float(height[k]))
        obs, _ = _spice_site(lat[k], lon[k], height[k])
        rng_s, az_s, el_s = _azlcpo(obs, times[k])
        rng_o, az_o, el_o = _ours(site, orbit, rot, times[k])
        elevations[k] = el_s
        # Azimuth is undefined at the zenith: weigh its error by cos(elevation), the angle it
        # makes on the sky.
        errs[k] = [abs(rng_o - rng_s), abs(_wrap_deg(az_o - az_s)) * math.cos(math.radians(el_s)),
                   abs(el_o - el_s)]
    assert errs[:, 1].max() < ANGLE_TOL_DEG, errs[:, 1].max()
    assert errs[:, 2].max() < ANGLE_TOL_DEG, errs[:, 2].max()
    assert errs[:, 0].max() < 1e-5  # km
    # The cases cover targets above and below the horizon.
    assert (elevations > 10.0).sum() > 200 and (elevations < 0.0).sum() > 300


@pytest.mark.parametrize("lat", [89.99999, -89.99999, 89.9999999, -89.9999999])
def test_azel_near_poles_matches_azlcpo(mars_spice, lat):
    orbit, first, last = mars_spice
    rot = rotation_model("iau2009")
    rng = np.random.default_rng(3)
    for lon, et in zip(rng.uniform(0, 360, 50), rng.uniform(first, last, 50), strict=True):
        site = MarsSite("pole", lat, float(lon), 1.0)
        _, az_s, el_s = _azlcpo(_spice_site(lat, lon, 1.0)[0], et)
        _, az_o, el_o = _ours(site, orbit, rot, et)
        assert abs(_wrap_deg(az_o - az_s)) * math.cos(math.radians(el_s)) < ANGLE_TOL_DEG
        assert abs(el_o - el_s) < ANGLE_TOL_DEG


@pytest.mark.parametrize("lat", [90.0, -90.0])
def test_exact_pole_is_the_limit_along_its_meridian(mars_spice, lat):
    """SPICE cannot build a topocentric frame exactly at a pole (azlcpo raises); marsrelay's
    pole frame must be the limit of SPICE's along the site's meridian."""
    orbit, first, last = mars_spice
    rot = rotation_model("iau2009")
    rng = np.random.default_rng(4)
    near = lat - math.copysign(1e-7, lat)
    for lon, et in zip(rng.uniform(0, 360, 30), rng.uniform(first, last, 30), strict=True):
        site = MarsSite("pole", lat, float(lon), 0.5)
        _, az_s, el_s = _azlcpo(_spice_site(near, lon, 0.5)[0], et)
        _, az_o, el_o = _ours(site, orbit, rot, et)
        # 1e-7 deg of latitude moves the site by 6 mm: < 1e-5 deg seen from >= 250 km.
        assert abs(_wrap_deg(az_o - az_s)) * math.cos(math.radians(el_s)) < 1e-5
        assert abs(el_o - el_s) < 1e-5
    site = MarsSite("pole", lat, 0.0, 0.0)
    above = site.position_body_km + 500.0 * site.normal
    assert site.azel_of_body_fixed(above).elevation_deg[0] == pytest.approx(90.0, abs=1e-9)
    frame = site.topocentric
    assert np.abs(frame @ frame.T - np.eye(3)).max() < 1e-15
    assert np.linalg.det(frame) == pytest.approx(1.0, abs=1e-15)


def test_topocentric_frames_are_right_handed_north_west_up():
    rng = np.random.default_rng(5)
    lat, lon, height = _random_sites(rng, 200)
    for la, lo, h in zip(lat, lon, height, strict=True):
        site = MarsSite("s", float(la), float(lo), float(h))
        north, west, up = site.topocentric
        assert np.abs(site.topocentric @ site.topocentric.T - np.eye(3)).max() < 1e-14
        assert np.abs(np.cross(north, west) - up).max() < 1e-14
        assert north[2] > -1e-15  # north leans toward the +z pole
    at_pole = topocentric_matrix(np.array([0.0, 0.0, 2.0]))  # north toward -x, as in SPICE
    assert np.abs(at_pole - np.diag([-1.0, -1.0, 1.0])).max() < 1e-15


def _station_reference_azel(lat_deg, lon_deg, height_m, utc_parts, target_gcrs_km):
    """Independent station az/el: ERFA gd2gc for the station, c2t06a (IAU 2006/2000A, UT1 =
    UTC, no polar motion) for GCRS -> ITRS, and the geodetic frame from the gradient of the
    WGS84 ellipsoid at the station's foot point."""
    y, mo, d, h, mi, s = utc_parts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        u1, u2 = erfa.dtf2d("UTC", y, mo, d, h, mi, s)
        a1, a2 = erfa.utctai(u1, u2)
        t1, t2 = erfa.taitt(a1, a2)
        rc2t = erfa.c2t06a(t1, t2, u1, u2, 0.0, 0.0)
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    station = erfa.gd2gc(1, lon, lat, height_m) / 1000.0
    foot = erfa.gd2gc(1, lon, lat, 0.0) / 1000.0
    a_km, f = 6378.137, 1.0 / 298.257223563  # WGS84 (NIMA TR8350.2)
    b_km = a_km * (1.0 - f)
    up = np.array([foot[0] / a_km**2, foot[1] / a_km**2, foot[2] / b_km**2])
    up /= np.linalg.norm(up)
    north = np.array([0.0, 0.0, 1.0]) - up[2] * up
    north /= np.linalg.norm(north)
    east = np.cross(north, up)
    rel = rc2t @ target_gcrs_km - station
    rng_km = np.linalg.norm(rel)
    az = math.degrees(math.atan2(rel @ east, rel @ north)) % 360.0
    el = math.degrees(math.asin(rel @ up / rng_km))
    return az, el, rng_km


def test_station_azel_matches_erfa(mars_spice):
    rng = np.random.default_rng(6)
    lat = np.degrees(np.arcsin(rng.uniform(-0.999, 0.999, N_CASES)))
    lon = rng.uniform(0.0, 360.0, N_CASES)
    height = rng.uniform(-50.0, 3000.0, N_CASES)
    # Times 1972..2049 as UTC calendar parts; seconds below 59 avoid leap seconds.
    parts = list(zip(rng.integers(1972, 2050, N_CASES), rng.integers(1, 13, N_CASES),
                     rng.integers(1, 29, N_CASES), rng.integers(0, 24, N_CASES),
                     rng.integers(0, 60, N_CASES), rng.uniform(0.0, 59.0, N_CASES), strict=True))
    direction = rng.normal(size=(N_CASES, 3))
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    targets = direction * rng.uniform(2e4, 4e8, N_CASES)[:, None]  # GEO .. Mars distances
    errs = np.zeros((N_CASES, 3))
    for k in range(N_CASES):
        y, mo, d, h, mi, s = parts[k]
        text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:09.6f}"
        et = sp.str2et(text)  # TDB from SPICE, not from marsrelay.geometry.time
        station = EarthStation("x", float(lat[k]), float(lon[k]), float(height[k]))
        aer = station.azel_of_icrf(targets[k][None, :], et)
        az, el, rng_km = _station_reference_azel(lat[k], lon[k], height[k],
                                                 (y, mo, d, h, mi, s), targets[k])
        errs[k] = [abs(_wrap_deg(aer.azimuth_deg[0] - az)) * math.cos(math.radians(el)),
                   abs(aer.elevation_deg[0] - el), abs(aer.range_km[0] - rng_km) / rng_km]
    assert errs[:, 0].max() < ANGLE_TOL_DEG, errs[:, 0].max()
    assert errs[:, 1].max() < ANGLE_TOL_DEG, errs[:, 1].max()
    assert errs[:, 2].max() < 1e-12


def test_dense_station_rotation_matches_c2t06a(mars_spice):
    """Two days at 60 s steps: the interpolated celestial-to-intermediate path."""
    t = utc_to_tdb("2030-06-01T00:00:00Z") + np.arange(0.0, 2 * 86400.0, 60.0)
    rot = earth_icrf_to_itrs(t)
    utc = [sp.et2utc(float(tk), "ISOC", 6) for tk in t]
    ref = np.empty_like(rot)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        for k, text in enumerate(utc):
            date, clock = text.split("T")
            y, mo, d = (int(v) for v in date.split("-"))
            h, mi, s = clock.split(":")
            u1, u2 = erfa.dtf2d("UTC", y, mo, d, int(h), int(mi), float(s))
            t1, t2 = erfa.taitt(*erfa.utctai(u1, u2))
            ref[k] = erfa.c2t06a(t1, t2, u1, u2, 0.0, 0.0)
    # c2t06a includes the TIO locator s' = -47 uas per century (IERS Conventions 2010, eq. 5.13),
    # 7e-11 rad in 2030, which marsrelay leaves out; the 1 h interpolation adds < 5e-11 rad.
    # 2e-10 rad is 1e-8 deg.
    assert np.abs(rot - ref).max() < 2e-10
    # The interpolated path against marsrelay's own direct path (<= 64 times per call).
    direct = np.concatenate([earth_icrf_to_itrs(t[i : i + 60]) for i in range(0, t.size, 60)])
    assert np.abs(rot - direct).max() < 5e-11
    station = EarthStation("DSS-14", 35.4259, 243.1113, 1002.0)
    gc = erfa.gd2gc(1, math.radians(243.1113), math.radians(35.4259), 1002.0) / 1000.0
    assert np.abs(station.position_icrf_km(t) - np.einsum("nji,j->ni", ref, gc)).max() < 1e-6
