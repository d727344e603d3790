"""Ground tracks against NAIF SPICE, Earth-Mars geometry against published figures, and the
visibility ring against plain vector geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import spiceypy as sp

from helpers.spicekit import LoadedKernels, write_pck
from marsrelay.geometry.orbits import J2Orbit, MeanElements
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.geometry.tracks import (
    coverage_half_angle_deg,
    earth_mars_geometry,
    ground_track,
    small_circle_deg,
)


@pytest.mark.parametrize("model", ["iau2009", "iau2015"])
def test_ground_track_matches_spice_nearpt(tmp_path, model):
    rot = rotation_model(model)
    t0 = float(utc_to_tdb("2030-11-01T00:00:00Z"))
    orbit = J2Orbit(MeanElements(t0, 3683.69, 0.0088, 92.6, 320.5, 270.0, 90.0), rot)
    t = t0 + np.linspace(0.0, 2 * 86400.0, 97)
    track = ground_track(orbit, rot, t)
    pos, _ = orbit.state_km(t)
    with LoadedKernels([write_pck(tmp_path, model)]):
        radii = sp.bodvrd("MARS", "RADII", 3)[1]
        for k in range(t.size):
            body = sp.mxv(sp.pxform("J2000", "IAU_MARS", float(t[k])), pos[k])
            npoint, alt = sp.nearpt(body, *radii)
            _, lon, lat = sp.reclat(npoint)
            assert track.lat_deg[k] == pytest.approx(math.degrees(lat), abs=1e-7)
            dlon = (track.lon_east_deg[k] - math.degrees(lon) + 180.0) % 360.0 - 180.0
            assert abs(dlon) < 1e-7
            assert track.height_km[k] == pytest.approx(alt, abs=1e-6)
    assert np.all((track.lon_east_deg >= 0.0) & (track.lon_east_deg < 360.0))


def test_earth_mars_distance_at_2003_closest_approach():
    # NASA: closest approach 2003-08-27 09:51 UT at 55,758,006 km (NASA Mars fact sheet /
    # "Mars makes closest approach in nearly 60,000 years", 2003).
    g = earth_mars_geometry(utc_to_tdb(["2003-08-27T09:51:00Z"]))
    assert g.distance_km[0] == pytest.approx(55_758_006.0, rel=2e-5)
    assert g.owlt_s[0] == pytest.approx(55_758_006.0 / 299_792.458, rel=2e-5)


def test_conjunction_2019_dates():
    # NASA paused commanding of its Mars missions for the 2019 solar conjunction,
    # 2019-08-28 to 2019-09-07, while the Sun-Earth-Mars angle was below 2 deg
    # (NASA/JPL "Mars solar conjunction 2019" release).
    t = np.arange(utc_to_tdb("2019-08-10T00:00:00Z"), utc_to_tdb("2019-09-25T00:00:00Z"), 3600.0)
    g = earth_mars_geometry(t)
    below = t[g.sep_deg < 2.0]
    first, last = str(tdb_to_utc(below[0])), str(tdb_to_utc(below[-1]))
    assert "2019-08-27" <= first[:10] <= "2019-08-29"
    assert "2019-09-06" <= last[:10] <= "2019-09-08"
    assert 0.5 < g.sep_deg.min() < 2.0


def test_visibility_ring_is_where_the_elevation_equals_the_mask():
    r, h, mask = 3396.19, 400.0, 10.0
    lam = coverage_half_angle_deg(h, mask, r)
    lat, lon = small_circle_deg(18.275, 335.368, lam, n=73)
    site = r * _unit(18.275, 335.368)
    for la, lo in zip(lat, lon, strict=True):
        sat = (r + h) * _unit(la, lo)
        los = sat - site
        el = math.degrees(math.asin(np.dot(los, site) / (np.linalg.norm(los) * r)))
        assert el == pytest.approx(mask, abs=1e-9)
    assert coverage_half_angle_deg(h, 89.999, r) == pytest.approx(0.0, abs=1e-3)


def _unit(lat_deg: float, lon_deg: float) -> np.ndarray:
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
