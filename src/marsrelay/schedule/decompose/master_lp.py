"""Step 4 of the decomposition: the master LP, a certified upper bound and prices.

The linear relaxation of the whole aggregated model (:mod:`.piece_model`: ``0 <= x_p <= 1``)
plus every piece's cuts (:mod:`.cuts`) and the downlink flows, solved by HiGHS (SciPy). Its
bound is certified from its duals (:func:`marsrelay.schedule.lp_bound.certified_max`: valid
whatever the LP solver's tolerances). It also says how much of each shared resource (capacity
class, shared pass limit) each piece uses at the LP optimum (the piece's share for the
restricted master) and the prices (duals) of those resources (for the Lagrangian cuts).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marsrelay.schedule.decompose.cuts import Cut
from marsrelay.schedule.decompose.piece_model import ModelInputs
from marsrelay.schedule.decompose.pieces import ClassKey, Piece
from marsrelay.schedule.lp_bound import certified_max

__all__ = ["master_lp"]


def master_lp(
    data: ModelInputs, pieces: list[Piece], cuts: list[list[Cut]]
) -> tuple[float, dict[tuple[int, Any], float], dict[Any, float]]:
    """Certified LP bound (scaled weights) of the aggregated model with the cuts; each piece's
    use of what it shares in the LP optimum (kbit per capacity class ``(k, key)``, passes per
    shared limit ``(k, ("limit", j))``); the LP's prices (duals) of capacity classes ``key``
    and shared limits ``("limit", j)``."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    pb, usable = data.pb, data.usable_kbit
    lo: list[float] = []
    hi: list[float] = []
    cost: list[float] = []

    def var(low: float, high: float, c: float = 0.0) -> int:
        lo.append(low)
        hi.append(high)
        cost.append(c)
        return len(lo) - 1

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []

    def row(cs: list[int], vs: list[float], bound: float) -> None:
        rows.extend([len(rhs)] * len(cs))
        cols.extend(cs)
        vals.extend(vs)
        rhs.append(bound)

    col = {p: var(1.0 if pb.fixed[p] > 0 else 0.0, 1.0) for p in pb.active.tolist()}
    for clique in pb.cliques:
        row([col[p] for p in clique.tolist()], [1.0] * len(clique), 1.0)
    price_rows: dict[Any, int] = {}
    for j, lim in enumerate(pb.limits):
        price_rows[("limit", j)] = len(rhs)
        row([col[p] for p in lim.members.tolist()], [1.0] * len(lim.members), float(lim.limit))
    y_cols: dict[tuple[int, ClassKey], list[int]] = {}
    per_key: dict[ClassKey, list[int]] = {}
    piece_of = [set(piece.passes) for piece in pieces]
    for k, piece in enumerate(pieces):
        w_cols: list[int] = []
        w_vals: list[float] = []
        t_cols: dict[ClassKey, list[int]] = {}
        for g in piece.groups:
            ps = [p for p in piece.passes if pb.group[p] == g]
            demand = float(pb.group_demand_kbit[g])
            dg = var(0.0, demand, float(data.group_weight[g]))
            w_cols.append(dg)
            w_vals.append(float(data.group_weight[g]))
            cs, vs = [dg], [1.0]
            by_key: dict[ClassKey, list[int]] = {}
            for p in ps:
                if p in data.class_of_pass:
                    by_key.setdefault(data.class_of_pass[p], []).append(p)
                else:
                    cs.append(col[p])
                    vs.append(-float(usable[p]))
            for key, cp in by_key.items():
                top = float(min(usable[cp].sum(), demand, data.class_cap_kbit[key]))
                yv = var(0.0, top)
                row([yv] + [col[p] for p in cp], [1.0] + [-float(usable[p]) for p in cp], 0.0)
                cs.append(yv)
                vs.append(-1.0)
                y_cols.setdefault((k, key), []).append(yv)
                per_key.setdefault(key, []).append(yv)
                t_cols.setdefault(key, []).append(yv)
            row(cs, vs, 0.0)
        n_cols = {j: [col[p] for p in pb.limits[j].members.tolist() if p in piece_of[k]]
                  for j in piece.shared}
        for cut in cuts[k]:
            cs, vs = list(w_cols), [cut.q * v for v in w_vals]
            for key, a in cut.a.items():
                cs += t_cols.get(key, [])
                vs += [-float(a)] * len(t_cols.get(key, []))
            for j, b in cut.b.items():
                cs += n_cols[j]
                vs += [-float(b)] * len(n_cols[j])
            row(cs, vs, float(cut.rhs))
    for fi, flow in enumerate(pb.flows):
        per_segment: list[list[int]] = [[] for _ in flow.segment_cap_kbit]
        for c in range(len(flow.class_members)):
            if (fi, c) not in per_key:
                continue
            ks = range(int(flow.class_first[c]), int(flow.class_last[c]))
            fs = [var(0.0, max(float(flow.segment_cap_kbit[kk]), 0.0)) for kk in ks]
            for kk, fv in zip(ks, fs, strict=True):
                per_segment[kk].append(fv)
            ys = per_key[(fi, c)]
            price_rows[(fi, c)] = len(rhs)
            row(ys + fs, [1.0] * len(ys) + [-1.0] * len(fs), 0.0)
        for kk, fs in enumerate(per_segment):
            if fs:
                row(fs, [1.0] * len(fs), float(flow.segment_cap_kbit[kk]))
    c_max = np.array(cost)
    if not rhs:
        return float(np.sum(np.maximum(c_max * np.array(lo), c_max * np.array(hi)))), {}, {}
    a = coo_array((vals, (rows, cols)), shape=(len(rhs), len(lo))).tocsr()
    b, low, high = np.array(rhs), np.array(lo), np.array(hi)
    res = linprog(-c_max, A_ub=a, b_ub=b, bounds=np.stack([low, high], 1), method="highs")
    if res.status != 0:
        return float("inf"), {}, {}
    duals = -np.asarray(res.ineqlin.marginals, dtype=float)
    bound = certified_max(c_max, a, b, low, high, -duals)
    prices = {key: max(float(duals[r]), 0.0) for key, r in price_rows.items()}
    use: dict[tuple[int, Any], float] = {key: float(res.x[cs].sum())
                                         for key, cs in y_cols.items()}
    for k, piece in enumerate(pieces):
        for j in piece.shared:
            mine = [col[p] for p in pb.limits[j].members.tolist() if p in piece_of[k]]
            use[(k, ("limit", j))] = float(res.x[mine].sum())
    return bound, use, prices
