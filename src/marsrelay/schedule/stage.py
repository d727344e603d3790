"""The schedule stage: which relay passes each orbiter gives to which lander.

- :func:`run`: the stage as the pipeline runs it, ``run(scenario, links, config) -> Schedule``
  (the scenario's ``[schedule]`` table, horizon, nodes and blackouts; demand defaults to each
  lander's generated traffic);
- :func:`schedule_passes`: the same on plain inputs (a contact table, nodes, a config).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from marsrelay.config.schedule import DemandSpec, ScheduleConfig
from marsrelay.config.traffic import DEFAULT_BITS_PER_SOL as DEFAULT_TRAFFIC_BITS_PER_SOL
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.links.compute import LinkedContacts
from marsrelay.progress import ProgressCallback, report
from marsrelay.scenario import Scenario
from marsrelay.schedule.problem import LanderNode, OrbiterNode, Windows, build_problem
from marsrelay.schedule.result import Schedule, make_schedule
from marsrelay.schedule.solvers import solve_cpsat, solve_greedy

__all__ = [
    "demand_from_traffic",
    "nodes_from_scenario",
    "run",
    "schedule_passes",
]


def schedule_passes(
    contacts: ContactTable,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    config: ScheduleConfig,
    start_tdb_s: float,
    end_tdb_s: float,
    station_blackouts: Mapping[str, Windows] | None = None,
    solver: str | None = None,
    time_limit_s: float | None = None,
) -> Schedule:
    """Choose relay passes over ``[start_tdb_s, end_tdb_s)`` (TDB s) and explain the choice.

    ``solver`` (``"cpsat"`` or ``"greedy"``) and ``time_limit_s`` (s) override the config. The
    greedy plan is always computed (it is the baseline and CP-SAT's warm start).
    """
    solver = solver or config.solver
    if solver not in ("cpsat", "greedy"):
        raise InputError(f"unknown solver {solver!r}", field="schedule.solver",
                         allowed="cpsat, greedy")
    pb = build_problem(contacts, landers, orbiters, config, start_tdb_s, end_tdb_s,
                       station_blackouts)
    greedy = solve_greedy(pb)
    if solver == "greedy":
        sel = greedy
    else:
        limit = config.time_limit_s if time_limit_s is None else time_limit_s
        sel = solve_cpsat(pb, limit, config.workers, hint=greedy)
    return make_schedule(pb, sel, greedy.objective)


def nodes_from_scenario(
    scenario: Scenario,
) -> tuple[tuple[LanderNode, ...], tuple[OrbiterNode, ...]]:
    """The scheduler's view of a :class:`marsrelay.scenario.Scenario`'s landers and orbiters."""
    landers = tuple(LanderNode(x.name, float(x.site.lon_east_deg), tuple(x.blackouts))
                    for x in scenario.landers)
    orbiters = tuple(OrbiterNode(x.name, tuple(x.blackouts)) for x in scenario.orbiters)
    return landers, orbiters


def demand_from_traffic(scenario: Scenario) -> ScheduleConfig:
    """The scenario's ``[schedule]`` config, with a demand entry added for every lander that has
    none: what that lander generates per sol under ``[traffic]`` (its ``[[traffic.source]]``
    entries summed, or the traffic default when no source is listed), so the schedule and the
    simulation plan for the same data."""
    config: ScheduleConfig = scenario.schedule
    traffic = scenario.traffic
    named = {d.lander for d in config.demand}
    sources = list(traffic.source)
    added = []
    for lander in scenario.landers:
        if lander.name in named:
            continue
        if sources:
            bits = sum(s.bits_per_sol for s in sources if s.node == lander.name)
        else:
            bits = DEFAULT_TRAFFIC_BITS_PER_SOL
        added.append(DemandSpec(lander=lander.name, bits_per_sol=bits))
    if not added:
        return config
    return config.model_copy(update={"demand": [*config.demand, *added]})


def run(scenario: Scenario, links: LinkedContacts, config: ScheduleConfig | None = None, *,
        progress: ProgressCallback | None = None) -> Schedule:
    """Choose relay passes for ``scenario`` among the linked proximity windows of ``links``.

    ``config`` replaces the scenario's ``[schedule]`` table (e.g. another solver or time
    limit); lander demand defaults to each lander's generated traffic
    (:func:`demand_from_traffic`). Config errors name the scenario file.
    """
    if config is not None:
        scenario = scenario.with_overrides(schedule=config)
    landers, orbiters = nodes_from_scenario(scenario)
    report(progress, "schedule", 0, 1)
    try:
        schedule = schedule_passes(
            links.contacts, landers, orbiters, demand_from_traffic(scenario),
            scenario.start_tdb_s, scenario.end_tdb_s, scenario.station_blackouts)
    except InputError as err:
        raise err.located(file=str(scenario.path) if scenario.path else None) from err
    report(progress, "schedule", 1, 1)
    return schedule
