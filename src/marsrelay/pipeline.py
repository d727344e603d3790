"""The planning chain on one scenario, for the CLI, the sweep, the report and the service alike.

Each stage is a function ``run(scenario, upstream results, config) -> Result`` that neither
prints nor writes (progress goes through a callback)::

    contacts.run(scenario)                                   -> ContactsResult
    links.run(scenario, contacts)                            -> LinkedContacts
    schedule.run(scenario, links)                            -> Schedule
    simulation.run(scenario, links, schedule)                -> SimulationResult

:func:`run` chains them (up to a chosen stage) into a :class:`RunResult`; :func:`run_variants`
runs the same scenario without a partner's assets; :func:`write_run_folder` writes results
into a run folder as one transaction (:mod:`marsrelay.rundir.folder`) with the report; and
:func:`run_folders` turns command-line inputs (run folders, scenario files or built-in names)
into run folders for the report and the comparison, running scenarios as needed.

Worked example::

    >>> from marsrelay.scenario import load_scenario
    >>> from marsrelay import pipeline
    >>> result = pipeline.run(load_scenario("exomars-2030"))  # doctest: +SKIP
    >>> pipeline.write_run_folder("out", result)                # doctest: +SKIP
    PosixPath('out')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from marsrelay import contacts as contacts_stage
from marsrelay import links as links_stage
from marsrelay import schedule as schedule_stage
from marsrelay import simulation as simulation_stage
from marsrelay.config import ScheduleConfig
from marsrelay.config.traffic import DEFAULT_BITS_PER_SOL as DEFAULT_TRAFFIC_BITS_PER_SOL
from marsrelay.config.traffic import DEFAULT_BUNDLE_BITS
from marsrelay.constants import SOL_S
from marsrelay.contacts import ContactsConfig, ContactsResult
from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.links import LinkedContacts
from marsrelay.progress import ProgressCallback
from marsrelay.report.html import write_report
from marsrelay.rundir import schema
from marsrelay.rundir.folder import RunFolderWriter, check_run_folder, write_run_record
from marsrelay.rundir.tables import OutputTable, write_table
from marsrelay.scenario import Scenario, builtin_scenario_names, load_scenario
from marsrelay.schedule import Schedule
from marsrelay.simulation import ContactPlan, SimulationResult

__all__ = [
    "STAGES",
    "Estimate",
    "RunResult",
    "Stage",
    "StageTiming",
    "Variant",
    "estimate",
    "fill_run_folder",
    "run",
    "run_folders",
    "run_on_plan",
    "run_variants",
    "write_run_folder",
]

Stage = Literal["contacts", "links", "schedule", "simulation"]
#: The stages in order.
STAGES: tuple[Stage, ...] = ("contacts", "links", "schedule", "simulation")

T = TypeVar("T")


@dataclass(frozen=True)
class StageTiming:
    """Wall time of one stage, s."""

    stage: str
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """What one run of the chain produced (None for stages it did not run)."""

    scenario: Scenario
    contacts: ContactsResult | None = None
    links: LinkedContacts | None = None
    schedule: Schedule | None = None
    simulation: SimulationResult | None = None
    timings: tuple[StageTiming, ...] = ()

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages that ran, in order."""
        done = {"contacts": self.contacts, "links": self.links, "schedule": self.schedule,
                "simulation": self.simulation}
        return tuple(s for s in STAGES if done[s] is not None)

    def tables(self) -> tuple[OutputTable, ...]:
        """Every table of the run folder; a later stage's version of a table (``contacts``
        with the link columns) replaces an earlier one."""
        by_name: dict[str, OutputTable] = {}
        for result in (self.contacts, self.links, self.schedule, self.simulation):
            if result is not None:
                for table in result.tables():
                    by_name[table.spec.name] = table
        return tuple(by_name.values())


@dataclass(frozen=True)
class Variant:
    """The scenario run without a partner's assets: the partner as given, the sub-folder it
    is written to (``without-<partner>``), and its result."""

    partner: str
    folder: str
    result: RunResult


