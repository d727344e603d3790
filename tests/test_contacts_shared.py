"""Shared components (marsrelay.contacts.shared) and the proofs they rest on.

The search of orbiter -> station windows runs once per orbiter (Mars' occultation of the line
of sight to Earth's centre) and once per station (its elevation of Mars' centre), and trusts
margins and bounds derived in marsrelay.contacts.earth / earth_shared. Here those derivations
are checked against the functions themselves (finite differences, many random times over
20 days of exomars-2030: three orbiters, circular to e = 0.38, nine stations), the shared
search against the plain finder on the same criterion, and the window figures' extremum search
against dense sampling.
"""

from __future__ import annotations

import numpy as np
import pytest

from marsrelay.contacts import scenario_trajectories
from marsrelay.contacts.earth import OrbiterEarthCriterion
from marsrelay.contacts.earth_tables import EarthMarsTables
from marsrelay.contacts.finder import extrema, find_windows
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.proximity import ProximityCriterion
from marsrelay.contacts.shared import ABOVE, BELOW, classify_bands, find_windows_shared
from marsrelay.scenario import load_scenario

DAYS = 20.0


@pytest.fixture(scope="module")
def setup():
    sc = load_scenario("exomars-2030")
    sc = sc.with_overrides(end_tdb_s=sc.start_tdb_s + DAYS * 86400.0)
    trajectories, motion = scenario_trajectories(sc)
    tables = EarthMarsTables(sc.start_tdb_s, sc.end_tdb_s, sc.rotation)
    n_o, n_s = len(sc.orbiters), len(sc.stations)
    crit = OrbiterEarthCriterion(tables, trajectories, motion, sc.stations,
                                 np.repeat(np.arange(n_o), n_s), np.tile(np.arange(n_s), n_o))
    prox = ProximityCriterion([sc.landers[0].site], trajectories, motion, [0] * n_o,
                              list(range(n_o)), [o.max_range_km for o in sc.orbiters],
                              sc.rotation)
    return sc, crit, prox


def _random_times(sc, rng, n, margin_s=10.0):
    return sc.start_tdb_s + rng.uniform(margin_s, DAYS * 86400.0 - 3000.0, n)


def test_pairs_stay_within_the_proxy_margins(setup):
    """|g - P| <= margin and |d/dt (g - P)| <= margin_rate for every pair and component."""
    sc, crit, _ = setup
    rng = np.random.default_rng(1)
    t = _random_times(sc, rng, 200000)
    k = rng.integers(0, crit.orb_of.size, t.size)
    dt = 0.5
    g0, _ = crit.evaluate(t, k)
    g1, _ = crit.evaluate(t + dt, k)
    for sh in crit.shared_components():
        p0 = sh.proxy.evaluate(t, sh.group_of[k])[0][0]
        p1 = sh.proxy.evaluate(t + dt, sh.group_of[k])[0][0]
        d0, d1 = g0[sh.component] - p0, g1[sh.component] - p1
        assert np.max(np.abs(d0) / sh.margin[k]) < 1.0, sh.component
        assert np.max(np.abs(d1 - d0) / dt / sh.margin_rate[k]) < 1.0, sh.component


@pytest.mark.parametrize("which", ["pair", "occultation proxy", "elevation proxy", "proximity"])
def test_lipschitz_and_curvature_bounds_hold(setup, which):
    """Finite-difference slopes and second differences inside random intervals (20 s to
    2000 s) never exceed the bounds the criteria claim for those intervals."""
    sc, crit, prox = setup
    shared = {sh.component: sh for sh in crit.shared_components()}
    c, n_series = {"pair": (crit, crit.orb_of.size),
                   "occultation proxy": (shared[1].proxy, len(sc.orbiters)),
                   "elevation proxy": (shared[0].proxy, len(sc.stations)),
                   "proximity": (prox, len(sc.orbiters))}[which]
    rng = np.random.default_rng(2)
    for h in (20.0, 200.0, 2000.0):
        t0 = _random_times(sc, rng, 20000)
        ser = rng.integers(0, n_series, t0.size)
        _, xa = c.evaluate(t0, ser)
        _, xb = c.evaluate(t0 + h, ser)
        lip, curv = c.bounds(np.full(t0.size, h), ser, xa, xb)
        d = min(h / 8.0, 2.0)
        for f in np.linspace(0.1, 0.9, 5):
            tm = t0 + f * h
            gm1, gm0, gp1 = (c.evaluate(tm + x, ser)[0] for x in (-d, 0.0, d))
            relevant = np.abs(gm0) < 10.0  # r <= A placeholders aside
            with np.errstate(invalid="ignore", divide="ignore"):
                assert np.nanmax(np.where(relevant, np.abs(gp1 - gm1) / (2 * d) / lip, 0)) < 1
                assert np.nanmax(np.where(relevant, np.abs(gp1 - 2 * gm0 + gm1) / d / d / curv,
                                          0)) < 1


