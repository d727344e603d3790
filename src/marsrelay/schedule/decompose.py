"""Exact pass selection by decomposition: the engine of :func:`~marsrelay.schedule.solve_cpsat`.

The one-model formulation (``x_p``, ``v_p <= V_p x_p``) leaves a small gap in every lander sol:
its linear relaxation lets two landers share one pass, so each sol's relaxation is a little too
optimistic, and a branch-and-bound must close thirty such gaps at once (their product). CP-SAT's
presolve also rewrites ``v_p <= V_p x_p`` into implications its linear relaxation does not see.
This module solves the same problem (same constraints, same objective) in a form where those
gaps are closed piece by piece:

1. **Pieces.** Passes linked by a radio clique or a lander sol form connected components
   (:func:`find_pieces`), typically one sol of the landers at one site. Pieces are coupled only
   by the orbiter-to-Earth capacity (the transport flows of
   :class:`~marsrelay.schedule.problem.DownlinkFlow`) and by pass limits that span several of
   them (a piece keeps such a limit on its own passes, a relaxation).
2. **Aggregated volumes.** Per lander sol ``g`` and capacity class ``c``, one integer
   ``y_gc <= sum_p V_p x_p`` replaces the per-pass volumes (any ``y_gc`` can be split among
   the selected passes, so this is exact); passes in no class count ``V_p x_p`` directly.
   Weights are divided by their greatest common divisor.
3. **Envelope cuts.** For a piece with value ``W`` (weighted delivered kbit) and capacity use
   ``T`` (kbit it sends through capacity classes), small exact CP-SAT solves of
   ``max q W - p T`` over the piece alone give valid inequalities ``q W - p T <= rhs``: the
   upper concave envelope of the piece's (T, W) frontier (Eisner-Severance recursion). Each
   solve's plan is kept as a candidate.
4. **Master.** The linear relaxation of the whole aggregated model plus the cuts (HiGHS) gives
   an upper bound, certified from its duals (:func:`certified_max`: valid whatever the LP
   solver's tolerances), and each piece's share of what it shares; each piece is then solved
   exactly within its share (one more candidate).
5. **Restricted master.** The whole model with every piece's passes restricted to its
   candidates (CP-SAT): a plan satisfying every constraint. Each piece is then re-solved within
   what that plan gives it (never worse, a new candidate) and the restricted master again,
   while it improves. When the plan reaches the certified bound it is optimal.
6. **Lagrangian cuts.** Otherwise each coupled piece is solved at the master's prices (duals) of
   capacity classes and shared limits, ``max q W - sum a_c T_c - sum b_j N_j``: one more valid
   cut and candidate per piece, until the bound stops falling; then 5 again.
7. **Last,** if still unproven, the whole model with every cut by CP-SAT for the remaining
   time, warm-started from the best plan.

CP-SAT runs without its presolve and with its full linear relaxation (``linearization_level =
2``); the whole-model solves also run a second search with presolve side by side
(:func:`_portfolio`), as some instances need it. Steps end at fixed fractions of the time limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from marsrelay.schedule.problem import PassLimit, RelayProblem

if TYPE_CHECKING:
    from marsrelay.schedule.solvers import Selection

__all__ = ["Piece", "certified_max", "find_pieces", "solve_decomposed"]

ClassKey = tuple[int, int]  # (index into pb.flows, class index)

#: Pieces with more passes than this (or than half of all) get no envelope: one solve of such a
#: piece is most of the hard problem.
MAX_ENVELOPE_PASSES: int = 80
#: Largest denominator of the envelope slopes (rationals; the cuts are valid for any slope).
SLOPE_DENOMINATOR: int = 64
#: Deepest envelope recursion (at most 2**depth solves per piece).
MAX_ENVELOPE_DEPTH: int = 10
#: Fractions of the time limit by which the envelopes, the first restricted master, the
#: Lagrangian cuts and the second restricted master must be done (the rest: step 7).
ENVELOPE_SHARE: float = 0.3
MASTER_SHARE: float = 0.45
PRICE_SHARE: float = 0.6
SECOND_MASTER_SHARE: float = 0.75
#: Most rounds of Lagrangian cuts.
MAX_PRICE_ROUNDS: int = 20
#: Pass limits link pieces (True) or couple them like capacity (False).
LINK_LIMITS: bool = False
#: Most rounds of restricted master and per-piece re-optimisation.
MAX_ROUNDS: int = 4


@dataclass
class Piece:
    """A connected component of the passes (see the module docstring): its passes, lander sols,
    radio cliques, pass limits and the capacity classes it sends volume through."""

    passes: list[int]
    groups: list[int]
    cliques: list[np.ndarray] = field(default_factory=list)
    limits: list[PassLimit] = field(default_factory=list)
    keys: list[ClassKey] = field(default_factory=list)
    #: Indices (into ``pb.limits``) of the pass limits this piece shares with other pieces.
    shared: list[int] = field(default_factory=list)


@dataclass
class _Data:
    """Arrays every model of one problem shares."""

    pb: RelayProblem
    usable: np.ndarray  # kbit each pass can carry at most
    cls: dict[int, ClassKey]  # pass -> capacity class
    key_cap: dict[ClassKey, int]  # capacity of a class's segments together, kbit
    weight: np.ndarray  # per group, lander weight / scale
    scale: int


@dataclass
class _PieceVars:
    """The CP-SAT variables of one piece in one model."""

    x: dict[int, Any]
    d: dict[int, Any]
    y: dict[tuple[int, ClassKey], Any]
    value: Any  # sum of weight * d: W
    per_key: dict[ClassKey, list[Any]]  # the y of each capacity class: T_c = sum
    count: dict[int, list[Any]]  # the x of each shared pass limit: N_j = sum

    @property
    def volume(self) -> Any:
        """T: kbit the piece sends through capacity classes."""
        from ortools.sat.python import cp_model

        return cp_model.LinearExpr.sum(list(self.y.values())) if self.y else 0


@dataclass
class _Cut:
    """``q W - sum_c a[c] T_c - sum_j b[j] N_j <= rhs`` for one piece: ``W`` its weighted
    delivered kbit, ``T_c`` its kbit through capacity class ``c``, ``N_j`` its passes counted by
    shared pass limit ``j``. Valid for every plan when ``rhs`` bounds the piece's maximum of
    the left side."""

    q: int
    a: dict[ClassKey, int]
    b: dict[int, int]
    rhs: int


def _cut_expr(data: _Data, pv: _PieceVars, cut: _Cut) -> Any:
    """The left side of ``cut`` over the piece's variables ``pv``."""
    from ortools.sat.python import cp_model

    variables: list[Any] = list(pv.d.values())
    coefs = [cut.q * int(data.weight[g]) for g in pv.d]
    for key, a in cut.a.items():
        variables += pv.per_key.get(key, [])
        coefs += [-a] * len(pv.per_key.get(key, []))
    for j, b in cut.b.items():
        variables += pv.count.get(j, [])
        coefs += [-b] * len(pv.count.get(j, []))
    return cp_model.LinearExpr.weighted_sum(variables, coefs)


