"""Contact windows against an independent brute-force reading of the project conventions.

The reference below is written from ``conventions.md`` ("Orbits", "Geometry") and
``scenario.md`` alone; it shares none of ``marsrelay.contacts``. It reuses only geometry
primitives validated against SPICE elsewhere: ``Ephemeris`` (DE421), ``RotationModel``
(``icrf_to_body``, ``angles_deg``), ``earth_icrf_to_itrs`` (ERFA) and the time conversions.
Orbits (mean elements + secular J2, Kepler's equation), ``MARS_EQ_J2000``, Mars sites and
WGS84 stations are built here from the convention text.

Every constraint is sampled every second over the span, then each change is bisected to
1e-4 s. Windows must match marsrelay's one to one with edges within 1 ms (only windows
under 2 s, which a 1 s sampler may miss, may go unmatched). Conventions as read here:

- proximity: the orbiter's elevation above the lander's mask in the lander's topocentric
  frame (z along the outward normal of the IAU ellipsoid at the planetocentric surface
  point; the site is moved ``height_km`` along it), and range <= ``max_range_km``;
- Earth links, in the sender's TDB ``t``: one-way light time converged to the station's
  position at ``t + OWLT``; station elevation (geodetic up at ``t + OWLT``) of the sender's
  position at ``t`` above the station's mask; for an orbiter, the ray orbiter -> station
  clears Mars' ellipsoid enlarged by the grazing height (radii + ``grazing_height_km``,
  pole at ``t``) placed where Mars is when the signal passes it (the ray's closest approach,
  as SPICE's ``gfoclt``/``sincpt`` light-time-correct the front body to the limb point:
  ``XCN``/``CN``, receiver side); for a lander, the station above the lander's mask (the
  ellipsoid test is void for a site on or under the ellipsoid, see marsrelay.contacts.earth);
- solar conjunction: Sun-Earth-Mars angle below ``conjunction_sep_deg`` blocks Earth links,
  the angle seen from Earth's centre when the signal arrives (receiver side, Sun light-time
  corrected);
- blackouts (marsrelay extension): orbiter and lander ones in the sender's time, station ones
  in the station's (reception) time.

Readings that differ, measured with this reference when it was written: Mars' ellipsoid at
the sender's time ``t`` (not where the signal passes it) moves occultation edges by up to
0.64 s here; radii scaled by ``1 + h / R`` instead of radii + h, by up to 0.38 s; the SEP taken
geometrically at ``t`` instead of on arrival moves the 2030-06-02 conjunction exit (2 deg) by
46 min. This module would fail on each of them.

Sites and orbits: an ExoMars-like network in November 2030 (Oxia Planum 18.275 N 335.368 E,
IAU Gazetteer; TGO-like 400 km circular i = 74 deg, ESA TGO pages; MAVEN-like 150 x 4500 km
i = 75 deg, NASA MAVEN 2019 relay orbit; MRO-like 255 x 320 km i = 92.6 deg, NASA/JPL MRO
pages; DSS-43, DSS-14 from DSN 810-005 module 301K, DSA-2 from ESA ESTRACK pages) plus an
invented southern site above the ellipsoid.
"""

from __future__ import annotations

import csv
import math
import re

import numpy as np
import pytest

from marsrelay.contacts import find_contacts
from marsrelay.contacts.stage import contacts_output_table
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import earth_icrf_to_itrs
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.rundir.tables import write_table
from marsrelay.scenario import load_scenario

# Constants, copied with their sources (never read from marsrelay.constants).
GM_KM3_S2 = 42828.37362  # NAIF gm_de431.tpc BODY499_GM
J2, J2_R_KM = 1.96045e-3, 3396.0  # Vallado, Mars data table (project convention)
MARS_A_KM, MARS_C_KM = 3396.19, 3376.20  # NAIF pck00010.tpc BODY499_RADII
C_KM_S = 299792.458  # SI
WGS84_A_KM, WGS84_F = 6378.137, 1.0 / 298.257223563  # NIMA TR8350.2
DEG = math.pi / 180.0

