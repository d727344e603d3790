"""Shared components: what many pairs have in common, searched once per group.

Some constraints differ between pairs by no more than a known margin. Mars hides an orbiter
from every station within ~1e-4 rad of the way it hides it from Earth's centre, and a station
sees every orbiter within ~1e-4 rad of Mars' centre. Such a component ``j`` of a criterion is
*shared* (:class:`~marsrelay.contacts.finder.SharedComponent`): a proxy criterion with one
series per group gives ``P(t, group)`` and, for every series ``k`` of the group,

    ``|g_j(t, k) - P(t, group(k))| <= margin_k``  for every ``t`` of ``k``'s domain.

:func:`find_windows_shared` then searches in two stages:

1. :func:`classify_bands` cuts each group's domain into intervals, proven with the finder's
   own Lipschitz and curvature bounds: *above* (``P > margin`` throughout, so ``g_j > 0`` for
   every member), *below* (``P < -margin``: ``g_j < 0``) and *pieces*, the short rest around
   each crossing of the band ``|P| <= margin``. Where ``P`` is proven monotone across the
   band, the piece is cut to the band itself: with the root of ``P`` bracketed in
   ``[x_lo, x_hi]`` (width ``w``, secant slope ``s``) and ``M`` bounding ``|P''|``,
   ``|P'| >= s_min = |s| - M (w + D)`` within ``D`` of the bracket, so ``|P| > margin``
   beyond ``D = 1.05 margin / |s|`` once ``s_min D > margin``: the piece is
   ``[x_lo - D, x_hi + D]`` (typically half a second for an occultation, seconds for a
   station's horizon). Undecided intervals no longer than ``max_piece_s`` become pieces as
   they are.
2. Per series, the overlay of its components' partitions and its own domain gives open
   stretches (every component above), closed ones (some component below, or outside the
   domain) and pieces (the rest). A piece that is one component's band around a proven
   crossing, every other component above, holds exactly one edge of the series when it is
   shorter than ``min_duration_s`` or when the proxy's rate there exceeds the bound of the
   margin's rate (``margin_rate``): it is refined from the proxy's root and slope, usually
   with two evaluations (:func:`_hinted`, certified by the curvature bound). The other
   pieces go to :func:`~marsrelay.contacts.finder.search` with the series' own criterion,
   one interval per piece to start with.

A group is cut the same way whichever of its series are searched together (samples on a grid
fixed in time, the group's largest margin over all its series), so the result does not depend
on how the series are shared among worker processes.

**Guarantee**: the stretches are decided by proof, and the pieces are searched with the
finder's own guarantee, so the result carries it unchanged: no window or gap longer than
``min_duration_s`` is missed, and every edge is located to ``tol_s``. The proxies only save
work: a pair's function is evaluated near its own edges and nowhere else.
"""

from __future__ import annotations

import numpy as np

from marsrelay.contacts.finder import (
    Criterion,
    FinderResult,
    _chandrupatla,
    _proofs,
    search,
)
from marsrelay.contacts.intervals import Intervals

__all__ = ["ABOVE", "BELOW", "PIECE", "Bands", "classify_bands", "find_windows_shared"]

#: Labels of the intervals of a partition.
BELOW, ABOVE, PIECE = 0, 1, 2


