"""The whole chain on one scenario: contacts -> links -> schedule -> simulation -> report.

``marsrelay run`` is a thin wrapper around :func:`run_pipeline`; the Python API gives the same
numbers. Each stage writes its own files into the run directory (atomically):

=====================  ==========================================================
stage                  files
=====================  ==========================================================
scenario               ``scenario.json``
contacts               ``contacts.csv``, ``contacts.parquet``, ``conjunction.csv``
links                  ``volumes_per_sol.csv`` (and the link columns of ``contacts.*``)
schedule               ``schedule.csv``, ``schedule_sols.csv``
simulation             ``bundles.parquet``, ``delivery.csv``, ``latency.csv``, ``buffers.csv``
report                 ``report.html``
=====================  ==========================================================

Worked example::

    >>> from marsrelay.scenario import load_scenario
    >>> from marsrelay.pipeline import run_pipeline
    >>> result = run_pipeline(load_scenario("exomars-2030"), "out")  # doctest: +SKIP
    >>> result.report_path  # doctest: +SKIP
    PosixPath('out/report.html')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from marsrelay.contacts import ContactTable, find_contacts, write_contacts
from marsrelay.geometry.time import tdb_to_utc
from marsrelay.io import atomic_write_text
from marsrelay.links.compute import LinkedContacts, run_links
from marsrelay.report import write_report
from marsrelay.schedule.run import run_schedule
from marsrelay.simulation.run import run_simulation

__all__ = ["RunResult", "StageTiming", "conjunction_windows", "run_pipeline"]


@dataclass(frozen=True)
class StageTiming:
    """Wall time of one stage, s."""

    stage: str
    seconds: float


@dataclass
class RunResult:
    """Everything one run produced (the files are in ``out_dir``)."""

    scenario: Any
    out_dir: Path
    contacts: ContactTable
    linked: LinkedContacts
    schedule: Any
    simulation: Any
    report_path: Path | None
    timings: list[StageTiming] = field(default_factory=list)


def conjunction_windows(scenario: Any) -> list[tuple[float, float]]:
    """TDB intervals inside the scenario span when the Sun-Earth-Mars angle is below
    ``scenario.conjunction_sep_deg`` (Earth links blocked)."""
    from marsrelay.contacts.earth import conjunction_free
    from marsrelay.contacts.earth_tables import EarthMarsTables

    t0, t1 = float(scenario.start_tdb_s), float(scenario.end_tdb_s)
    if scenario.conjunction_sep_deg <= 0:
        return []
    tables = EarthMarsTables(t0, t1, scenario.rotation, scenario.ephemeris)
    free = conjunction_free(tables, t0, t1, scenario.conjunction_sep_deg)
    starts, ends = np.asarray(free.start, dtype=float), np.asarray(free.end, dtype=float)
    order = np.argsort(starts)
    blocked: list[tuple[float, float]] = []
    cursor = t0
    for a, b in zip(starts[order], ends[order], strict=True):
        if a > cursor:
            blocked.append((cursor, float(a)))
        cursor = max(cursor, float(b))
    if cursor < t1:
        blocked.append((cursor, t1))
    return blocked


def _write_conjunction(scenario: Any, out_dir: Path) -> list[tuple[float, float]]:
    blocked = conjunction_windows(scenario)
    lines = ["start_utc,end_utc,duration_s,threshold_deg"]
    for a, b in blocked:
        lines.append(
            f"{tdb_to_utc(a)},{tdb_to_utc(b)},{b - a:.3f},{scenario.conjunction_sep_deg:g}"
        )
    atomic_write_text(out_dir / "conjunction.csv", "\n".join(lines) + "\n")
    return blocked


def run_pipeline(
    scenario: Any,
    out_dir: str | Path,
    console: Any | None = None,
    *,
    report: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Run every stage on ``scenario`` and write their outputs into ``out_dir``.

    ``console`` (a rich Console) receives each stage's short summary; ``progress`` is passed
    to the contact search (``progress(description, completed, total)``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: list[StageTiming] = []

    def timed(stage: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        value = fn()
        timings.append(StageTiming(stage, time.perf_counter() - t))
        return value

    atomic_write_text(out / "scenario.json", scenario.to_json())
    contacts = timed("contacts", lambda: find_contacts(scenario, progress))
    timed("conjunction", lambda: _write_conjunction(scenario, out))
    linked = timed("links", lambda: run_links(scenario, contacts, out, console))
    # contacts.* carry the link columns (rate_bps_mean, volume_bits) once links ran.
    timed("contacts files", lambda: write_contacts(linked.contacts, out))
    schedule = timed("schedule", lambda: run_schedule(scenario, linked.contacts, out, console))
    simulation = timed(
        "simulation", lambda: run_simulation(scenario, linked, out, console, schedule=schedule)
    )
    report_path = None
    if report:
        report_path = timed("report", lambda: write_report([out], out / "report.html"))
    return RunResult(scenario, out, contacts, linked, schedule, simulation, report_path, timings)
