"""The window finder: a generic, vectorised, bracket-safe search for where constraints hold.

A :class:`Criterion` describes ``k`` constraint functions ``g_j(t)`` for many *series* (pairs
of nodes) at once; a series is *open* at ``t`` when every ``g_j(t) > 0``. Alongside the values
it gives, for any interval ``[a, b]`` (length ``h``), rigorous bounds valid on the *whole*
interval (computed from what it returned at the two ends, so they may be local):

- ``L_j >= sup |g_j'|`` (a Lipschitz bound), and
- ``M_j >= sup |g_j''|`` (a bound on the second derivative, or ``inf`` if none is known; for
  functions that are only C1, a Lipschitz bound of ``g_j'``).

:func:`find_windows` samples each search domain coarsely, then classifies every interval
between neighbouring samples with these bounds and halves the ones it cannot classify:

1. *proven closed*: some ``g_j < 0`` throughout. By the Lipschitz bound,
   ``g_j(t) <= (g_j(a) + g_j(b)) / 2 + L_j h / 2``; by linear interpolation with the curvature
   bound, ``g_j(t) <= max(g_j(a), g_j(b)) + M_j h^2 / 8``. Either right-hand side below 0
   proves it.
2. *proven open*: every ``g_j > 0`` throughout (the same two bounds, mirrored).
3. *single edge*: the combined function ``G = min_j g_j`` changes sign between the ends, every
   component but one (``g_i``) is proven positive on the interval, and ``g_i`` is strictly
   monotone there: by the mean value theorem some ``xi`` has ``g_i'(xi)`` equal to the secant
   slope ``s``, and ``|g_i'(t) - s| <= M_i h``, so ``|s| > M_i h`` (i.e.
   ``|g_i(b) - g_i(a)| > M_i h^2``) rules out a second root. The edge is the unique root of
   ``g_i`` in the interval, found by bracketed root finding (below).
4. *short*: ``h <= min_duration_s``. If ``G`` has the same sign at both ends the interval is
   taken as wholly open or closed; otherwise its edge is refined on ``G`` itself.

**Guarantee** (the proof the step size rests on). The leaves of this subdivision partition each
domain, and each is of kind 1, 2, 3 or 4. A window (maximal interval where ``G > 0``) longer
than ``min_duration_s`` cannot lie inside a single kind-4 leaf, cannot meet a kind-1 leaf, and
if it lies inside one kind-2 or kind-3 leaf it is that leaf's open part; in every case the
reported open/closed pattern contains it, and its edges lie in kind-3 leaves (reported exactly,
to ``tol_s``) or kind-4 leaves (reported as a root of ``G`` in a leaf no longer than
``min_duration_s``). The same holds for gaps (maximal closed intervals). So **no window and no
gap longer than ``min_duration_s`` is missed**; only windows or gaps shorter than that may be
dropped or merged into a neighbour, and every reported edge is a root of ``G`` located to within
``tol_s``. The coarse step only decides how much work this takes, never what is found.

Default ``min_duration_s = 1 s``: no relay or Earth link exchanges data in under a second
(a Proximity-1 hail and acquisition alone takes several seconds), and halving it costs one
more halving level per edge. Default ``tol_s = 1e-5 s``.

Edges are refined by a vectorised bracketed Illinois/Anderson-Bjorck iteration (regula falsi
whose retained end is down-weighted, with a bisection step whenever the bracket stalls), each
iterate kept ``tol/2`` inside the bracket so the bracket always shrinks below ``tol_s``.

:func:`extrema` finds the maximum (or minimum) of an observable over each window: samples at
a given step, then vectorised successive parabolic interpolation with golden-section
safeguards inside the bracket around the best sample.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.contacts.intervals import Intervals

__all__ = ["Criterion", "FinderResult", "find_windows", "refine_roots", "extrema"]

_GOLD = 0.3819660112501051  # (3 - sqrt(5)) / 2


class Criterion(ABC):
    """Constraints ``g_j(t) > 0`` (``j < n_components``) for many series, with derivative bounds.

    Subclasses implement :meth:`_evaluate` and :meth:`bounds`; :meth:`evaluate` counts calls.
    """

    n_components: int = 1

    def __init__(self) -> None:
        self.n_evaluations = 0

    def evaluate(self, t_s: np.ndarray, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Constraint values ``g`` ``(k, N)`` and auxiliary data ``aux`` ``(m, N)`` at TDB
        seconds ``t_s`` for the series ``series`` (both ``(N,)``)."""
        self.n_evaluations += len(t_s)
        return self._evaluate(np.asarray(t_s, float), np.asarray(series, np.int64))

    @abstractmethod
    def _evaluate(self, t_s: np.ndarray, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ...

    @abstractmethod
    def bounds(
        self, h_s: np.ndarray, series: np.ndarray, aux_a: np.ndarray, aux_b: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(L, M)``, each ``(k, N)``: bounds of ``|g_j'|`` (per s) and ``|g_j''|`` (per s^2)
        valid on the whole interval ``[a, a + h_s]`` whose ends gave ``aux_a``/``aux_b``."""

    def initial_step(self, series: np.ndarray) -> np.ndarray:
        """Coarse sampling step (s) per series: affects only the cost, never the result."""
        return np.full(len(series), 600.0)


@dataclass(frozen=True)
class FinderResult:
    """Windows found, plus the work done (for benchmarks)."""

    windows: Intervals
    n_evaluations: int
    n_edges: int


def _proofs(ga, gb, h, lip, curv):
    """Per component: proven positive / proven negative on the interval."""
    hh = h * h / 8.0
    with np.errstate(invalid="ignore", over="ignore"):
        pos = (ga > 0) & (gb > 0) & ((ga + gb > lip * h) | (np.minimum(ga, gb) > curv * hh))
        neg = (ga < 0) & (gb < 0) & ((-(ga + gb) > lip * h) | (-np.maximum(ga, gb) > curv * hh))
    return pos, neg


def find_windows(
    criterion: Criterion,
    domains: Intervals,
    *,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
    max_levels: int = 80,
) -> FinderResult:
    """Windows where every constraint of ``criterion`` holds, inside ``domains``.

    ``domains`` (normalised :class:`Intervals`) says where to search for each series; windows
    are clipped to it. Returns the windows (TDB s, sorted by series then start) with the
    guarantee stated in the module docstring: none longer than ``min_duration_s`` (s) is
    missed, and every edge is located to within ``tol_s`` (s).
    """
    if min_duration_s <= 0 or tol_s <= 0:
        raise ValueError("min_duration_s and tol_s must be positive")
    n0 = criterion.n_evaluations
    domains = domains.normalized()
    if len(domains) == 0:
        return FinderResult(Intervals.empty(), 0, 0)
    k = criterion.n_components
    length = domains.end - domains.start
    steps = np.asarray(criterion.initial_step(domains.series), float)
    nseg = np.maximum(1, np.ceil(length / steps)).astype(np.int64)
    npts = nseg + 1
    dom = np.repeat(np.arange(len(domains)), npts)
    first = np.cumsum(npts) - npts
    pos_in = np.arange(int(npts.sum())) - first[dom]
    t = domains.start[dom] + length[dom] * (pos_in / nseg[dom])
    t[first + nseg] = domains.end  # exact ends
    ser = domains.series[dom]
    g, aux = criterion.evaluate(t, ser)
    big_g = g.min(axis=0)
    start_open = big_g[first] > 0
    end_open = big_g[first + nseg] > 0
    ia = np.flatnonzero(pos_in < nseg[dom])
    ib = ia + 1
    lv_dom, lv_ser = dom[ia], ser[ia]
    ta, tb = t[ia], t[ib]
    ga, gb, xa, xb = g[:, ia], g[:, ib], aux[:, ia], aux[:, ib]

    e_dom: list[np.ndarray] = []
    e_a: list[np.ndarray] = []
    e_b: list[np.ndarray] = []
    e_fa: list[np.ndarray] = []
    e_fb: list[np.ndarray] = []
    e_comp: list[np.ndarray] = []
    for _level in range(max_levels):
        if ta.size == 0:
            break
        h = tb - ta
        lip, curv = criterion.bounds(h, lv_ser, xa, xb)
        pos, neg = _proofs(ga, gb, h, lip, curv)
        big_a, big_b = ga.min(axis=0), gb.min(axis=0)
        change = (big_a > 0) != (big_b > 0)
        settled = neg.any(axis=0) | pos.all(axis=0)
        notpos = ~pos
        j = notpos.argmax(axis=0)
        col = np.arange(ta.size)
        gja, gjb, mj = ga[j, col], gb[j, col], curv[j, col]
        with np.errstate(invalid="ignore", over="ignore"):
            mono = (
                change
                & (notpos.sum(axis=0) == 1)
                & ((gja > 0) != (gjb > 0))
                & (np.abs(gjb - gja) > mj * h * h)
            )
        small = h <= min_duration_s
        edge = change & (mono | small)
        split = ~(edge | (~change & (settled | small)))
        if edge.any():
            e_dom.append(lv_dom[edge])
            e_a.append(ta[edge])
            e_b.append(tb[edge])
            comp = np.where(mono[edge], j[edge], -1)
            e_comp.append(comp)
            sel = np.flatnonzero(edge)
            e_fa.append(np.where(comp >= 0, gja[sel], big_a[sel]))
            e_fb.append(np.where(comp >= 0, gjb[sel], big_b[sel]))
        if not split.any():
            ta = ta[:0]
            break
        s = np.flatnonzero(split)
        tm = 0.5 * (ta[s] + tb[s])
        gm, xm = criterion.evaluate(tm, lv_ser[s])
        lv_dom = np.concatenate([lv_dom[s], lv_dom[s]])
        lv_ser = np.concatenate([lv_ser[s], lv_ser[s]])
        ta, tb = np.concatenate([ta[s], tm]), np.concatenate([tm, tb[s]])
        ga, gb = np.concatenate([ga[:, s], gm], 1), np.concatenate([gm, gb[:, s]], 1)
        xa, xb = np.concatenate([xa[:, s], xm], 1), np.concatenate([xm, xb[:, s]], 1)
    else:  # pragma: no cover - only with a tiny max_levels
        raise RuntimeError("window search did not converge; raise max_levels")

    if e_dom:
        ed, ea, eb = np.concatenate(e_dom), np.concatenate(e_a), np.concatenate(e_b)
        efa, efb, ec = np.concatenate(e_fa), np.concatenate(e_fb), np.concatenate(e_comp)
    else:
        ed = np.empty(0, np.int64)
        ea = eb = efa = efb = np.empty(0)
        ec = np.empty(0, np.int64)
    eser = domains.series[ed]

    def f_edge(tt: np.ndarray, idx: np.ndarray) -> np.ndarray:
        gg, _ = criterion.evaluate(tt, eser[idx])
        c = ec[idx]
        return np.where(c >= 0, gg[np.maximum(c, 0), np.arange(tt.size)], gg.min(axis=0))

    roots = refine_roots(f_edge, ea, eb, efa, efb, tol_s)
    rising = efb > 0

    ev_dom = np.concatenate([np.flatnonzero(start_open), ed, np.flatnonzero(end_open)])
    ev_t = np.concatenate([domains.start[start_open], roots, domains.end[end_open]])
    ev_up = np.concatenate([np.ones(start_open.sum(), bool), rising,
                            np.zeros(end_open.sum(), bool)])
    order = np.lexsort((ev_t, ev_dom))
    ev_dom, ev_t, ev_up = ev_dom[order], ev_t[order], ev_up[order]
    if ev_t.size % 2 or not (ev_up[0::2].all() and not ev_up[1::2].any()):  # pragma: no cover
        raise RuntimeError("internal error: window edges do not alternate")
    windows = Intervals(domains.series[ev_dom[0::2]], ev_t[0::2], ev_t[1::2])
    order = np.lexsort((windows.start, windows.series))
    return FinderResult(windows.take(order), criterion.n_evaluations - n0, int(ed.size))


def refine_roots(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    tol_s: float,
    max_iter: int = 200,
) -> np.ndarray:
    """Roots of ``f`` bracketed by ``[a, b]`` (``f(a) > 0`` and ``f(b) <= 0`` or the reverse),
    to within ``tol_s``, for many brackets at once.

    ``f(t, index)`` evaluates the functions of brackets ``index`` at ``t``. Illinois /
    Anderson-Bjorck regula falsi with bisection when the bracket stalls; every iterate stays at
    least ``min(tol/2, width/4)`` inside the bracket, so the width falls below ``tol_s``.
    Returns the midpoint of each final bracket (error <= ``tol_s / 2``).
    """
    a, b = np.array(a, float), np.array(b, float)
    fa, fb = np.array(fa, float), np.array(fb, float)
    n = a.size
    side = np.zeros(n, np.int8)  # which end the last iterate replaced (+1 a, -1 b)
    stall = np.zeros(n, np.int8)
    act = np.flatnonzero(b - a > tol_s)
    for _ in range(max_iter):
        if act.size == 0:
            break
        A, B, FA, FB = a[act], b[act], fa[act], fb[act]
        w = B - A
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (A * FB - B * FA) / (FB - FA)
        x = np.where(np.isfinite(x) & (stall[act] < 2), x, 0.5 * (A + B))
        eps = np.minimum(0.5 * tol_s, 0.25 * w)
        x = np.clip(x, A + eps, B - eps)
        fx = f(x, act)
        to_a = (fx > 0) == (FA > 0)  # x replaces the end with the same sign
        # Anderson-Bjorck: when the same end is replaced twice running, shrink the other value.
        again_a = to_a & (side[act] == 1)
        again_b = ~to_a & (side[act] == -1)
        with np.errstate(invalid="ignore", divide="ignore"):
            m_a = np.where(again_a, 1.0 - fx / FA, 1.0)
            m_b = np.where(again_b, 1.0 - fx / FB, 1.0)
        m_a = np.where(m_a > 0, m_a, 0.5)
        m_b = np.where(m_b > 0, m_b, 0.5)
        FB = np.where(again_a, FB * m_a, FB)
        FA = np.where(again_b, FA * m_b, FA)
        A = np.where(to_a, x, A)
        FA = np.where(to_a, fx, FA)
        B = np.where(to_a, B, x)
        FB = np.where(to_a, FB, fx)
        a[act], b[act], fa[act], fb[act] = A, B, FA, FB
        side[act] = np.where(to_a, 1, -1)
        shrunk = (B - A) <= 0.5 * w
        stall[act] = np.where(shrunk, 0, np.where(stall[act] >= 2, 0, stall[act] + 1))
        act = act[(B - A) > tol_s]
    return 0.5 * (a + b)


def extrema(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    series: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    objectives: Sequence[tuple[int, int]],
    *,
    step_s: float | np.ndarray,
    tol_s: float,
    max_iter: int = 60,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Extremes of observables over intervals ``[lo, hi]``, many intervals at once.

    ``f(t, series)`` returns observables ``(q, N)``; each objective ``(row, sign)`` asks for
    the maximum of ``sign * f[row]`` (``sign = -1``: the minimum of ``f[row]``). Samples every
    ``step_s`` (s, at least 3 samples per interval), then refines around the best sample by
    successive parabolic interpolation with golden-section steps to ``tol_s`` (s). An
    observable that is best at an interval's end is reported there. Returns one
    ``(t_best, value_best)`` pair of arrays per objective (values as ``f`` gives them).
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    series = np.asarray(series, np.int64)
    n = lo.size
    out: list[tuple[np.ndarray, np.ndarray]] = []
    if n == 0:
        return [(np.empty(0), np.empty(0)) for _ in objectives]
    length = hi - lo
    nseg = np.maximum(2, np.ceil(length / np.asarray(step_s, float))).astype(np.int64)
    npts = nseg + 1
    win = np.repeat(np.arange(n), npts)
    first = np.cumsum(npts) - npts
    k = np.arange(int(npts.sum())) - first[win]
    t = lo[win] + length[win] * (k / nseg[win])
    vals = f(t, series[win])
    for row, sign in objectives:
        phi = sign * vals[row]
        # best sample per interval
        order = np.lexsort((-phi, win))
        best = order[first]  # first entry of each interval's group = its maximum
        kb = k[best]
        i_l = np.where(kb > 0, best - 1, best)
        i_r = np.where(kb < nseg, best + 1, best)
        xa, xx, xb = t[i_l], t[best], t[i_r]
        fa, fx, fb = phi[i_l], phi[best], phi[i_r]
        # At an interval's end: probe the midpoint of the end segment for an interior maximum.
        at_end = (kb == 0) | (kb == nseg)
        if at_end.any():
            e = np.flatnonzero(at_end)
            other = np.where(kb[e] == 0, xb[e], xa[e])
            tm = 0.5 * (xx[e] + other)
            fm = sign * f(tm, series[e])[row]
            inner = fm > fx[e]
            ei = e[inner]
            # bracket (end, mid, other end of the segment), ordered
            lo_t = np.minimum(xx[ei], np.where(kb[ei] == 0, xb[ei], xa[ei]))
            hi_t = np.maximum(xx[ei], np.where(kb[ei] == 0, xb[ei], xa[ei]))
            f_lo = np.where(kb[ei] == 0, fx[ei], fa[ei])
            f_hi = np.where(kb[ei] == 0, fb[ei], fx[ei])
            xa[ei], xb[ei], fa[ei], fb[ei] = lo_t, hi_t, f_lo, f_hi
            xx[ei], fx[ei] = tm[inner], fm[inner]
            at_end[ei] = False
        act = np.flatnonzero(~at_end & (xb - xa > 2.0 * tol_s))
        stall = np.zeros(n, np.int8)
        for _ in range(max_iter):
            if act.size == 0:
                break
            A, X, B = xa[act], xx[act], xb[act]
            FA, FX, FB = fa[act], fx[act], fb[act]
            w = B - A
            p = (X - A) ** 2 * (FX - FB) - (X - B) ** 2 * (FX - FA)
            q = (X - A) * (FX - FB) - (X - B) * (FX - FA)
            with np.errstate(invalid="ignore", divide="ignore"):
                u = X - 0.5 * p / q
            gold = np.where(X - A > B - X, X - _GOLD * (X - A), X + _GOLD * (B - X))
            ok = np.isfinite(u) & (u > A + tol_s) & (u < B - tol_s) & (stall[act] < 2)
            u = np.where(ok, u, gold)
            d = u - X
            u = np.where(np.abs(d) < 0.5 * tol_s, X + np.where(d >= 0, 0.5, -0.5) * tol_s, u)
            u = np.clip(u, A + 0.25 * tol_s, B - 0.25 * tol_s)
            fu = sign * f(u, series[act])[row]
            better = fu >= FX
            left = u < X
            nA = np.where(better, np.where(left, A, X), np.where(left, u, A))
            nB = np.where(better, np.where(left, X, B), np.where(left, B, u))
            nFA = np.where(better, np.where(left, FA, FX), np.where(left, fu, FA))
            nFB = np.where(better, np.where(left, FX, FB), np.where(left, FB, fu))
            nX = np.where(better, u, X)
            nFX = np.where(better, fu, FX)
            xa[act], xb[act], xx[act] = nA, nB, nX
            fa[act], fb[act], fx[act] = nFA, nFB, nFX
            shrunk = (nB - nA) <= 0.7 * w
            stall[act] = np.where(shrunk, 0, np.where(stall[act] >= 2, 0, stall[act] + 1))
            act = act[(nB - nA) > 2.0 * tol_s]
        out.append((xx, sign * fx))
    return out
