"""Step 2 of the decomposition: the aggregated CP-SAT model of a piece, and solver settings.

Per lander sol ``g`` and capacity class ``c``, one integer ``y_gc <= sum_p U_p x_p`` replaces
the per-pass volumes (any ``y_gc`` can be split among the selected passes, so this is exact);
passes in no class count ``U_p x_p`` directly. Weights are divided by their greatest common
divisor. :func:`add_piece` adds one piece's variables and constraints to a model (everything
but the downlink flows, :func:`add_flows`, which couple pieces); every model of the
decomposition (envelope and Lagrangian solves, the master, the whole model) is built from them.

CP-SAT runs without its presolve and with its full linear relaxation (``linearization_level =
2``, :func:`new_solver`): its presolve rewrites ``x => v`` implications into encodings its
linear relaxation does not see. OR-Tools is imported when a model is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from marsrelay.schedule.decompose.pieces import ClassKey, Piece
from marsrelay.schedule.problem import RelayProblem

__all__ = [
    "ModelInputs",
    "PieceVars",
    "add_flows",
    "add_piece",
    "map_threads",
    "model_inputs",
    "new_solver",
]


@dataclass
class ModelInputs:
    """Arrays every model of one problem shares: the problem ``pb``; ``usable_kbit`` (most each
    pass can carry, kbit); ``class_of_pass`` (pass -> its capacity class, for passes in one);
    ``class_cap_kbit`` (what a class's downlink segments carry together, kbit);
    ``group_weight`` (per lander sol, its lander's weight divided by ``weight_gcd``, the
    greatest common divisor of the weights in use: objectives here are in those units)."""

    pb: RelayProblem
    usable_kbit: np.ndarray
    class_of_pass: dict[int, ClassKey]
    class_cap_kbit: dict[ClassKey, int]
    group_weight: np.ndarray
    weight_gcd: int


@dataclass
class PieceVars:
    """The CP-SAT variables of one piece in one model: ``x`` (take pass ``p``), ``d`` (kbit
    delivered in lander sol ``g``), ``y`` (kbit of lander sol ``g`` through capacity class
    ``c``, keyed ``(g, c)``); ``weighted_delivered`` (``W = sum weight_g d_g``);
    ``class_volumes`` (the ``y`` of each capacity class: ``T_c`` is their sum);
    ``shared_counts`` (the ``x`` counted by each shared pass limit ``j``: ``N_j`` is their
    sum)."""

    x: dict[int, Any]
    d: dict[int, Any]
    y: dict[tuple[int, ClassKey], Any]
    weighted_delivered: Any
    class_volumes: dict[ClassKey, list[Any]]
    shared_counts: dict[int, list[Any]]

    @property
    def class_volume(self) -> Any:
        """T: kbit the piece sends through capacity classes."""
        from ortools.sat.python import cp_model

        return cp_model.LinearExpr.sum(list(self.y.values())) if self.y else 0


def model_inputs(pb: RelayProblem, usable: np.ndarray) -> ModelInputs:
    """Capacity class of each pass, capacity of each class, weights over their common divisor
    (:class:`ModelInputs`); ``usable`` is the most each pass can carry, kbit."""
    class_of_pass: dict[int, ClassKey] = {}
    class_cap: dict[ClassKey, int] = {}
    for fi, flow in enumerate(pb.flows):
        for c, members in enumerate(flow.class_members):
            for p in members.tolist():
                class_of_pass[p] = (fi, c)
            segs = flow.segment_cap_kbit[int(flow.class_first[c]):int(flow.class_last[c])]
            class_cap[(fi, c)] = int(np.maximum(segs, 0).sum())
    used = np.unique(pb.group[pb.active])
    w = pb.lander_weight[pb.group_lander].astype(np.int64)
    gcd = math.gcd(*w[used].tolist()) if used.size else 1
    return ModelInputs(pb, usable, class_of_pass, class_cap, w // max(gcd, 1), max(gcd, 1))


def add_piece(model: Any, data: ModelInputs, piece: Piece) -> PieceVars:
    """The piece's variables and constraints (everything but the flows) added to ``model``."""
    from ortools.sat.python import cp_model

    pb, usable = data.pb, data.usable_kbit
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
    class_volumes: dict[ClassKey, list[Any]] = {}
    for g, ps in members.items():
        demand = int(pb.group_demand_kbit[g])
        d[g] = model.new_int_var(0, demand, f"d{g}")
        free = [p for p in ps if p not in data.class_of_pass]
        terms = [int(usable[p]) * x[p] for p in free]
        by_key: dict[ClassKey, list[int]] = {}
        for p in ps:
            if p in data.class_of_pass:
                by_key.setdefault(data.class_of_pass[p], []).append(p)
        for key, cp in by_key.items():
            top = min(int(usable[cp].sum()), demand, data.class_cap_kbit[key])
            var = model.new_int_var(0, top, f"y{g}_{key[0]}_{key[1]}")
            model.add(var <= cp_model.LinearExpr.weighted_sum(
                [x[p] for p in cp], [int(usable[p]) for p in cp]))
            y[(g, key)] = var
            class_volumes.setdefault(key, []).append(var)
            terms.append(var)
        model.add(d[g] <= cp_model.LinearExpr.sum(terms))
    for key, ys in class_volumes.items():  # implied by the flows; tightens a piece solved alone
        if len(ys) > 1:
            model.add(cp_model.LinearExpr.sum(ys) <= data.class_cap_kbit[key])
    weighted = cp_model.LinearExpr.weighted_sum(list(d.values()),
                                                [int(data.group_weight[g]) for g in d])
    shared_counts = {j: [x[p] for p in pb.limits[j].members.tolist() if p in x]
                     for j in piece.shared}
    return PieceVars(x, d, y, weighted, class_volumes, shared_counts)


def add_flows(model: Any, pb: RelayProblem, ys: dict[ClassKey, list[Any]]) -> None:
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


def new_solver(time_s: float, workers: int, seed: int) -> Any:
    """A CP-SAT solver for ``time_s`` s (wall clock) on ``workers`` threads with this module's
    parameters (module docstring)."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(float(time_s), 1e-3)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    # CP-SAT's presolve turns x => v implications into encodings its LP does not see.
    solver.parameters.cp_model_presolve = False
    solver.parameters.linearization_level = 2
    return solver


def map_threads(fn: Any, items: list[int], workers: int) -> list[Any]:
    """``[fn(i) for i in items]`` on ``workers`` threads (CP-SAT releases the GIL while it
    searches), results in the order of ``items``."""
    if workers <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
