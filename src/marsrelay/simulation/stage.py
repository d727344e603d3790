"""The simulation stage: store-and-forward delivery of every lander's data to Earth.

- :func:`run`: the stage as the pipeline runs it, ``run(scenario, links, schedule, config) ->
  SimulationResult`` (the contact plan from the linked contacts: only the Earth passes the
  schedule allocated, and only the relay passes it selected when ``[simulation]
  use_schedule`` is set);
- :func:`run_on_plan`: the same on a ready :class:`ContactPlan` (e.g. read from an ION file);
- :func:`build_plan` and :func:`plan_inputs`: the pieces, for callers that drive the engine
  themselves (the sweep's figures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marsrelay.config import SimulationConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.links.compute import LinkedContacts
from marsrelay.progress import ProgressCallback, report
from marsrelay.scenario import Scenario
from marsrelay.schedule.earth import allocate_earth
from marsrelay.schedule.result import Schedule
from marsrelay.simulation.engine import simulate
from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.results import SimulationResult
from marsrelay.simulation.traffic import Bundles, generate_traffic

__all__ = ["PlanInputs", "apply_schedule", "build_plan", "plan_inputs", "run", "run_on_plan"]


@dataclass(frozen=True)
class PlanInputs:
    """What the engine needs beside the plan: the bundles, each node's storage (bits, inf for
    unlimited, in plan node order) and each lander's east longitude (deg, for its sols)."""

    bundles: Bundles
    storage_bits: np.ndarray
    lander_lon_east_deg: dict[str, float]


def apply_schedule(table: ContactTable, schedule: Schedule, tol_s: float = 1.0) -> ContactTable:
    """Keep only the proximity rows the schedule selected (Earth rows are kept): a selected
    pass matches a row with the same lander and orbiter and a start within ``tol_s`` s. A
    split pass (``status`` ``split``) keeps only its lander's share: the row is cut to the
    share's window and carries the share's volume (the rest of the overflight belongs to the
    other lander)."""
    passes = schedule.passes
    sel = np.asarray(passes.selected, dtype=bool)
    share_start = np.asarray(passes.share_start_tdb_s, dtype=float)
    share_end = np.asarray(passes.share_end_tdb_s, dtype=float)
    share_bits = np.asarray(passes.share_volume_bits, dtype=float)
    chosen: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for p in np.flatnonzero(sel).tolist():
        key = (str(passes.lander[p]), str(passes.orbiter[p]))
        chosen.setdefault(key, []).append((float(passes.start_tdb_s[p]), p))
    keep = np.ones(len(table), dtype=bool)
    start, end = table.start_tdb_s.copy(), table.end_tdb_s.copy()
    volume, rate = table.volume_bits.copy(), table.rate_bps_mean.copy()
    for i in np.flatnonzero(table.kind == "proximity").tolist():
        match = [p for t, p in chosen.get((str(table.source[i]), str(table.target[i])), [])
                 if abs(t - table.start_tdb_s[i]) <= tol_s]
        keep[i] = bool(match)
        if match and np.isfinite(share_start[match[0]]):
            p = match[0]
            start[i], end[i] = share_start[p], share_end[p]
            volume[i] = share_bits[p]
            rate[i] = volume[i] / max(end[i] - start[i], 1e-9)
    cut = ContactTable(table.source, table.target, table.kind, start, end,
                       table.max_elevation_deg, table.max_elevation_tdb_s, table.min_range_km,
                       table.max_range_km, table.owlt_s, rate, volume)
    return cut.take(keep)


def build_plan(scenario: Scenario, links: LinkedContacts, schedule: Schedule | None = None,
               config: SimulationConfig | None = None) -> ContactPlan:
    """The contact plan of ``scenario``: the linked proximity contacts (with ``use_schedule``
    only the passes ``schedule`` selected, split passes cut to their shares) and the Earth
    passes ``schedule`` allocated. Without a schedule the Earth passes are allocated here
    (:func:`marsrelay.schedule.earth.allocate_earth`, as the schedule stage would); with
    ``[earth] allocate = false`` every Earth contact stays."""
    cfg = config or scenario.simulation
    table = links.contacts
    if schedule is not None and cfg.use_schedule:
        table = apply_schedule(table, schedule)
    if schedule is not None:
        earth = schedule.earth
    else:
        sched = scenario.schedule
        earth = allocate_earth(scenario, links.contacts, solver=sched.solver,
                               time_limit_s=sched.time_limit_s, workers=sched.workers)
    if earth is not None:
        table = earth.apply(table)
    return ContactPlan.from_contact_table(table, scenario, cfg)


def plan_inputs(scenario: Scenario, plan: ContactPlan,
                config: SimulationConfig | None = None) -> PlanInputs:
    """Traffic, per-node storage and lander longitudes of ``scenario`` on ``plan``."""
    cfg = config or scenario.simulation
    lons = {la.name: float(la.site.lon_east_deg) for la in scenario.landers}
    demand = {la.name: la.demand_bits_per_sol for la in scenario.landers
              if la.demand_bits_per_sol is not None}
    bundles = generate_traffic(scenario.traffic, plan.node_names, plan.node_kind,
                               scenario.start_tdb_s, scenario.end_tdb_s, lons, demand)
    default = np.inf if cfg.storage_bits is None else float(cfg.storage_bits)
    storage = np.full(len(plan.node_names), default)
    for k, node in enumerate(cfg.node):
        if node.name not in plan.node_names:
            raise InputError(f"unknown node {node.name!r}", field=f"simulation.node[{k}].name",
                             allowed=", ".join(plan.node_names))
        storage[plan.node_names.index(node.name)] = node.storage_bits
    return PlanInputs(bundles, storage, lons)


def run(scenario: Scenario, links: LinkedContacts, schedule: Schedule | None = None,
        config: SimulationConfig | None = None, *,
        progress: ProgressCallback | None = None) -> SimulationResult:
    """Simulate ``scenario``'s traffic through its linked contacts (Contact Graph Routing).

    ``schedule`` limits the Earth contacts to the passes it allocated (``schedule.earth``),
    and the relay passes to those it selected when ``[simulation] use_schedule`` is set
    (:func:`build_plan`); ``config`` replaces the scenario's ``[simulation]`` table.
    """
    cfg = config or scenario.simulation
    return run_on_plan(scenario, build_plan(scenario, links, schedule, cfg), cfg,
                       progress=progress)


def run_on_plan(scenario: Scenario, plan: ContactPlan, config: SimulationConfig | None = None,
                *, progress: ProgressCallback | None = None) -> SimulationResult:
    """:func:`run` on a ready contact plan (e.g. one read from an ION file)."""
    cfg = config or scenario.simulation
    inputs = plan_inputs(scenario, plan, cfg)
    report(progress, "simulation", 0, 1)
    outcome = simulate(plan, inputs.bundles, start_tdb_s=scenario.start_tdb_s,
                       end_tdb_s=scenario.end_tdb_s, storage_bits=inputs.storage_bits,
                       seed=cfg.seed, one_transmitter_per_band=cfg.one_transmitter_per_band)
    report(progress, "simulation", 1, 1)
    landing = {la.name: la.landing_sol for la in scenario.landers if la.landing_sol is not None}
    return SimulationResult(outcome, inputs.lander_lon_east_deg, cfg.buffer_sample_s, landing)
