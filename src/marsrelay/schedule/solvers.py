"""Two solvers of a :class:`~marsrelay.schedule.problem.RelayProblem`.

- :func:`solve_greedy`: a fast baseline. Required passes first, then the others by weighted
  usable volume (largest first); a pass is taken if it conflicts with nothing taken, its
  orbiter's per-sol limit allows it, and it can still carry something (lander sol demand and
  orbiter-to-Earth capacity left). Never better than the optimum; often close.
- :func:`solve_cpsat`: the exact optimiser (OR-Tools CP-SAT). The model: ``x_p`` (take pass
  ``p``), ``v_p`` (kbit planned on it, ``0 <= v_p <= V_p x_p``), ``d_g`` (kbit delivered in
  lander sol ``g``, ``d_g <= sum v_p``, ``d_g <= demand_g``). Constraints: at most one pass per
  radio clique, passes per orbiter sol, fixed requests, and the capacity windows in transport
  form (flow variables per class of passes and downlink segment, see
  :class:`~marsrelay.schedule.problem.DownlinkFlow`). Objective: maximise
  ``sum_g weight_g d_g`` (weighted delivered volume). By default it is solved piece by piece
  (:mod:`marsrelay.schedule.decompose`: lander sols coupled only through downlink capacity and
  shared pass limits, envelope and Lagrangian cuts, a restricted master, then the whole model
  with the cuts), which proves optimality where the one-model search cannot close the gap;
  ``decompose=False`` solves the model above as it stands (the reference). Warm-started from
  the greedy plan; stops at the time limit and reports the best proven bound and the relative
  gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from marsrelay.schedule.problem import RelayProblem

__all__ = ["Selection", "lp_bound", "objective_of", "solve_cpsat", "solve_greedy"]


@dataclass
class Selection:
    """A solver's answer: which passes (``selected``, bool per pass) with how much volume
    (``planned_kbit``); ``objective``/``best_bound`` in weighted kbit; ``gap`` relative
    (``(bound - objective) / bound``, 0 when proven optimal); ``solve_s`` wall-clock seconds."""

    solver: str
    status: str
    selected: np.ndarray
    planned_kbit: np.ndarray
    objective: int
    best_bound: float
    gap: float
    solve_s: float


def objective_of(pb: RelayProblem, planned_kbit: np.ndarray) -> int:
    """Weighted delivered volume (weighted kbit) of a plan: per lander sol, delivery capped by
    demand, times the lander's weight."""
    per_group = np.bincount(pb.group, weights=planned_kbit, minlength=len(pb.group_demand_kbit))
    delivered = np.minimum(per_group, pb.group_demand_kbit)
    return int(np.round(np.sum(delivered * pb.lander_weight[pb.group_lander])))


def _drop_idle(pb: RelayProblem, selected: np.ndarray, planned: np.ndarray) -> None:
    """Unselect passes that carry nothing (and were not required): dropping them only relaxes
    every constraint."""
    idle = selected & (planned <= 0) & (pb.fixed <= 0)
    selected[idle] = False


def solve_greedy(pb: RelayProblem) -> Selection:
    """Greedy baseline (see the module docstring); deterministic, O(n log n + conflicts)."""
    t0 = time.perf_counter()
    n = len(pb)
    selected = np.zeros(n, dtype=bool)
    planned = np.zeros(n, dtype=np.int64)
    act = pb.active
    nbrs = pb.neighbours()
    caps_of, lims_of = pb.memberships()
    cap_left = np.array([w.cap_kbit for w in pb.capacity], dtype=np.int64)
    lim_left = np.array([lim.limit for lim in pb.limits], dtype=np.int64)
    dem_left = pb.group_demand_kbit.copy()
    usable = np.minimum(pb.volume_kbit, pb.group_demand_kbit[pb.group])
    key = -(pb.weight * usable).astype(float)
    order = act[np.lexsort((pb.start_tdb_s[act], key[act], -pb.fixed[act]))]
    for p in order.tolist():
        if any(selected[q] for q in nbrs[p]):
            continue
        if any(lim_left[k] <= 0 for k in lims_of[p]):
            continue
        room = min([int(pb.volume_kbit[p]), int(dem_left[pb.group[p]])]
                   + [int(cap_left[k]) for k in caps_of[p]])
        room = max(room, 0)
        if room <= 0 and pb.fixed[p] <= 0:
            continue
        selected[p] = True
        planned[p] = room
        dem_left[pb.group[p]] -= room
        for k in caps_of[p]:
            cap_left[k] -= room
        for k in lims_of[p]:
            lim_left[k] -= 1
    obj = objective_of(pb, planned)
    return Selection("greedy", "FEASIBLE", selected, planned, obj, float("nan"), float("nan"),
                     time.perf_counter() - t0)