STEP_S, BISECT_TOL_S = 1.0, 1e-4
EDGE_TOL_S = 1e-3
SHORT_S = 2.0
#: When (s after the blackout case's start) the SEP crosses that case's threshold.
SEP_CROSSING_S = 15 * 3600.0

EPH = Ephemeris.de421()

# --------------------------------------------------------------------------------------------
# Scenarios (the TOML text is generated from these tables, so the reference reads the same)
# --------------------------------------------------------------------------------------------

TGO = dict(name="TGO", max_range_km=5000.0, epoch="2030-11-04T12:00:00Z", a_km=3796.19, e=0.0,
           i_deg=74.0, raan_deg=30.0, argp_deg=0.0, mean_anomaly_deg=40.0)
MAVEN = dict(name="MAVEN", max_range_km=4000.0, epoch="2030-11-05T00:00:00Z", a_km=5721.19,
             e=0.380166, i_deg=75.0, raan_deg=120.0, argp_deg=90.0, mean_anomaly_deg=270.0)
MRO = dict(name="MRO", max_range_km=5000.0, epoch="2030-11-20T00:00:00Z", a_km=3683.69,
           e=0.008823, i_deg=92.6, raan_deg=320.5, argp_deg=270.0, mean_anomaly_deg=90.0)
SOUTH = dict(name="Southern Site", lat_deg=-42.5, lon_east_deg=-95.0, height_km=2.5,
             elevation_mask_deg=5.0)
OXIA = dict(name="Rosalind Franklin", lat_deg=18.275, lon_east_deg=335.368, height_km=-3.0,
            elevation_mask_deg=10.0)
JEZERO = dict(name="Perseverance", lat_deg=18.4447, lon_east_deg=77.4508, height_km=-2.6,
              elevation_mask_deg=10.0)
DSS43 = dict(name="DSS-43, Canberra", lat_deg=-35.4040, lon_east_deg=148.9801, height_m=689.0,
             elevation_mask_deg=10.0)
DSA2 = dict(name="DSA-2", lat_deg=40.4527, lon_east_deg=-4.3676, height_m=794.0,
            elevation_mask_deg=15.0)
DSS14 = dict(name="DSS-14", lat_deg=35.4259, lon_east_deg=243.1113, height_m=1002.0,
             elevation_mask_deg=10.0)

#: iau2015, a non-zero grazing height, a southern site above the ellipsoid (negative east
#: longitude), a site below it, a circular and an eccentric orbiter, two stations.
SOUTH_CASE = dict(name="audit-south", start="2030-11-09T00:00:00Z", end="2030-11-10T06:00:00Z",
                  rotation_model="iau2015", grazing_height_km=50.0, conjunction_sep_deg=2.0,
                  orbiters=[TGO, MAVEN], landers=[SOUTH, OXIA], stations=[DSS43, DSA2],
                  blackouts={})
#: iau2009 (default), no grazing height, blackouts on every kind of node, and a conjunction
#: threshold set (in the fixture) to the Sun-Earth-Mars angle at mid-span, so its edge falls
#: inside the span.
BLACKOUT_CASE = dict(name="audit-blackouts", start="2030-11-20T00:00:00Z",
                     end="2030-11-21T00:00:00Z", rotation_model=None, grazing_height_km=None,
                     conjunction_sep_deg=None, orbiters=[MRO], landers=[JEZERO],
                     stations=[DSS14],
                     blackouts={"MRO": ("2030-11-20T02:00:00Z", "2030-11-20T04:10:00Z"),
                                "Perseverance": ("2030-11-20T20:35:00Z",
                                                 "2030-11-20T21:30:00Z"),
                                "DSS-14": ("2030-11-20T17:30:00Z", "2030-11-20T19:00:00Z")})


