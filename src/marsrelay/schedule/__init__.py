"""Relay pass scheduling: which orbiter serves which lander when, and why.

Several landers compete for a few orbiters; each orbiter serves one lander at a time, has
blackouts, limits and a finite downlink to Earth, and each lander needs its sol's data home by
the next planning cycle. Today agencies settle this by hand (MaROS / ERCO); this stage proposes
an optimal plan and explains it.

Worked example (a synthetic table: two landers want the same TGO pass; the higher priority
gets it)::

    >>> import numpy as np
    >>> from marsrelay.contacts.table import ContactTable
    >>> from marsrelay.config.schedule import ScheduleConfig
    >>> from marsrelay.schedule import LanderNode, OrbiterNode, schedule_passes
    >>> t0 = 960_000_000.0
    >>> z = np.zeros(2)
    >>> table = ContactTable(np.array(["A", "B"]), np.array(["TGO", "TGO"]),
    ...     np.array(["proximity"] * 2), z + t0 + 3600, z + t0 + 4200, z, z, z, z, z,
    ...     np.full(2, 1e5), np.full(2, 6e6))
    >>> cfg = ScheduleConfig(demand=[{"lander": "A", "bits_per_sol": 1e8, "priority": 2.0},
    ...                              {"lander": "B", "bits_per_sol": 1e8}])
    >>> s = schedule_passes(table, [LanderNode("A", 0.0), LanderNode("B", 0.0)],
    ...                     [OrbiterNode("TGO")], cfg, t0, t0 + 3 * 86400.0)
    >>> [(str(a), bool(b), str(r)) for a, b, r in
    ...  zip(s.passes.lander, s.passes.selected, s.passes.reason)]
    [('A', True, ''), ('B', False, 'orbiter_busy')]

How the package reads, in the order the data flows (each module's docstring says more):

- :mod:`~marsrelay.schedule.problem`: the problem's definition and the arrays that hold it
  (:class:`RelayProblem`, nodes, pass limits, capacity windows, downlink flows).
- :mod:`~marsrelay.schedule.build`: :func:`build_problem`, one named step per rule, from
  :mod:`~marsrelay.schedule.candidates` (candidate passes, exclusions, fixed requests),
  :mod:`~marsrelay.schedule.lander_sols` (sols, demand, deadlines),
  :mod:`~marsrelay.schedule.conflicts` (radio cliques, pass limits) and
  :mod:`~marsrelay.schedule.downlink` (orbiter-to-Earth capacity).
- :mod:`~marsrelay.schedule.selection`: :class:`Selection`, what every solver returns.
- Solvers: :mod:`~marsrelay.schedule.greedy` (baseline), :mod:`~marsrelay.schedule.cpsat`
  (exact, CP-SAT; by :mod:`~marsrelay.schedule.decompose` or as one model) and
  :mod:`~marsrelay.schedule.lp_bound` (certified LP bounds).
- :mod:`~marsrelay.schedule.splits`: split passes (two landers sharing one overflight).
- :mod:`~marsrelay.schedule.result`: the explained :class:`Schedule` and its run-folder tables.
- :mod:`~marsrelay.schedule.stage`: the stage's entry points (:func:`run`,
  :func:`schedule_passes`).

Modules import one way: problem <- steps <- build; problem <- selection <- solvers
(decompose <- cpsat) <- result <- stage.
"""

from marsrelay.schedule.build import build_problem
from marsrelay.schedule.cpsat import solve_cpsat
from marsrelay.schedule.greedy import solve_greedy
from marsrelay.schedule.lp_bound import lp_bound
from marsrelay.schedule.problem import (
    CapacityWindow,
    DownlinkFlow,
    LanderNode,
    OrbiterNode,
    PassLimit,
    RelayProblem,
)
from marsrelay.schedule.result import (
    REASONS,
    DemandShortfall,
    PassPlan,
    Schedule,
    SolDelivery,
    make_schedule,
)
from marsrelay.schedule.selection import Selection, objective_of
from marsrelay.schedule.stage import (
    demand_from_traffic,
    nodes_from_scenario,
    run,
    schedule_passes,
)

__all__ = [
    "REASONS",
    "CapacityWindow",
    "DemandShortfall",
    "DownlinkFlow",
    "LanderNode",
    "OrbiterNode",
    "PassLimit",
    "PassPlan",
    "RelayProblem",
    "Schedule",
    "Selection",
    "SolDelivery",
    "build_problem",
    "demand_from_traffic",
    "lp_bound",
    "make_schedule",
    "nodes_from_scenario",
    "objective_of",
    "run",
    "schedule_passes",
    "solve_cpsat",
    "solve_greedy",
]
