"""Orbiter trajectories: J2 secular rates, Kepler's equation, SPK/OEM round trips, SPICE conics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import spiceypy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from helpers.spicekit import (
    LoadedKernels,
    pole_from_spice,
    write_lsk,
    write_mars_eq_fk,
    write_orbiter_spk,
    write_pck,
)
from marsrelay import constants
from marsrelay.errors import TrajectoryError
from marsrelay.geometry.orbits import (
    J2Orbit,
    MeanElements,
    OemTrajectory,
    SpkTrajectory,
    Trajectory,
    j2_secular_rates,
    solve_kepler,
    two_body_derivative_norm,
    write_oem,
)
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb

# Constants typed in from their sources (project reference facts), so a typo in
# marsrelay.constants fails here.
GM_KM3_S2 = 42828.37362  # NAIF gm_de431.tpc / gm_de440.tpc, BODY499_GM
J2 = 1.96045e-3  # Vallado, Fundamentals of Astrodynamics and Applications, Mars data
J2_RADIUS_KM = 3396.0  # reference radius of that J2
MARS_RADIUS_KM = 3396.19  # NAIF pck00010.tpc BODY499_RADII (equatorial)
MARS_YEAR_DAYS = 686.98  # NASA Mars fact sheet, sidereal orbit period

EPOCH_UTC = "2030-06-01T00:00:00Z"
METRE_KM = 1e-3


def _mro(epoch: float) -> MeanElements:
    # MRO: ~255 x 320 km, i ~92.6 deg (NASA/JPL MRO pages); a = R + ~286 km, e ~ 0.01.
    return MeanElements(epoch, MARS_RADIUS_KM + 286.0, 0.01, 92.65, 40.0, 270.0, 10.0)


def _textbook_rates(a, e, i_deg):
    """Vallado 4th ed., section 9.6 (eqs. 9-41, 9-43, 9-44 with p = a (1 - e^2))."""
    n = math.sqrt(GM_KM3_S2 / a**3)
    p = a * (1 - e**2)
    i = math.radians(i_deg)
    raan = -3.0 * n * J2_RADIUS_KM**2 * J2 / (2.0 * p**2) * math.cos(i)
    argp = 3.0 * n * J2_RADIUS_KM**2 * J2 / (4.0 * p**2) * (4.0 - 5.0 * math.sin(i) ** 2)
    mdot = n + 3.0 * n * J2_RADIUS_KM**2 * J2 * math.sqrt(1 - e**2) / (4.0 * p**2) * (
        2.0 - 3.0 * math.sin(i) ** 2
    )
    return raan, argp, mdot, n


def test_constants_match_their_sources():
    assert constants.MARS_GM_KM3_S2 == GM_KM3_S2
    assert constants.MARS_J2 == J2
    assert constants.MARS_J2_REF_RADIUS_KM == J2_RADIUS_KM
    assert constants.MARS_EQ_RADIUS_KM == MARS_RADIUS_KM
    assert constants.MARS_YEAR_DAYS == MARS_YEAR_DAYS


@settings(max_examples=200, deadline=None)
@given(
    st.floats(3500.0, 30000.0),
    st.floats(0.0, 0.9),
    st.floats(0.0, 180.0),
)
def test_j2_rates_match_textbook_formulas(a, e, i):
    got = j2_secular_rates(a, e, i)
    raan, argp, mdot, n = _textbook_rates(a, e, i)
    assert got.raan_rad_s == pytest.approx(raan, rel=1e-12, abs=1e-20)
    assert got.argp_rad_s == pytest.approx(argp, rel=1e-12, abs=1e-20)
    assert got.mean_anomaly_rad_s == pytest.approx(mdot, rel=1e-12)
    assert got.mean_motion_rad_s == pytest.approx(n, rel=1e-12)


def _j2_rhs(_t, s):
    r = s[:3]
    rn = math.sqrt(r @ r)
    z2 = (r[2] / rn) ** 2
    f = -1.5 * J2 * GM_KM3_S2 * J2_RADIUS_KM**2 / rn**5
    acc = -GM_KM3_S2 * r / rn**3 + f * np.array(
        [r[0] * (1 - 5 * z2), r[1] * (1 - 5 * z2), r[2] * (3 - 5 * z2)]
    )
    return np.concatenate([s[3:], acc])


@pytest.mark.parametrize(("a", "e", "i"), [(4000.0, 0.05, 60.0), (5000.0, 0.3, 120.0),
                                           (3796.19, 0.05, 74.0)])
def test_j2_rates_match_numerical_integration(a, e, i):
    """Integrate the J2 equations of motion (in the Mars equator frame) for 40 orbits and fit
    the drift of the node and of the periapsis. The fitted rates are those of the mean
    elements the integration starts from as osculating ones; the difference is first order in
    J2 (R/a)^2 (~0.2%) times factors of a few, so 3% is the tolerance."""
    orbit = J2Orbit(MeanElements(0.0, a, e, i, 20.0, 30.0, 0.0))
    eq = rotation_model("iau2009").mars_eq_j2000()
    p, v = orbit.state_km([0.0])
    s0 = np.concatenate([p[0] @ eq.T, v[0] @ eq.T])
    period = 2 * math.pi * math.sqrt(a**3 / GM_KM3_S2)
    t = np.linspace(0.0, 40 * period, 4000)
    sol = solve_ivp(_j2_rhs, (0.0, t[-1]), s0, method="DOP853", rtol=1e-11, atol=1e-9,
                    t_eval=t)
    r, vel = sol.y[:3].T, sol.y[3:].T
    h = np.cross(r, vel)
    raan = np.unwrap(np.arctan2(h[:, 0], -h[:, 1]))
    rn = np.linalg.norm(r, axis=1)[:, None]
    ecc = ((vel * vel).sum(1)[:, None] - GM_KM3_S2 / rn) * r - (r * vel).sum(1)[:, None] * vel
    node = np.stack([-h[:, 1], h[:, 0], np.zeros(len(h))], 1)
    node /= np.linalg.norm(node, axis=1)[:, None]
    hu = h / np.linalg.norm(h, axis=1)[:, None]
    argp = np.unwrap(np.arctan2((np.cross(node, ecc) * hu).sum(1), (node * ecc).sum(1)))
    rates = j2_secular_rates(a, e, i)
    assert np.polyfit(t, raan, 1)[0] == pytest.approx(rates.raan_rad_s, rel=0.03)
    assert np.polyfit(t, argp, 1)[0] == pytest.approx(rates.argp_rad_s, rel=0.03)


def test_mro_orbit_is_sun_synchronous():
    mro = _mro(0.0)
    rates = j2_secular_rates(mro.a_km, mro.e, mro.i_deg)
    mars_mean_motion = 2 * math.pi / (MARS_YEAR_DAYS * 86400.0)
    # Sun-synchronous: the node turns eastward with Mars' mean motion about the Sun.
    assert rates.raan_rad_s > 0
    assert rates.raan_rad_s == pytest.approx(mars_mean_motion, rel=0.03)
    # The inclination that makes it exact, from the textbook formula solved for cos i:
    raan_per_cos_i = _textbook_rates(mro.a_km, mro.e, 0.0)[0]
    i_exact = math.degrees(math.acos(mars_mean_motion / raan_per_cos_i))
    assert 92.5 < i_exact < 93.0
    sso = j2_secular_rates(mro.a_km, mro.e, i_exact)
    assert sso.raan_rad_s == pytest.approx(mars_mean_motion, rel=1e-12)
    # The period (~112 min per NASA/JPL) follows.
    assert J2Orbit(mro).period_s / 60.0 == pytest.approx(112.0, abs=1.5)


def _kepler_residual(ecc_anom, e, m):
    return np.abs(np.angle(np.exp(1j * (ecc_anom - e * np.sin(ecc_anom) - m))))


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 0.95), st.floats(-100.0, 100.0))
def test_kepler_residual_hypothesis(e, m):
    # |M| <= 100 rad: beyond, float64 cannot hold M itself to 1e-12 rad (ulp(1e4) = 1.8e-12).
    ecc_anom = solve_kepler(np.array([m]), e)
    assert _kepler_residual(ecc_anom, e, m).max() < 1e-12


def test_kepler_residual_grid():
    m = np.concatenate([np.linspace(-4 * np.pi, 4 * np.pi, 20001), [0.0, np.pi, -np.pi, 1e-12]])
    for e in (0.0, 1e-9, 0.1, 0.5, 0.79, 0.8, 0.9, 0.95):
        assert _kepler_residual(solve_kepler(m, e), e, m).max() < 1e-12, e


@pytest.fixture(scope="module")
def spice_frames(tmp_path_factory):
    d = tmp_path_factory.mktemp("orbit_kernels")
    lsk, pck = write_lsk(d), write_pck(d, "iau2009")
    with LoadedKernels([lsk, pck]):
        ra0, dec0 = pole_from_spice(0.0)
        with LoadedKernels([write_mars_eq_fk(d, ra0, dec0)]):
            yield d


def _conics_icrf(el: MeanElements, rates, t: float) -> np.ndarray:
    """SPICE conics() state at ``t`` of the elements drifted by the secular rates, rotated
    from MARS_EQ_J2000 to J2000 through the TK frame kernel."""
    dt = t - el.epoch_tdb_s
    elts = [
        el.a_km * (1 - el.e),
        el.e,
        math.radians(el.i_deg),
        math.radians(el.raan_deg) + rates.raan_rad_s * dt,
        math.radians(el.argp_deg) + rates.argp_rad_s * dt,
        math.radians(el.mean_anomaly_deg) + rates.mean_anomaly_rad_s * dt,
        t,
        GM_KM3_S2,
    ]
    state = np.array(sp.conics(elts, t))
    rot = np.array(sp.pxform("MARS_EQ_J2000", "J2000", t))
    return np.concatenate([rot @ state[:3], rot @ state[3:]])


@pytest.mark.parametrize(
    "el",
    [
        _mro(1e9),
        MeanElements(1e9, 3796.19, 0.0, 74.0, 0.0, 0.0, 0.0),  # TGO-like
        MeanElements(1e9, 5721.0, 0.38, 75.0, 123.0, 301.0, 200.0),  # MAVEN-like
        MeanElements(1e9, 8600.0, 0.6, 86.0, 250.0, 10.0, 359.0),  # Mars Express-like
        MeanElements(1e9, 20000.0, 0.8, 130.0, 10.0, 100.0, 45.0),
    ],
)
def test_state_matches_spice_conics(spice_frames, el):
    orbit = J2Orbit(el)
    rates = orbit.rates
    t = el.epoch_tdb_s + np.array([0.0, 1234.5, 86400.0, 7 * 86400.0])
    pos, vel = orbit.state_km(t)
    for k, tk in enumerate(t):
        ref = _conics_icrf(el, rates, float(tk))
        assert np.linalg.norm(pos[k] - ref[:3]) < METRE_KM
        # The velocity is the derivative of the J2-drifting orbit, not of a fixed conic: it
        # differs from the conic's by the drift (order J2 (R/p)^2 times the speed).
        k_j2 = J2 * (J2_RADIUS_KM / (el.a_km * (1 - el.e**2))) ** 2
        assert np.linalg.norm(vel[k] - ref[3:]) < 3 * k_j2 * np.linalg.norm(ref[3:])


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.9), st.floats(0.0, 180.0), st.floats(-1e6, 1e6))
def test_velocity_is_the_derivative_of_position(e, i, t):
    orbit = J2Orbit(MeanElements(0.0, 3800.0 / (1 - e), e, i, 10.0, 20.0, 30.0))
    h = 0.5
    pos, _ = orbit.state_km(t + h * np.array([-2.0, -1.0, 1.0, 2.0]))
    _, vel = orbit.state_km([t])
    fd = (pos[0] - 8 * pos[1] + 8 * pos[2] - pos[3]) / (12 * h)
    assert np.linalg.norm(vel[0] - fd) < 1e-6  # 1 mm/s


@pytest.fixture(scope="module")
def mro_samples():
    epoch = utc_to_tdb(EPOCH_UTC)
    orbit = J2Orbit(_mro(epoch))
    t = epoch + np.arange(0.0, 2 * 86400.0 + 1.0, 60.0)
    pos, vel = orbit.state_km(t)
    return orbit, t, pos, vel


@pytest.mark.parametrize(("spk_type", "degree"), [(13, 15), (9, 11)])
def test_spk_round_trip(tmp_path, mro_samples, spk_type, degree):
    orbit, t, pos, vel = mro_samples
    path = write_orbiter_spk(tmp_path / f"mro{spk_type}.bsp", -74, t, pos, vel,
                             spk_type=spk_type, degree=degree)
    rng = np.random.default_rng(74)
    tq = np.concatenate([rng.uniform(t[0], t[-1], 500), [t[0], t[-1]]])
    want_p, want_v = orbit.state_km(tq)
    traj = SpkTrajectory(path, -74)
    try:
        assert isinstance(traj, Trajectory)
        assert traj.coverage_tdb_s == (t[0], t[-1])
        got_p, got_v = traj.state_km(tq)
        assert np.linalg.norm(got_p - want_p, axis=1).max() < METRE_KM
        assert np.linalg.norm(got_v - want_v, axis=1).max() < 1e-6
        with pytest.raises(TrajectoryError, match="covers TDB"):
            traj.state_km([t[-1] + 10.0])
    finally:
        traj.close()
    with LoadedKernels([path]):
        raw = np.array([sp.spkezr("-74", float(tk), "J2000", "NONE", "499")[0] for tk in tq])
    assert np.linalg.norm(raw[:, :3] - want_p, axis=1).max() < METRE_KM


def test_spk_errors(tmp_path, mro_samples):
    _, t, pos, vel = mro_samples
    with pytest.raises(TrajectoryError, match="SPK file not found"):
        SpkTrajectory(tmp_path / "missing.bsp", -74)
    path = write_orbiter_spk(tmp_path / "mro.bsp", -74, t[:100], pos[:100], vel[:100])
    with pytest.raises(TrajectoryError, match="no data for NAIF id -41"):
        SpkTrajectory(path, -41)


def test_oem_round_trip(tmp_path, mro_samples):
    orbit, t, pos, vel = mro_samples
    path = tmp_path / "mro.oem"
    write_oem(path, "MRO", t, pos, vel)
    traj = OemTrajectory(path)
    assert isinstance(traj, Trajectory)
    assert traj.object_name == "MRO"
    assert np.abs(traj.tdb_s - t).max() < 1e-6
    assert traj.coverage_tdb_s[0] == pytest.approx(t[0], abs=1e-6)
    tq = np.random.default_rng(502).uniform(t[0], t[-1], 1000)
    want_p, want_v = orbit.state_km(tq)
    got_p, got_v = traj.state_km(tq)
    assert np.linalg.norm(got_p - want_p, axis=1).max() < METRE_KM
    assert np.linalg.norm(got_v - want_v, axis=1).max() < 1e-6
    with pytest.raises(TrajectoryError, match="covers TDB"):
        traj.state_km([t[0] - 60.0])


def test_oem_epochs_next_to_midnight(tmp_path):
    # Epochs a fraction of a microsecond before midnight must round into the next day,
    # never be printed as hour 24 (CCSDS 502.0-B forbids it).
    orbit = J2Orbit(_mro(0.0))
    t = -43200.0 - 3e-7 + np.arange(0.0, 600.0, 60.0)
    pos, vel = orbit.state_km(t)
    path = tmp_path / "midnight.oem"
    write_oem(path, "X", t, pos, vel)
    text = path.read_text()
    assert "T24:" not in text
    assert "2000-01-01T00:00:00.000000 " in text
    assert np.abs(OemTrajectory(path).tdb_s - t).max() < 1e-6


def test_oem_in_utc_written_by_another_tool(tmp_path, spice_frames):
    """A hand-written OEM with UTC epochs (printed by SPICE et2utc) and a covariance block."""
    epoch = utc_to_tdb("2016-12-31T23:50:00Z")  # spans the 2016 leap second
    orbit = J2Orbit(_mro(epoch))
    t = epoch + np.arange(0.0, 1800.0, 30.0)
    pos, vel = orbit.state_km(t)
    lines = [
        "CCSDS_OEM_VERS = 2.0",
        "CREATION_DATE = 2017-01-02T00:00:00",
        "ORIGINATOR = TEST",
        "META_START",
        "OBJECT_NAME = ORB",
        "OBJECT_ID = 2005-029A",
        "CENTER_NAME = MARS",
        "REF_FRAME = EME2000",
        "TIME_SYSTEM = UTC",
        f"START_TIME = {sp.et2utc(float(t[0]), 'ISOC', 6)}",
        f"STOP_TIME = {sp.et2utc(float(t[-1]), 'ISOC', 6)}",
        "META_STOP",
        "COMMENT states from a J2 orbit",
    ]
    for tk, p, v in zip(t, pos, vel, strict=True):
        lines.append(f"{sp.et2utc(float(tk), 'ISOC', 6)} {p[0]:.6f} {p[1]:.6f} {p[2]:.6f} "
                     f"{v[0]:.9f} {v[1]:.9f} {v[2]:.9f}")
    lines += ["COVARIANCE_START", "EPOCH = 2017-01-01T00:00:00", "1.0", "COVARIANCE_STOP"]
    path = tmp_path / "utc.oem"
    path.write_text("\n".join(lines) + "\n")
    assert any("23:59:60" in line for line in lines)
    traj = OemTrajectory(path)
    assert np.abs(traj.tdb_s - t).max() < 2e-6
    tq = np.linspace(t[3], t[-4], 333)
    assert np.linalg.norm(traj.state_km(tq)[0] - orbit.state_km(tq)[0], axis=1).max() < METRE_KM


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("CENTER_NAME = EARTH", "CENTER_NAME is 'EARTH'"),
        ("REF_FRAME = IAU_MARS", "REF_FRAME 'IAU_MARS' not supported"),
        ("TIME_SYSTEM = GPS", "TIME_SYSTEM 'GPS' not supported"),
    ],
)
def test_oem_bad_metadata(tmp_path, text, fragment):
    key = text.split(" =")[0]
    meta = {"CENTER_NAME": "MARS", "REF_FRAME": "ICRF", "TIME_SYSTEM": "TDB"}
    meta[key] = text.split("= ")[1]
    body = ["CCSDS_OEM_VERS = 2.0", "META_START", *(f"{k} = {v}" for k, v in meta.items()),
            "META_STOP", "2030-01-01T00:00:00 4000 0 0 0 3 0",
            "2030-01-01T00:01:00 4000 180 0 0 3 0"]
    path = tmp_path / "bad.oem"
    path.write_text("\n".join(body) + "\n")
    with pytest.raises(TrajectoryError, match=fragment):
        OemTrajectory(path)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"e": 1.0}, r"eccentricity e = 1.0 must satisfy 0 <= e < 1"),
        ({"e": 1.5}, r"eccentricity e = 1.5"),
        ({"e": -0.1}, r"eccentricity e = -0.1"),
        ({"e": float("nan")}, r"eccentricity e = nan"),
        ({"a_km": 3000.0, "e": 0.0}, r"periapsis radius 3000.0 km .* is inside Mars"),
        ({"a_km": 3700.0, "e": 0.1}, r"periapsis radius 3330.0 km .*raise a_km or lower e"),
        ({"i_deg": 181.0}, r"inclination i_deg = 181.0 must be in \[0, 180\]"),
    ],
)
def test_bad_orbits_raise(kwargs, fragment):
    base = {"epoch_tdb_s": 0.0, "a_km": 4000.0, "e": 0.01, "i_deg": 90.0, "raan_deg": 0.0,
            "argp_deg": 0.0, "mean_anomaly_deg": 0.0}
    base.update(kwargs)
    with pytest.raises(TrajectoryError, match=fragment) as info:
        J2Orbit(MeanElements(**base))
    assert "\n" not in str(info.value)


def test_analytic_orbit_is_a_trajectory():
    orbit = J2Orbit(_mro(0.0))
    assert isinstance(orbit, Trajectory)
    assert orbit.coverage_tdb_s == (-math.inf, math.inf)
    pos, vel = orbit.state_km(0.0)
    assert pos.shape == vel.shape == (1, 3)
    # Radius stays between periapsis and apoapsis.
    r = np.linalg.norm(orbit.state_km(np.linspace(0, 86400, 2000))[0], axis=1)
    assert r.min() >= orbit.elements.a_km * (1 - orbit.elements.e) - 1e-9
    assert r.max() <= orbit.elements.a_km * (1 + orbit.elements.e) + 1e-9
    assert str(tdb_to_utc(utc_to_tdb(EPOCH_UTC))) == "2030-06-01T00:00:00.000Z"


# ------------------------------------------------------------------------------------------
# SpkTrajectory's fast path (SPICE sampled on a grid, Hermite interpolation) against SPICE


def test_two_body_derivatives():
    """Uniform circular motion: |d^n r/dt^n| = w^n r exactly; an eccentric orbit: the fourth
    derivative equals finite differences of SPICE conics() velocities."""
    r0 = 3796.19
    w = math.sqrt(GM_KM3_S2 / r0**3)
    pos = np.array([[r0], [0.0], [0.0]])
    vel = np.array([[0.0], [w * r0], [0.0]])
    for n in (2, 3, 4, 8):
        got = two_body_derivative_norm(n, pos, vel)[0]
        assert got == pytest.approx(w**n * r0, rel=1e-12), n
    # 150 x 4500 km (MAVEN-like), near periapsis where the derivatives are largest
    elts = [MARS_RADIUS_KM + 150.0, 0.380166, 1.3, 0.3, 0.5, -0.05, 0.0, GM_KM3_S2]
    h = 2.0
    states = np.array([sp.conics(elts, k * h) for k in range(-2, 3)])
    fd4 = (states[4, 3:] - 2 * states[3, 3:] + 2 * states[1, 3:] - states[0, 3:]) / (2 * h**3)
    got = two_body_derivative_norm(4, states[2, :3, None], states[2, 3:, None])[0]
    assert got == pytest.approx(np.linalg.norm(fd4), rel=1e-5)


# MRO (~255 x 320 km, i ~92.6 deg, NASA/JPL MRO pages) and MAVEN's relay orbit (~150 x 4500 km,
# i = 75 deg, NASA MAVEN 2019): a = R + (h_p + h_a) / 2, e = (h_a - h_p) / (2 a).
SPK_ORBITS = {
    "mro-255x320": (MARS_RADIUS_KM + 287.5, 32.5 / (MARS_RADIUS_KM + 287.5), 92.6),
    "maven-150x4500": (MARS_RADIUS_KM + 2325.0, 2175.0 / (MARS_RADIUS_KM + 2325.0), 75.0),
}


def _orbiter_spk(path, naif_id: int, el: MeanElements, t0: float, t1: float, step: float = 60.0):
    grid = np.arange(t0, t1 + step / 2, step)
    pos, vel = J2Orbit(el).state_km(grid)
    return write_orbiter_spk(path, naif_id, grid, pos, vel, spk_type=13, degree=15), grid


def _spkgeo(naif_id: int, t: np.ndarray) -> np.ndarray:
    return np.array([sp.spkgeo(naif_id, float(tk), "J2000", 499)[0] for tk in t])


@pytest.mark.parametrize("name", sorted(SPK_ORBITS))
def test_spk_fast_path_within_its_bound_of_spice(tmp_path, monkeypatch, name):
    a_km, e, i_deg = SPK_ORBITS[name]
    epoch = utc_to_tdb(EPOCH_UTC)
    el = MeanElements(epoch, a_km, e, i_deg, 40.0, 270.0, 10.0)
    path, grid = _orbiter_spk(tmp_path / f"{name}.bsp", -74, el, epoch - 3600.0,
                              epoch + 86400.0 + 3600.0)
    rng = np.random.default_rng(74)
    day = np.sort(np.concatenate([rng.uniform(epoch, epoch + 86400.0, 4000),
                                  grid[[0, 1, -2, -1]], [grid[0] + 0.5, grid[-1] - 0.5]]))
    traj = SpkTrajectory(path, -74)
    try:
        calls = []
        real_spkgeo = sp.spkgeo
        monkeypatch.setattr(sp, "spkgeo", lambda *a: calls.append(a[1]) or real_spkgeo(*a))
        pos, vel = traj.state_km(day)
        bound = traj.interpolation_bound_km(day)
        monkeypatch.undo()
        # SPICE sampled on a grid (two blocks of a day here), never once per asked time
        assert 200 < len(calls) < 2500
        want = _spkgeo(-74, day)
    finally:
        traj.close()
    err = np.linalg.norm(pos - want[:, :3], axis=1)
    assert err.max() < METRE_KM  # what the project needs
    assert bound.max() <= SpkTrajectory.POSITION_TOLERANCE_KM + 1e-7
    assert np.all(err <= bound)  # the documented bound holds everywhere, ends included
    assert np.linalg.norm(vel - want[:, 3:], axis=1).max() < 1e-7  # km/s


def _write_two_segments(path, naif_id: int, el: MeanElements, spans) -> None:
    handle = sp.spkopn(str(path), "two segments", 0)
    try:
        for a, b in spans:
            t = np.arange(a, b + 1.0, 60.0)
            pos, vel = J2Orbit(el).state_km(t)
            states = np.ascontiguousarray(np.hstack([pos, vel]))
            sp.spkw13(handle, naif_id, 499, "J2000", float(t[0]), float(t[-1]), "seg", 7,
                      len(t), states, t)
    finally:
        sp.spkcls(handle)


def test_spk_coverage_with_a_gap(tmp_path):
    epoch = utc_to_tdb(EPOCH_UTC)
    el = _mro(epoch)
    path = tmp_path / "gap.bsp"
    spans = [(epoch, epoch + 7200.0), (epoch + 10800.0, epoch + 2 * 86400.0 + 600.0)]
    _write_two_segments(path, -74, el, spans)
    traj = SpkTrajectory(path, -74)
    try:
        assert traj.coverage_tdb_s == (spans[0][0], spans[1][1])
        t = np.concatenate([np.linspace(*spans[0], 200), np.linspace(*spans[1], 900)])
        pos, _ = traj.state_km(t)
        assert np.linalg.norm(pos - _spkgeo(-74, t)[:, :3], axis=1).max() < 2e-7
        with pytest.raises(TrajectoryError, match="between the kernel's coverage windows"):
            traj.state_km([epoch + 9000.0])
        with pytest.raises(TrajectoryError, match="covers TDB"):
            traj.state_km([spans[1][1] + 1.0])
    finally:
        traj.close()


SPK_SCENARIO = """
[scenario]
name = "spk-day"
start = "{start}"
end = "{end}"

