"""A solver's answer to a :class:`~marsrelay.schedule.problem.RelayProblem`, and its value.

Every solver (:mod:`~marsrelay.schedule.greedy`, :mod:`~marsrelay.schedule.cpsat`) returns a
:class:`Selection`; :func:`~marsrelay.schedule.result.make_schedule` turns it into the explained
:class:`~marsrelay.schedule.result.Schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marsrelay.schedule.problem import RelayProblem

__all__ = ["Selection", "objective_of"]


@dataclass
class Selection:
    """A solver's answer: which passes (``selected``, bool per pass) with how much volume
    (``planned_kbit``, kbit per pass); ``objective``/``best_bound`` in weighted kbit (lander
    weight x kbit); ``gap`` relative (``(bound - objective) / bound``, 0 when proven optimal,
    NaN for the greedy baseline); ``solve_s`` wall-clock seconds. ``status`` is CP-SAT's
    (``OPTIMAL``, ``FEASIBLE``) or ``HINT`` (no better plan than the warm start was found)."""

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