def find_pieces(pb: RelayProblem, link_limits: bool | None = None) -> list[Piece]:
    """The connected components of the active passes under radio cliques and lander sols (and
    pass limits when ``link_limits``), in order of their first pass. A pass limit spanning
    several pieces couples them like the capacity flows do: each piece keeps the limit on its
    own passes (a relaxation) and lists it in ``shared``."""
    if link_limits is None:
        link_limits = LINK_LIMITS
    act = pb.active.tolist()
    parent = list(range(len(pb)))

    def root(p: int) -> int:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def link(ids: list[int]) -> None:
        first = root(ids[0])
        for q in ids[1:]:
            parent[root(q)] = first

    for clique in pb.cliques:
        link(clique.tolist())
    if link_limits:
        for lim in pb.limits:
            link(lim.members.tolist())
    by_group: dict[int, list[int]] = {}
    for p in act:
        by_group.setdefault(int(pb.group[p]), []).append(p)
    for ids in by_group.values():
        link(ids)
    label = [root(p) for p in range(len(pb))]
    index: dict[int, int] = {}
    pieces: list[Piece] = []
    for p in act:
        k = index.setdefault(label[p], len(pieces))
        if k == len(pieces):
            pieces.append(Piece([], []))
        pieces[k].passes.append(p)
    for piece in pieces:
        piece.groups = sorted(set(pb.group[piece.passes].tolist()))
    for clique in pb.cliques:
        pieces[index[label[int(clique[0])]]].cliques.append(clique)
    for j, lim in enumerate(pb.limits):
        touched: dict[int, list[int]] = {}
        for p in lim.members.tolist():
            touched.setdefault(index[label[p]], []).append(p)
        if len(touched) == 1:
            pieces[next(iter(touched))].limits.append(lim)
            continue
        for k, ps in touched.items():
            pieces[k].shared.append(j)
            if len(ps) > lim.limit:
                pieces[k].limits.append(PassLimit(lim.orbiter, lim.mtc_sol, lim.limit,
                                                  np.array(ps, dtype=np.int64)))
    for fi, flow in enumerate(pb.flows):
        for c_, members in enumerate(flow.class_members):
            for k in sorted({index[label[p]] for p in members.tolist()}):
                pieces[k].keys.append((fi, c_))
    return pieces