def solve_cpsat(
    pb: RelayProblem,
    time_limit_s: float = 10.0,
    workers: int = 2,
    hint: Selection | None = None,
    seed: int = 0,
    decompose: bool = True,
) -> Selection:
    """Exact optimisation with OR-Tools CP-SAT (see the module docstring).

    ``time_limit_s`` bounds the search (wall clock, s); ``workers`` is the number of search
    threads; ``hint`` (e.g. the greedy plan) warm-starts it. With ``decompose`` (the default)
    the problem is solved piece by piece with envelope cuts and a restricted master
    (:mod:`marsrelay.schedule.decompose`); without it, as one CP-SAT model (the reference
    formulation, much slower when orbiter-to-Earth capacity binds). The returned status is
    ``OPTIMAL`` when the plan reaches the proven bound, else ``FEASIBLE`` (or ``HINT`` when no
    better plan than ``hint`` was found); the plan always satisfies every constraint.
    """
    # Load the solver libraries first: solve_s is the solve, not the one-off imports (~1 s).
    import scipy.optimize  # noqa: F401
    from ortools.sat.python import cp_model  # noqa: F401

    from marsrelay.schedule.decompose import solve_decomposed

    t0 = time.perf_counter()
    if decompose:
        selected, planned, name, bound = solve_decomposed(
            pb, _usable_kbit(pb), time_limit_s, workers, hint, seed)
    else:
        selected, planned, name, bound = _solve_one_model(pb, time_limit_s, workers, hint, seed)
    # d_g <= sum v_p: trim volume planned beyond demand (keeps the objective).
    _trim_to_demand(pb, selected, planned)
    obj = objective_of(pb, planned)
    _drop_idle(pb, selected, planned)
    if name != "OPTIMAL":
        lp = lp_bound(pb) if not decompose else float("inf")
        bound = min(bound, np.floor(lp))
        if obj >= bound:  # the bound proves the plan optimal
            name = "OPTIMAL"
    if name == "OPTIMAL":
        bound = float(obj)
    if name == "OPTIMAL":
        gap = 0.0
    elif np.isfinite(bound):
        gap = max(0.0, (bound - obj) / max(abs(bound), 1.0))
    else:  # nothing proven
        gap = 1.0
    return Selection("cpsat", name, selected, planned, obj, float(bound), gap,
                     time.perf_counter() - t0)


