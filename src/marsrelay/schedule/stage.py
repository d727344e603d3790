"""The schedule stage: which relay passes each orbiter gives to which lander.

- :func:`run`: the stage as the pipeline runs it, ``run(scenario, links, config) -> Schedule``
  (the scenario's ``[schedule]`` table, horizon, nodes and blackouts; demand defaults to each
  lander's generated traffic);
- :func:`schedule_passes`: the same on plain inputs (a contact table, nodes, a config).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from marsrelay.config.schedule import DemandSpec, ScheduleConfig
from marsrelay.config.traffic import DEFAULT_BITS_PER_SOL as DEFAULT_TRAFFIC_BITS_PER_SOL
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.links.compute import LinkedContacts
from marsrelay.progress import ProgressCallback, report
from marsrelay.scenario import Scenario
from marsrelay.schedule.build import build_problem
from marsrelay.schedule.cpsat import solve_cpsat
from marsrelay.schedule.greedy import solve_greedy
from marsrelay.schedule.problem import LanderNode, OrbiterNode, RelayProblem, Windows
from marsrelay.schedule.result import Schedule, make_schedule
from marsrelay.schedule.selection import Selection
from marsrelay.schedule.splits import ShareVolume, rate_profile_share_volume, with_no_shares

__all__ = [
    "WHOLE_PASS_SHARE",
    "demand_from_traffic",
    "nodes_from_scenario",
    "run",
    "schedule_passes",
    "solve_with_splits",
]

#: With split passes, the fraction of the time limit for the plan without them (it warm-starts
#: the search with them, which gets the rest).
WHOLE_PASS_SHARE: float = 0.5


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
    share_volume: ShareVolume | None = None,
) -> Schedule:
    """Choose relay passes over ``[start_tdb_s, end_tdb_s)`` (TDB s) and explain the choice.

    ``solver`` (``"cpsat"`` or ``"greedy"``) and ``time_limit_s`` (s) override the config. The
    greedy plan is always computed (it is the baseline and CP-SAT's warm start).
    ``share_volume`` gives the volume of parts of passes when the config allows split passes
    (default: each pass's mean rate; see :mod:`marsrelay.schedule.splits`); CP-SAT then starts
    from the best plan without them (:func:`solve_with_splits`).
    """
    solver = solver or config.solver
    if solver not in ("cpsat", "greedy"):
        raise InputError(f"unknown solver {solver!r}", field="schedule.solver",
                         allowed="cpsat, greedy")
    pb = build_problem(contacts, landers, orbiters, config, start_tdb_s, end_tdb_s,
                       station_blackouts, share_volume)
    greedy = solve_greedy(pb)
    if solver == "greedy":
        sel = greedy
    else:
        limit = config.time_limit_s if time_limit_s is None else time_limit_s
        if pb.n_whole < len(pb):  # split passes: start from the best plan without them
            def whole_passes() -> RelayProblem:
                return build_problem(contacts, landers, orbiters,
                                     config.model_copy(update={"split_passes": False}),
                                     start_tdb_s, end_tdb_s, station_blackouts)

            sel = solve_with_splits(pb, whole_passes, greedy, limit, config.workers)
        else:
            sel = solve_cpsat(pb, limit, config.workers, hint=greedy)
    return make_schedule(pb, sel, greedy.objective)


def solve_with_splits(pb: RelayProblem, whole_passes: Callable[[], RelayProblem],
                      greedy: Selection, time_limit_s: float, workers: int) -> Selection:
    """CP-SAT on a problem with split passes, warm-started from the optimum without them.

    ``whole_passes()`` builds the same problem without shares (its passes are ``pb``'s first
    rows). That problem is solved first within :data:`WHOLE_PASS_SHARE` of ``time_limit_s``
    (s); its plan, or ``greedy`` when better, warm-starts the search with shares for the rest
    of the time. The plan with splits is therefore never worse than the plan without, even
    when the search stops at its limit; ``solve_s`` counts both searches."""
    t0 = time.perf_counter()
    whole_pb = whole_passes()
    whole = solve_cpsat(whole_pb, WHOLE_PASS_SHARE * time_limit_s, workers,
                        hint=solve_greedy(whole_pb))
    hint = greedy if greedy.objective >= whole.objective else with_no_shares(pb, whole)
    left = max(time_limit_s - (time.perf_counter() - t0), 0.1 * time_limit_s)
    sel = solve_cpsat(pb, left, workers, hint=hint)
    return replace(sel, solve_s=time.perf_counter() - t0)


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
    (:func:`demand_from_traffic`). Parts of passes (split passes, when the config allows them)
    carry what the links stage's rate profiles give over their windows. Config errors name the
    scenario file.
    """
    if config is not None:
        scenario = scenario.with_overrides(schedule=config)
    landers, orbiters = nodes_from_scenario(scenario)
    report(progress, "schedule", 0, 1)
    try:
        schedule = schedule_passes(
            links.contacts, landers, orbiters, demand_from_traffic(scenario),
            scenario.start_tdb_s, scenario.end_tdb_s, scenario.station_blackouts,
            share_volume=rate_profile_share_volume(links.rate_profile))
    except InputError as err:
        raise err.located(file=str(scenario.path) if scenario.path else None) from err
    report(progress, "schedule", 1, 1)
    return schedule