def _data(pb: RelayProblem, usable: np.ndarray) -> _Data:
    """Capacity class of each pass, capacity of each class, weights over their common divisor."""
    cls: dict[int, ClassKey] = {}
    key_cap: dict[ClassKey, int] = {}
    for fi, flow in enumerate(pb.flows):
        for c, members in enumerate(flow.class_members):
            for p in members.tolist():
                cls[p] = (fi, c)
            segs = flow.segment_cap_kbit[int(flow.class_first[c]):int(flow.class_last[c])]
            key_cap[(fi, c)] = int(np.maximum(segs, 0).sum())
    used = np.unique(pb.group[pb.active])
    w = pb.lander_weight[pb.group_lander].astype(np.int64)
    scale = math.gcd(*w[used].tolist()) if used.size else 1
    return _Data(pb, usable, cls, key_cap, w // max(scale, 1), max(scale, 1))


def _add_piece(model: Any, data: _Data, piece: Piece) -> _PieceVars:
    """The piece's variables and constraints (everything but the flows) added to ``model``."""
    from ortools.sat.python import cp_model

    pb, usable = data.pb, data.usable
    x = {p: model.new_bool_var(f"x{p}") for p in piece.passes}
    for p in piece.passes:
        if pb.fixed[p] > 0:
            model.add(x[p] == 1)
    for clique in piece.cliques:
        model.add_at_most_one(x[p] for p in clique.tolist())
    for lim in piece.limits:
        model.add(cp_model.LinearExpr.sum([x[p] for p in lim.members.tolist()]) <= lim.limit)
    members: dict[int, list[int]] = {}
    for p in piece.passes:
        members.setdefault(int(pb.group[p]), []).append(p)
    d: dict[int, Any] = {}
    y: dict[tuple[int, ClassKey], Any] = {}
    per_key: dict[ClassKey, list[Any]] = {}
    for g, ps in members.items():
        demand = int(pb.group_demand_kbit[g])
        d[g] = model.new_int_var(0, demand, f"d{g}")
        free = [p for p in ps if p not in data.cls]
        terms = [int(usable[p]) * x[p] for p in free]
        by_key: dict[ClassKey, list[int]] = {}
        for p in ps:
            if p in data.cls:
                by_key.setdefault(data.cls[p], []).append(p)
        for key, cp in by_key.items():
            top = min(int(usable[cp].sum()), demand, data.key_cap[key])
            var = model.new_int_var(0, top, f"y{g}_{key[0]}_{key[1]}")
            model.add(var <= cp_model.LinearExpr.weighted_sum(
                [x[p] for p in cp], [int(usable[p]) for p in cp]))
            y[(g, key)] = var
            per_key.setdefault(key, []).append(var)
            terms.append(var)
        model.add(d[g] <= cp_model.LinearExpr.sum(terms))
    for key, ys in per_key.items():  # implied by the flows; tightens a piece solved alone
        if len(ys) > 1:
            model.add(cp_model.LinearExpr.sum(ys) <= data.key_cap[key])
    value = cp_model.LinearExpr.weighted_sum(list(d.values()),
                                             [int(data.weight[g]) for g in d])
    count = {j: [x[p] for p in pb.limits[j].members.tolist() if p in x] for j in piece.shared}
    return _PieceVars(x, d, y, value, per_key, count)


def _add_flows(model: Any, pb: RelayProblem, ys: dict[ClassKey, list[Any]]) -> None:
    """The capacity windows in transport form over the class volumes ``ys``."""
    from ortools.sat.python import cp_model

    for fi, flow in enumerate(pb.flows):
        per_segment: list[list[Any]] = [[] for _ in flow.segment_cap_kbit]
        for c in range(len(flow.class_members)):
            if (fi, c) not in ys:
                continue
            ks = range(int(flow.class_first[c]), int(flow.class_last[c]))
            f = [model.new_int_var(0, max(int(flow.segment_cap_kbit[k]), 0), f"f{fi}_{c}_{k}")
                 for k in ks]
            for k, var in zip(ks, f, strict=True):
                per_segment[k].append(var)
            model.add(cp_model.LinearExpr.sum(ys[(fi, c)]) <= cp_model.LinearExpr.sum(f))
        for k, fs in enumerate(per_segment):
            if fs:
                model.add(cp_model.LinearExpr.sum(fs) <= int(flow.segment_cap_kbit[k]))


def _solver(time_s: float, workers: int, seed: int) -> Any:
    """A CP-SAT solver with this module's parameters (module docstring)."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(float(time_s), 1e-3)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    # CP-SAT's presolve turns x => v implications into encodings its LP does not see.
    solver.parameters.cp_model_presolve = False
    solver.parameters.linearization_level = 2
    return solver


@dataclass
class _Envelope:
    """What the envelope of one piece gave: cuts, and the plans found on the way."""

    cuts: list[_Cut]
    candidates: list[tuple[int, ...]]  # x of the piece's passes


def _envelope(data: _Data, piece: Piece, deadline: float, seed: int) -> _Envelope:
    """Valid cuts on (T, W) of one piece and the plans found on the way (module docstring, 3)."""
    from ortools.sat.python import cp_model

    out = _Envelope([], [])

    def run(q: int, p: int, t_zero: bool = False,
            w_min: int | None = None) -> tuple[int, int] | None:
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        model = cp_model.CpModel()
        pv = _add_piece(model, data, piece)
        has_t = bool(pv.y)
        if t_zero and has_t:
            model.add(pv.volume == 0)
        if w_min is not None:
            model.add(pv.value >= w_min)
            model.minimize(pv.volume)
        else:
            model.maximize(q * pv.value - p * pv.volume)
        solver = _solver(left, 1, seed)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        out.candidates.append(tuple(int(solver.value(pv.x[k])) for k in piece.passes))
        if w_min is None and not t_zero:
            # Valid even when the search stopped early: CP-SAT's bound of an integer objective.
            rhs = (round(solver.objective_value) if status == cp_model.OPTIMAL
                   else math.floor(solver.best_objective_bound + 1e-9))
            out.cuts.append(_Cut(q, dict.fromkeys(piece.keys, p) if p else {}, {}, rhs))
        if status != cp_model.OPTIMAL:
            return None
        return (int(solver.value(pv.volume)) if has_t else 0, int(solver.value(pv.value)))

    right = run(1, 0)
    if right is None or not piece.keys or right[0] == 0:
        return out
    right = run(0, 0, w_min=right[1]) or right
    left = run(1, 0, t_zero=True)
    if left is None or right[1] <= left[1] or right[0] <= left[0]:
        return out

    def split(a: tuple[int, int], b: tuple[int, int], depth: int) -> None:
        slope = Fraction(b[1] - a[1], b[0] - a[0]).limit_denominator(SLOPE_DENOMINATOR)
        c = run(slope.denominator, slope.numerator)
        if c is None or depth >= MAX_ENVELOPE_DEPTH:
            return
        above = (b[0] - a[0]) * (c[1] - a[1]) > (b[1] - a[1]) * (c[0] - a[0])
        if a[0] < c[0] < b[0] and above:
            split(a, c, depth + 1)
            split(c, b, depth + 1)

    split(left, right, 0)
    return out


def _price(data: _Data, piece: Piece, prices: dict[Any, float], deadline: float,
           seed: int) -> tuple[_Cut | None, tuple[int, ...] | None]:
    """Lagrangian cut of one piece at the master's prices (kbit of each capacity class, passes
    of each shared limit; rounded to multiples of ``1 / SLOPE_DENOMINATOR``, which keeps the
    cut valid) and the plan that attains it."""
    from ortools.sat.python import cp_model

    left = deadline - time.perf_counter()
    if left <= 0:
        return None, None
    q = SLOPE_DENOMINATOR
    a = {key: round(q * prices.get(key, 0.0)) for key in piece.keys}
    b = {j: round(q * prices.get(("limit", j), 0.0)) for j in piece.shared}
    cut = _Cut(q, {k: v for k, v in a.items() if v > 0}, {k: v for k, v in b.items() if v > 0},
               0)
    model = cp_model.CpModel()
    pv = _add_piece(model, data, piece)
    model.maximize(_cut_expr(data, pv, cut))
    solver = _solver(left, 1, seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, None
    cut.rhs = (round(solver.objective_value) if status == cp_model.OPTIMAL
               else math.floor(solver.best_objective_bound + 1e-9))
    return cut, tuple(int(solver.value(pv.x[p])) for p in piece.passes)


def certified_max(cost: np.ndarray, a: Any, b: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   marginals: np.ndarray) -> float:
    """Upper bound of ``max cost . z`` over ``{a z <= b, lo <= z <= hi}`` from the multipliers
    ``-marginals`` of the minimisation of ``-cost``. Weak duality holds for any nonnegative
    multipliers, so the LP solver's tolerances cannot make the bound too small."""
    lam = np.maximum(-np.asarray(marginals, dtype=float), 0.0)
    red = cost - a.T @ lam
    terms = np.maximum(red * lo, red * hi)
    bound = float(lam @ b + terms.sum())
    slack = 1e-9 * float(lam @ np.abs(b) + np.abs(terms).sum()) + 1e-9
    return bound + slack