def _solve_one_model(
    pb: RelayProblem, time_limit_s: float, workers: int, hint: Selection | None, seed: int
) -> tuple[np.ndarray, np.ndarray, str, float]:
    """The whole problem as one CP-SAT model with per-pass volumes (see the module docstring):
    selected passes, planned kbit, CP-SAT's status and its bound (weighted kbit)."""
    from ortools.sat.python import cp_model

    n = len(pb)
    act = pb.active.tolist()
    model = cp_model.CpModel()
    x: dict[int, cp_model.IntVar] = {}
    v: dict[int, cp_model.IntVar] = {}
    usable = _usable_kbit(pb)
    for p in act:
        cap = int(usable[p])
        x[p] = model.new_bool_var(f"x{p}")
        v[p] = model.new_int_var(0, cap, f"v{p}")
        model.add(v[p] <= cap * x[p])
        if pb.fixed[p] > 0:
            model.add(x[p] == 1)
    members: list[list[int]] = [[] for _ in range(len(pb.group_demand_kbit))]
    for p in act:
        members[int(pb.group[p])].append(p)
    obj_vars, obj_coefs = [], []
    for g, ps in enumerate(members):
        if not ps:
            continue
        d = model.new_int_var(0, int(pb.group_demand_kbit[g]), f"d{g}")
        model.add(d <= cp_model.LinearExpr.sum([v[p] for p in ps]))
        obj_vars.append(d)
        obj_coefs.append(int(pb.lander_weight[pb.group_lander[g]]))
    for clique in pb.cliques:
        model.add_at_most_one(x[p] for p in clique.tolist())
    for lim in pb.limits:
        model.add(cp_model.LinearExpr.sum([x[p] for p in lim.members.tolist()]) <= lim.limit)
    for flow in pb.flows:  # the capacity windows, in their (smaller) transport form
        per_segment: list[list[cp_model.IntVar]] = [[] for _ in flow.segment_cap_kbit]
        for c, class_members in enumerate(flow.class_members):
            ks = range(int(flow.class_first[c]), int(flow.class_last[c]))
            f = [model.new_int_var(0, max(int(flow.segment_cap_kbit[k]), 0), f"f{c}_{k}")
                 for k in ks]
            for k, var in zip(ks, f, strict=True):
                per_segment[k].append(var)
            model.add(cp_model.LinearExpr.sum([v[p] for p in class_members.tolist()])
                      <= cp_model.LinearExpr.sum(f))
        for k, fs in enumerate(per_segment):
            if fs:
                model.add(cp_model.LinearExpr.sum(fs) <= int(flow.segment_cap_kbit[k]))
    model.maximize(cp_model.LinearExpr.weighted_sum(obj_vars, obj_coefs))
    if hint is not None:
        for p in act:
            model.add_hint(x[p], bool(hint.selected[p]))
            model.add_hint(v[p], int(hint.planned_kbit[p]))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    name = solver.status_name(status)
    selected = np.zeros(n, dtype=bool)
    planned = np.zeros(n, dtype=np.int64)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for p in act:
            selected[p] = bool(solver.value(x[p]))
            planned[p] = int(solver.value(v[p]))
        return selected, planned, name, float(solver.best_objective_bound)
    if hint is not None:  # no plan within the time limit: fall back to the hint
        return (hint.selected.copy(), hint.planned_kbit.copy(), "HINT",
                float(solver.best_objective_bound))
    raise RuntimeError(f"CP-SAT found no plan ({name}) within {time_limit_s} s")


def lp_bound(pb: RelayProblem) -> float:
    """Upper bound of the objective (weighted kbit) from the linear relaxation (HiGHS via
    SciPy): ``0 <= x_p <= 1`` instead of binary, certified from the LP's duals (so the solver's
    tolerances cannot make it too small). Often much tighter than the bound the one-model
    CP-SAT search proves within its time limit, so its reported gap uses the smaller of the
    two."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    act = pb.active
    n, ng = len(act), len(pb.group_demand_kbit)
    if n == 0:
        return 0.0
    col = np.full(len(pb), -1, dtype=np.int64)
    col[act] = np.arange(n)
    usable = _usable_kbit(pb)[act].astype(float)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[float] = []

    def add(c: np.ndarray, v: np.ndarray, b: float) -> None:
        rows.append(np.full(len(c), len(rhs)))
        cols.append(c)
        vals.append(v)
        rhs.append(b)

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
    from marsrelay.schedule.decompose import certified_max

    return certified_max(-cost, a, b, lower, upper, res.ineqlin.marginals)


def _usable_kbit(pb: RelayProblem) -> np.ndarray:
    """Most each pass can carry in any plan: its volume, its lander sol's demand, and every
    capacity window it is in. Used as the coefficient of ``v_p <= U_p x_p`` (a tighter linear
    relaxation than the pass volume alone when capacity or demand is small)."""
    usable = np.minimum(pb.volume_kbit, pb.group_demand_kbit[pb.group])
    for w in pb.capacity:
        usable[w.members] = np.minimum(usable[w.members], max(w.cap_kbit, 0))
    return usable


def _trim_to_demand(pb: RelayProblem, selected: np.ndarray, planned: np.ndarray) -> None:
    """Reduce planned volume where a lander sol got more than its demand (latest passes
    first), so that planned volume is what is delivered."""
    per_group = np.bincount(pb.group, weights=planned, minlength=len(pb.group_demand_kbit))
    for g in np.flatnonzero(per_group > pb.group_demand_kbit).tolist():
        excess = int(per_group[g] - pb.group_demand_kbit[g])
        for p in np.flatnonzero((pb.group == g) & (planned > 0))[::-1].tolist():
            cut = min(excess, int(planned[p]))
            planned[p] -= cut
            excess -= cut
            if excess == 0:
                break
