"""DE421 reader against NAIF SPICE, ERFA's analytic ephemerides and published Mars distances."""

from __future__ import annotations

import warnings

import erfa
import numpy as np
import pytest
import spiceypy as sp

from helpers.spicekit import LoadedKernels, write_lsk, write_planetary_spk
from marsrelay.errors import EphemerisCoverageError
from marsrelay.geometry.ephemeris import BODIES, Ephemeris
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb

#: IAU 2012 Resolution B2 astronomical unit, km (ERFA's results are in au).
AU_KM = 149597870.7
SPAN_UTC = ("1999-01-01T00:00:00Z", "2041-01-01T00:00:00Z")
NAIF_NAMES = {
    "sun": "SUN",
    "earth": "EARTH",
    "moon": "MOON",
    "mars": "MARS",
    "emb": "EARTH BARYCENTER",
    "ssb": "SOLAR SYSTEM BARYCENTER",
}
PAIRS = [
    ("sun", "ssb"),
    ("emb", "ssb"),
    ("earth", "ssb"),
    ("moon", "ssb"),
    ("mars", "ssb"),
    ("moon", "earth"),
    ("mars", "earth"),
    ("earth", "mars"),
    ("sun", "mars"),
    ("mars", "sun"),
]


@pytest.fixture(scope="module")
def eph() -> Ephemeris:
    return Ephemeris.de421()


@pytest.fixture(scope="module")
def spice_de421(tmp_path_factory, eph):
    """SPICE with a type 2 SPK written from DE421's coefficients over 1999..2041."""
    d = tmp_path_factory.mktemp("spk")
    first, last = (float(utc_to_tdb(s)) for s in SPAN_UTC)
    lsk = write_lsk(d)
    spk = write_planetary_spk(d / "de421_part.bsp", eph, first, last)
    with LoadedKernels([lsk, spk]):
        yield first, last


def _test_times(eph: Ephemeris, first: float, last: float) -> np.ndarray:
    rng = np.random.default_rng(421)
    random = rng.uniform(first + 1.0, last - 1.0, 1000)
    # Granule edges of every stored body inside the span, where a reader picks the set.
    edges = []
    for body in ("sun", "mars", "earthmoon", "moon"):
        _, start, granule = eph.coefficients(body)
        k0 = np.ceil((first - start) / granule)
        edges.append(start + granule * (k0 + np.arange(0, 40)))
    return np.concatenate([random, *edges, [first + 1.0, last - 1.0]])


@pytest.mark.parametrize(("target", "centre"), PAIRS)
def test_states_match_spice_type2(eph, spice_de421, target, centre):
    first, last = spice_de421
    t = _test_times(eph, first, last)
    pos, vel = eph.state_km(target, t, centre)
    ref = np.array(
        [sp.spkezr(NAIF_NAMES[target], float(tk), "J2000", "NONE", NAIF_NAMES[centre])[0]
         for tk in t]
    )
    dp = np.abs(pos - ref[:, :3]).max()
    dv = np.abs(vel - ref[:, 3:]).max()
    assert dp < 1e-6, f"{target} wrt {centre}: max position error {dp:.3e} km"
    assert dv < 1e-9, f"{target} wrt {centre}: max velocity error {dv:.3e} km/s"
    # position_km is the same as state_km's position.
    assert np.abs(eph.position_km(target, t, centre) - pos).max() < 1e-9


def test_mars_is_its_barycentre_in_spice_too(eph, spice_de421):
    first, last = spice_de421
    t = np.linspace(first, last, 50)
    ref = np.array([sp.spkezr("MARS BARYCENTER", float(tk), "J2000", "NONE", "EARTH")[0][:3]
                    for tk in t])
    assert np.abs(eph.position_km("mars", t, "earth") - ref).max() < 1e-6


def _erfa_times(eph: Ephemeris, n: int) -> np.ndarray:
    lo, hi = eph.coverage_tdb_s
    return np.random.default_rng(94).uniform(lo, hi, n)