{orbiters}

[[lander]]
name = "Rosalind Franklin"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
elevation_mask_deg = 10.0

[[station]]
name = "DSS-63"
lat_deg = 40.4299
lon_east_deg = 355.7523
height_m = 865.0
"""


def test_spk_scenario_contacts_match_its_elements(tmp_path, monkeypatch):
    """A day of contacts with orbiters given as SPK kernels: the same windows as with the
    mean elements the kernels were written from, from a few SPICE calls per orbiter."""
    from marsrelay.contacts import find_contacts
    from marsrelay.scenario import load_scenario

    start, end = "2030-11-01T00:00:00Z", "2030-11-02T00:00:00Z"
    # TGO ~400 km circular, i = 74 deg (ESA); MRO as above
    orbits = {"TGO": (-143, 3796.19, 0.0, 74.0), "MRO": (-74, *SPK_ORBITS["mro-255x320"])}
    elements = "\n".join(
        f'[[orbiter]]\nname = "{n}"\nmax_range_km = 5000.0\n[orbiter.elements]\n'
        f'epoch = "{start}"\na_km = {a}\ne = {e}\ni_deg = {i}\nraan_deg = 30.0\n'
        for n, (_, a, e, i) in orbits.items())
    (tmp_path / "elements.toml").write_text(
        SPK_SCENARIO.format(start=start, end=end, orbiters=elements))
    sc_el = load_scenario(tmp_path / "elements.toml")
    t0, t1 = sc_el.start_tdb_s, sc_el.end_tdb_s
    spk = []
    for orb, (name, (naif, *_)) in zip(sc_el.orbiters, orbits.items(), strict=True):
        _orbiter_spk(tmp_path / f"{name}.bsp", naif, orb.elements, t0 - 3600.0, t1 + 3600.0)
        spk.append(f'[[orbiter]]\nname = "{name}"\nmax_range_km = 5000.0\n[orbiter.spk]\n'
                   f'path = "{name}.bsp"\nnaif_id = {naif}\n')
    (tmp_path / "spk.toml").write_text(
        SPK_SCENARIO.format(start=start, end=end, orbiters="\n".join(spk)))
    sc_spk = load_scenario(tmp_path / "spk.toml")
    assert [o.source for o in sc_spk.orbiters] == ["spk", "spk"]
    calls = []
    real_spkgeo = sp.spkgeo
    monkeypatch.setattr(sp, "spkgeo", lambda *a: calls.append(a[1]) or real_spkgeo(*a))
    got = find_contacts(sc_spk, workers=1)
    monkeypatch.undo()
    assert len(calls) < 2 * 1500  # one day sampled per orbiter, whatever the finder asks
    want = find_contacts(sc_el, workers=1)
    assert len(got) == len(want) > 5
    assert set(got.kind) == {"proximity", "orbiter_earth"}
    assert list(got.source) == list(want.source) and list(got.target) == list(want.target)
    np.testing.assert_allclose(got.start_tdb_s, want.start_tdb_s, rtol=0, atol=1e-3)
    np.testing.assert_allclose(got.end_tdb_s, want.end_tdb_s, rtol=0, atol=1e-3)
