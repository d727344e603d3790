"""Upper bounds from linear relaxations, certified from their duals.

An LP solver's optimum is only as exact as its tolerances. :func:`certified_max` turns any
nonnegative multipliers (the LP's duals) into an upper bound by weak duality, so a bound it
returns is valid whatever the solver did; the decomposition's master LP
(:mod:`marsrelay.schedule.decompose.master_lp`) and :func:`lp_bound` both go through it.

:func:`lp_bound` is the linear relaxation of the one-model formulation
(:mod:`marsrelay.schedule.cpsat`), used to report an honest gap when the one-model CP-SAT search
stops at its time limit. SciPy (HiGHS) is imported when a bound is asked for, not with the
package.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marsrelay.schedule.problem import RelayProblem

__all__ = ["certified_max", "lp_bound"]


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


def lp_bound(pb: RelayProblem) -> float:
    """Upper bound of the objective (weighted kbit) from the linear relaxation (HiGHS via
    SciPy): ``0 <= x_p <= 1`` instead of binary, certified from the LP's duals (so the solver's
    tolerances cannot make it too small). Often much tighter than the bound the one-model
    CP-SAT search proves within its time limit, so its reported gap uses the smaller of the
    two. ``inf`` when the LP solver fails."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    act = pb.active
    n, ng = len(act), len(pb.group_demand_kbit)
    if n == 0:
        return 0.0
    col = np.full(len(pb), -1, dtype=np.int64)
    col[act] = np.arange(n)
    usable = pb.usable_kbit()[act].astype(float)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[float] = []

    def add(c: np.ndarray, v: np.ndarray, b: float) -> None:
        rows.append(np.full(len(c), len(rhs)))
        cols.append(c)
        vals.append(v)
        rhs.append(b)

    # Columns: x_p (n), v_p (n), d_g (ng).
    for i in range(n):  # v_p - U_p x_p <= 0
        add(np.array([n + i, i]), np.array([1.0, -usable[i]]), 0.0)
    for g in range(ng):  # d_g - sum v_p <= 0
        members = col[np.flatnonzero(pb.group == g)]
        members = members[members >= 0]
        add(np.r_[2 * n + g, n + members], np.r_[1.0, -np.ones(len(members))], 0.0)
    for clique in pb.cliques:
        add(col[clique], np.ones(len(clique)), 1.0)
    for lim in pb.limits:
        add(col[lim.members], np.ones(len(lim.members)), float(lim.limit))
    for w in pb.capacity:
        add(n + col[w.members], np.ones(len(w.members)), float(w.cap_kbit))
    a = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                  shape=(len(rhs), 2 * n + ng))
    cost = np.zeros(2 * n + ng)
    cost[2 * n:] = -pb.lander_weight[pb.group_lander]
    lower = np.zeros(2 * n + ng)
    lower[:n] = (pb.fixed[act] > 0).astype(float)
    upper = np.concatenate([np.ones(n), usable, pb.group_demand_kbit.astype(float)])
    a = a.tocsr()
    b = np.array(rhs)
    res = linprog(cost, A_ub=a, b_ub=b, bounds=np.stack([lower, upper], 1), method="highs")
    if res.status != 0:
        return float("inf")
    return certified_max(-cost, a, b, lower, upper, res.ineqlin.marginals)
