"""Schedule stage entry points: from a linked contact table to ``schedule.csv``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from marsrelay.config.schedule import DemandSpec, ScheduleConfig
from marsrelay.config.traffic import DEFAULT_BITS_PER_SOL as DEFAULT_TRAFFIC_BITS_PER_SOL
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.links.compute import RateProfile, compute_links
from marsrelay.schedule.build import build_problem
from marsrelay.schedule.cpsat import solve_cpsat
from marsrelay.schedule.greedy import solve_greedy
from marsrelay.schedule.problem import LanderNode, OrbiterNode, Windows
from marsrelay.schedule.result import Schedule, make_schedule
from marsrelay.schedule.splits import ShareVolume, rate_profile_share_volume

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "link_share_volume",
    "nodes_from_scenario",
    "print_schedule",
    "run_schedule",
    "schedule_passes",
    "schedule_scenario",
    "write_schedule",
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
    share_volume: ShareVolume | None = None,
) -> Schedule:
    """Choose relay passes over ``[start_tdb_s, end_tdb_s)`` (TDB s) and explain the choice.

    ``solver`` (``"cpsat"`` or ``"greedy"``) and ``time_limit_s`` (s) override the config. The
    greedy plan is always computed (it is the baseline and CP-SAT's warm start).
    ``share_volume`` gives the volume of parts of passes when the config allows split passes
    (default: each pass's mean rate; see :mod:`marsrelay.schedule.splits`).
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
        sel = solve_cpsat(pb, limit, config.workers, hint=greedy)
    return make_schedule(pb, sel, greedy.objective)


def nodes_from_scenario(scenario: Any) -> tuple[tuple[LanderNode, ...], tuple[OrbiterNode, ...]]:
    """The scheduler's view of a :class:`marsrelay.scenario.Scenario`'s landers and orbiters."""
    landers = tuple(LanderNode(x.name, float(x.site.lon_east_deg), tuple(x.blackouts))
                    for x in scenario.landers)
    orbiters = tuple(OrbiterNode(x.name, tuple(x.blackouts)) for x in scenario.orbiters)
    return landers, orbiters


def demand_from_traffic(scenario: Any) -> ScheduleConfig:
    """The scenario's ``[schedule]`` config, with a demand entry added for every lander that has
    none: what that lander generates per sol under ``[traffic]`` (its ``[[traffic.source]]``
    entries summed, or the traffic default when no source is listed), so the schedule and the
    simulation plan for the same data."""
    config: ScheduleConfig = scenario.schedule
    traffic = getattr(scenario, "traffic", None)
    if traffic is None:
        return config
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


def schedule_scenario(
    scenario: Any,
    contacts: ContactTable,
    solver: str | None = None,
    time_limit_s: float | None = None,
) -> Schedule:
    """:func:`schedule_passes` with everything taken from a scenario (its ``[schedule]`` table,
    horizon, nodes and blackouts); config errors name the scenario file."""
    landers, orbiters = nodes_from_scenario(scenario)
    config = demand_from_traffic(scenario)
    share_volume = link_share_volume(scenario, contacts) if config.split_passes else None
    try:
        return schedule_passes(
            contacts, landers, orbiters, config, scenario.start_tdb_s,
            scenario.end_tdb_s, getattr(scenario, "station_blackouts", None), solver,
            time_limit_s, share_volume)
    except InputError as err:
        path = getattr(scenario, "path", None)
        if err.file is None and path is not None:
            raise InputError(err.problem, file=str(path), field=err.field,
                             allowed=err.allowed) from err
        raise


def link_share_volume(scenario: Any, contacts: ContactTable) -> ShareVolume:
    """Volumes of parts of passes (split passes) from the links stage's rate profiles.

    The stage's entry points receive the linked contact table, not the links stage's result, so
    the profiles of the passes that get shares are computed here once more (only those rows;
    about 0.5 s for the built-in 2019 scenario). When the links result reaches this stage, pass
    its ``rate_profile`` to :func:`~marsrelay.schedule.splits.rate_profile_share_volume`
    instead: this function is the one place to change."""
    profiles: dict[int, RateProfile] = {}

    def profile(row: int) -> RateProfile:
        return profiles[row]

    by_profile = rate_profile_share_volume(profile)

    def volume(rows: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        need = sorted(set(np.asarray(rows).tolist()) - profiles.keys())
        if need:
            linked = compute_links(scenario, contacts.take(np.array(need, dtype=np.int64)))
            for k, row in enumerate(need):
                profiles[row] = linked.rate_profile(k)
        return by_profile(rows, start, end)

    return volume


def write_schedule(schedule: Schedule, out_dir: str | Path) -> list[Path]:
    """Write ``schedule.csv`` and ``schedule_sols.csv`` into ``out_dir`` (atomically)."""
    out = Path(out_dir)
    return [atomic_write_text(out / "schedule.csv", schedule.to_csv()),
            atomic_write_text(out / "schedule_sols.csv", schedule.sols_to_csv())]


def print_schedule(schedule: Schedule, console: Console) -> None:
    """Print the plan's headline figures (passes used, of which split) and, per lander,
    delivered vs demanded volume."""
    from rich.table import Table

    n_sel = int(schedule.passes.selected.sum())
    n_split = int(schedule.passes.split.sum())
    gap = "" if schedule.gap != schedule.gap else f", gap {100 * schedule.gap:.2f}%"
    split = f" ({n_split} split)" if n_split else ""
    console.print(
        f"schedule: {schedule.solver} {schedule.status}, {n_sel} of {len(schedule.passes)} "
        f"passes{split}, {schedule.solve_s:.2f} s{gap}")
    table = Table("lander", "demand Mbit", "delivered Mbit", "%", "sols short", "binding")
    short = {s.lander: s for s in schedule.shortfalls}
    for name, demand, delivered in schedule.lander_totals():
        s = short.get(name)
        pct = 100.0 * delivered / demand if demand > 0 else 100.0
        table.add_row(name, f"{demand / 1e6:.1f}", f"{delivered / 1e6:.1f}", f"{pct:.1f}",
                      f"{s.sols_short}/{s.sols}" if s else "0", s.binding if s else "")
    console.print(table)
    for s in schedule.shortfalls:
        console.print(f"  {s.lander}: short {s.shortfall_bits / 1e6:.1f} Mbit: {s.detail}")


def run_schedule(
    scenario: Any,
    linked_contacts: ContactTable,
    out_dir: str | Path,
    console: Console | None = None,
    solver: str | None = None,
    time_limit_s: float | None = None,
) -> Schedule:
    """The schedule stage of ``marsrelay run``: plan, write ``DIR/schedule.csv`` (and
    ``schedule_sols.csv``), print delivered vs demanded per lander; returns the schedule."""
    schedule = schedule_scenario(scenario, linked_contacts, solver, time_limit_s)
    write_schedule(schedule, out_dir)
    if console is not None:
        print_schedule(schedule, console)
    return schedule