def _master_lp(
    data: _Data, pieces: list[Piece], cuts: list[list[_Cut]]
) -> tuple[float, dict[tuple[int, Any], float], dict[Any, float]]:
    """Certified LP bound (scaled weights) of the aggregated model with the cuts; each piece's
    use of what it shares in the LP optimum (kbit per capacity class ``(k, key)``, passes per
    shared limit ``(k, ("limit", j))``); the LP's prices (duals) of capacity classes ``key``
    and shared limits ``("limit", j)``."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    pb, usable = data.pb, data.usable
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
            dg = var(0.0, demand, float(data.weight[g]))
            w_cols.append(dg)
            w_vals.append(float(data.weight[g]))
            cs, vs = [dg], [1.0]
            by_key: dict[ClassKey, list[int]] = {}
            for p in ps:
                if p in data.cls:
                    by_key.setdefault(data.cls[p], []).append(p)
                else:
                    cs.append(col[p])
                    vs.append(-float(usable[p]))
            for key, cp in by_key.items():
                top = float(min(usable[cp].sum(), demand, data.key_cap[key]))
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


def _within_share(data: _Data, piece: Piece, share: dict[Any, int], deadline: float,
                  seed: int) -> tuple[int, ...] | None:
    """Best plan of one piece using at most ``share[key]`` kbit of each capacity class and
    ``share[("limit", j)]`` passes of each shared pass limit ``j``."""
    from ortools.sat.python import cp_model

    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    model = cp_model.CpModel()
    pv = _add_piece(model, data, piece)
    by_key: dict[ClassKey, list[Any]] = {}
    for (_, key), var in pv.y.items():
        by_key.setdefault(key, []).append(var)
    for key, ys in by_key.items():
        model.add(cp_model.LinearExpr.sum(ys) <= share.get(key, 0))
    for j in piece.shared:
        mine = [pv.x[p] for p in data.pb.limits[j].members.tolist() if p in pv.x]
        model.add(cp_model.LinearExpr.sum(mine) <= share.get(("limit", j), 0))
    model.maximize(pv.value)
    solver = _solver(left, 1, seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return tuple(int(solver.value(pv.x[p])) for p in piece.passes)


@dataclass
class _Plan:
    """A plan in the aggregated variables (scaled weights)."""

    x: dict[int, int]
    y: dict[tuple[int, ClassKey], int]
    d: dict[int, int]
    objective: int  # scaled weights
    bound: float  # scaled weights, of the model solved (only global for the full model)
    optimal: bool


def _solve_whole(
    data: _Data,
    pieces: list[Piece],
    time_s: float,
    workers: int,
    seed: int,
    cuts: list[list[_Cut]] | None = None,
    candidates: list[list[tuple[int, ...]] | None] | None = None,
    hint: _Plan | None = None,
) -> _Plan | None:
    """The whole aggregated model (with ``cuts``; with each piece restricted to its
    ``candidates`` when given, ``None`` leaving a piece free)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    xs: dict[int, Any] = {}
    ys: dict[tuple[int, ClassKey], Any] = {}
    ds: dict[int, Any] = {}
    per_key: dict[ClassKey, list[Any]] = {}
    for k, piece in enumerate(pieces):
        pv = _add_piece(model, data, piece)
        xs.update(pv.x)
        ys.update(pv.y)
        ds.update(pv.d)
        for (_, key), var in pv.y.items():
            per_key.setdefault(key, []).append(var)
        for cut in cuts[k] if cuts is not None else ():
            model.add(_cut_expr(data, pv, cut) <= cut.rhs)
        pool = candidates[k] if candidates is not None else None
        if pool:
            options = sorted(set(pool))
            if len(options) == 1:
                for p, v in zip(piece.passes, options[0], strict=True):
                    model.add(pv.x[p] == v)
            else:
                z = [model.new_bool_var(f"z{k}_{j}") for j in range(len(options))]
                model.add_exactly_one(z)
                for i, p in enumerate(piece.passes):
                    on = [zj for zj, opt in zip(z, options, strict=True) if opt[i]]
                    model.add(pv.x[p] == cp_model.LinearExpr.sum(on))
                if hint is not None:
                    mine = tuple(hint.x.get(p, 0) for p in piece.passes)
                    for zj, opt in zip(z, options, strict=True):
                        model.add_hint(zj, opt == mine)
    for j in sorted({j for piece in pieces for j in piece.shared}):
        members = data.pb.limits[j].members.tolist()
        model.add(cp_model.LinearExpr.sum([xs[p] for p in members]) <= data.pb.limits[j].limit)
    _add_flows(model, data.pb, per_key)
    model.maximize(cp_model.LinearExpr.weighted_sum(list(ds.values()),
                                                    [int(data.weight[g]) for g in ds]))
    if hint is not None:
        for p, var in xs.items():
            model.add_hint(var, hint.x.get(p, 0))
        for key, var in ys.items():
            model.add_hint(var, hint.y.get(key, 0))
        for g, var in ds.items():
            model.add_hint(var, hint.d.get(g, 0))
    found = _portfolio(model, time_s, workers, seed)
    if found is None:
        return None
    solver, bound, optimal = found
    return _Plan(
        x={p: int(solver.value(v)) for p, v in xs.items()},
        y={key: int(solver.value(v)) for key, v in ys.items()},
        d={g: int(solver.value(v)) for g, v in ds.items()},
        objective=round(solver.objective_value),
        bound=bound,
        optimal=optimal,
    )