def _toml(case: dict) -> str:
    out = ["[scenario]", f'name = "{case["name"]}"', f'start = "{case["start"]}"',
           f'end = "{case["end"]}"']
    for key in ("rotation_model", "grazing_height_km", "conjunction_sep_deg"):
        if case[key] is not None:
            out.append(f"{key} = {case[key]!r}".replace("'", '"'))
    black = case["blackouts"]

    def blk(name):
        return [f'blackouts = [["{black[name][0]}", "{black[name][1]}"]]'] if name in black else []

    for o in case["orbiters"]:
        out += ["", "[[orbiter]]", f'name = "{o["name"]}"', f"max_range_km = {o['max_range_km']}",
                *blk(o["name"]), "[orbiter.elements]", f'epoch = "{o["epoch"]}"']
        out += [f"{k} = {o[k]}" for k in ("a_km", "e", "i_deg", "raan_deg", "argp_deg",
                                          "mean_anomaly_deg")]
    for la in case["landers"]:
        out += ["", "[[lander]]", f'name = "{la["name"]}"', *blk(la["name"])]
        out += [f"{k} = {la[k]}" for k in ("lat_deg", "lon_east_deg", "height_km",
                                           "elevation_mask_deg")]
    for st in case["stations"]:
        out += ["", "[[station]]", f'name = "{st["name"]}"', *blk(st["name"])]
        out += [f"{k} = {st[k]}" for k in ("lat_deg", "lon_east_deg", "height_m",
                                           "elevation_mask_deg")]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# The reference (conventions.md, read independently)
# --------------------------------------------------------------------------------------------


