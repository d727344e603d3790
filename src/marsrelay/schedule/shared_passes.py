"""Shared passes of one orbiter: which requests to grant and, where two overlap, which
non-overlapping sub-windows each gets (a split pass: one lander at a time), so that the
priority-weighted served volume is the largest possible.

Inputs are requests for windows of one orbiter (half-open ``[start_ms, end_ms)``, UTC
milliseconds), each with its priority (1 highest .. 5), the volume it asks to return and the
cumulative predicted volume along its window (the links stage's profile). A granted request
gets one contiguous sub-window of its own window; granted sub-windows never overlap; a request
is served ``min(return_bits, predicted volume of its sub-window)``. Requests marked ``fixed``
(already acknowledged) keep their whole window.

The model (OR-Tools CP-SAT) works on a grid: every request edge is a grid point, and every
stretch that two or more requests want is cut into cells of ``resolution_ms`` (at most
``max_cells`` per stretch), so split points fall on the grid. Each request is an optional
interval on the grid with one ``NoOverlap``; its served volume is bounded by its cumulative
volume at the interval's end minus at its start (two element constraints) and by its return.
Objective: ``sum weight(priority) * served``, weights :data:`PRIORITY_WEIGHT`; ties are broken
towards longer granted windows. Within the grid the plan is optimal (``status == "optimal"``)
unless the time limit stops the search first (``"feasible"``).
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "PRIORITY_WEIGHT",
    "PassGrant",
    "PassRequest",
    "SharedPassPlan",
    "plan_shared_passes",
]

#: Weight of a served bit by priority (1 highest): each level counts twice the next.
PRIORITY_WEIGHT: dict[int, int] = {1: 16, 2: 8, 3: 4, 4: 2, 5: 1}


@dataclass(frozen=True)
class PassRequest:
    """A request on the orbiter: window (UTC ms, half-open), priority, volume to return (bits)
    and the cumulative predicted volume (bits) at times ``profile_ms`` (UTC ms, increasing)."""

    id: int
    start_ms: int
    end_ms: int
    priority: int
    return_bits: int
    profile_ms: tuple[int, ...]
    profile_bits: tuple[int, ...]
    fixed: bool = False

    def predicted_bits(self, start_ms: int, end_ms: int) -> float:
        """Predicted volume of ``[start_ms, end_ms)`` (linear between profile samples)."""
        return _cum(self.profile_ms, self.profile_bits, end_ms) - _cum(
            self.profile_ms, self.profile_bits, start_ms)


@dataclass(frozen=True)
class PassGrant:
    """The plan for one request: granted or not, its (sub-)window, the volume it is predicted
    to get there and the volume planned for it (``min(return_bits, predicted)``), bits."""

    id: int
    granted: bool
    start_ms: int | None
    end_ms: int | None
    predicted_bits: int
    planned_bits: int

    @property
    def window_ms(self) -> int:
        return 0 if self.start_ms is None or self.end_ms is None else self.end_ms - self.start_ms


@dataclass(frozen=True)
class SharedPassPlan:
    """All grants (in input order), the weighted objective (bits x weight), the solver status
    (``optimal``, ``feasible``; ``empty`` for no requests) and the solve time (s)."""

    grants: tuple[PassGrant, ...]
    weighted_bits: int
    status: str
    solve_s: float


def _cum(times: Sequence[int], bits: Sequence[int], t: float) -> float:
    if not times:
        return 0.0
    if t <= times[0]:
        return float(bits[0])
    if t >= times[-1]:
        return float(bits[-1])
    k = bisect.bisect_right(times, t)
    t0, t1 = times[k - 1], times[k]
    return bits[k - 1] + (bits[k] - bits[k - 1]) * (t - t0) / (t1 - t0)


def _grid(requests: Sequence[PassRequest], resolution_ms: int, max_cells: int) -> list[int]:
    edges = sorted({r.start_ms for r in requests} | {r.end_ms for r in requests})
    grid: list[int] = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        grid.append(a)
        wanting = sum(1 for r in requests if r.start_ms <= a and b <= r.end_ms and not r.fixed)
        if wanting >= 2 or (wanting >= 1 and any(
                r.fixed and r.start_ms <= a and b <= r.end_ms for r in requests)):
            cells = max(1, min(max_cells, (b - a) // max(1, resolution_ms)))
            grid.extend(a + (b - a) * k // cells for k in range(1, cells))
    grid.append(edges[-1])
    return sorted(set(grid))


def plan_shared_passes(
    requests: Sequence[PassRequest],
    *,
    resolution_ms: int = 1000,
    max_cells: int = 120,
    time_limit_s: float = 10.0,
) -> SharedPassPlan:
    """Grant requests and split shared windows for the most priority-weighted served volume
    (see the module docstring). Raises ValueError for an empty window or an unknown priority."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    for r in requests:
        if r.end_ms <= r.start_ms:
            raise ValueError(f"request {r.id}: window end is not after its start")
        if r.priority not in PRIORITY_WEIGHT:
            raise ValueError(f"request {r.id}: priority {r.priority} not in 1..5")
    if not requests:
        return SharedPassPlan((), 0, "empty", time.perf_counter() - t0)

    grid = _grid(requests, resolution_ms, max_cells)
    index = {t: k for k, t in enumerate(grid)}
    top = max([r.return_bits for r in requests]
              + [int(r.predicted_bits(r.start_ms, r.end_ms)) for r in requests] + [1])
    unit = max(1, math.ceil(top / 10_000_000))  # model volumes in units of `unit` bits

    model = cp_model.CpModel()
    free, fixed_windows = [], []
    served, lengths, chosen = {}, {}, {}
    for r in requests:
        i0, i1 = index[r.start_ms], index[r.end_ms]
        if r.fixed:
            fixed_windows.append((i0, i1))
            continue
        table = [int(_cum(r.profile_ms, r.profile_bits, grid[g]) // unit)
                 for g in range(i0, i1 + 1)]
        p = model.new_bool_var(f"grant_{r.id}")
        ls = model.new_int_var(0, i1 - i0 - 1, f"ls_{r.id}")
        le = model.new_int_var(1, i1 - i0, f"le_{r.id}")
        size = model.new_int_var(0, i1 - i0, f"size_{r.id}")
        model.add(le >= ls + 1)
        interval = model.new_optional_interval_var(ls + i0, size, le + i0, p, f"iv_{r.id}")
        cs = model.new_int_var(min(table), max(table), f"cs_{r.id}")
        ce = model.new_int_var(min(table), max(table), f"ce_{r.id}")
        model.add_element(ls, table, cs)
        model.add_element(le, table, ce)
        v = model.new_int_var(0, max(0, r.return_bits // unit), f"served_{r.id}")
        model.add(v <= ce - cs)
        model.add(v == 0).only_enforce_if(~p)
        length = model.new_int_var(0, i1 - i0, f"len_{r.id}")
        model.add(length == size).only_enforce_if(p)
        model.add(length == 0).only_enforce_if(~p)
        free.append(interval)
        served[r.id], lengths[r.id], chosen[r.id] = v, length, (p, ls, le, i0)
    # Fixed windows (acknowledged) as constant intervals, merged so they never clash together.
    merged: list[list[int]] = []
    for a, b in sorted(fixed_windows):
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    blocks = [model.new_fixed_size_interval_var(a, b - a, f"fixed_{k}")
              for k, (a, b) in enumerate(merged)]
    if free:
        model.add_no_overlap(free + blocks)
    weights = {r.id: PRIORITY_WEIGHT[r.priority] for r in requests}
    tie = len(grid) * max(1, len(requests)) + 1
    model.maximize(sum(weights[i] * tie * v for i, v in served.items())
                   + sum(lengths.values()))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = 1
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT found no plan ({solver.status_name(code)})")
    status = "optimal" if code == cp_model.OPTIMAL else "feasible"

    grants = []
    total = 0
    for r in requests:
        if r.fixed:
            start, end, granted = r.start_ms, r.end_ms, True
        else:
            p, ls, le, i0 = chosen[r.id]
            granted = bool(solver.value(p))
            start = grid[i0 + solver.value(ls)] if granted else None
            end = grid[i0 + solver.value(le)] if granted else None
        if granted and start is not None and end is not None:
            predicted = max(0, round(r.predicted_bits(start, end)))
            planned = min(r.return_bits, predicted)
        else:
            predicted = planned = 0
        total += PRIORITY_WEIGHT[r.priority] * planned
        grants.append(PassGrant(r.id, granted, start, end, predicted, planned))
    return SharedPassPlan(tuple(grants), total, status, time.perf_counter() - t0)
