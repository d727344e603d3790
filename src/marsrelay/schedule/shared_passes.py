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
stretch that two or more requests want is cut into cells of ``resolution_ms`` (default 5 s,
finer than the links stage's 20 s rate samples; at most ``max_cells`` per stretch), so split
points fall on the grid. A boolean per (request, cell) says who has the cell: at most one
request per cell, a request's cells contiguous (one "first cell" at most), its served volume
at most the predicted volume of its cells and at most its return. Objective:
``sum weight(priority) * served``, weights :data:`PRIORITY_WEIGHT`; ties are broken towards
longer granted windows. Within the grid the plan is optimal (``status == "optimal"``) unless
the time limit stops the search first (``"feasible"``).
"""

from __future__ import annotations

import bisect
import itertools
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
            self.profile_ms, self.profile_bits, start_ms
        )


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
    for a, b in itertools.pairwise(edges):
        grid.append(a)
        wanting = sum(1 for r in requests if r.start_ms <= a and b <= r.end_ms and not r.fixed)
        if wanting >= 2 or (
            wanting >= 1 and any(r.fixed and r.start_ms <= a and b <= r.end_ms for r in requests)
        ):
            cells = max(1, min(max_cells, (b - a) // max(1, resolution_ms)))
            grid.extend(a + (b - a) * k // cells for k in range(1, cells))
    grid.append(edges[-1])
    return sorted(set(grid))


def plan_shared_passes(
    requests: Sequence[PassRequest],
    *,
    resolution_ms: int = 5000,
    max_cells: int = 60,
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
    top = max(
        [r.return_bits for r in requests]
        + [int(r.predicted_bits(r.start_ms, r.end_ms)) for r in requests]
        + [1]
    )
    unit = max(1, math.ceil(top / 10_000_000))  # model volumes in units of `unit` bits

    # Cells taken by fixed (acknowledged) windows are closed to the others.
    closed = set()
    for r in requests:
        if r.fixed:
            closed.update(range(index[r.start_ms], index[r.end_ms]))
    model = cp_model.CpModel()
    cell_vars: dict[int, list] = {}
    served, cells_of = {}, {}
    for r in requests:
        if r.fixed:
            continue
        i0, i1 = index[r.start_ms], index[r.end_ms]
        cum = [_cum(r.profile_ms, r.profile_bits, grid[g]) for g in range(i0, i1 + 1)]
        x = [model.new_bool_var(f"x_{r.id}_{c}") for c in range(i0, i1)]
        first = [model.new_bool_var(f"first_{r.id}_{c}") for c in range(i0, i1)]
        for k, c in enumerate(range(i0, i1)):
            if c in closed:
                model.add(x[k] == 0)
            cell_vars.setdefault(c, []).append(x[k])
            model.add(first[k] <= x[k])
            # contiguous: a taken cell follows a taken cell or is the first one
            model.add(x[k] <= (x[k - 1] if k else 0) + first[k])
        model.add(sum(first) <= 1)
        volume = [max(0, int((cum[k + 1] - cum[k]) // unit)) for k in range(len(x))]
        v = model.new_int_var(0, max(0, r.return_bits // unit), f"served_{r.id}")
        model.add(v <= sum(vk * xk for vk, xk in zip(volume, x, strict=True)))
        served[r.id], cells_of[r.id] = v, (i0, x)
    for members in cell_vars.values():
        if len(members) > 1:
            model.add(sum(members) <= 1)
    weights = {r.id: PRIORITY_WEIGHT[r.priority] for r in requests}
    tie = len(grid) * max(1, len(requests)) + 1  # a served unit outweighs every cell
    model.maximize(
        sum(weights[i] * tie * v for i, v in served.items())
        + sum(sum(x) for _, x in cells_of.values())
    )

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = 1
    # CP-SAT's own Ctrl-C catcher leaves SIGINT at SIG_DFL when the solve ends: a service
    # that planned once would then die on SIGINT instead of shutting down cleanly (exit 0).
    solver.parameters.catch_sigint_signal = False
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
            i0, x = cells_of[r.id]
            taken = [k for k, xk in enumerate(x) if solver.value(xk)]
            granted = bool(taken)
            start = grid[i0 + taken[0]] if granted else None
            end = grid[i0 + taken[-1] + 1] if granted else None
        if granted and start is not None and end is not None:
            predicted = max(0, round(r.predicted_bits(start, end)))
            planned = min(r.return_bits, predicted)
        else:
            predicted = planned = 0
        total += PRIORITY_WEIGHT[r.priority] * planned
        grants.append(PassGrant(r.id, granted, start, end, predicted, planned))
    return SharedPassPlan(tuple(grants), total, status, time.perf_counter() - t0)
