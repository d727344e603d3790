"""Earth resource allocation: which antenna tracks which spacecraft when.

The DSN and ESTRACK give each Mars spacecraft a few tracks a day; an antenna serves one
spacecraft at a time, or several downlinks at once at Mars (MSPA); relayed data waits on the
orbiter for its next track. This package allocates those passes before the relay schedule is
made (the schedule's orbiter-to-Earth capacity and the simulation's downlinks use only them):

- :mod:`~.defaults`: sourced defaults (track length, sessions, MSPA, complexes);
- :mod:`~.problem`: :class:`EarthProblem`, candidates and requests as arrays;
- :mod:`~.candidates`: :func:`earth_problem`, built from the scenario's ``[earth]`` table and
  the linked contacts;
- :mod:`~.solve`: :func:`solve_greedy` (baseline) and :func:`solve_cpsat` (exact);
- :mod:`~.result`: :class:`EarthAllocation` (passes, unmet requests and why, the
  ``earth_passes`` table, :meth:`~EarthAllocation.apply` to a contact table).

:func:`allocate_earth` runs them for a scenario. Modules import one way: defaults, problem <-
candidates <- solve <- result <- this package.
"""

from __future__ import annotations

from marsrelay.config.earth import EarthConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.scenario import Scenario
from marsrelay.schedule.earth.candidates import craft_of_scenario, earth_problem
from marsrelay.schedule.earth.problem import EarthProblem
from marsrelay.schedule.earth.result import UNMET_REASONS, EarthAllocation, make_allocation
from marsrelay.schedule.earth.solve import (
    EarthSelection,
    check_explicit,
    solve_cpsat,
    solve_greedy,
)

__all__ = [
    "UNMET_REASONS",
    "EarthAllocation",
    "EarthProblem",
    "EarthSelection",
    "allocate_earth",
    "earth_problem_of",
    "solve_cpsat",
    "solve_greedy",
]


def earth_problem_of(scenario: Scenario, contacts: ContactTable,
                     config: EarthConfig | None = None) -> EarthProblem:
    """The Earth allocation problem of ``scenario`` on its linked ``contacts`` (``config``
    replaces the scenario's ``[earth]`` table)."""
    cfg = config or scenario.earth
    earth_rows = (contacts.kind == "orbiter_earth") | (contacts.kind == "direct_earth")
    if bool(earth_rows.any()) and bool(
            (earth_rows & ~(contacts.volume_bits >= 0)).any()):
        raise InputError("Earth contacts have no link volumes (volume_bits is NaN): run the "
                         "links stage first", field="contacts.volume_bits")
    return earth_problem(craft_of_scenario(scenario, cfg), scenario.stations, contacts, cfg,
                         scenario.start_tdb_s, scenario.end_tdb_s, scenario.station_blackouts)


def allocate_earth(
    scenario: Scenario,
    contacts: ContactTable,
    config: EarthConfig | None = None,
    *,
    solver: str = "cpsat",
    time_limit_s: float = 10.0,
    workers: int = 2,
) -> EarthAllocation | None:
    """Allocate ``scenario``'s Earth passes among its linked ``contacts`` (None when
    ``[earth] allocate = false``). ``solver`` and ``time_limit_s`` apply unless the
    ``[earth]`` table names its own; the greedy plan is always made (baseline and warm start).
    Raises :class:`~marsrelay.errors.InputError` for explicit tracks that do not fit."""
    cfg = config or scenario.earth
    if not cfg.allocate:
        return None
    pb = earth_problem_of(scenario, contacts, cfg)
    check_explicit(pb)
    greedy = solve_greedy(pb)
    name = cfg.solver or solver
    if name == "greedy":
        sel = greedy
    else:
        sel = solve_cpsat(pb, cfg.time_limit_s or time_limit_s, workers, hint=greedy)
    return make_allocation(pb, sel, greedy, contacts)
