"""The simulation stage: store-and-forward delivery of every lander's data to Earth.

- :func:`run`: the stage as the pipeline runs it, ``run(scenario, links, schedule, config) ->
  SimulationResult`` (the contact plan from the linked contacts, only the passes the schedule
  selected when ``[simulation] use_schedule`` is set);
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
    pass matches a row with the same lander and orbiter and a start within ``tol_s`` s."""
    passes = schedule.passes
    sel = np.asarray(passes.selected, dtype=bool)
    chosen: dict[tuple[str, str], np.ndarray] = {}
    for la, orb, t in zip(np.asarray(passes.lander)[sel], np.asarray(passes.orbiter)[sel],
                          np.asarray(passes.start_tdb_s, dtype=float)[sel], strict=True):
        key = (str(la), str(orb))
        chosen[key] = np.append(chosen.get(key, np.zeros(0)), t)
    keep = np.ones(len(table), dtype=bool)
    for i in np.flatnonzero(table.kind == "proximity"):
        starts = chosen.get((str(table.source[i]), str(table.target[i])))
        keep[i] = starts is not None and bool(
            np.any(np.abs(starts - table.start_tdb_s[i]) <= tol_s))
    return table.take(keep)


def build_plan(scenario: Scenario, links: LinkedContacts, schedule: Schedule | None = None,
               config: SimulationConfig | None = None) -> ContactPlan:
    """The contact plan of ``scenario``: every linked contact, or with ``use_schedule`` only
    the proximity passes ``schedule`` selected (and every Earth contact)."""
    cfg = config or scenario.simulation
    table = links.contacts
    if schedule is not None and cfg.use_schedule:
        table = apply_schedule(table, schedule)
    return ContactPlan.from_contact_table(table, scenario, cfg)


def plan_inputs(scenario: Scenario, plan: ContactPlan,
                config: SimulationConfig | None = None) -> PlanInputs:
    """Traffic, per-node storage and lander longitudes of ``scenario`` on ``plan``."""
    cfg = config or scenario.simulation
    lons = {la.name: float(la.site.lon_east_deg) for la in scenario.landers}
    bundles = generate_traffic(scenario.traffic, plan.node_names, plan.node_kind,
                               scenario.start_tdb_s, scenario.end_tdb_s, lons)
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

    ``schedule`` limits the relay passes to those it selected when ``[simulation]
    use_schedule`` is set; ``config`` replaces the scenario's ``[simulation]`` table.
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
    return SimulationResult(outcome, inputs.lander_lon_east_deg, cfg.buffer_sample_s)
