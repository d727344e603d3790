"""Solvers of the Earth allocation: the greedy baseline and the exact CP-SAT model.

Both return an :class:`EarthSelection` of the same :class:`~.problem.EarthProblem`, valued by
the same objective (:func:`~.problem.candidate_values`: granted requests first, then volume).

- :func:`solve_greedy`: explicit tracks first, then candidates by value (largest first, earlier
  first at equal value); a candidate is taken when its request has room, its spacecraft is free
  over its window and its antenna serves fewer than its capacity at every instant of it.
- :func:`solve_cpsat`: OR-Tools CP-SAT. ``x_c`` (take candidate ``c``); at most one of each
  maximal clique of a spacecraft's overlapping candidates; at most ``mspa`` of each maximal
  clique of an antenna's (the exact linear form of both interval rules, and a much tighter
  relaxation than interval variables with ``NoOverlap``/``Cumulative``: the 2019 scenario's
  contended case is proven optimal in seconds instead of not at all); ``sum x_c <= limit``
  per request; explicit tracks fixed to 1. Solved lexicographically (the most passes, then
  the most volume with that many), warm-started from the greedy plan; stops at the time
  limit with the best plan and the proven bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from marsrelay.errors import InputError
from marsrelay.schedule.conflicts import interval_cliques
from marsrelay.schedule.earth.problem import VOLUME_UNIT_BITS, EarthProblem

__all__ = [
    "COUNT_SHARE",
    "EarthSelection",
    "IntervalLoad",
    "check_explicit",
    "request_bounds",
    "solve_cpsat",
    "solve_greedy",
]

#: Fraction of the time limit for the first search (the most passes granted).
COUNT_SHARE: float = 0.5


@dataclass(frozen=True)
class EarthSelection:
    """Which candidates a solver took (``selected``), the objective (sum of their values), the
    proven ``best_bound`` of it (NaN for greedy), the relative ``gap`` (0 when optimal, NaN for
    greedy; in passes granted, or in volume once the passes are proven the most possible),
    the ``status`` and the wall time ``solve_s``."""

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
                             f"{pb.craft[k]}", field=f"{pb.craft[k]}: orbiter.tracking.tracks",
                             allowed="tracks of one orbiter that do not overlap")
        if antenna.peak(s, a, b) >= pb.station_mspa[s]:
            raise InputError(f"explicit track {pb.pass_label(c)} exceeds {pb.stations[s]}'s "
                             f"capacity ({pb.station_mspa[s]} at once)",
                             field=f"{pb.craft[k]}: orbiter.tracking.tracks",
                             allowed="explicit tracks within each antenna's capacity "
                                     f"({pb.stations[s]}: station mspa)")
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


def request_bounds(pb: EarthProblem) -> tuple[int, int, int]:
    """Upper bounds from each request on its own (conflicts between requests ignored):
    ``(passes, volume with those passes, volume)`` where a request gives its most
    non-overlapping candidates up to its limit (and, among those sets, the most volume units),
    and separately its most volume units with at most ``limit`` non-overlapping candidates
    (weighted interval scheduling); explicit tracks included. A plan granting the first bound
    carries at most the second; any plan carries at most the third."""
    vol = np.floor(np.nan_to_num(pb.volume_bits) / VOLUME_UNIT_BITS).astype(np.int64)
    count = int(pb.fixed.sum())
    volume_at_count = volume_any = int(vol[pb.fixed].sum())
    for r in range(len(pb.req_limit)):
        members = np.flatnonzero(pb.request == r)
        k = int(pb.req_limit[r])
        if k <= 0 or members.size == 0:
            continue
        order = members[np.argsort(pb.end_tdb_s[members], kind="stable")]
        ends = pb.end_tdb_s[order]
        prev = np.searchsorted(ends, pb.start_tdb_s[order], side="right")  # compatible prefix
        m = len(order)
        # lexicographic (passes, volume) and volume alone, with at most j of the first i
        lex = np.zeros((k + 1, m + 1, 2), dtype=np.int64)
        alone = np.zeros((k + 1, m + 1), dtype=np.int64)
        for j in range(1, k + 1):
            for i in range(1, m + 1):
                p, v = prev[i - 1], vol[order[i - 1]]
                take = (lex[j - 1, p, 0] + 1, lex[j - 1, p, 1] + v)
                keep = (lex[j, i - 1, 0], lex[j, i - 1, 1])
                lex[j, i] = max(take, keep)
                alone[j, i] = max(alone[j - 1, p] + v, alone[j, i - 1])
        count += int(lex[k, m, 0])
        volume_at_count += int(lex[k, m, 1])
        volume_any += int(alone[k, m])
    return count, volume_at_count, volume_any


def solve_cpsat(pb: EarthProblem, time_limit_s: float = 10.0, workers: int = 2,
                hint: EarthSelection | None = None, seed: int = 0) -> EarthSelection:
    """The exact CP-SAT model (see the module docstring), solved lexicographically: the most
    passes granted first (within :data:`COUNT_SHARE` of the time), then the most volume with
    that many. A plan reaching the per-request bounds (:func:`request_bounds`) is optimal
    without a search. Status ``OPTIMAL`` when proven, ``FEASIBLE`` otherwise (``HINT`` when
    nothing better than the warm start was found); ``gap`` is relative: in passes granted
    while their number is not proven the most possible, in volume once it is."""
    t0 = time.perf_counter()
    n = len(pb)
    if n == 0:
        return EarthSelection("cpsat", "OPTIMAL", np.zeros(0, dtype=bool), 0, 0.0, 0.0,
                              time.perf_counter() - t0)
    vol = np.floor(np.nan_to_num(pb.volume_bits) / VOLUME_UNIT_BITS).astype(np.int64)
    weight = int(pb.value[0] - vol[0])  # value = weight + volume units
    cap_n, cap_v_at_n, cap_v = request_bounds(pb)
    if hint is not None:
        h_n = int(hint.selected.sum())
        h_v = int(vol[hint.selected].sum())
        if h_n == cap_n and h_v == cap_v_at_n:
            return EarthSelection("cpsat", "OPTIMAL", hint.selected.copy(), hint.objective,
                                  float(hint.objective), 0.0, time.perf_counter() - t0)
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = [model.NewBoolVar(f"x{c}") for c in range(n)]
    for c in np.flatnonzero(pb.fixed).tolist():
        model.Add(x[c] == 1)
    for k in range(len(pb.craft)):  # a spacecraft: one pass at a time
        members = np.flatnonzero(pb.cand_craft == k)
        for clique in interval_cliques(pb.start_tdb_s[members], pb.end_tdb_s[members]):
            model.AddAtMostOne([x[c] for c in members[clique].tolist()])
    for s in range(len(pb.stations)):  # an antenna: at most its capacity at once
        members = np.flatnonzero(pb.cand_station == s)
        cap = int(pb.station_mspa[s])
        for clique in interval_cliques(pb.start_tdb_s[members], pb.end_tdb_s[members]):
            if len(clique) > cap:
                model.Add(sum(x[c] for c in members[clique].tolist()) <= cap)
    for r in range(len(pb.req_limit)):
        members = np.flatnonzero(pb.request == r).tolist()
        if len(members) > pb.req_limit[r]:
            model.Add(sum(x[c] for c in members) <= int(pb.req_limit[r]))

    def search(seconds: float, current: np.ndarray | None) -> tuple[np.ndarray | None, float]:
        """The best plan found within ``seconds`` (None: none) and the proven bound."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(float(seconds), 0.05)
        solver.parameters.num_workers = int(workers)
        solver.parameters.random_seed = int(seed)
        if current is not None:
            model.ClearHints()
            for c in range(n):
                model.AddHint(x[c], bool(current[c]))
        code = solver.Solve(model)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, float("inf")
        found = np.array([solver.BooleanValue(v) for v in x], dtype=bool)
        bound = float(solver.ObjectiveValue()) if code == cp_model.OPTIMAL else float(
            solver.BestObjectiveBound())
        return found, float(np.floor(bound + 1e-6))  # integer objectives

    # 1. The most passes granted.
    current = None if hint is None else hint.selected.copy()
    count_bound = float(cap_n)
    if current is None or int(current.sum()) < cap_n:
        model.Maximize(sum(x))
        found, bound = search(COUNT_SHARE * time_limit_s, current)
        if found is not None and (current is None or found.sum() > current.sum()):
            current = found
        count_bound = min(count_bound, bound)
    if current is None:
        raise RuntimeError("CP-SAT found no Earth allocation")
    granted = int(current.sum())
    # 2. The most volume with that many passes.
    model.Add(sum(x) >= granted)
    model.Maximize(sum(int(vol[c]) * x[c] for c in range(n)))
    left = max(time_limit_s - (time.perf_counter() - t0), 0.1 * time_limit_s)
    found, vol_bound = search(left, current)
    if found is not None and int(vol[found].sum()) >= int(vol[current].sum()):
        current = found
    vol_bound = min(vol_bound, float(cap_v_at_n if granted == cap_n else cap_v))
    obj = objective_of(pb, current)
    carried = int(vol[current].sum())
    count_proven = count_bound <= granted
    proven = count_proven and vol_bound <= carried
    if count_proven:  # the gap in volume, the passes being the most possible
        bound = granted * weight + vol_bound
        gap = max(0.0, (vol_bound - carried) / max(vol_bound, 1.0))
    else:  # the gap in passes granted
        bound = count_bound * weight + float(cap_v)
        gap = max(0.0, (count_bound - granted) / max(count_bound, 1.0))
    status = "OPTIMAL" if proven else "FEASIBLE"
    if hint is not None and not proven and obj <= hint.objective:
        current, obj, status = hint.selected.copy(), hint.objective, "HINT"
    return EarthSelection("cpsat", status, current, obj, float(obj) if proven else bound,
                          0.0 if proven else gap, time.perf_counter() - t0)