def test_earth_matches_erfa_epv00(eph):
    t = _erfa_times(eph, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        pvh, pvb = erfa.epv00(2451545.0, t / 86400.0)
    # epv00 (VSOP2000 simplified) vs JPL DE405, 1900-2100 (ERFA/SOFA documentation, note 4):
    # heliocentric position max 11.2 km; barycentric position max 13.4 km, velocity max
    # 4.9 mm/s. DE421 differs from DE405 for the Earth by well under a few km, hence the
    # margins below.
    helio = np.linalg.norm(eph.position_km("earth", t, "sun") - pvh["p"] * AU_KM, axis=1)
    pos_b, vel_b = eph.state_km("earth", t, "ssb")
    bary = np.linalg.norm(pos_b - pvb["p"] * AU_KM, axis=1)
    dvel = np.linalg.norm(vel_b - pvb["v"] * AU_KM / 86400.0, axis=1)
    assert helio.max() < 15.0, helio.max()
    assert bary.max() < 17.0, bary.max()
    assert dvel.max() < 6e-6, dvel.max()


def _plan94_mars_helio_icrs_km(t: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        pv = erfa.plan94(2451545.0, t / 86400.0, 4)
    # plan94 is referred to the mean equator and equinox of J2000; rotate to ICRS with the
    # frame bias (erfa.bp06's rb: ICRS -> J2000 mean, so v_icrs = rb^T v_j2000).
    rb = erfa.bp06(2451545.0, 0.0)[0]
    return (pv["p"] * AU_KM) @ rb


def test_earth_mars_distance_matches_erfa_plan94(eph):
    t = _erfa_times(eph, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        pvh, _ = erfa.epv00(2451545.0, t / 86400.0)
    mars_h = _plan94_mars_helio_icrs_km(t)
    # Tolerance from plan94's documentation (ERFA/SOFA note 5): against DE200/DE406 over
    # 1800-2100 Mars is off by at most 26" in longitude, 1" in latitude and 9000 km in radius.
    # At Mars' aphelion (1.666 au = 2.492e8 km) 26" is 31,420 km and 1" is 1,208 km, so the
    # position error is at most sqrt(31420^2 + 1208^2 + 9000^2) = 32,700 km; epv00 adds at
    # most 11.2 km for the Earth. A distance error cannot exceed the position errors.
    bound_km = 32_700.0 + 11.2
    mars_err = np.linalg.norm(eph.position_km("mars", t, "sun") - mars_h, axis=1)
    assert mars_err.max() < 32_700.0, mars_err.max()
    dist_de421 = np.linalg.norm(eph.position_km("mars", t, "earth"), axis=1)
    dist_erfa = np.linalg.norm(mars_h - pvh["p"] * AU_KM, axis=1)
    err = np.abs(dist_de421 - dist_erfa)
    assert err.max() < bound_km, err.max()
    # plan94's RMS position error for Mars against DE200 over 1960-2025 is 7,690 km (same note);
    # the distance error over those years must stay below it.
    sel = (t > utc_to_tdb("1960-01-01")) & (t < utc_to_tdb("2025-01-01"))
    assert np.sqrt(np.mean(err[sel] ** 2)) < 7_690.0


# Published Mars close approaches (minimum centre-to-centre Earth-Mars distance):
# - 2003-08-27 09:51 UT, 55,758,006 km: NASA/JPL Mars Exploration Program, "2003: Mars Closest
#   Approach" (mars.jpl.nasa.gov/allabout/nightsky/nightsky02-2003.html).
# - 2018-07-31, 57.6 million km (35.8 million miles): NASA Mars Exploration, "Mars Close
#   Approach" (2018), also NASA TV on the day.
# - 2020-10-06, 62.07 million km (38.57 million miles): NASA Mars Exploration, "Mars Close
#   Approach" (2020).
# - 2035-09-11, 56.9 million km (35.4 million miles): NASA, as quoted at the 2018 close approach.
CLOSE_APPROACHES = [
    ("2003-08-27", 55_758_006.0),
    ("2018-07-31", 57.6e6),
    ("2020-10-06", 62.07e6),
    ("2035-09-11", 56.9e6),
]


@pytest.mark.parametrize(("date", "distance_km"), CLOSE_APPROACHES)
def test_published_close_approaches(eph, date, distance_km):
    t0 = utc_to_tdb(date + "T12:00:00Z")
    grid = t0 + np.arange(-20 * 86400.0, 20 * 86400.0, 60.0)
    d = np.linalg.norm(eph.position_km("mars", grid, "earth"), axis=1)
    k = int(d.argmin())
    assert 0 < k < grid.size - 1, "the minimum must lie inside the searched window"
    assert str(tdb_to_utc(grid[k]))[:10] == date
    assert abs(d[k] - distance_km) / distance_km < 1e-3, d[k]


def test_2003_closest_approach_at_the_published_minute(eph):
    # NASA/JPL gives the instant (09:51 UT) and the distance to the kilometre.
    d = np.linalg.norm(eph.position_km("mars", utc_to_tdb("2003-08-27T09:51:00Z"), "earth"))
    assert abs(d - 55_758_006.0) < 100.0, d


def test_distance_stays_within_fact_sheet_extremes(eph):
    # NASA Mars Fact Sheet: distance from Earth, minimum 54.6, maximum 401.3 million km.
    t = np.arange(utc_to_tdb("2000-01-01"), utc_to_tdb("2050-12-31"), 6 * 3600.0)
    d = np.linalg.norm(eph.position_km("mars", t, "earth"), axis=1)
    assert 54.6e6 <= d.min() < 56e6
    assert 398e6 < d.max() <= 401.3e6


@pytest.mark.parametrize(
    "utc", ["1899-12-31T23:59:59Z", "2051-01-01T00:00:01Z", "2100-06-01T00:00:00Z"]
)
def test_coverage_error_outside_1900_2050(eph, utc):
    t = np.array([utc_to_tdb("2030-01-01"), utc_to_tdb(utc)])
    for call in (eph.position_km, eph.state_km):
        with pytest.raises(EphemerisCoverageError) as info:
            call("mars", t, "earth")
        message = str(info.value)
        assert "DE421 covers 1900-01-01T00:00:00.000Z to 2051-01-01T00:00:00.000Z" in message
        assert utc[:10] in message
        assert "\n" not in message


def test_coverage_edges_and_nan(eph):
    lo, hi = eph.coverage_tdb_s
    assert tdb_to_utc(lo) == "1900-01-01T00:00:00.000Z"
    assert tdb_to_utc(hi) == "2051-01-01T00:00:00.000Z"
    assert np.isfinite(eph.position_km("mars", [lo, hi], "earth")).all()
    with pytest.raises(EphemerisCoverageError, match="NaN"):
        eph.position_km("mars", [0.0, np.nan])


def test_unknown_body_message(eph):
    with pytest.raises(ValueError, match="unknown body 'pluto'") as info:
        eph.position_km("pluto", [0.0])
    for name in BODIES:
        assert name in str(info.value)


def test_shapes(eph):
    assert eph.position_km("mars", 0.0).shape == (1, 3)
    p, v = eph.state_km("mars", np.zeros(7), "earth")
    assert p.shape == v.shape == (7, 3)
    assert np.all(eph.position_km("ssb", [0.0, 1.0]) == 0.0)