class Bands:
    """A partition of each group's domain into labelled intervals, sorted by group and start:
    ``group``, ``start``, ``end`` (TDB s), ``label`` (:data:`ABOVE`, :data:`BELOW`,
    :data:`PIECE`); consecutive intervals of one group either touch or leave a gap outside the
    domain. A piece cut around a proven single crossing of the proxy also carries ``root``
    (the proxy's root, TDB s), ``slope`` (its rate there, per s) and ``slope_min`` (a lower
    bound of the proxy's ``|rate|`` over the piece); NaN elsewhere."""

    def __init__(self, group: np.ndarray, start: np.ndarray, end: np.ndarray,
                 label: np.ndarray, root: np.ndarray, slope: np.ndarray,
                 slope_min: np.ndarray) -> None:
        order = np.argsort(start)  # then by group, stably (few groups: a counting sort)
        order = order[np.argsort(group[order].astype(np.int32), kind="stable")]
        group, start, end, label = group[order], start[order], end[order], label[order]
        root, slope, slope_min = root[order], slope[order], slope_min[order]
        # merge touching intervals with the same label (a merged piece loses its hint)
        new = np.ones(group.size, bool)
        new[1:] = ((group[1:] != group[:-1]) | (label[1:] != label[:-1])
                   | (start[1:] != end[:-1]))
        first, last = _runs_of(new)
        single = first == last
        self.group, self.start, self.label = group[first], start[first], label[first]
        self.end = end[last]
        self.root = np.where(single, root[first], np.nan)
        self.slope = np.where(single, slope[first], np.nan)
        self.slope_min = np.where(single, slope_min[first], np.nan)
        self._bounds = np.searchsorted(self.group, np.arange(int(self.group.max(initial=-1)) + 2))

    def of_group(self, g: int) -> tuple[np.ndarray, ...]:
        """``(start, end, label, root, slope, slope_min)`` of group ``g``."""
        if g + 1 >= self._bounds.size:
            e = np.empty(0)
            return e, e, np.empty(0, np.int64), e, e, e
        i, j = self._bounds[g], self._bounds[g + 1]
        return (self.start[i:j], self.end[i:j], self.label[i:j], self.root[i:j],
                self.slope[i:j], self.slope_min[i:j])


