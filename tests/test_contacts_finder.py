"""The window finder's core: interval algebra, the search guarantee, root and extremum
refinement on functions with known answers, and the fast geometry paths against the core."""

from __future__ import annotations

import doctest

import erfa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import marsrelay.contacts.intervals as intervals_mod
import marsrelay.contacts.proximity as proximity_mod
from marsrelay.contacts.earth_tables import EarthMarsTables
from marsrelay.contacts.finder import Criterion, extrema, find_windows, refine_roots
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.kinematics import (
    body_from_icrf,
    icrf_from_body,
    kepler_eccentric_anomaly,
    orbiter_state,
)
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.orbits import J2Orbit, MeanElements, solve_kepler
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import EarthStation, earth_icrf_to_itrs
from marsrelay.geometry.time import tdb_to_tt_jd, tdb_to_utc_jd, utc_to_tdb

# ------------------------------------------------------------------------------- intervals

GRID = np.arange(0.0, 100.0, 0.25)


def _mask(iv: Intervals, series: int) -> np.ndarray:
    m = np.zeros(GRID.size, bool)
    for s, a, b in iv.to_pairs():
        if s == series:
            m |= (a < GRID) & (b > GRID)
    return m


interval_lists = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 399), st.integers(1, 80)), max_size=12)


def _build(rows) -> Intervals:
    return Intervals.from_pairs((s, a * 0.25 + 0.125, a * 0.25 + 0.125 + n * 0.25)
                                for s, a, n in rows)


@settings(max_examples=150, deadline=None)
@given(interval_lists, interval_lists)
def test_interval_algebra_matches_boolean_masks(rows_a, rows_b):
    a, b = _build(rows_a), _build(rows_b)
    for s in range(3):
        ma, mb = _mask(a, s), _mask(b, s)
        assert np.array_equal(_mask(a.union(b), s), ma | mb)
        assert np.array_equal(_mask(a.intersect(b), s), ma & mb)
        assert np.array_equal(_mask(a.subtract(b), s), ma & ~mb)
    n = a.normalized()
    assert np.all(np.diff(n.series) >= 0)
    same = n.series[1:] == n.series[:-1]
    assert np.all(n.start[1:][same] > n.end[:-1][same])  # disjoint, touching ones merged


# --------------------------------------------------------------------------------- finder


class Bumps(Criterion):
    """``g(t) = sum_k A_k cos(w_k t + p_k) - c``: a function with exact derivative bounds."""

    n_components = 1

    def __init__(self, amp, omega, phase, level, step):
        super().__init__()
        self.amp, self.omega, self.phase = map(np.asarray, (amp, omega, phase))
        self.level, self.step = level, step

    def _evaluate(self, t, series):
        g = (self.amp * np.cos(np.outer(t, self.omega) + self.phase)).sum(1) - self.level
        return g[None, :], np.zeros((0, t.size))

    def bounds(self, h, series, aux_a, aux_b):
        lip = float(np.sum(np.abs(self.amp * self.omega)))
        curv = float(np.sum(np.abs(self.amp * self.omega**2)))
        return np.full((1, h.size), lip), np.full((1, h.size), curv)

    def initial_step(self, series):
        return np.full(len(series), self.step)


def _sampled_windows(crit, t0, t1, dt):
    t = np.arange(t0, t1, dt)
    g = crit.evaluate(t, np.zeros(t.size, np.int64))[0][0]
    d = np.diff(np.r_[0, (g > 0).astype(np.int8), 0])
    return t[np.flatnonzero(d == 1)], t[np.flatnonzero(d == -1) - 1]