def _r1(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


def _r3(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def mars_eq_j2000(model_name: str) -> np.ndarray:
    """ICRF -> MARS_EQ_J2000: R1(90 - d0) R3(90 + a0), a0 and d0 of the model at T = 0."""
    ra, dec, *_ = rotation_model(model_name).angles_deg(0.0)
    return _r1((90.0 - float(dec[0])) * DEG) @ _r3((90.0 + float(ra[0])) * DEG)


def orbit_icrf(o: dict, model_name: str, t: np.ndarray) -> np.ndarray:
    """Mars-centred ICRF position (N, 3) km: two-body motion plus the secular J2 rates of
    conventions.md (Vallado 9.6), elements in MARS_EQ_J2000."""
    a, e, i = o["a_km"], o["e"], o["i_deg"] * DEG
    n0 = math.sqrt(GM_KM3_S2 / a**3)
    p = a * (1.0 - e * e)
    k = J2 * (J2_R_KM / p) ** 2
    si2 = math.sin(i) ** 2
    dt = t - float(utc_to_tdb(o["epoch"]))
    raan = o["raan_deg"] * DEG - 1.5 * n0 * k * math.cos(i) * dt
    argp = o["argp_deg"] * DEG + 0.75 * n0 * k * (4.0 - 5.0 * si2) * dt
    m = o["mean_anomaly_deg"] * DEG + n0 * (1.0 + 0.75 * k * math.sqrt(1 - e * e)
                                            * (2.0 - 3.0 * si2)) * dt
    m = np.mod(m, 2.0 * math.pi)
    big_e = m.copy() if e < 0.8 else np.full_like(m, math.pi)
    for _ in range(60):  # Newton to 1e-12 rad
        step = (big_e - e * np.sin(big_e) - m) / (1.0 - e * np.cos(big_e))
        big_e -= step
        if np.abs(step).max() < 1e-13:
            break
    xp, yp = a * (np.cos(big_e) - e), a * math.sqrt(1.0 - e * e) * np.sin(big_e)
    # perifocal -> MARS_EQ_J2000: R3(-raan) R1(-i) R3(-argp), one matrix per time
    cw, sw, cn, sn = np.cos(argp), np.sin(argp), np.cos(raan), np.sin(raan)
    ci, si = math.cos(i), math.sin(i)
    x = xp * (cn * cw - sn * sw * ci) - yp * (cn * sw + sn * cw * ci)
    y = xp * (sn * cw + cn * sw * ci) - yp * (sn * sw - cn * cw * ci)
    z = xp * (sw * si) + yp * (cw * si)
    return np.stack([x, y, z], 1) @ mars_eq_j2000(model_name)  # rows: Q^T r


def mars_site(s: dict) -> tuple[np.ndarray, np.ndarray]:
    """Body-fixed position (km) and outward unit normal of a planetocentric site."""
    lat, lon = s["lat_deg"] * DEG, s["lon_east_deg"] * DEG
    u = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    r = 1.0 / math.sqrt((math.cos(lat) / MARS_A_KM) ** 2 + (math.sin(lat) / MARS_C_KM) ** 2)
    q = r * u
    n = q / np.array([MARS_A_KM**2, MARS_A_KM**2, MARS_C_KM**2])
    n /= np.linalg.norm(n)
    return q + s["height_km"] * n, n


def earth_station(s: dict) -> tuple[np.ndarray, np.ndarray]:
    """Earth-fixed position (km) and geodetic up of a WGS84 station."""
    lat, lon = s["lat_deg"] * DEG, s["lon_east_deg"] * DEG
    e2 = WGS84_F * (2.0 - WGS84_F)
    big_n = WGS84_A_KM / math.sqrt(1.0 - e2 * math.sin(lat) ** 2)
    h = s["height_m"] / 1000.0
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    pos = np.array([(big_n + h) * up[0], (big_n + h) * up[1], (big_n * (1 - e2) + h) * up[2]])
    return pos, up


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ni,ni->n", a, b)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1)[:, None]


class Reference:
    """Open/closed states of every pair of one scenario case, at any TDB times."""

    def __init__(self, case: dict, sep_deg: float) -> None:
        self.case = case
        self.model = case["rotation_model"] or "iau2009"
        self.rot = rotation_model(self.model)
        self.graze = case["grazing_height_km"] or 0.0
        self.sep_deg = sep_deg
        self.black = {k: tuple(float(utc_to_tdb(x)) for x in v)
                      for k, v in case["blackouts"].items()}

    def _free(self, name: str, t: np.ndarray) -> np.ndarray:
        b = self.black.get(name)
        return np.ones(t.size, bool) if b is None else ~((t >= b[0]) & (t <= b[1]))

    # ----- proximity
    def proximity(self, lander: dict, orbiter: dict, t: np.ndarray):
        site, up = mars_site(lander)
        body = np.einsum("nij,nj->ni", self.rot.icrf_to_body(t), orbit_icrf(orbiter,
                                                                            self.model, t))
        rel = body - site
        rng = np.linalg.norm(rel, axis=1)
        sin_el = rel @ up / rng
        is_open = ((sin_el > math.sin(lander["elevation_mask_deg"] * DEG))
                   & (rng <= orbiter["max_range_km"])
                   & self._free(lander["name"], t) & self._free(orbiter["name"], t))
        return is_open, np.degrees(np.arcsin(sin_el)), rng

    # ----- Earth links
    def _receive(self, t: np.ndarray, x: np.ndarray, station: dict):
        """Station barycentric position and up at t + OWLT, and OWLT (converged)."""
        pos, up = earth_station(station)
        tau = np.linalg.norm(EPH.position_km("earth", t) - x, axis=1) / C_KM_S
        for _ in range(4):
            tr = t + tau
            r = earth_icrf_to_itrs(tr)
            s = EPH.position_km("earth", tr) + np.einsum("nji,j->ni", r, pos)
            tau_new = np.linalg.norm(s - x, axis=1) / C_KM_S
            done = np.abs(tau_new - tau).max() < 1e-10
            tau = tau_new
            if done:
                break
        tr = t + tau
        r = earth_icrf_to_itrs(tr)
        s = EPH.position_km("earth", tr) + np.einsum("nji,j->ni", r, pos)
        return s, np.einsum("nji,j->ni", r, up), np.linalg.norm(s - x, axis=1) / C_KM_S

    def sun_earth_mars_deg(self, t: np.ndarray) -> np.ndarray:
        """SEP for a signal leaving Mars' centre at t, seen from Earth's centre on arrival."""
        m = EPH.position_km("mars", t)
        tau = np.zeros_like(t)
        for _ in range(5):
            tau = np.linalg.norm(EPH.position_km("earth", t + tau) - m, axis=1) / C_KM_S
        tr = t + tau
        e = EPH.position_km("earth", tr)
        lt = np.zeros_like(t)
        for _ in range(4):
            lt = np.linalg.norm(EPH.position_km("sun", tr - lt) - e, axis=1) / C_KM_S
        a, b = _unit(EPH.position_km("sun", tr - lt) - e), _unit(m - e)
        return np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b), axis=1), _dot(a, b)))

    def _earth_common(self, t, x, sender, station):
        s, up, tau = self._receive(t, x, station)
        rel = x - s
        sin_sta = _dot(up, rel) / np.linalg.norm(rel, axis=1)
        tb = self.black.get(station["name"])
        free = np.ones(t.size, bool) if tb is None else ~((t + tau >= tb[0]) & (t + tau <= tb[1]))
        ok = ((sin_sta > math.sin(station["elevation_mask_deg"] * DEG)) & free
              & self._free(sender, t) & (self.sun_earth_mars_deg(t) >= self.sep_deg))
        return ok, s, tau, np.degrees(np.arcsin(sin_sta))

    def occulted(self, t, x, s, *, mars_at_t: bool = False) -> np.ndarray:
        """Does the ray x (at t) -> s meet Mars' ellipsoid (radii + grazing height)?"""
        d = _unit(s - x)
        pole = self.rot.icrf_to_body(t)[:, 2, :]  # body z axis in ICRF, at t
        a, c = MARS_A_KM + self.graze, MARS_C_KM + self.graze

        def normalised(v):  # the ellipsoid becomes the unit sphere
            along = _dot(v, pole)[:, None] * pole
            return (v - along) / a + along / c

        lam = np.zeros_like(t)
        for _ in range(1 if mars_at_t else 3):
            o = normalised(x - EPH.position_km("mars", t + lam / C_KM_S))
            dn = normalised(d)
            lam = np.maximum(-_dot(o, dn) / _dot(dn, dn), 0.0)  # closest approach, km
        qa, qb, qc = _dot(dn, dn), 2.0 * _dot(o, dn), _dot(o, o) - 1.0
        return (qc < 0.0) | ((qb * qb > 4.0 * qa * qc) & (qb < 0.0))

    def orbiter_earth(self, orbiter: dict, station: dict, t: np.ndarray, *,
                      mars_at_t: bool = False):
        x = EPH.position_km("mars", t) + orbit_icrf(orbiter, self.model, t)
        ok, s, tau, el = self._earth_common(t, x, orbiter["name"], station)
        return ok & ~self.occulted(t, x, s, mars_at_t=mars_at_t), el, tau

    def direct_earth(self, lander: dict, station: dict, t: np.ndarray):
        site, up = mars_site(lander)
        r = self.rot.icrf_to_body(t)
        x = EPH.position_km("mars", t) + np.einsum("nji,j->ni", r, site)
        ok, s, tau, el = self._earth_common(t, x, lander["name"], station)
        to_sta = np.einsum("nij,nj->ni", r, _unit(s - x))
        return ok & (to_sta @ up > math.sin(lander["elevation_mask_deg"] * DEG)), el, tau


