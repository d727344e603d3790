"""Lander sols and demand: what each lander wants home, sol by sol, and by when.

Two steps of :func:`~marsrelay.schedule.build.build_problem`:

1. :func:`lander_demand`: each lander's demand (bits per sol; ``[[schedule.demand]]`` or the
   config default) and its integer objective weight (``round(priority * WEIGHT_SCALE)``).
2. :func:`lander_sols`: each lander's time cut at its LMST midnights
   (:mod:`marsrelay.geometry.solar_time`), the sols overlapping the horizon (the "groups" of
   :class:`~marsrelay.schedule.problem.RelayProblem`), each with its window clipped to the
   horizon, its deadline (``deadline_lmst_h`` into the next sol) and its demand pro-rated by the
   part of the sol inside the horizon. A pass belongs to the sol it starts in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.constants import SOL_S
from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s
from marsrelay.schedule.problem import KBIT, WEIGHT_SCALE, LanderNode, node_index

__all__ = ["LanderDemand", "LanderSols", "lander_demand", "lander_sols"]


@dataclass(frozen=True)
class LanderDemand:
    """Per lander (scheduler order): ``bits_per_sol`` wanted home and the integer objective
    ``weight`` of each delivered kbit."""

    bits_per_sol: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class LanderSols:
    """The lander sols inside the horizon (one row per lander sol; lander by lander, sols in
    order) and the sol of each pass.

    ``of_pass``: row of each candidate pass; ``lander`` (node index), ``sol`` (local sol
    number, Mars Sol Date of the lander's longitude), ``start_tdb_s``/``end_tdb_s`` (the sol
    clipped to the horizon), ``deadline_tdb_s`` (data due home), ``demand_bits`` and
    ``demand_kbit`` (pro-rated at the horizon's edges; kbit rounded).
    """

    of_pass: np.ndarray
    lander: np.ndarray
    sol: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    deadline_tdb_s: np.ndarray
    demand_bits: np.ndarray
    demand_kbit: np.ndarray


def lander_demand(config: ScheduleConfig, landers: Sequence[LanderNode]) -> LanderDemand:
    """Demand (bits per sol) and weight per lander from ``[[schedule.demand]]``;
    :class:`~marsrelay.errors.InputError` for a lander name that is not scheduled."""
    lnames = [n.name for n in landers]
    demand_bits = np.full(len(landers), config.default_bits_per_sol)
    priority = np.ones(len(landers))
    for k, d in enumerate(config.demand):
        i = node_index(d.lander, lnames, f"schedule.demand[{k}].lander")
        demand_bits[i], priority[i] = d.bits_per_sol, d.priority
    weight = np.maximum(np.round(priority * WEIGHT_SCALE), 1).astype(np.int64)
    return LanderDemand(demand_bits, weight)


def lander_sols(
    landers: Sequence[LanderNode],
    pass_lander: np.ndarray,
    pass_start_tdb_s: np.ndarray,
    start_tdb_s: float,
    end_tdb_s: float,
    bits_per_sol: np.ndarray,
    deadline_lmst_h: float,
) -> LanderSols:
    """The sols of every lander overlapping ``[start_tdb_s, end_tdb_s)`` (TDB s) and the sol
    of each pass (lander index ``pass_lander``, start ``pass_start_tdb_s``, TDB s)."""
    g_lander: list[int] = []
    g_sol: list[int] = []
    g_start: list[float] = []
    g_end: list[float] = []
    g_full_end: list[float] = []
    of_pass = np.zeros(len(pass_lander), dtype=np.int64)
    for i, node in enumerate(landers):
        s0 = int(local_sol(start_tdb_s, node.lon_east_deg))
        s1 = int(local_sol(np.nextafter(end_tdb_s, -np.inf), node.lon_east_deg))
        sols = np.arange(s0, s1 + 1)
        edges = sol_start_tdb_s(np.arange(s0, s1 + 2), node.lon_east_deg)
        mine = pass_lander == i
        if mine.any():
            ps = local_sol(pass_start_tdb_s[mine], node.lon_east_deg)
            of_pass[mine] = len(g_lander) + np.clip(ps - s0, 0, len(sols) - 1)
        g_lander += [i] * len(sols)
        g_sol += sols.tolist()
        g_start += np.maximum(edges[:-1], start_tdb_s).tolist()
        g_end += np.minimum(edges[1:], end_tdb_s).tolist()
        g_full_end += edges[1:].tolist()
    lander = np.array(g_lander, dtype=np.int64)
    start = np.array(g_start)
    end = np.array(g_end)
    deadline = np.array(g_full_end) + deadline_lmst_h / 24.0 * SOL_S
    frac = np.clip((end - start) / SOL_S, 0.0, 1.0)
    demand_bits = bits_per_sol[lander] * frac
    demand_kbit = np.round(demand_bits / KBIT).astype(np.int64)
    return LanderSols(of_pass=of_pass, lander=lander, sol=np.array(g_sol, dtype=np.int64),
                      start_tdb_s=start, end_tdb_s=end, deadline_tdb_s=deadline,
                      demand_bits=demand_bits, demand_kbit=demand_kbit)
