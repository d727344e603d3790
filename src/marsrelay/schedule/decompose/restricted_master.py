"""Step 5 of the decomposition: the restricted master and per-piece re-optimisation.

Each piece keeps a pool of candidate plans (from its envelope and Lagrangian solves, the warm
start, and the solves here). The restricted master is the whole model with every piece
restricted to its pool (:func:`~.whole_model.solve_whole_model`): a plan satisfying every
constraint. :func:`improve_by_restricted_master` first adds each coupled piece's best plan
within its master-LP share, then alternates the restricted master and each piece's best plan
within what the master's plan gives it (:func:`best_within_share`: never worse, a new
candidate), while the plan improves.
"""

from __future__ import annotations

import math
import time
from typing import Any

from marsrelay.schedule.decompose.piece_model import (
    ModelInputs,
    add_piece,
    map_threads,
    new_solver,
)
from marsrelay.schedule.decompose.pieces import ClassKey, Piece
from marsrelay.schedule.decompose.whole_model import AggregatedPlan, solve_whole_model

__all__ = ["add_candidates", "best_within_share", "improve_by_restricted_master"]


def best_within_share(data: ModelInputs, piece: Piece, share: dict[Any, int], deadline: float,
                      seed: int) -> tuple[int, ...] | None:
    """Best plan of one piece using at most ``share[key]`` kbit of each capacity class and
    ``share[("limit", j)]`` passes of each shared pass limit ``j``."""
    from ortools.sat.python import cp_model

    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    model = cp_model.CpModel()
    pv = add_piece(model, data, piece)
    by_key: dict[ClassKey, list[Any]] = {}
    for (_, key), var in pv.y.items():
        by_key.setdefault(key, []).append(var)
    for key, ys in by_key.items():
        model.add(cp_model.LinearExpr.sum(ys) <= share.get(key, 0))
    for j in piece.shared:
        mine = [pv.x[p] for p in data.pb.limits[j].members.tolist() if p in pv.x]
        model.add(cp_model.LinearExpr.sum(mine) <= share.get(("limit", j), 0))
    model.maximize(pv.weighted_delivered)
    solver = new_solver(left, 1, seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return tuple(int(solver.value(pv.x[p])) for p in piece.passes)


def add_candidates(candidates: list[list[tuple[int, ...]] | None], ks: list[int],
                   found: list[tuple[int, ...] | None]) -> None:
    """Append each plan found for piece ``ks[i]`` to its candidates."""
    for k, plan in zip(ks, found, strict=True):
        pool = candidates[k]
        if plan is not None and pool is not None:
            pool.append(plan)


def improve_by_restricted_master(
    data: ModelInputs,
    pieces: list[Piece],
    candidates: list[list[tuple[int, ...]] | None],
    coupled: list[int],
    use: dict[tuple[int, Any], float],
    best: AggregatedPlan | None,
    bound: float,
    deadline: float,
    workers: int,
    seed: int,
    max_rounds: int,
) -> AggregatedPlan | None:
    """Restricted master rounds (module docstring): each coupled piece's best plan within its
    LP share ``use`` (see :func:`~.master_lp.master_lp`), then up to ``max_rounds`` times the
    restricted master and each piece's best plan within what the master's plan gives it (never
    worse; the master then trades between them). Stops at ``deadline``
    (``time.perf_counter()`` s) or when the plan reaches ``bound``; returns the best plan."""
    pb = data.pb

    def lp_share(k: int) -> tuple[int, ...] | None:
        share = {key: math.floor(v + 1e-6) for (kk, key), v in use.items() if kk == k}
        return best_within_share(data, pieces[k], share, deadline, seed)

    add_candidates(candidates, coupled, map_threads(lp_share, coupled, workers))
    first = True
    for _ in range(max_rounds):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        plan = solve_whole_model(data, pieces, left, workers, seed, candidates=candidates,
                                 hint=best)
        if plan is None or (best is not None and plan.objective <= best.objective
                            and not first):
            break
        first = False
        if best is None or plan.objective >= best.objective:
            best = plan
        if best.objective >= bound:
            break

        def plan_share(k: int, plan: AggregatedPlan = best) -> tuple[int, ...] | None:
            share: dict[Any, int] = {}
            for (g, key), amount in plan.y.items():
                if g in pieces[k].groups:
                    share[key] = share.get(key, 0) + amount
            mine = set(pieces[k].passes)
            for j in pieces[k].shared:
                share[("limit", j)] = sum(plan.x[p] for p in pb.limits[j].members.tolist()
                                          if p in mine)
            return best_within_share(data, pieces[k], share, deadline, seed)

        add_candidates(candidates, coupled, map_threads(plan_share, coupled, workers))
    return best
