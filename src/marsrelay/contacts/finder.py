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

Edges are refined by a vectorised bracketed Chandrupatla iteration (inverse quadratic
interpolation with bisection safeguards), each iterate kept ``tol/2`` inside the bracket so the
bracket always shrinks below ``tol_s``; on a kind-3 leaf it stops earlier, as soon as the
curvature bound certifies the secant root of the current bracket to ``tol_s / 2``.

A criterion may declare components *shared* by groups of its series
(:class:`SharedComponent`, :meth:`Criterion.shared_components`): then
:func:`marsrelay.contacts.shared.find_windows_shared` searches each group's proxy once and
evaluates the series only near their own edges, with the same guarantee. :func:`search` is
the finder on already-normalised domains (optionally one leaf per domain), which it uses for
the short pieces left over.

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

__all__ = [
    "Criterion",
    "FinderResult",
    "SharedComponent",
    "extrema",
    "find_windows",
    "refine_roots",
    "search",
]

_GOLD = 0.3819660112501051  # (3 - sqrt(5)) / 2


class Criterion(ABC):
    """Constraints ``g_j(t) > 0`` (``j < n_components``) for many series, with derivative bounds.

    Subclasses implement :meth:`_evaluate` and :meth:`bounds`; :meth:`evaluate` counts calls.
    """

    n_components: int = 1
    #: Evaluate in slices of this many times: numpy temporaries then stay in the CPU caches
    #: (measured 1.5-2x faster than one pass over 10^5 times).
    chunk: int = 8192

    def __init__(self) -> None:
        self.n_evaluations = 0

    def evaluate(self, t_s: np.ndarray, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Constraint values ``g`` ``(k, N)`` and auxiliary data ``aux`` ``(m, N)`` at TDB
        seconds ``t_s`` for the series ``series`` (both ``(N,)``)."""
        t = np.asarray(t_s, float)
        s = np.asarray(series, np.int64)
        self.n_evaluations += t.size
        if t.size <= self.chunk:
            return self._evaluate(t, s)
        parts = [self._evaluate(t[i:i + self.chunk], s[i:i + self.chunk])
                 for i in range(0, t.size, self.chunk)]
        return (np.concatenate([p[0] for p in parts], axis=1),
                np.concatenate([p[1] for p in parts], axis=1))

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

    def shared_components(self) -> tuple[SharedComponent, ...]:
        """Components that groups of series share up to a margin (see
        :mod:`marsrelay.contacts.shared`); none by default."""
        return ()


@dataclass(frozen=True)
class SharedComponent:
    """Component ``component`` of a criterion, shared by groups of its series: for every series
    ``k`` and every time ``t`` of its domain, ``|g_component(t, k) - P(t, group_of[k])| <=
    margin[k]``, ``P`` the single component of ``proxy``, whose series are the groups;
    optionally also ``|d/dt (g_component(t, k) - P(t, group_of[k]))| <= margin_rate[k]``
    (per s), which lets a pair inherit the proxy's monotonicity near a crossing."""

    component: int
    proxy: Criterion
    group_of: np.ndarray
    margin: np.ndarray
    margin_rate: np.ndarray | None = None


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

    ``domains`` (:class:`Intervals`) says where to search for each series; windows are
    clipped to it. Returns the windows (TDB s, sorted by series then start) with the
    guarantee stated in the module docstring: none longer than ``min_duration_s`` (s) is
    missed, and every edge is located to within ``tol_s`` (s).
    """
    return search(criterion, domains.normalized(), min_duration_s=min_duration_s, tol_s=tol_s,
                  max_levels=max_levels)


def search(
    criterion: Criterion,
    domains: Intervals,
    *,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
    max_levels: int = 80,
    whole_domains: bool = False,
) -> FinderResult:
    """:func:`find_windows` on ``domains`` already normalised (sorted by series and start,
    disjoint); with ``whole_domains`` each domain starts as one interval instead of being
    sampled at the criterion's :meth:`~Criterion.initial_step` (for short domains known to
    hold at most a few edges: it only changes the work, never the result)."""
    if min_duration_s <= 0 or tol_s <= 0:
        raise ValueError("min_duration_s and tol_s must be positive")
    n0 = criterion.n_evaluations
    if len(domains) == 0:
        return FinderResult(Intervals.empty(), 0, 0)
    length = domains.end - domains.start
    if whole_domains:
        nseg = np.ones(len(domains), np.int64)
    else:
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
    e_curv: list[np.ndarray] = []
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
            sel = np.flatnonzero(edge)
            comp = np.where(mono[sel], j[sel], -1)
            e_dom.append(lv_dom[sel])
            e_a.append(ta[sel])
            e_b.append(tb[sel])
            e_comp.append(comp)
            e_fa.append(np.where(comp >= 0, gja[sel], big_a[sel]))
            e_fb.append(np.where(comp >= 0, gjb[sel], big_b[sel]))
            e_curv.append(np.where(comp >= 0, mj[sel], np.inf))
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
        ecurv = np.concatenate(e_curv)
    else:
        ed = np.empty(0, np.int64)
        ea = eb = efa = efb = ecurv = np.empty(0)
        ec = np.empty(0, np.int64)
    eser = domains.series[ed]

    def f_edge(tt: np.ndarray, idx: np.ndarray) -> np.ndarray:
        gg, _ = criterion.evaluate(tt, eser[idx])
        c = ec[idx]
        return np.where(c >= 0, gg[np.maximum(c, 0), np.arange(tt.size)], gg.min(axis=0))

    roots = refine_roots(f_edge, ea, eb, efa, efb, tol_s, curv=ecurv)
    rising = efb > 0

    ev_dom = np.concatenate([np.flatnonzero(start_open), ed, np.flatnonzero(end_open)])
    ev_t = np.concatenate([domains.start[start_open], roots, domains.end[end_open]])
    ev_up = np.concatenate([np.ones(start_open.sum(), bool), rising,
                            np.zeros(end_open.sum(), bool)])
    order = np.lexsort((ev_t, ev_dom))
    ev_dom, ev_t, ev_up = ev_dom[order], ev_t[order], ev_up[order]
    if ev_t.size % 2 or not (ev_up[0::2].all() and not ev_up[1::2].any()):  # pragma: no cover
        raise RuntimeError("internal error: window edges do not alternate")
    # domains are sorted by (series, start): so are the windows
    windows = Intervals(domains.series[ev_dom[0::2]], ev_t[0::2], ev_t[1::2])
    return FinderResult(windows, criterion.n_evaluations - n0, int(ed.size))


def refine_roots(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    tol_s: float,
    max_iter: int = 200,
    *,
    curv: np.ndarray | None = None,
) -> np.ndarray:
    """Roots of ``f`` bracketed by ``[a, b]`` (``f(a) > 0`` and ``f(b) <= 0`` or the reverse),
    to within ``tol_s / 2``, for many brackets at once.

    ``f(t, index)`` evaluates the functions of brackets ``index`` at ``t``. Chandrupatla's
    method (inverse quadratic interpolation where the last three points make it safe,
    bisection otherwise; T. R. Chandrupatla, Adv. Eng. Software 28, 1997), starting with a
    regula falsi step; every iterate stays ``tol/2`` inside the bracket, so its width falls
    below ``tol_s``, and the midpoint of the final bracket is returned.

    ``curv`` (optional, per bracket): a bound ``M`` of ``|f''|`` on ``[a, b]``, where ``f``
    then has a single root. A bracket ``[x1, x2]`` of width ``w`` and secant slope ``s`` is
    then finished early: the secant through its ends is within ``M w^2 / 8`` of ``f`` there,
    so its root is within ``M w^2 / (8 |s|)`` of ``f``'s; once that is at most ``tol_s / 2``
    the secant root is returned. About 2-4 evaluations per edge from the finder's brackets.
    """
    return _chandrupatla(f, a, b, fa, fb, tol_s, curv, max_iter)[0]


def _chandrupatla(f, a, b, fa, fb, tol_s, curv, max_iter):
    """:func:`refine_roots`' iteration; returns the roots and the final brackets
    ``(roots, x1, x2, f1, f2)`` (``f1``, ``f2`` of opposite signs)."""
    x1, x2 = np.array(b, float), np.array(a, float)  # x1: latest point, x2: other bracket end
    f1, f2 = np.array(fb, float), np.array(fa, float)
    x3, f3 = x2.copy(), f2.copy()  # the point discarded last
    out = 0.5 * (x1 + x2)
    m = np.full(x1.size, np.inf) if curv is None else np.asarray(curv, float)

    def finished(idx, X1, X2, F1, F2):
        """Brackets done: narrower than tol, or certified by the curvature bound."""
        w = np.abs(X2 - X1)
        narrow = w <= tol_s
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            s = (F2 - F1) / (X2 - X1)
            cert = m[idx] * w * w <= 4.0 * tol_s * np.abs(s)
            est = X1 - F1 / s
        cert &= ~narrow & np.isfinite(est)
        out[idx[narrow]] = 0.5 * (X1 + X2)[narrow]
        out[idx[cert]] = est[cert]
        return narrow | cert

    with np.errstate(divide="ignore", invalid="ignore"):
        t = f1 / (f1 - f2)  # fraction of the way from x1 to x2
    t = np.where(np.isfinite(t), t, 0.5)
    act = np.arange(x1.size)
    act = act[~finished(act, x1, x2, f1, f2)]
    for _ in range(max_iter):
        if act.size == 0:
            break
        X1, X2, F1, F2 = x1[act], x2[act], f1[act], f2[act]
        lim = 0.5 * tol_s / np.abs(X2 - X1)
        xt = X1 + np.clip(t[act], lim, 1.0 - lim) * (X2 - X1)
        ft = f(xt, act)
        same = (ft > 0) == (F1 > 0)  # xt replaces x1; else x1 becomes the other end
        X3 = np.where(same, X1, X2)
        F3 = np.where(same, F1, F2)
        X2 = np.where(same, X2, X1)
        F2 = np.where(same, F2, F1)
        X1, F1 = xt, ft
        x1[act], x2[act], x3[act], f1[act], f2[act], f3[act] = X1, X2, X3, F1, F2, F3
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            xi = (X1 - X2) / (X3 - X2)
            phi = (F1 - F2) / (F3 - F2)
            iqi = (phi * phi < xi) & ((1.0 - phi) ** 2 < 1.0 - xi)
            t_iqi = (F1 / (F2 - F1) * F3 / (F2 - F3)
                     + (X3 - X1) / (X2 - X1) * F1 / (F3 - F1) * F2 / (F3 - F2))
        t[act] = np.where(iqi & np.isfinite(t_iqi), t_iqi, 0.5)
        act = act[~finished(act, X1, X2, F1, F2)]
    return out, x1, x2, f1, f2


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
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Extremes of observables over intervals ``[lo, hi]``, many intervals at once.

    ``f(t, series)`` returns observables ``(q, N)``; each objective ``(row, sign)`` asks for
    the maximum of ``sign * f[row]`` (``sign = -1``: the minimum of ``f[row]``). Samples every
    ``step_s`` at most (an even number of steps, at least 2, so the midpoint is a sample) and
    ``tol_s`` inside each end, then refines around the best sample by successive parabolic
    interpolation with golden-section steps (a step under ``tol_s`` becomes ``tol_s`` towards
    the farther bracket end, as in Brent's method), until the bracket is under ``2 tol_s``
    (s). When the best sample is an
    end and the probe just inside it is not better, the extreme is at that end (at most one
    turning point per sample step is assumed). Returns one ``(t_best, value_best)`` pair of
    arrays per objective (values as ``f`` gives them) and the observables at the midpoints.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    series = np.asarray(series, np.int64)
    n = lo.size
    if n == 0:
        return [(np.empty(0), np.empty(0)) for _ in objectives], np.empty((0, 0))
    length = hi - lo
    nseg = 2 * np.maximum(1, np.ceil(0.5 * length / np.asarray(step_s, float))).astype(np.int64)
    npts = nseg + 1
    win = np.repeat(np.arange(n), npts)
    first = np.cumsum(npts) - npts
    k = np.arange(int(npts.sum())) - first[win]
    t = lo[win] + length[win] * (k / nseg[win])
    vals = f(t, series[win])
    eps = np.minimum(tol_s, 0.25 * length / nseg)
    probes = f(np.concatenate([lo + eps, hi - eps]), np.concatenate([series, series]))
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for row, sign in objectives:
        phi = sign * vals[row]
        # best sample per interval: the first sample equal to its interval's maximum
        top = np.maximum.reduceat(phi, first)
        hits = np.flatnonzero(phi >= top[win])
        best = hits[np.searchsorted(hits, first)]
        kb = k[best]
        i_l = np.where(kb > 0, best - 1, best)
        i_r = np.where(kb < nseg, best + 1, best)
        xa, xx, xb = t[i_l], t[best], t[i_r]
        fa, fx, fb = phi[i_l], phi[best], phi[i_r]
        # Best at an end: if the probe just inside is better, the extreme lies in the end
        # segment (bracket: far sample, probe, end); otherwise it is at the end.
        at_start, at_stop = kb == 0, kb == nseg
        p_lo, p_hi = sign * probes[row, :n], sign * probes[row, n:]
        up_lo = at_start & (p_lo > fx)
        up_hi = at_stop & (p_hi > fx)
        xa = np.where(up_lo, xx, xa)
        fa = np.where(up_lo, fx, fa)
        xb = np.where(up_hi, xx, xb)
        fb = np.where(up_hi, fx, fb)
        xx = np.where(up_lo, lo + eps, np.where(up_hi, hi - eps, xx))
        fx = np.where(up_lo, p_lo, np.where(up_hi, p_hi, fx))
        at_end = (at_start & ~up_lo) | (at_stop & ~up_hi)
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
            # a step under tol goes tol towards the farther bracket end (as Brent's method):
            # the bracket then closes on X from that side
            u = np.where(np.abs(d) < tol_s, X + np.where(B - X > X - A, tol_s, -tol_s), u)
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
            # done when the bracket is within 2 tol (a small parabolic step alone proves
            # nothing: a parabola through far points can land next to X anywhere)
            act = act[(nB - nA) > 2.0 * tol_s]
        out.append((xx, sign * fx))
    return out, vals[:, first + nseg // 2]