def _interleave(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x[..., 0], y[..., 0], x[..., 1], y[..., 1], ...`` along the last axis."""
    out = np.empty((*x.shape[:-1], 2 * x.shape[-1]))
    out[..., 0::2] = x
    out[..., 1::2] = y
    return out


def classify_bands(
    proxy: Criterion,
    domains: Intervals,
    margin: np.ndarray,
    *,
    max_piece_s: float,
    root_tol_s: float = 0.05,
    max_levels: int = 80,
) -> Bands:
    """Partition ``domains`` (normalised; series = groups) into intervals where the proxy's
    one component is proven above ``margin[group]``, proven below ``-margin[group]``, and
    pieces (see the module docstring)."""
    out_g: list[np.ndarray] = []
    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    out_l: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    out_m: list[np.ndarray] = []

    def emit(g, a, b, label, root=None, slope=None, slope_min=None):
        keep = b > a
        n = int(keep.sum())
        out_g.append(g[keep])
        out_a.append(a[keep])
        out_b.append(b[keep])
        out_l.append(np.full(n, label, np.int64) if np.ndim(label) == 0 else label[keep])
        out_r.append(np.full(n, np.nan) if root is None else root[keep])
        out_s.append(np.full(n, np.nan) if slope is None else slope[keep])
        out_m.append(np.full(n, np.nan) if slope_min is None else slope_min[keep])

    if len(domains) == 0:
        e = np.empty(0)
        return Bands(np.empty(0, np.int64), e, e, np.empty(0, np.int64), e, e, e)
    # Samples on a grid fixed in time (multiples of the step) plus the domain's ends: a group
    # is cut the same way whichever of its series are being searched (worker processes).
    steps = np.asarray(proxy.initial_step(domains.series), float)
    k_lo = np.floor(domains.start / steps) + 1.0
    k_hi = np.ceil(domains.end / steps) - 1.0
    n_in = np.maximum(k_hi - k_lo + 1.0, 0.0).astype(np.int64)
    nseg = n_in + 1
    npts = nseg + 1
    dom = np.repeat(np.arange(len(domains)), npts)
    first = np.cumsum(npts) - npts
    pos_in = np.arange(int(npts.sum())) - first[dom]
    t = (k_lo[dom] + pos_in - 1.0) * steps[dom]
    t[first] = domains.start
    t[first + nseg] = domains.end
    ser = domains.series[dom]
    g, aux = proxy.evaluate(t, ser)
    ia = np.flatnonzero(pos_in < nseg[dom])
    ib = ia + 1
    lv_ser, ta, tb = ser[ia], t[ia], t[ib]
    ga, gb, xa, xb = g[:, ia], g[:, ib], aux[:, ia], aux[:, ib]

    c_ser: list[np.ndarray] = []
    c_a: list[np.ndarray] = []
    c_b: list[np.ndarray] = []
    c_ga: list[np.ndarray] = []
    c_gb: list[np.ndarray] = []
    c_m: list[np.ndarray] = []
    for _level in range(max_levels):
        if ta.size == 0:
            break
        h = tb - ta
        lip, curv = proxy.bounds(h, lv_ser, xa, xb)
        e = margin[lv_ser]
        above = _proofs(ga - e, gb - e, h, lip, curv)[0][0]
        below = _proofs(ga + e, gb + e, h, lip, curv)[1][0]
        a0, b0, m0 = ga[0], gb[0], curv[0]
        with np.errstate(invalid="ignore", over="ignore"):
            cross = (~above & ~below & (((a0 < -e) & (b0 > e)) | ((a0 > e) & (b0 < -e)))
                     & (np.abs(b0 - a0) > m0 * h * h))
        small = ~above & ~below & ~cross & (h <= max_piece_s)
        emit(lv_ser[above], ta[above], tb[above], ABOVE)
        emit(lv_ser[below], ta[below], tb[below], BELOW)
        emit(lv_ser[small], ta[small], tb[small], PIECE)
        if cross.any():
            c_ser.append(lv_ser[cross])
            c_a.append(ta[cross])
            c_b.append(tb[cross])
            c_ga.append(a0[cross])
            c_gb.append(b0[cross])
            c_m.append(m0[cross])
        split = ~(above | below | cross | small)
        if not split.any():
            break
        s = np.flatnonzero(split)
        tm = 0.5 * (ta[s] + tb[s])
        gm, xm = proxy.evaluate(tm, lv_ser[s])
        # children interleaved: leaves stay sorted by (group, time)
        lv_ser = np.repeat(lv_ser[s], 2)
        ta, tb = _interleave(ta[s], tm), _interleave(tm, tb[s])
        ga, gb = _interleave(ga[:, s], gm), _interleave(gm, gb[:, s])
        xa, xb = _interleave(xa[:, s], xm), _interleave(xm, xb[:, s])
    else:  # pragma: no cover - only with a tiny max_levels
        raise RuntimeError("band classification did not converge; raise max_levels")

    if c_ser:
        cs, ca, cb = np.concatenate(c_ser), np.concatenate(c_a), np.concatenate(c_b)
        cga, cgb, cm = np.concatenate(c_ga), np.concatenate(c_gb), np.concatenate(c_m)

        def f(tt, idx):
            return proxy.evaluate(tt, cs[idx])[0][0]

        _, x1, x2, f1, f2 = _chandrupatla(f, ca, cb, cga, cgb, root_tol_s, None, 200)
        lo, hi = np.minimum(x1, x2), np.maximum(x1, x2)
        w = hi - lo
        e = margin[cs]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slope = np.abs(f2 - f1) / w
            d = 1.05 * e / slope
            s_min = slope - cm * (w + d)
            ok = s_min * d > e * (1.0 + 1e-9)
        ok &= np.isfinite(d) & (w > 0)
        u = np.where(ok, np.maximum(ca, lo - d), ca)
        v = np.where(ok, np.minimum(cb, hi + d), cb)
        left = np.where(cga > 0, ABOVE, BELOW)
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.where(ok, x1 - f1 * (x2 - x1) / (f2 - f1), np.nan)
        emit(cs, ca, u, left)
        emit(cs, u, v, np.full(cs.size, PIECE), root, np.where(cgb > cga, slope, -slope),
             s_min)
        emit(cs, v, cb, ABOVE + BELOW - left)
    return Bands(*(np.concatenate(x) for x in (out_g, out_a, out_b, out_l, out_r, out_s,
                                               out_m)))


def _runs_of(new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run, ``new`` marking where one starts."""
    first = np.flatnonzero(new)
    return first, np.r_[first[1:], new.size].astype(np.int64) - 1 if new.size else first


def _runs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run of touching intervals ``[a, b]`` (sorted)."""
    new = np.ones(a.size, bool)
    new[1:] = a[1:] != b[:-1]
    return _runs_of(new)


def _overlay(dom_a: np.ndarray, dom_b: np.ndarray, parts: list[tuple[np.ndarray, ...]]):
    """Cut one series' domain ``[dom_a, dom_b]`` by its components' partitions.

    Returns the open stretches ``(start, end)``, the pieces ``(start, end)`` (both sorted and
    disjoint) and, per piece, ``(component, root, slope, slope_min)``: a piece that is exactly
    one component's hinted band piece, every other component above throughout, gets that
    component and the proxy's hints; others get component -1."""
    # Drop the segments of the finer partitions that lie inside one "below" segment of the
    # coarsest: closed there whatever they say (fewer cuts to merge).
    coarse = min(range(len(parts)), key=lambda j: parts[j][0].size)
    c_start, c_end, c_label = parts[coarse][:3]
    for j, p in enumerate(parts):
        if j == coarse or c_start.size == 0:
            continue
        k = np.maximum(np.searchsorted(c_start, p[0], side="right") - 1, 0)
        keep = ~((c_label[k] == BELOW) & (p[0] >= c_start[k]) & (p[1] <= c_end[k]))
        parts[j] = tuple(x[keep] for x in p)
    # every input is sorted: a stable sort of their concatenation merges runs in linear time
    cuts = np.sort(np.concatenate([dom_a, dom_b] + [x for p in parts for x in p[:2]]),
                   kind="stable")
    cuts = cuts[np.r_[True, cuts[1:] > cuts[:-1]]]
    e = np.empty(0)
    if cuts.size < 2:
        return (e, e), (e, e), (np.empty(0, np.int64), e, e, e)
    lo, hi = cuts[:-1], cuts[1:]
    mid = 0.5 * (lo + hi)
    i = np.searchsorted(dom_a, mid, side="right") - 1
    inside = (i >= 0) & (mid < dom_b[np.maximum(i, 0)])
    is_open = inside.copy()
    closed = ~inside
    labels, where = [], []
    for start, end, label, *_ in parts:
        if start.size == 0:  # nothing classified: undecided
            labels.append(np.full(mid.size, PIECE))
            where.append(np.full(mid.size, -1))
            is_open[:] = False
            continue
        i = np.searchsorted(start, mid, side="right") - 1
        ok = (i >= 0) & (mid < end[np.maximum(i, 0)])
        lab = np.where(ok, label[np.maximum(i, 0)], PIECE)  # not classified: undecided
        is_open &= lab == ABOVE
        closed |= lab == BELOW
        labels.append(lab)
        where.append(np.where(ok, i, -1))
    cls = np.where(closed, 0, np.where(is_open, 1, 2))
    sel = cls == 1
    first, last = _runs(lo[sel], hi[sel])
    opened = (lo[sel][first], hi[sel][last])
    sel = np.flatnonzero(cls == 2)
    first, last = _runs(lo[sel], hi[sel])
    pa, pb = lo[sel][first], hi[sel][last]
    comp = np.full(pa.size, -1, np.int64)
    root, slope = np.full(pa.size, np.nan), np.full(pa.size, np.nan)
    smin = np.full(pa.size, np.nan)
    if pa.size:
        n_piece = np.zeros(pa.size, np.int64)
        for j, (lab, idx, (start, end, _, r, sl, sm)) in enumerate(
                zip(labels, where, parts, strict=True)):
            is_piece = (lab[sel] == PIECE).astype(np.int64)
            any_piece = np.add.reduceat(is_piece, first) > 0
            n_piece += any_piece
            if start.size == 0:
                continue
            k = idx[sel][first]
            same = (np.minimum.reduceat(idx[sel], first) == k) & (
                np.maximum.reduceat(idx[sel], first) == k) & (k >= 0)
            kk = np.maximum(k, 0)
            exact = same & (start[kk] == pa) & (end[kk] == pb) & np.isfinite(r[kk])
            hint = any_piece & exact
            comp = np.where(hint, j, comp)
            root = np.where(hint, r[kk], root)
            slope = np.where(hint, sl[kk], slope)
            smin = np.where(hint, sm[kk], smin)
        comp = np.where(n_piece == 1, comp, -1)
    return opened, (pa, pb), (comp, root, slope, smin)


def _hinted(criterion: Criterion, series: np.ndarray, comp: np.ndarray, a: np.ndarray,
            b: np.ndarray, root: np.ndarray, slope: np.ndarray, tol_s: float) -> np.ndarray:
    """Edges in pieces ``[a, b]`` where component ``comp`` alone changes sign, once, from the
    proxy's ``root`` and ``slope``. Returns the edges (NaN where this failed: those pieces go
    the general way).

    1. ``g`` at the proxy's root ``T``, and a Newton step with the proxy's slope, overshot by
       2% of its length: ``g`` at ``t1`` there, usually on the other side of the root. Where
       ``g(T)`` and ``g(t1)`` differ in sign the root ``t*`` lies between them, and with the
       secant slope ``s = g'(xi)`` and ``M`` bounding ``|g''|`` on ``[T, t1]`` (width ``w``),
       ``t* = t1 - g(t1) / g'(eta)`` and ``|g'(eta) - s| <= M w``: the secant root
       ``t1 - g(t1) / s`` is within ``|g(t1)| M w / (|s| (|s| - M w))`` of ``t*``, accepted
       when that is at most ``tol_s / 2``.
    2. Elsewhere, ``g`` on either side of the secant root, ``eta`` away; where the two
       straddle the root, the secant through them is certified by the curvature bound (as
       :func:`~marsrelay.contacts.finder.refine_roots` does).
    """
    n = series.size
    col = np.arange(n)
    out = np.full(n, np.nan)
    g0, aux0 = criterion.evaluate(root, series)
    g_t = g0[comp, col]
    shift = -g_t / slope
    t1 = np.clip(root + shift * 1.02 + np.copysign(tol_s, shift), a, b)
    g1_all, aux1 = criterion.evaluate(t1, series)
    g_1 = g1_all[comp, col]
    left = t1 < root
    lo_aux = np.where(left, aux1, aux0)
    hi_aux = np.where(left, aux0, aux1)
    w = np.abs(t1 - root)
    _, curv = criterion.bounds(w, series, lo_aux, hi_aux)
    m = curv[comp, col]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = (g_1 - g_t) / (t1 - root)
        est = t1 - g_1 / s
        s_min = np.abs(s) - m * w
        err = np.abs(g_1) * m * w / (s_min * np.abs(s))
        ok = (((g_t > 0) != (g_1 > 0)) & (s_min > 0) & (err <= 0.5 * tol_s)
              & (s * slope > 0) & np.isfinite(est))
    out[ok] = est[ok]
    r = np.flatnonzero(~ok)
    if r.size == 0:
        return out
    # 2: straddle the best estimate so far
    with np.errstate(invalid="ignore"):
        centre = np.where(np.isfinite(est[r]) & (est[r] >= a[r]) & (est[r] <= b[r]), est[r],
                          t1[r])
        guess = np.where(np.isfinite(err[r]), err[r], 0.0)
    eta = np.minimum(np.maximum(np.maximum(4.0 * guess, 0.02 * np.abs(shift[r])),
                                0.25 * tol_s), 0.5 * (b[r] - a[r]))
    x1 = np.maximum(centre - eta, a[r])
    x2 = np.minimum(centre + eta, b[r])
    sr, cr = series[r], comp[r]
    k = r.size
    g, aux = criterion.evaluate(np.concatenate([x1, x2]), np.concatenate([sr, sr]))
    f1 = g[cr, np.arange(k)]
    f2 = g[cr, np.arange(k) + k]
    _, curv = criterion.bounds(x2 - x1, sr, aux[:, :k], aux[:, k:])
    m = curv[cr, np.arange(k)]
    w = x2 - x1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = (f2 - f1) / w
        est2 = x1 - f1 / s
        ok2 = (((f1 > 0) != (f2 > 0)) & (m * w * w <= 4.0 * tol_s * np.abs(s))
               & (s * slope[r] > 0) & np.isfinite(est2))
    out[r[ok2]] = est2[ok2]
    return out


def find_windows_shared(
    criterion: Criterion,
    domains: Intervals,
    *,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
    max_piece_s: float = 60.0,
) -> FinderResult:
    """:func:`~marsrelay.contacts.finder.find_windows` for a criterion whose components are
    all shared (see the module docstring); the same result and guarantee."""
    shared = criterion.shared_components()
    domains = domains.normalized()
    if sorted(sc.component for sc in shared) != list(range(criterion.n_components)):
        return search(criterion, domains, min_duration_s=min_duration_s, tol_s=tol_s)
    if len(domains) == 0:
        return FinderResult(Intervals.empty(), 0, 0)
    n0 = criterion.n_evaluations
    series = np.unique(domains.series)
    bands: list[Bands] = []
    work = 0
    for sc in shared:
        group_dom = Intervals(sc.group_of[domains.series], domains.start,
                              domains.end).normalized()
        # the largest margin of each group, over all its series (not only those searched
        # here): the same cut whatever the subset
        margin = np.zeros(int(sc.group_of.max()) + 1)
        np.maximum.at(margin, sc.group_of, sc.margin)
        w0 = sc.proxy.n_evaluations
        bands.append(classify_bands(sc.proxy, group_dom, margin, max_piece_s=max_piece_s))
        work += sc.proxy.n_evaluations - w0

    bounds = np.searchsorted(domains.series, np.r_[series, series[-1] + 1])
    opened: list[tuple[int, np.ndarray, np.ndarray]] = []
    cols: list[list[np.ndarray]] = [[] for _ in range(7)]
    for n, k in enumerate(series):
        i, j = bounds[n], bounds[n + 1]
        parts = [b.of_group(int(sc.group_of[k])) for sc, b in zip(shared, bands, strict=True)]
        (oa, ob), (pa, pb), hints = _overlay(domains.start[i:j], domains.end[i:j], parts)
        opened.append((int(k), oa, ob))
        for c, x in zip(cols, (np.full(pa.size, k, np.int64), pa, pb, *hints), strict=True):
            c.append(x)
    p_ser, p_a, p_b, p_comp, p_root, p_slope, p_smin = (np.concatenate(c) for c in cols)
    # One hinted component, and either shorter than the minimum duration (any structure
    # inside is shorter still) or monotone: the proxy's |rate| exceeds the margin's rate.
    rate = np.full((criterion.n_components, p_ser.size), np.inf)
    for sc in shared:
        if sc.margin_rate is not None:
            rate[sc.component] = sc.margin_rate[p_ser]
    col = np.maximum(p_comp, 0)
    with np.errstate(invalid="ignore"):
        mono = p_smin > rate[col, np.arange(p_ser.size)]
    fast = np.flatnonzero((p_comp >= 0) & ((p_b - p_a <= min_duration_s) | mono))
    edge = _hinted(criterion, p_ser[fast], p_comp[fast], p_a[fast], p_b[fast], p_root[fast],
                   p_slope[fast], tol_s) if fast.size else np.empty(0)
    done = np.isfinite(edge)
    rising = p_slope[fast][done] > 0
    hw = Intervals(p_ser[fast][done], np.where(rising, edge[done], p_a[fast][done]),
                   np.where(rising, p_b[fast][done], edge[done]))
    rest = np.ones(p_ser.size, bool)
    rest[fast[done]] = False
    pieces = Intervals(p_ser[rest], p_a[rest], p_b[rest])
    found = search(criterion, pieces, min_duration_s=min_duration_s, tol_s=tol_s,
                   whole_domains=True)
    fw = found.windows
    f_bounds = np.searchsorted(fw.series, np.r_[series, series[-1] + 1])
    h_bounds = np.searchsorted(hw.series, np.r_[series, series[-1] + 1])
    w_ser: list[np.ndarray] = []
    w_a: list[np.ndarray] = []
    w_b: list[np.ndarray] = []
    for n, (k, oa, ob) in enumerate(opened):
        i, j = f_bounds[n], f_bounds[n + 1]
        i2, j2 = h_bounds[n], h_bounds[n + 1]
        a = np.concatenate([oa, fw.start[i:j], hw.start[i2:j2]])
        b = np.concatenate([ob, fw.end[i:j], hw.end[i2:j2]])
        order = np.argsort(a, kind="stable")
        a, b = a[order], b[order]
        if a.size:
            new = np.ones(a.size, bool)
            new[1:] = a[1:] > b[:-1]  # touching stretches and piece windows join
            first = np.flatnonzero(new)
            last = np.r_[first[1:], a.size] - 1
            a, b = a[first], b[last]
        w_ser.append(np.full(a.size, k, np.int64))
        w_a.append(a)
        w_b.append(b)
    windows = Intervals(np.concatenate(w_ser), np.concatenate(w_a), np.concatenate(w_b))
    return FinderResult(windows, criterion.n_evaluations - n0 + work,
                        found.n_edges + int(done.sum()))
