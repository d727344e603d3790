"""The simulation stage of the pipeline: scenario + contacts (+ schedule) -> outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.simulation.engine import simulate
from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.results import SimulationResult
from marsrelay.simulation.traffic import Bundles, generate_traffic

__all__ = [
    "apply_schedule",
    "build_inputs",
    "plan_inputs",
    "print_summary",
    "run_simulation",
    "run_simulation_on_plan",
]


def _table_of(contacts: Any) -> ContactTable:
    if isinstance(contacts, ContactTable):
        return contacts
    table = getattr(contacts, "contacts", None)  # the links stage's LinkedContacts
    if isinstance(table, ContactTable):
        return table
    raise TypeError("contacts must be a ContactTable or have a .contacts ContactTable")


def apply_schedule(table: ContactTable, schedule: Any, tol_s: float = 1.0) -> ContactTable:
    """Keep only the proximity rows the schedule selected (Earth rows are kept).

    ``schedule`` is the schedule stage's result: ``schedule.passes`` with ``lander``,
    ``orbiter``, ``start_tdb_s`` and ``selected`` arrays (a pass matches a row with the same
    lander, orbiter and a start within ``tol_s`` seconds).
    """
    passes = getattr(schedule, "passes", None)
    if passes is None:
        raise TypeError("schedule has no .passes (expected the schedule stage's Schedule)")
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


def build_inputs(scenario: Any, contacts: Any, schedule: Any = None
                 ) -> tuple[ContactPlan, Bundles, np.ndarray, dict[str, float]]:
    """The plan, traffic, per-node storage (bits) and lander longitudes of a scenario."""
    cfg = scenario.simulation
    table = _table_of(contacts)
    if schedule is not None and cfg.use_schedule:
        table = apply_schedule(table, schedule)
    plan = ContactPlan.from_contact_table(table, scenario, cfg)
    return (plan, *plan_inputs(scenario, plan))


def plan_inputs(scenario: Any, plan: ContactPlan) -> tuple[Bundles, np.ndarray, dict[str, float]]:
    """Traffic, per-node storage (bits) and lander longitudes of ``scenario`` on ``plan``."""
    cfg = scenario.simulation
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
    return bundles, storage, lons


def run_simulation(scenario: Any, contacts: Any, out_dir: str | Path, console: Any = None,
                   schedule: Any = None) -> SimulationResult:
    """Simulation stage for ``marsrelay run``: simulate, write ``bundles.parquet``,
    ``delivery.csv``, ``latency.csv`` and ``buffers.csv`` into ``out_dir`` (atomically) and
    print a short summary on ``console`` (a rich Console) if given.

    ``contacts`` is the contact table with the links stage's rates (a ``ContactTable`` or the
    links stage's ``LinkedContacts``); ``schedule`` the schedule stage's result, used when the
    scenario sets ``[simulation] use_schedule = true``.
    """
    plan = build_inputs(scenario, contacts, schedule)[0]
    return run_simulation_on_plan(scenario, plan, out_dir, console)


def run_simulation_on_plan(scenario: Any, plan: ContactPlan, out_dir: str | Path,
                           console: Any = None) -> SimulationResult:
    """:func:`run_simulation` on a ready contact plan (e.g. one read from an ION file)."""
    cfg = scenario.simulation
    bundles, storage, lons = plan_inputs(scenario, plan)
    outcome = simulate(plan, bundles, start_tdb_s=scenario.start_tdb_s,
                       end_tdb_s=scenario.end_tdb_s, storage_bits=storage, seed=cfg.seed,
                       one_transmitter_per_band=cfg.one_transmitter_per_band)
    result = SimulationResult(outcome, lons, cfg.buffer_sample_s)
    paths = result.write(out_dir)
    if console is not None:
        print_summary(result, console)
        console.print("simulation: wrote " + ", ".join(p.name for p in paths), highlight=False)
    return result


def print_summary(result: SimulationResult, console: Any) -> None:
    """A few lines: bundles, bits delivered / stored / dropped, latency percentiles."""
    tot = result.totals()
    lat = result.latency
    gen = tot["generated_bits"]

    def share(x: float) -> str:
        return f"{x / 1e9:.3f} Gbit ({100.0 * x / gen:.1f}%)" if gen else "0"

    console.print(
        f"simulation: {lat.count} bundles, {gen / 1e9:.3f} Gbit generated; "
        f"delivered {share(tot['delivered_bits'])}, stored {share(tot['stored_bits'])}",
        highlight=False)
    drops = ", ".join(f"{k[8:-5]} {share(v)}" for k, v in tot.items()
                      if k.startswith("dropped_") and v > 0)
    console.print(f"dropped: {drops or 'none'}", highlight=False)
    if lat.delivered:
        console.print(f"latency: p50 {lat.p50_s / 3600:.2f} h, p95 {lat.p95_s / 3600:.2f} h, "
                      f"max {lat.max_s / 3600:.2f} h", highlight=False)
