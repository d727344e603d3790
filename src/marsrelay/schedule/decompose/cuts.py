"""Steps 3 and 6 of the decomposition: valid cuts on each piece's value and capacity use.

A cut (:class:`Cut`) bounds what one piece can achieve, whatever the others do:
``q W - sum_c a_c T_c - sum_j b_j N_j <= rhs``, with ``W`` the piece's weighted delivered kbit,
``T_c`` its kbit through capacity class ``c`` and ``N_j`` its passes counted by shared pass
limit ``j``. ``rhs`` is the maximum of the left side over the piece alone (an exact CP-SAT
solve, or CP-SAT's proven bound when it stops early), so the cut holds for every plan.

- :func:`envelope_cuts` (step 3): for a piece with value ``W`` and total capacity use ``T``,
  solves of ``max q W - p T`` trace the upper concave envelope of the piece's (T, W) frontier
  (Eisner-Severance recursion, slopes rational with denominators up to
  :data:`SLOPE_DENOMINATOR`, at most ``2 ** MAX_ENVELOPE_DEPTH`` solves).
- :func:`lagrangian_cut` (step 6): one solve at the master LP's prices of capacity classes and
  shared limits.

Every solve's plan is kept as a candidate for the restricted master.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from marsrelay.schedule.decompose.piece_model import (
    ModelInputs,
    PieceVars,
    add_piece,
    new_solver,
)
from marsrelay.schedule.decompose.pieces import ClassKey, Piece

__all__ = [
    "MAX_ENVELOPE_DEPTH",
    "SLOPE_DENOMINATOR",
    "Cut",
    "Envelope",
    "cut_lhs",
    "envelope_cuts",
    "lagrangian_cut",
]

#: Largest denominator of the envelope slopes and of the rounded Lagrangian prices (rationals;
#: the cuts are valid for any slope).
SLOPE_DENOMINATOR: int = 64
#: Deepest envelope recursion (at most 2**depth solves per piece).
MAX_ENVELOPE_DEPTH: int = 10


@dataclass
class Cut:
    """``q W - sum_c a[c] T_c - sum_j b[j] N_j <= rhs`` for one piece: ``W`` its weighted
    delivered kbit, ``T_c`` its kbit through capacity class ``c``, ``N_j`` its passes counted by
    shared pass limit ``j``. Valid for every plan when ``rhs`` bounds the piece's maximum of
    the left side."""

    q: int
    a: dict[ClassKey, int]
    b: dict[int, int]
    rhs: int


def cut_lhs(data: ModelInputs, pv: PieceVars, cut: Cut) -> Any:
    """The left side of ``cut`` over the piece's variables ``pv``."""
    from ortools.sat.python import cp_model

    variables: list[Any] = list(pv.d.values())
    coefs = [cut.q * int(data.group_weight[g]) for g in pv.d]
    for key, a in cut.a.items():
        variables += pv.class_volumes.get(key, [])
        coefs += [-a] * len(pv.class_volumes.get(key, []))
    for j, b in cut.b.items():
        variables += pv.shared_counts.get(j, [])
        coefs += [-b] * len(pv.shared_counts.get(j, []))
    return cp_model.LinearExpr.weighted_sum(variables, coefs)


@dataclass
class Envelope:
    """What the envelope of one piece gave: cuts, and the plans found on the way."""

    cuts: list[Cut]
    candidates: list[tuple[int, ...]]  # x of the piece's passes, one tuple per plan


def envelope_cuts(data: ModelInputs, piece: Piece, deadline: float, seed: int) -> Envelope:
    """Valid cuts on (T, W) of one piece and the plans found on the way (module docstring);
    stops at ``deadline`` (``time.perf_counter()`` seconds)."""
    from ortools.sat.python import cp_model

    out = Envelope([], [])

    def run(q: int, p: int, t_zero: bool = False,
            w_min: int | None = None) -> tuple[int, int] | None:
        """``max q W - p T`` (or with ``T = 0``, or ``min T`` with ``W >= w_min``); the
        optimum's ``(T, W)``, ``None`` when not proven optimal."""
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        model = cp_model.CpModel()
        pv = add_piece(model, data, piece)
        has_t = bool(pv.y)
        if t_zero and has_t:
            model.add(pv.class_volume == 0)
        if w_min is not None:
            model.add(pv.weighted_delivered >= w_min)
            model.minimize(pv.class_volume)
        else:
            model.maximize(q * pv.weighted_delivered - p * pv.class_volume)
        solver = new_solver(left, 1, seed)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        out.candidates.append(tuple(int(solver.value(pv.x[k])) for k in piece.passes))
        if w_min is None and not t_zero:
            # Valid even when the search stopped early: CP-SAT's bound of an integer objective.
            rhs = (round(solver.objective_value) if status == cp_model.OPTIMAL
                   else math.floor(solver.best_objective_bound + 1e-9))
            out.cuts.append(Cut(q, dict.fromkeys(piece.keys, p) if p else {}, {}, rhs))
        if status != cp_model.OPTIMAL:
            return None
        volume = int(solver.value(pv.class_volume)) if has_t else 0
        return volume, int(solver.value(pv.weighted_delivered))

    right = run(1, 0)
    if right is None or not piece.keys or right[0] == 0:
        return out
    right = run(0, 0, w_min=right[1]) or right
    left = run(1, 0, t_zero=True)
    if left is None or right[1] <= left[1] or right[0] <= left[0]:
        return out

    def split(a: tuple[int, int], b: tuple[int, int], depth: int) -> None:
        slope = Fraction(b[1] - a[1], b[0] - a[0]).limit_denominator(SLOPE_DENOMINATOR)
        c = run(slope.denominator, slope.numerator)
        if c is None or depth >= MAX_ENVELOPE_DEPTH:
            return
        above = (b[0] - a[0]) * (c[1] - a[1]) > (b[1] - a[1]) * (c[0] - a[0])
        if a[0] < c[0] < b[0] and above:
            split(a, c, depth + 1)
            split(c, b, depth + 1)

    split(left, right, 0)
    return out


def lagrangian_cut(data: ModelInputs, piece: Piece, prices: dict[Any, float], deadline: float,
                   seed: int) -> tuple[Cut | None, tuple[int, ...] | None]:
    """Lagrangian cut of one piece at the master's prices (kbit of each capacity class, passes
    of each shared limit; rounded to multiples of ``1 / SLOPE_DENOMINATOR``, which keeps the
    cut valid) and the plan that attains it."""
    from ortools.sat.python import cp_model

    left = deadline - time.perf_counter()
    if left <= 0:
        return None, None
    q = SLOPE_DENOMINATOR
    a = {key: round(q * prices.get(key, 0.0)) for key in piece.keys}
    b = {j: round(q * prices.get(("limit", j), 0.0)) for j in piece.shared}
    cut = Cut(q, {k: v for k, v in a.items() if v > 0}, {k: v for k, v in b.items() if v > 0},
              0)
    model = cp_model.CpModel()
    pv = add_piece(model, data, piece)
    model.maximize(cut_lhs(data, pv, cut))
    solver = new_solver(left, 1, seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, None
    cut.rhs = (round(solver.objective_value) if status == cp_model.OPTIMAL
               else math.floor(solver.best_objective_bound + 1e-9))
    return cut, tuple(int(solver.value(pv.x[p])) for p in piece.passes)