@pytest.mark.parametrize("seed", range(6))
def test_no_window_longer_than_min_duration_is_missed(seed):
    """Narrow bumps (the top 3% of a sum of cosines: windows of seconds to minutes) and a
    coarse step of a whole day: every window longer than min_duration_s is still found, and
    each edge is a sign change of g to within tol."""
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.2, 1.0, 5)
    omega = 2 * np.pi / rng.uniform(200.0, 5000.0, 5)
    phase = rng.uniform(0, 2 * np.pi, 5)
    t0, t1 = 0.0, 4 * 86400.0
    grid = np.arange(t0, t1, 7.0)
    level = np.quantile(Bumps(amp, omega, phase, 0.0, 1.0).evaluate(
        grid, np.zeros(grid.size, np.int64))[0], 0.97)
    crit = Bumps(amp, omega, phase, level, step=86400.0)
    found = find_windows(crit, Intervals.span([0], t0, t1), min_duration_s=1.0, tol_s=1e-6)
    w = found.windows
    zero = np.zeros(len(w), np.int64)
    for edges, sign in ((w.start, 1.0), (w.end, -1.0)):
        inner = (edges > t0) & (edges < t1)
        before = crit.evaluate(edges - 1e-6, zero)[0][0][inner]
        after = crit.evaluate(edges + 1e-6, zero)[0][0][inner]
        assert np.all(sign * before <= 1e-12) and np.all(sign * after >= -1e-12)
    s, e = _sampled_windows(crit, t0, t1, 0.05)
    long = (e - s) > 1.0
    assert long.sum() >= 10
    for a, b in zip(s[long], e[long], strict=True):
        hit = (w.start <= a + 0.05) & (w.end >= b - 0.05)
        assert hit.sum() == 1, (a, b)
    assert found.n_evaluations < 40 * found.n_edges + 100  # work follows edges, not the span


def test_windows_clip_to_domains_and_respect_series():
    crit = Bumps([1.0], [2 * np.pi / 1000.0], [0.0], 0.5, 300.0)
    dom = Intervals.from_pairs([(0, 0.0, 2500.0), (3, 100.0, 200.0)])
    w = find_windows(crit, dom).windows
    # cos(2 pi t / 1000) > 0.5 for |t mod 1000| < 166.67
    expect = [(0, 0.0, 1000 / 6), (0, 1000 - 1000 / 6, 1000 + 1000 / 6),
              (0, 2000 - 1000 / 6, 2000 + 1000 / 6), (3, 100.0, 1000 / 6)]
    got = w.to_pairs()
    assert [g[0] for g in got] == [e[0] for e in expect]
    np.testing.assert_allclose([g[1:] for g in got], [e[1:] for e in expect], atol=1e-5)


def test_refine_roots_reaches_tolerance():
    roots = np.array([0.3, 1.7, 2.9])
    a, b = roots - np.array([0.3, 0.5, 0.01]), roots + np.array([1.0, 0.2, 0.02])

    def f(t, idx):
        return np.tanh(5.0 * (t - roots[idx])) + 0.1 * (t - roots[idx]) ** 3

    r = refine_roots(f, a, b, f(a, np.arange(3)), f(b, np.arange(3)), 1e-9)
    np.testing.assert_allclose(r, roots, atol=1e-9)


def test_extrema_interior_and_end_maxima():
    def f(t, series):
        c = np.array([50.0, -10.0, 130.0])[series]
        return np.stack([-(t - c) ** 2, np.sin(t / 40.0)])

    lo, hi = np.zeros(3), np.full(3, 120.0)
    (tmax, vmax), (tmin, vmin) = extrema(f, np.arange(3), lo, hi, [(0, 1), (1, -1)],
                                         step_s=30.0, tol_s=1e-3)[0]
    np.testing.assert_allclose(tmax, [50.0, 0.0, 120.0], atol=2e-3)
    np.testing.assert_allclose(vmax, [0.0, -100.0, -100.0], atol=1e-5)
    np.testing.assert_allclose(tmin, np.zeros(3), atol=2e-3)  # sin(t / 40) on [0, 3] rad
    np.testing.assert_allclose(vmin, np.zeros(3), atol=1e-9)


# ------------------------------------------------------------------- fast geometry paths

ROT = rotation_model("iau2009")
T0 = float(utc_to_tdb("2030-11-01T00:00:00Z"))


