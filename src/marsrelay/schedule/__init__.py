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
"""

from marsrelay.schedule.problem import (
    CapacityWindow,
    DownlinkFlow,
    LanderNode,
    OrbiterNode,
    PassLimit,
    RelayProblem,
    build_problem,
)
from marsrelay.schedule.result import (
    REASONS,
    DemandShortfall,
    PassPlan,
    Schedule,
    SolDelivery,
    make_schedule,
)
from marsrelay.schedule.solvers import (
    Selection,
    lp_bound,
    objective_of,
    solve_cpsat,
    solve_greedy,
)
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
