"""The exact optimiser: OR-Tools CP-SAT, by decomposition or as one model.

The model: ``x_p`` (take pass ``p``), ``v_p`` (kbit planned on it, ``0 <= v_p <= U_p x_p`` with
``U_p`` from :meth:`~marsrelay.schedule.problem.RelayProblem.usable_kbit`), ``d_g`` (kbit
delivered in lander sol ``g``, ``d_g <= sum v_p``, ``d_g <= demand_g``). Constraints: at most
one pass per radio clique, passes per orbiter sol, fixed requests, and the capacity windows in
transport form (flow variables per class of passes and downlink segment, see
:class:`~marsrelay.schedule.problem.DownlinkFlow`). Objective: maximise ``sum_g weight_g d_g``
(weighted delivered volume).

:func:`solve_cpsat` solves it piece by piece by default (:mod:`marsrelay.schedule.decompose`:
lander sols coupled only through downlink capacity and shared pass limits, envelope and
Lagrangian cuts, a restricted master, then the whole model with the cuts), which proves
optimality where the one-model search cannot close the gap; ``decompose=False`` solves the
model above as it stands (:func:`solve_one_model`, the reference). Warm-started from the greedy
plan; stops at the time limit and reports the best proven bound and the relative gap.

OR-Tools and SciPy are imported when a solve starts, not with the package (about 1 s).
"""

from __future__ import annotations

import time

import numpy as np

from marsrelay.schedule.decompose import solve_decomposed
from marsrelay.schedule.lp_bound import lp_bound
from marsrelay.schedule.problem import RelayProblem
from marsrelay.schedule.selection import Selection, objective_of
from marsrelay.schedule.splits import prefer_whole_passes

__all__ = ["solve_cpsat", "solve_one_model"]


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

    t0 = time.perf_counter()
    if decompose:
        selected, planned, name, bound = solve_decomposed(
            pb, pb.usable_kbit(), time_limit_s, workers, hint, seed)
    else:
        selected, planned, name, bound = solve_one_model(pb, time_limit_s, workers, hint, seed)
    # d_g <= sum v_p: trim volume planned beyond demand (keeps the objective).
    _trim_to_demand(pb, selected, planned)
    obj = objective_of(pb, planned)
    _drop_idle(pb, selected, planned)
    prefer_whole_passes(pb, selected, planned)
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


def solve_one_model(
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
    usable = pb.usable_kbit()
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


def _drop_idle(pb: RelayProblem, selected: np.ndarray, planned: np.ndarray) -> None:
    """Unselect passes that carry nothing (and were not required): dropping them only relaxes
    every constraint."""
    idle = selected & (planned <= 0) & (pb.fixed <= 0)
    selected[idle] = False


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
