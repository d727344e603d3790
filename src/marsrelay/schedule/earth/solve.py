"""Solvers of the Earth allocation: the greedy baseline and the exact CP-SAT model.

Both return an :class:`EarthSelection` of the same :class:`~.problem.EarthProblem`, valued by
the same objective (:func:`~.problem.candidate_values`: granted requests first, then volume).

- :func:`solve_greedy`: explicit tracks first, then candidates by value (largest first, earlier
  first at equal value); a candidate is taken when its request has room, its spacecraft is free
  over its window and its antenna serves fewer than its capacity at every instant of it.
- :func:`solve_cpsat`: OR-Tools CP-SAT. ``x_c`` (take candidate ``c``) with an optional
  interval of fixed position per candidate; ``NoOverlap`` over each spacecraft's intervals;
  ``Cumulative`` (demand 1, capacity ``mspa``) over each antenna's, ``NoOverlap`` where the
  capacity is 1; ``sum x_c <= limit`` per request; explicit tracks fixed to 1. Maximise
  ``sum value_c x_c``, warm-started from the greedy plan; stops at the time limit with the
  best plan and the proven bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from marsrelay.errors import InputError
from marsrelay.schedule.earth.problem import EarthProblem

__all__ = ["EarthSelection", "IntervalLoad", "check_explicit", "solve_cpsat", "solve_greedy"]


@dataclass(frozen=True)
class EarthSelection:
    """Which candidates a solver took (``selected``), the objective (sum of their values), the
    proven ``best_bound`` (NaN for greedy), the relative ``gap`` to it (0 when optimal, NaN
    for greedy), the ``status`` and the wall time ``solve_s``."""

    solver: str
    status: str
    selected: np.ndarray
    objective: int
    best_bound: float
    gap: float
    solve_s: float


def objective_of(pb: EarthProblem, selected: np.ndarray) -> int:
    """Sum of the values of the selected candidates."""
    return int(pb.value[np.asarray(selected, dtype=bool)].sum())


class IntervalLoad:
    """Accepted intervals per key (spacecraft or antenna), for greedy feasibility checks."""

    def __init__(self) -> None:
        self.starts: dict[int, list[float]] = {}
        self.ends: dict[int, list[float]] = {}

    def peak(self, key: int, a: float, b: float) -> int:
        """Most accepted intervals of ``key`` overlapping at one instant of ``(a, b)``."""
        s = np.asarray(self.starts.get(key, ()), dtype=float)
        e = np.asarray(self.ends.get(key, ()), dtype=float)
        m = (s < b) & (e > a)
        if not m.any():
            return 0
        s, e = np.maximum(s[m], a), np.minimum(e[m], b)
        events = np.concatenate([np.stack([s, np.ones_like(s)], 1),
                                 np.stack([e, -np.ones_like(e)], 1)])
        order = np.lexsort((events[:, 1], events[:, 0]))  # ends before starts at one instant
        return int(np.cumsum(events[order, 1]).max())

    def add(self, key: int, a: float, b: float) -> None:
        self.starts.setdefault(key, []).append(a)
        self.ends.setdefault(key, []).append(b)


def check_explicit(pb: EarthProblem) -> None:
    """Explicit tracks must fit together: their spacecraft free, their antennas within
    capacity. :class:`~marsrelay.errors.InputError` naming the first that does not."""
    craft, antenna = IntervalLoad(), IntervalLoad()
    for c in np.flatnonzero(pb.fixed).tolist():
        a, b = float(pb.start_tdb_s[c]), float(pb.end_tdb_s[c])
        k, s = int(pb.cand_craft[c]), int(pb.cand_station[c])
        if craft.peak(k, a, b) > 0:
            raise InputError(f"explicit track {pb.pass_label(c)} overlaps another track of "
                             f"{pb.craft[k]}", field=f"earth.orbiters.{pb.craft[k]}.tracks",
                             allowed="tracks of one orbiter that do not overlap")
        if antenna.peak(s, a, b) >= pb.station_mspa[s]:
            raise InputError(f"explicit track {pb.pass_label(c)} exceeds {pb.stations[s]}'s "
                             f"capacity ({pb.station_mspa[s]} at once)",
                             field=f"earth.orbiters.{pb.craft[k]}.tracks",
                             allowed="explicit tracks within each antenna's capacity "
                                     f"(earth.stations.{pb.stations[s]}.mspa)")
        craft.add(k, a, b)
        antenna.add(s, a, b)


def solve_greedy(pb: EarthProblem) -> EarthSelection:
    """The greedy baseline (see the module docstring)."""
    t0 = time.perf_counter()
    n = len(pb)
    selected = np.zeros(n, dtype=bool)
    left = pb.req_limit.copy()
    craft, antenna = IntervalLoad(), IntervalLoad()
    order = np.lexsort((pb.start_tdb_s, -pb.value, ~pb.fixed)) if n else np.zeros(0, int)
    for c in order.tolist():
        r = int(pb.request[c])
        if not pb.fixed[c] and left[r] <= 0:
            continue
        a, b = float(pb.start_tdb_s[c]), float(pb.end_tdb_s[c])
        k, s = int(pb.cand_craft[c]), int(pb.cand_station[c])
        if not pb.fixed[c] and (craft.peak(k, a, b) > 0
                                or antenna.peak(s, a, b) >= pb.station_mspa[s]):
            continue
        selected[c] = True
        craft.add(k, a, b)
        antenna.add(s, a, b)
        if r >= 0:
            left[r] -= 1
    return EarthSelection("greedy", "FEASIBLE", selected, objective_of(pb, selected),
                          float("nan"), float("nan"), time.perf_counter() - t0)


def solve_cpsat(pb: EarthProblem, time_limit_s: float = 10.0, workers: int = 2,
                hint: EarthSelection | None = None, seed: int = 0) -> EarthSelection:
    """The exact CP-SAT model (see the module docstring). Status ``OPTIMAL`` when proven,
    ``FEASIBLE`` otherwise (``HINT`` when nothing better than the warm start was found)."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    n = len(pb)
    if n == 0:
        return EarthSelection("cpsat", "OPTIMAL", np.zeros(0, dtype=bool), 0, 0.0, 0.0,
                              time.perf_counter() - t0)
    origin = pb.horizon_start_tdb_s
    start = np.round(pb.start_tdb_s - origin).astype(np.int64)  # whole seconds
    end = np.maximum(np.round(pb.end_tdb_s - origin).astype(np.int64), start + 1)
    model = cp_model.CpModel()
    x = [model.NewBoolVar(f"x{c}") for c in range(n)]
    iv = [model.NewOptionalFixedSizeIntervalVar(int(start[c]), int(end[c] - start[c]), x[c],
                                                f"i{c}") for c in range(n)]
    for c in np.flatnonzero(pb.fixed).tolist():
        model.Add(x[c] == 1)
    for k in range(len(pb.craft)):
        members = np.flatnonzero(pb.cand_craft == k).tolist()
        if len(members) > 1:
            model.AddNoOverlap([iv[c] for c in members])
    for s in range(len(pb.stations)):
        members = np.flatnonzero(pb.cand_station == s).tolist()
        if len(members) <= pb.station_mspa[s]:
            continue
        if pb.station_mspa[s] == 1:
            model.AddNoOverlap([iv[c] for c in members])
        else:
            model.AddCumulative([iv[c] for c in members], [1] * len(members),
                                int(pb.station_mspa[s]))
    for r in range(len(pb.req_limit)):
        members = np.flatnonzero(pb.request == r).tolist()
        if len(members) > pb.req_limit[r]:
            model.Add(sum(x[c] for c in members) <= int(pb.req_limit[r]))
    model.Maximize(sum(int(pb.value[c]) * x[c] for c in range(n)))
    if hint is not None:
        for c in range(n):
            model.AddHint(x[c], bool(hint.selected[c]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    code = solver.Solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if hint is None:
            raise RuntimeError(f"CP-SAT found no Earth allocation ({solver.StatusName(code)})")
        return EarthSelection("cpsat", "HINT", hint.selected.copy(), hint.objective,
                              float(solver.BestObjectiveBound()), float("nan"),
                              time.perf_counter() - t0)
    selected = np.array([solver.BooleanValue(v) for v in x], dtype=bool)
    obj = objective_of(pb, selected)
    status = "OPTIMAL" if code == cp_model.OPTIMAL else "FEASIBLE"
    if hint is not None and hint.objective > obj:  # never worse than the warm start
        selected, obj, status = hint.selected.copy(), hint.objective, "HINT"
    bound = float(obj) if status == "OPTIMAL" else float(solver.BestObjectiveBound())
    gap = 0.0 if status == "OPTIMAL" else max(0.0, (bound - obj) / max(abs(bound), 1.0))
    return EarthSelection("cpsat", status, selected, obj, bound, gap, time.perf_counter() - t0)