@pytest.mark.parametrize("e", [0.0, 0.008823, 0.380166, 0.9])
def test_orbiter_state_equals_j2orbit(e):
    orbit = J2Orbit(MeanElements(T0, 3796.19 / (1 - e) * (1 if e < 0.5 else 1.1), e, 74.0,
                                 30.0, 40.0, 50.0), ROT)
    t = T0 + np.linspace(-3e6, 3e7, 2001)
    p, v = orbit.state_km(t)
    q, w = orbiter_state(orbit, t)
    q2, _ = orbiter_state(orbit, t, velocity=False)
    assert np.abs(q.T - p).max() < 1e-7 and np.abs(q2.T - p).max() < 1e-7
    assert np.abs(w.T - v).max() < 1e-10
    m = np.linspace(-50.0, 50.0, 1001)
    ecc, s, c = kepler_eccentric_anomaly(m, e)
    np.testing.assert_allclose(np.sin(ecc), np.sin(solve_kepler(m, e)), atol=1e-11)
    np.testing.assert_allclose([s, c], [np.sin(ecc), np.cos(ecc)], atol=1e-11)


@pytest.mark.parametrize("model", ["iau2009", "iau2015"])
def test_body_rotations_equal_rotation_model(model):
    rot = rotation_model(model)
    t = T0 + np.linspace(0.0, 1e8, 101)
    x = np.random.default_rng(1).normal(size=(3, t.size)) * 4000.0
    m = rot.icrf_to_body(t)
    np.testing.assert_allclose(body_from_icrf(rot, t, x), np.einsum("nij,jn->in", m, x),
                               atol=1e-9)
    np.testing.assert_allclose(icrf_from_body(rot, t, body_from_icrf(rot, t, x)), x, atol=1e-9)


def test_earth_tables_reproduce_ephemeris_and_erfa():
    tab = EarthMarsTables(T0, T0 + 60 * 86400.0, ROT)
    t = T0 + np.sort(np.random.default_rng(2).uniform(0, 60 * 86400.0, 3000))
    eph = Ephemeris.de421()
    for body, table, tol in (("earth", tab.earth, 1e-4), ("mars", tab.mars, 1e-5)):
        p, v = eph.state_km(body, t)
        q, w = table(t)
        assert np.abs(q.T - p).max() < tol and np.abs(w.T - v).max() < 1e-7
    u1, u2 = tdb_to_utc_jd(t)
    d = np.angle(np.exp(1j * (tab.era(t) - erfa.era00(u1, u2))))
    assert np.abs(d).max() < 1e-10
    tt1, tt2 = tdb_to_tt_jd(t[:200])
    assert np.abs(tab.c2i(t[:200]).T - erfa.c2i06a(tt1, tt2).reshape(-1, 9)).max() < 1e-10
    station = EarthStation("DSS-43", -35.4040, 148.9801, 689.0)
    pos, vel, up, up_dot = tab.station(t, station.position_itrs_km, station.topocentric_itrs[2])
    assert np.abs(pos.T - station.position_icrf_km(t)).max() < 1e-6
    up_ref = np.einsum("nji,j->ni", earth_icrf_to_itrs(t), station.topocentric_itrs[2])
    assert np.abs(up.T - up_ref).max() < 1e-10
    p2, _, u2_, _ = tab.station(t + 1e-2, station.position_itrs_km,
                                station.topocentric_itrs[2])
    assert np.abs((p2 - pos) / 1e-2 - vel).max() < 1e-5
    assert np.abs((u2_ - up) / 1e-2 - up_dot).max() < 1e-8  # of 7e-5: ERA rounding / 0.01 s
    # light time Mars (t) -> Earth (t + tau)
    tau = tab.light_time(t)[0]
    dist = np.linalg.norm(eph.position_km("earth", t + tau) - eph.position_km("mars", t), axis=1)
    assert np.abs(dist / 299792.458 - tau).max() < 1e-6


@pytest.mark.parametrize("module", [intervals_mod, proximity_mod])
def test_worked_examples(module):
    assert doctest.testmod(module).failed == 0