def _portfolio(
    model: Any, time_s: float, workers: int, seed: int
) -> tuple[Any, float, bool] | None:
    """Solve a maximisation ``model`` with CP-SAT's presolve off and on, side by side (one
    thread each when ``workers >= 2``; which one wins depends on the instance), stopping both
    as soon as one proves its answer. Returns the solver holding the best plan, the best
    proven bound and whether the plan is proven optimal; ``None`` without any plan."""
    import threading

    from ortools.sat.python import cp_model

    solvers = [_solver(time_s, max(workers - workers // 2, 1), seed)]
    models = [model]
    if workers >= 2:
        solvers.append(_solver(time_s, workers // 2, seed))
        solvers[1].parameters.cp_model_presolve = True
        models.append(model.clone())
    status: list[Any] = [None] * len(solvers)
    finished = threading.Event()

    def run(i: int) -> None:
        if not finished.is_set():
            status[i] = solvers[i].solve(models[i])
        if status[i] in (cp_model.OPTIMAL, cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
            finished.set()

    if len(solvers) == 1:
        run(0)
    else:
        threads = [threading.Thread(target=run, args=(i,), daemon=True)
                   for i in range(len(solvers))]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            # A solve may start just after a stop request: repeat it until every one has ended.
            if finished.is_set():
                for s in solvers:
                    s.stop_search()
            next(t for t in threads if t.is_alive()).join(0.005)
    done = [i for i, st in enumerate(status) if st in (cp_model.OPTIMAL, cp_model.FEASIBLE)]
    if not done:
        return None
    proven = [i for i in done if status[i] == cp_model.OPTIMAL]
    best = proven[0] if proven else max(done, key=lambda i: solvers[i].objective_value)
    bound = min(float(solvers[i].best_objective_bound) for i in range(len(solvers))
                if status[i] is not None and status[i] != cp_model.UNKNOWN)
    return solvers[best], bound, bool(proven)


def _volumes(data: _Data, plan: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """Selected passes and kbit per pass of a plan: free passes carry their usable volume, each
    ``y_gc`` is split over the selected passes of its class in time order."""
    pb = data.pb
    selected = np.zeros(len(pb), dtype=bool)
    planned = np.zeros(len(pb), dtype=np.int64)
    for p, v in plan.x.items():
        selected[p] = bool(v)
        if v and p not in data.cls:
            planned[p] = int(data.usable[p])
    for (g, key), amount in plan.y.items():
        left = amount
        for p in data.pb.flows[key[0]].class_members[key[1]].tolist():
            if left <= 0:
                break
            if pb.group[p] == g and selected[p]:
                take = min(left, int(data.usable[p]))
                planned[p] = take
                left -= take
    return selected, planned


def _hint_plan(data: _Data, hint: Selection) -> _Plan:
    """A warm start in the aggregated variables from another solver's plan."""
    pb = data.pb
    act = pb.active.tolist()
    y: dict[tuple[int, ClassKey], int] = {}
    for p in act:
        if p in data.cls and hint.selected[p]:
            key = (int(pb.group[p]), data.cls[p])
            y[key] = y.get(key, 0) + int(hint.planned_kbit[p])
    per_group = np.bincount(pb.group, weights=hint.planned_kbit,
                            minlength=len(pb.group_demand_kbit))
    d = {int(g): int(min(per_group[g], pb.group_demand_kbit[g])) for g in np.unique(pb.group[act])}
    value = sum(int(data.weight[g]) * v for g, v in d.items())
    return _Plan({p: int(hint.selected[p]) for p in act}, y, d, value, float("inf"), False)


def _map(fn: Any, items: list[int], workers: int) -> list[Any]:
    """``[fn(i) for i in items]`` on ``workers`` threads (CP-SAT releases the GIL while it
    searches), results in the order of ``items``."""
    if workers <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _add_candidates(candidates: list[list[tuple[int, ...]] | None], ks: list[int],
                    found: list[tuple[int, ...] | None]) -> None:
    """Append each plan found for piece ``ks[i]`` to its candidates."""
    for k, plan in zip(ks, found, strict=True):
        pool = candidates[k]
        if plan is not None and pool is not None:
            pool.append(plan)


def solve_decomposed(
    pb: RelayProblem,
    usable: np.ndarray,
    time_limit_s: float,
    workers: int,
    hint: Selection | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, str, float]:
    """Solve ``pb`` exactly (module docstring). ``usable`` (kbit per pass) bounds each pass's
    volume. Returns the selected passes, kbit planned per pass (before trimming to demand),
    the status (``FEASIBLE``, or ``HINT`` when no better plan than ``hint`` was found; the
    caller compares the plan with the bound) and the proven upper bound of the objective in
    weighted kbit (``inf`` when none)."""
    start = time.perf_counter()
    limit = float(time_limit_s)

    def at(share: float) -> float:
        return start + share * limit

    data = _data(pb, usable)
    pieces = find_pieces(pb)
    start_plan = _hint_plan(data, hint) if hint is not None else None

    # Steps 1-3 (module docstring): pieces, envelopes (cuts and candidates), smallest pieces
    # first, so that a timeout costs the largest.
    # A piece holding most of the problem is left to the last step: its envelope would cost
    # several solves of nearly the whole problem.
    most = min(MAX_ENVELOPE_PASSES, len(pb.active) // 2)
    todo = sorted((k for k in range(len(pieces)) if len(pieces[k].passes) <= most),
                  key=lambda k: len(pieces[k].passes))
    envelopes: list[_Envelope | None] = [None] * len(pieces)
    found = _map(lambda k: _envelope(data, pieces[k], at(ENVELOPE_SHARE), seed), todo, workers)
    for k, env in zip(todo, found, strict=True):
        envelopes[k] = env
    cuts = [e.cuts if e is not None else [] for e in envelopes]
    candidates: list[list[tuple[int, ...]] | None] = []
    for piece, env in zip(pieces, envelopes, strict=True):
        pool = list(env.candidates) if env is not None else []
        if start_plan is not None:
            pool.append(tuple(start_plan.x[p] for p in piece.passes))
        candidates.append(pool or None)
    coupled = [k for k, piece in enumerate(pieces) if envelopes[k] is not None
               and (piece.keys or piece.shared) and candidates[k] is not None]

    # Steps 4-5: master LP (bound and shares), restricted master.
    bound_lp, use, prices = _master_lp(data, pieces, cuts)
    bound = math.floor(bound_lp) if math.isfinite(bound_lp) else float("inf")
    best = _improve(data, pieces, candidates, coupled, use, start_plan, bound, at(MASTER_SHARE),
                    workers, seed)

    # Step 6, not proven yet: Lagrangian cuts at the master's prices, then 5 again.
    if best is None or best.objective < bound:
        for _ in range(MAX_PRICE_ROUNDS):
            if time.perf_counter() >= at(PRICE_SHARE):
                break
            priced = _map(lambda k, prices=prices: _price(data, pieces[k], prices,
                                                          at(PRICE_SHARE), seed),
                          coupled, workers)
            for k, (cut, plan) in zip(coupled, priced, strict=True):
                if cut is not None:
                    cuts[k].append(cut)
                _add_candidates(candidates, [k], [plan])
            new_lp, use, prices = _master_lp(data, pieces, cuts)
            improved = math.isfinite(new_lp) and math.floor(new_lp) < bound
            bound = min(bound, math.floor(new_lp)) if math.isfinite(new_lp) else bound
            if not improved or (best is not None and best.objective >= bound):
                break
        if best is None or best.objective < bound:
            best = _improve(data, pieces, candidates, coupled, use, best, bound,
                            at(SECOND_MASTER_SHARE), workers, seed)

    # Step 7, still not proven: the whole model with every cut, warm-started.
    if best is None or best.objective < bound:
        final = _solve_whole(data, pieces, start + limit - time.perf_counter(), workers, seed,
                             cuts=cuts, hint=best)
        if final is not None:
            bound = min(bound, math.floor(final.bound + 1e-9))
            if best is None or final.objective >= best.objective:
                best = final
            if final.optimal:
                bound = min(bound, final.objective)
    if best is None:
        raise RuntimeError(f"CP-SAT found no plan within {time_limit_s} s")
    if best is start_plan and hint is not None:
        selected, planned, status = hint.selected.copy(), hint.planned_kbit.copy(), "HINT"
    else:
        selected, planned = _volumes(data, best)
        status = "FEASIBLE"
    return selected, planned, status, float(bound) * data.scale


def _improve(
    data: _Data,
    pieces: list[Piece],
    candidates: list[list[tuple[int, ...]] | None],
    coupled: list[int],
    use: dict[tuple[int, Any], float],
    best: _Plan | None,
    bound: float,
    deadline: float,
    workers: int,
    seed: int,
) -> _Plan | None:
    """Restricted master rounds (module docstring, 4-5): each coupled piece's best plan within
    its LP share, then alternately the restricted master and each piece's best plan within
    what the master's plan gives it (never worse; the master then trades between them)."""
    pb = data.pb

    def lp_share(k: int) -> tuple[int, ...] | None:
        share = {key: math.floor(v + 1e-6) for (kk, key), v in use.items() if kk == k}
        return _within_share(data, pieces[k], share, deadline, seed)

    _add_candidates(candidates, coupled, _map(lp_share, coupled, workers))
    first = True
    for _ in range(MAX_ROUNDS):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        plan = _solve_whole(data, pieces, left, workers, seed, candidates=candidates, hint=best)
        if plan is None or (best is not None and plan.objective <= best.objective
                            and not first):
            break
        first = False
        if best is None or plan.objective >= best.objective:
            best = plan
        if best.objective >= bound:
            break

        def plan_share(k: int, plan: _Plan = best) -> tuple[int, ...] | None:
            share: dict[Any, int] = {}
            for (g, key), amount in plan.y.items():
                if g in pieces[k].groups:
                    share[key] = share.get(key, 0) + amount
            mine = set(pieces[k].passes)
            for j in pieces[k].shared:
                share[("limit", j)] = sum(plan.x[p] for p in pb.limits[j].members.tolist()
                                          if p in mine)
            return _within_share(data, pieces[k], share, deadline, seed)

        _add_candidates(candidates, coupled, _map(plan_share, coupled, workers))
    return best