def brute_windows(is_open, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``is_open(t) -> bool array``: samples every STEP_S, edges bisected."""
    t = np.arange(t0, t1, STEP_S)
    t = np.append(t[t < t1 - 1e-3], t1)
    o = is_open(t)
    d = np.diff(o.astype(np.int8))
    k = np.flatnonzero(d)
    a, b, rising = t[k], t[k + 1], d[k] > 0
    while k.size and (b - a).max() > BISECT_TOL_S:
        m = 0.5 * (a + b)
        om = is_open(m)
        left = om != rising  # the state at a (closed before a rise, open before a fall)
        a, b = np.where(left, m, a), np.where(left, b, m)
    edge = 0.5 * (a + b)
    starts = np.sort(np.r_[t0 if o[0] else [], edge[rising]])
    ends = np.sort(np.r_[edge[~rising], t1 if o[-1] else []])
    assert starts.size == ends.size and np.all(ends > starts)
    return starts, ends


def compare(label: str, ref: tuple[np.ndarray, np.ndarray], rows) -> float:
    """One-to-one match with edges within EDGE_TOL_S; returns the largest edge difference."""
    ra, rb = ref
    ma, mb = rows.start_tdb_s, rows.end_tdb_s
    worst = 0.0
    used = np.zeros(ma.size, bool)
    for a, b in zip(ra, rb, strict=True):
        hit = np.flatnonzero((ma < b) & (mb > a))
        if hit.size == 0:
            assert b - a < SHORT_S, f"{label}: reference window {tdb_to_utc(a)} ({b - a:.1f} s) " \
                                    "missing"
            continue
        assert hit.size == 1, f"{label}: reference window {tdb_to_utc(a)} matches {hit.size}"
        j = hit[0]
        assert not used[j], f"{label}: window {tdb_to_utc(ma[j])} matched twice"
        used[j] = True
        err = max(abs(ma[j] - a), abs(mb[j] - b))
        assert err <= EDGE_TOL_S, (f"{label}: window {tdb_to_utc(a)}: edges off by "
                                   f"{ma[j] - a:+.5f} s / {mb[j] - b:+.5f} s")
        worst = max(worst, err)
    extra = mb[~used] - ma[~used]
    assert np.all(extra < SHORT_S), f"{label}: marsrelay windows not in the reference: {extra}"
    return worst


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


def _run(tmp_path_factory, case: dict):
    path = tmp_path_factory.mktemp(case["name"]) / "scenario.toml"
    path.write_text(_toml(case))
    sc = load_scenario(path)
    return sc, find_contacts(sc, workers=1)


@pytest.fixture(scope="module")
def south(tmp_path_factory):
    sc, table = _run(tmp_path_factory, SOUTH_CASE)
    return sc, table, Reference(SOUTH_CASE, 2.0)


@pytest.fixture(scope="module")
def blackout(tmp_path_factory):
    t0 = float(utc_to_tdb(BLACKOUT_CASE["start"]))
    ref = Reference(BLACKOUT_CASE, 0.0)
    # the threshold the SEP crosses at 15:00 UTC, rounded to 1e-4 deg (about 20 s of time)
    sep = round(float(ref.sun_earth_mars_deg(np.array([t0 + SEP_CROSSING_S]))[0]), 4)
    case = dict(BLACKOUT_CASE, conjunction_sep_deg=sep)
    ref.sep_deg = sep
    sc, table = _run(tmp_path_factory, case)
    return sc, table, ref


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_scenario_keys_read_as_the_spec_says(south, blackout):
    sc, _, _ = south
    assert sc.rotation_model == "iau2015" and sc.grazing_height_km == 50.0
    site = sc.landers[0].site
    assert site.lon_east_deg == -95.0  # [-180, 180) accepted as given
    assert sc.stations[1].lon_east_deg == -4.3676
    assert [o.max_range_km for o in sc.orbiters] == [5000.0, 4000.0]
    sc2, _, _ = blackout
    assert sc2.rotation_model == "iau2009" and sc2.grazing_height_km == 0.0
    # site positions: the reference's planetocentric construction
    for la, spec in zip(sc.landers, SOUTH_CASE["landers"], strict=True):
        np.testing.assert_allclose(la.site.position_body_km, mars_site(spec)[0], atol=1e-9)


@pytest.mark.parametrize("lander", [0, 1])
@pytest.mark.parametrize("orbiter", [0, 1])
def test_proximity_windows(south, lander, orbiter):
    sc, table, ref = south
    la, orb = SOUTH_CASE["landers"][lander], SOUTH_CASE["orbiters"][orbiter]
    windows = brute_windows(lambda t: ref.proximity(la, orb, t)[0], sc.start_tdb_s, sc.end_tdb_s)
    assert windows[0].size >= 2
    rows = table.select(la["name"], orb["name"], "proximity")
    compare(f"{la['name']} -> {orb['name']}", windows, rows)
    # figures: the peak elevation and the range extremes over each window (1 s samples)
    for k in range(len(rows)):
        t = np.linspace(rows.start_tdb_s[k], rows.end_tdb_s[k], 200)
        _, el, rng = ref.proximity(la, orb, t)
        assert el.max() - 1e-6 <= rows.max_elevation_deg[k] <= el.max() + 0.05
        assert rows.min_range_km[k] <= rng.min() + 1e-6
        assert rows.max_range_km[k] >= rng.max() - 1e-6
        assert rows.min_range_km[k] >= rng.min() - 5.0
        assert rows.max_range_km[k] <= rng.max() + 5.0
    assert np.all(rows.owlt_s == 0.0)


@pytest.mark.parametrize("station", [0, 1])
@pytest.mark.parametrize("orbiter", [0, 1])
def test_orbiter_earth_windows(south, orbiter, station):
    sc, table, ref = south
    orb, sta = SOUTH_CASE["orbiters"][orbiter], SOUTH_CASE["stations"][station]
    windows = brute_windows(lambda t: ref.orbiter_earth(orb, sta, t)[0], sc.start_tdb_s,
                            sc.end_tdb_s)
    assert windows[0].size >= 2
    rows = table.select(orb["name"], sta["name"], "orbiter_earth")
    compare(f"{orb['name']} -> {sta['name']}", windows, rows)
    mid = 0.5 * (rows.start_tdb_s + rows.end_tdb_s)
    _, _, tau = ref.orbiter_earth(orb, sta, mid)
    np.testing.assert_allclose(rows.owlt_s, tau, atol=1e-6)


@pytest.mark.parametrize("station", [0, 1])
@pytest.mark.parametrize("lander", [0, 1])
def test_direct_earth_windows(south, lander, station):
    sc, table, ref = south
    la, sta = SOUTH_CASE["landers"][lander], SOUTH_CASE["stations"][station]
    windows = brute_windows(lambda t: ref.direct_earth(la, sta, t)[0], sc.start_tdb_s,
                            sc.end_tdb_s)
    rows = table.select(la["name"], sta["name"], "direct_earth")
    compare(f"{la['name']} -> {sta['name']}", windows, rows)
    if len(rows):
        mid = 0.5 * (rows.start_tdb_s + rows.end_tdb_s)
        _, _, tau = ref.direct_earth(la, sta, mid)
        np.testing.assert_allclose(rows.owlt_s, tau, atol=1e-6)


def test_every_kind_found_some_windows(south):
    _, table, _ = south
    for kind in ("proximity", "orbiter_earth", "direct_earth"):
        assert np.sum(table.kind == kind) >= 2, kind


def test_blackouts_and_conjunction_edges(blackout):
    sc, table, ref = blackout
    orb, la, sta = MRO, JEZERO, DSS14
    t0, t1 = sc.start_tdb_s, sc.end_tdb_s
    cases = [
        (lambda t: ref.proximity(la, orb, t)[0], table.select(la["name"], orb["name"],
                                                              "proximity")),
        (lambda t: ref.orbiter_earth(orb, sta, t)[0], table.select(orb["name"], sta["name"],
                                                                   "orbiter_earth")),
        (lambda t: ref.direct_earth(la, sta, t)[0], table.select(la["name"], sta["name"],
                                                                 "direct_earth")),
    ]
    for k, (fn, rows) in enumerate(cases):
        compare(f"case {k}", brute_windows(fn, t0, t1), rows)
    # the cuts did happen: the blackout edges (the station's in its reception time) and the
    # conjunction crossing are window edges, so the comparison above covered them
    edges = np.r_[table.start_tdb_s, table.end_tdb_s]

    def is_edge(x: float) -> bool:
        return bool(np.min(np.abs(edges - x)) < EDGE_TOL_S)

    assert is_edge(ref.black["MRO"][0]) and is_edge(ref.black["Perseverance"][0])
    oe = table.select(orb["name"], sta["name"], "orbiter_earth")
    oe_edges = np.r_[oe.start_tdb_s, oe.end_tdb_s]
    received = oe_edges + ref.orbiter_earth(orb, sta, oe_edges)[2]
    for b in ref.black["DSS-14"]:
        assert np.min(np.abs(received - b)) < EDGE_TOL_S
    lo, hi = t0, t1
    below_at_start = ref.sun_earth_mars_deg(np.array([t0]))[0] < ref.sep_deg
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        below = ref.sun_earth_mars_deg(np.array([mid]))[0] < ref.sep_deg
        lo, hi = (mid, hi) if below == below_at_start else (lo, mid)
    assert abs(lo - (t0 + SEP_CROSSING_S)) < 120.0 and is_edge(lo)


def test_files_follow_the_output_rules(south, tmp_path):
    import pyarrow.parquet as pq

    sc, table, _ = south
    csv_path, pq_path = write_table(tmp_path, contacts_output_table(table))
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    par = pq.read_table(pq_path).to_pydict()
    assert len(rows) == len(table) == len(par["source"]) > 0
    header = list(rows[0])
    # Parquet: the same columns, plus the TDB seconds
    assert list(par)[: len(header)] == header
    assert set(par) - set(header) == {"start_tdb_s", "end_tdb_s", "max_elevation_tdb_s"}
    iso_ms_z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    names = set(sc.node_names())
    landers = {la.name for la in sc.landers}
    orbiters = {o.name for o in sc.orbiters}
    stations = {s.name for s in sc.stations}
    assert "DSS-43, Canberra" in {r["target"] for r in rows}  # quoted, read back whole
    starts = np.array([float(utc_to_tdb(r["start_utc"])) for r in rows])
    assert np.all(np.diff(starts) >= 0), "CSV rows not sorted by start"
    assert np.all(np.diff(par["start_tdb_s"]) >= 0), "Parquet rows not sorted by start"
    for k, r in enumerate(rows):
        assert r["source"] in names and r["target"] in names
        assert r["kind"] in {"proximity", "orbiter_earth", "direct_earth"}
        pairs = {"proximity": (landers, orbiters), "orbiter_earth": (orbiters, stations),
                 "direct_earth": (landers, stations)}[r["kind"]]
        assert r["source"] in pairs[0] and r["target"] in pairs[1], r
        for key in ("start_utc", "end_utc", "max_elevation_utc"):
            assert iso_ms_z.match(r[key]), r[key]
        for key in ("start", "end", "max_elevation"):
            tdb = par[f"{key}_tdb_s"][k]
            assert r[f"{key}_utc"] == par[f"{key}_utc"][k] == tdb_to_utc(tdb, digits=3)
            assert abs(float(utc_to_tdb(r[f"{key}_utc"])) - tdb) <= 5e-4 + 1e-6
        assert r["source"] == par["source"][k] and r["kind"] == par["kind"][k]
        assert float(r["duration_s"]) == pytest.approx(par["end_tdb_s"][k]
                                                       - par["start_tdb_s"][k], abs=1e-3)
        owlt = float(r["owlt_s"])
        if r["kind"] == "proximity":
            assert owlt == 0.0
        else:  # Nov 2030: Earth-Mars 1.9e8..3.2e8 km (DE421), 10.5 to 18 light-minutes
            assert 600.0 < owlt < 1100.0
            assert owlt == pytest.approx(par["owlt_s"][k], abs=5e-7)