@dataclass(frozen=True)
class Estimate:
    """What a run of the chain is expected to take: wall time (s) and peak memory (bytes),
    with the sizes it was estimated from."""

    seconds: float
    memory_bytes: float
    span_days: float
    pairs: int
    bundles: int

    def describe(self) -> str:
        """One line: the estimate and what it grows with."""
        years = self.span_days / 365.25
        span = f"{years:.1f} years" if years >= 1.0 else f"{self.span_days:.0f} days"
        minutes = self.seconds / 60.0
        took = f"{minutes:.0f} min" if minutes >= 1.0 else f"{self.seconds:.0f} s"
        return (f"estimated at {self.memory_bytes / 1e9:.1f} GB of memory and {took} "
                f"({span}, {self.pairs} node pairs, about {self.bundles:,} bundles)")


#: Costs per unit of work, measured with ``marsrelay run`` on exomars-2030 stretched to one year
#: (42,471 windows, 55,000 bundles; 2 cores, 2026-12): contact search and link sampling per
#: pair-day of span, scheduling per lander-orbiter pair-day, simulation per bundle, and memory
#: per pair-day and per bundle (peak RSS 0.43 GB). Each is rounded up; the estimate is meant to
#: catch runs that are far too large, not to time them.
_SECONDS_PER_PAIR_DAY = 5e-3
_SECONDS_PER_PROXIMITY_PAIR_DAY = 1.5e-2
_SECONDS_PER_BUNDLE = 3e-4
_BASE_BYTES = 2.0e8
_BYTES_PER_PAIR_DAY = 5e4
_BYTES_PER_BUNDLE = 400.0


def estimate(scenario: Scenario, until: Stage = "simulation") -> Estimate:
    """The time and memory a run of ``scenario`` up to ``until`` is expected to take, from the
    span and the numbers of node pairs and bundles (see the constants above)."""
    days = scenario.duration_s / 86400.0
    n_prox = len(scenario.landers) * len(scenario.orbiters)
    n_dte = sum(1 for la in scenario.landers if la.direct_to_earth)
    pairs = n_prox + (len(scenario.orbiters) + n_dte) * len(scenario.stations)
    bundles = 0
    if STAGES.index(until) >= STAGES.index("simulation"):
        sols = scenario.duration_s / SOL_S
        sources = scenario.traffic.source
        if sources:
            bundles = int(sum(s.bits_per_sol / s.bundle_bits for s in sources) * sols)
        else:
            bundles = int(len(scenario.landers) * sols
                          * DEFAULT_TRAFFIC_BITS_PER_SOL / DEFAULT_BUNDLE_BITS)
    seconds = (_SECONDS_PER_PAIR_DAY * pairs * days
               + (_SECONDS_PER_PROXIMITY_PAIR_DAY * n_prox * days
                  if STAGES.index(until) >= STAGES.index("schedule") else 0.0)
               + _SECONDS_PER_BUNDLE * bundles)
    memory = _BASE_BYTES + _BYTES_PER_PAIR_DAY * pairs * days + _BYTES_PER_BUNDLE * bundles
    return Estimate(seconds, memory, days, pairs, bundles)