def test_band_labels_are_what_they_claim(setup):
    """Inside an 'above' interval the proxy exceeds its margin, inside 'below' it is under
    minus the margin; the intervals tile the domain."""
    sc, crit, _ = setup
    rng = np.random.default_rng(3)
    for sh in crit.shared_components():
        groups = np.arange(int(sh.group_of.max()) + 1)
        margin = np.zeros(groups.size)
        np.maximum.at(margin, sh.group_of, sh.margin)
        bands = classify_bands(sh.proxy, Intervals.span(groups, sc.start_tdb_s, sc.end_tdb_s),
                               margin, max_piece_s=60.0)
        for g in groups:
            start, end, label, *_ = bands.of_group(int(g))
            assert start[0] == sc.start_tdb_s and end[-1] == sc.end_tdb_s
            assert np.array_equal(start[1:], end[:-1])
            for lab, sign in ((ABOVE, 1.0), (BELOW, -1.0)):
                sel = label == lab
                t = (start[sel][:, None] + (end - start)[sel][:, None]
                     * rng.uniform(0, 1, (sel.sum(), 4))).ravel()
                p = sh.proxy.evaluate(t, np.full(t.size, g))[0][0]
                assert np.all(sign * p > margin[g])


def test_shared_search_finds_what_the_plain_finder_finds(setup):
    sc, crit, _ = setup
    dom = Intervals.span(range(crit.orb_of.size), sc.start_tdb_s, sc.start_tdb_s + 8 * 86400.0)
    shared = find_windows_shared(crit, dom).windows
    plain = find_windows(crit, dom).windows
    assert len(shared) > 200
    assert np.array_equal(shared.series, plain.series)
    assert np.abs(shared.start - plain.start).max() <= 1e-5
    assert np.abs(shared.end - plain.end).max() <= 1e-5


def test_extrema_close_their_bracket():
    """Concave functions (one maximum each, sharp to flat, at any place): the maximum is found
    to within tol_s in time. A parabolic step smaller than tol far from the maximum used to
    end the search (times off by seconds, values by up to 0.006 deg for passes near the
    zenith)."""
    rng = np.random.default_rng(5)
    n = 300
    c = rng.uniform(5, 295, n)
    w = 10.0 ** rng.uniform(-1, 2.5, n)
    slope = rng.uniform(-0.5, 0.5, n) / w

    def f(t, s):
        return np.stack([-np.sqrt(1.0 + ((t - c[s]) / w[s]) ** 2) + slope[s] * t])

    (t_max, _), = extrema(f, np.arange(n), np.zeros(n), np.full(n, 300.0), [(0, 1)],
                          step_s=60.0, tol_s=0.05)[0]
    # the maximum of -sqrt(1 + x^2) + s w x is at x = s w / sqrt(1 - (s w)^2)
    sw = slope * w
    t_true = np.clip(c + w * sw / np.sqrt(1.0 - sw * sw), 0.0, 300.0)
    assert np.abs(t_max - t_true).max() <= 0.05


def test_degenerate_domains(setup):
    """Nothing to search, one series for one hour, a half-second domain: the shared search
    answers as the plain finder does."""
    sc, crit, _ = setup
    t0 = sc.start_tdb_s
    assert len(find_windows_shared(crit, Intervals.empty()).windows) == 0
    for dom in (Intervals.span([4], t0, t0 + 3600.0), Intervals.span([0, 13], t0, t0 + 0.5),
                Intervals.from_pairs([(2, t0, t0 + 7200.0), (2, t0 + 9000.0, t0 + 20000.0)])):
        shared, plain = find_windows_shared(crit, dom).windows, find_windows(crit, dom).windows
        assert np.array_equal(shared.series, plain.series)
        assert np.allclose(shared.start, plain.start, atol=1e-5)
        assert np.allclose(shared.end, plain.end, atol=1e-5)
