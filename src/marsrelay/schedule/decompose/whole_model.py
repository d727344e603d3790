"""Steps 5 and 7 of the decomposition: the whole aggregated model as one CP-SAT model.

:func:`solve_whole_model` builds every piece (:func:`~.piece_model.add_piece`), the shared pass
limits and the downlink flows, with optional cuts (step 7: the whole model with every cut) or
with each piece restricted to a pool of candidate plans (step 5: the restricted master, one
boolean per candidate). It is solved by :func:`solve_portfolio`: CP-SAT with its presolve off
and on side by side, as some instances need one and some the other.

:class:`AggregatedPlan` is a plan in the aggregated variables; :func:`pass_volumes` turns it
back into per-pass volumes and :func:`plan_from_selection` turns another solver's plan into one
(a warm start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from marsrelay.schedule.decompose.cuts import Cut, cut_lhs
from marsrelay.schedule.decompose.piece_model import (
    ModelInputs,
    add_flows,
    add_piece,
    new_solver,
)
from marsrelay.schedule.decompose.pieces import ClassKey, Piece
from marsrelay.schedule.selection import Selection

__all__ = [
    "AggregatedPlan",
    "pass_volumes",
    "plan_from_selection",
    "solve_portfolio",
    "solve_whole_model",
]


@dataclass
class AggregatedPlan:
    """A plan in the aggregated variables (:class:`~.piece_model.PieceVars`: ``x`` per pass,
    ``y`` per (lander sol, class), ``d`` per lander sol, kbit); objective and bound in the
    weights of :class:`~.piece_model.ModelInputs` (divided by their common divisor)."""

    x: dict[int, int]
    y: dict[tuple[int, ClassKey], int]
    d: dict[int, int]
    objective: int  # scaled weights
    bound: float  # scaled weights, of the model solved (only global for the full model)
    optimal: bool


def solve_whole_model(
    data: ModelInputs,
    pieces: list[Piece],
    time_s: float,
    workers: int,
    seed: int,
    cuts: list[list[Cut]] | None = None,
    candidates: list[list[tuple[int, ...]] | None] | None = None,
    hint: AggregatedPlan | None = None,
) -> AggregatedPlan | None:
    """The whole aggregated model (with ``cuts``; with each piece restricted to its
    ``candidates`` when given, ``None`` leaving a piece free)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    xs: dict[int, Any] = {}
    ys: dict[tuple[int, ClassKey], Any] = {}
    ds: dict[int, Any] = {}
    per_key: dict[ClassKey, list[Any]] = {}
    for k, piece in enumerate(pieces):
        pv = add_piece(model, data, piece)
        xs.update(pv.x)
        ys.update(pv.y)
        ds.update(pv.d)
        for (_, key), var in pv.y.items():
            per_key.setdefault(key, []).append(var)
        for cut in cuts[k] if cuts is not None else ():
            model.add(cut_lhs(data, pv, cut) <= cut.rhs)
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
    add_flows(model, data.pb, per_key)
    model.maximize(cp_model.LinearExpr.weighted_sum(list(ds.values()),
                                                    [int(data.group_weight[g]) for g in ds]))
    if hint is not None:
        for p, var in xs.items():
            model.add_hint(var, hint.x.get(p, 0))
        for key, var in ys.items():
            model.add_hint(var, hint.y.get(key, 0))
        for g, var in ds.items():
            model.add_hint(var, hint.d.get(g, 0))
    found = solve_portfolio(model, time_s, workers, seed)
    if found is None:
        return None
    solver, bound, optimal = found
    return AggregatedPlan(
        x={p: int(solver.value(v)) for p, v in xs.items()},
        y={key: int(solver.value(v)) for key, v in ys.items()},
        d={g: int(solver.value(v)) for g, v in ds.items()},
        objective=round(solver.objective_value),
        bound=bound,
        optimal=optimal,
    )


def solve_portfolio(
    model: Any, time_s: float, workers: int, seed: int
) -> tuple[Any, float, bool] | None:
    """Solve a maximisation ``model`` with CP-SAT's presolve off and on, side by side (one
    thread each when ``workers >= 2``; which one wins depends on the instance), stopping both
    as soon as one proves its answer. Returns the solver holding the best plan, the best
    proven bound and whether the plan is proven optimal; ``None`` without any plan."""
    import threading

    from ortools.sat.python import cp_model

    solvers = [new_solver(time_s, max(workers - workers // 2, 1), seed)]
    models = [model]
    if workers >= 2:
        solvers.append(new_solver(time_s, workers // 2, seed))
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


def pass_volumes(data: ModelInputs, plan: AggregatedPlan) -> tuple[np.ndarray, np.ndarray]:
    """Selected passes and kbit per pass of a plan: free passes carry their usable volume, each
    ``y_gc`` is split over the selected passes of its class in time order."""
    pb = data.pb
    selected = np.zeros(len(pb), dtype=bool)
    planned = np.zeros(len(pb), dtype=np.int64)
    for p, v in plan.x.items():
        selected[p] = bool(v)
        if v and p not in data.class_of_pass:
            planned[p] = int(data.usable_kbit[p])
    for (g, key), amount in plan.y.items():
        left = amount
        for p in data.pb.flows[key[0]].class_members[key[1]].tolist():
            if left <= 0:
                break
            if pb.group[p] == g and selected[p]:
                take = min(left, int(data.usable_kbit[p]))
                planned[p] = take
                left -= take
    return selected, planned


def plan_from_selection(data: ModelInputs, hint: Selection) -> AggregatedPlan:
    """A warm start in the aggregated variables from another solver's plan."""
    pb = data.pb
    act = pb.active.tolist()
    y: dict[tuple[int, ClassKey], int] = {}
    for p in act:
        if p in data.class_of_pass and hint.selected[p]:
            key = (int(pb.group[p]), data.class_of_pass[p])
            y[key] = y.get(key, 0) + int(hint.planned_kbit[p])
    per_group = np.bincount(pb.group, weights=hint.planned_kbit,
                            minlength=len(pb.group_demand_kbit))
    d = {int(g): int(min(per_group[g], pb.group_demand_kbit[g])) for g in np.unique(pb.group[act])}
    value = sum(int(data.group_weight[g]) * v for g, v in d.items())
    return AggregatedPlan({p: int(hint.selected[p]) for p in act}, y, d, value, float("inf"), False)