def run(
    scenario: Scenario,
    *,
    until: Stage = "simulation",
    contacts: ContactsConfig | None = None,
    schedule: ScheduleConfig | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run the stages of ``scenario`` in order, up to and including ``until``.

    ``contacts`` and ``schedule`` override how those stages run (search settings; another
    solver or time limit); every other setting comes from the scenario's tables.
    """
    if until not in STAGES:
        raise InputError(f"unknown stage {until!r}", allowed=", ".join(STAGES))
    last = STAGES.index(until)
    timings: list[StageTiming] = []

    def timed(stage: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        value = fn()
        timings.append(StageTiming(stage, time.perf_counter() - t0))
        return value

    found = timed("contacts", lambda: contacts_stage.run(scenario, contacts, progress=progress))
    linked = sched = sim = None
    if last >= 1:
        linked = timed("links", lambda: links_stage.run(scenario, found, progress=progress))
    if last >= 2 and linked is not None:
        lk = linked
        sched = timed("schedule", lambda: schedule_stage.run(scenario, lk, schedule,
                                                             progress=progress))
    if last >= 3 and linked is not None:
        lk, sc = linked, sched
        sim = timed("simulation", lambda: simulation_stage.run(scenario, lk, sc,
                                                               progress=progress))
    return RunResult(scenario, found, linked, sched, sim, tuple(timings))


def run_on_plan(scenario: Scenario, plan: ContactPlan, *,
                progress: ProgressCallback | None = None) -> RunResult:
    """The simulation stage alone on a ready contact plan (e.g. an ION plan)."""
    t0 = time.perf_counter()
    sim = simulation_stage.run_on_plan(scenario, plan, progress=progress)
    return RunResult(scenario, simulation=sim,
                     timings=(StageTiming("simulation", time.perf_counter() - t0),))


def run_variants(
    scenario: Scenario,
    partners: Sequence[str],
    *,
    until: Stage = "simulation",
    schedule: ScheduleConfig | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[Variant, ...]:
    """``scenario`` run without each partner's assets (an agency or a node name). Every
    partner is checked before any work (a name that matches nothing raises InputError)."""
    scenarios = [scenario.without(p) for p in partners]
    return tuple(
        Variant(p, sc.name.removeprefix(f"{scenario.name}-"),
                run(sc, until=until, schedule=schedule, progress=progress))
        for p, sc in zip(partners, scenarios, strict=True))


def _write_result(folder: Path, result: RunResult) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / schema.SCENARIO_JSON, result.scenario.to_json())
    for table in result.tables():
        write_table(folder, table)


def fill_run_folder(
    writer: RunFolderWriter,
    result: RunResult,
    *,
    variants: Sequence[Variant] = (),
    report: bool = True,
    notes: Sequence[str] = (),
) -> None:
    """Write ``result`` (and each variant into its sub-folder) into an open run-folder
    transaction, with ``report.html`` showing the runs side by side when ``report``. The
    folder appears when the ``with`` block of ``writer`` ends without an error."""
    writer.scenario_name = result.scenario.name
    writer.stages = result.stages
    writer.timings_s = {t.stage: t.seconds for t in result.timings}
    writer.notes = list(notes)
    _write_result(writer.path, result)
    dirs = [writer.path]
    for v in variants:
        sub = writer.path / v.folder
        _write_result(sub, v.result)
        write_run_record(sub, v.result.scenario.name, v.result.stages,
                         {t.stage: t.seconds for t in v.result.timings})
        dirs.append(sub)
    if report:
        # the report reads complete run folders: record the run before reading it
        write_run_record(writer.path, writer.scenario_name, writer.stages, writer.timings_s)
        write_report(dirs, writer.path / schema.REPORT_HTML)


def write_run_folder(
    out_dir: str | Path,
    result: RunResult,
    *,
    variants: Sequence[Variant] = (),
    report: bool = True,
    notes: Sequence[str] = (),
) -> Path:
    """Write ``result`` into ``out_dir`` as one transaction (see :func:`fill_run_folder`).

    Raises :class:`~marsrelay.errors.RunFolderError` when ``out_dir`` is being written by
    another run, is not writable, or is a folder that is not a marsrelay run. On any error the
    previous content of ``out_dir`` stays as it was.
    """
    with RunFolderWriter(out_dir) as writer:
        fill_run_folder(writer, result, variants=variants, report=report, notes=notes)
    return writer.out_dir


def run_folders(items: Sequence[str], work_dir: Path, *,
                progress: ProgressCallback | None = None,
                check: Callable[[Scenario], None] | None = None) -> list[Path]:
    """Run folders for command-line inputs: each item is a run folder (checked complete), a
    scenario ``.toml`` file or a built-in scenario name; scenarios are run (all stages) into
    ``work_dir/<name>``. Every item is checked before any scenario runs (``check`` is called
    on each scenario first, e.g. a size guard). Raises InputError for an item that is none of
    these."""
    if not items:
        raise InputError("give at least one run folder or scenario")
    resolved: list[Path | Scenario] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            check_run_folder(path, need=("contacts",))
            resolved.append(path)
        elif path.is_file() or item in builtin_scenario_names() or path.suffix == ".toml":
            scenario = load_scenario(item)
            if check is not None:
                check(scenario)
            resolved.append(scenario)
        else:
            raise InputError(
                "no such run folder, scenario file or built-in scenario", file=item,
                allowed="an existing run folder or .toml file, or one of: "
                + ", ".join(builtin_scenario_names()))
    out: list[Path] = []
    for entry in resolved:
        if isinstance(entry, Path):
            out.append(entry)
            continue
        target = work_dir / entry.name
        k = 2
        while target in out:
            target, k = work_dir / f"{entry.name}-{k}", k + 1
        out.append(write_run_folder(target, run(entry, progress=progress), report=False))
    return out
