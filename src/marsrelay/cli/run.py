"""The commands that run the planning chain into a run folder: ``run`` (every stage, the
report, the side-by-side without partners), and ``contacts``, ``schedule``, ``simulate`` (the
chain up to that stage). ``links`` prints the link figures without writing files.

Every one of them checks its options and takes the run folder's lock before any work, writes
into a temporary sibling and swaps it in whole at the end (:mod:`marsrelay.rundir.folder`):
an interrupted or failed run leaves the previous run in ``--out`` as it was.
"""

from __future__ import annotations

from typing import Annotated

import typer

from marsrelay import pipeline
from marsrelay.cli.common import (
    CliState,
    check_output_file,
    check_size,
    console,
    path_option,
    stage_progress,
)
from marsrelay.cli.summaries import (
    comparison_table,
    print_contacts,
    print_geometry,
    print_links,
    print_run,
)
from marsrelay.errors import InputError
from marsrelay.links import build_link_model
from marsrelay.pipeline import Stage
from marsrelay.report.compare import compare_runs
from marsrelay.rundir.folder import RunFolderWriter
from marsrelay.scenario import Scenario, load_scenario

__all__ = [
    "contacts_command",
    "links_command",
    "run_command",
    "schedule_command",
    "simulate_command",
]

ScenarioArg = Annotated[str, typer.Argument(
    help="Built-in scenario name or TOML file.", metavar="SCENARIO")]
OutOption = Annotated[str, typer.Option(
    "--out", metavar="DIR", help="Run folder to write (created, or replaced whole if it holds "
    "an earlier run).")]


def _note_interrupt(ctx: typer.Context, out: str) -> None:
    state = ctx.find_root().obj
    if isinstance(state, CliState):
        state.interrupt_note = f"nothing written; {out} keeps what it held before"


def _wrote(writer: RunFolderWriter) -> None:
    files = sorted(p.name for p in writer.out_dir.iterdir() if p.is_file())
    console.print(f"Wrote {len(files)} files into {writer.out_dir}: {', '.join(files)}",
                  highlight=False, markup=False, soft_wrap=True)


def _run_to(ctx: typer.Context, scenario: Scenario, out: str, until: Stage, *,
            schedule_solver: str | None = None,
            time_limit_s: float | None = None) -> pipeline.RunResult:
    """Run the chain up to ``until`` into the run folder ``out``; prints the summaries."""
    config = None
    if schedule_solver is not None or time_limit_s is not None:
        update = {k: v for k, v in (("solver", schedule_solver),
                                    ("time_limit_s", time_limit_s)) if v is not None}
        config = scenario.schedule.model_copy(update=update)
    check_size(ctx, scenario, until)
    writer = RunFolderWriter(path_option(out, "--out"))  # checks --out before any work
    _note_interrupt(ctx, out)
    with writer, stage_progress() as progress:
        result = pipeline.run(scenario, until=until, schedule=config, progress=progress)
        pipeline.fill_run_folder(writer, result, report=False)
    print_run(result)
    _wrote(writer)
    return result


def contacts_command(ctx: typer.Context, scenario: ScenarioArg,
                     out: OutOption = "out") -> None:
    """Find every window in which two nodes of SCENARIO can talk (contacts and conjunction
    tables, CSV and Parquet)."""
    sc = load_scenario(scenario)
    result = _run_to(ctx, sc, out, "contacts")
    assert result.contacts is not None
    print_contacts(result.contacts.contacts, sc.duration_s)


def links_command(
    ctx: typer.Context,
    scenario: ScenarioArg,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Print every row of the per-sol and per-day tables.")] = False,
) -> None:
    """Data rate and volume of every contact: per sol per lander, per orbiter, Earth per day
    (printed; 'marsrelay run' writes them into a run folder)."""
    sc = load_scenario(scenario)
    build_link_model(sc)  # check [links] before the (slower) contact search
    check_size(ctx, sc, "links")
    with stage_progress() as progress:
        result = pipeline.run(sc, until="links", progress=progress)
    assert result.links is not None
    print_links(result.links, show_all)


def schedule_command(
    ctx: typer.Context,
    scenario: ScenarioArg,
    out: OutOption = "out",
    solver: Annotated[str | None, typer.Option(
        "--solver", metavar="cpsat|greedy",
        help="cpsat (optimal) or greedy; default: the scenario's.")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.001, metavar="S", help="CP-SAT time limit, s.")] = None,
) -> None:
    """Relay pass plan for SCENARIO: contacts, links and the schedule tables in --out."""
    if solver is not None and solver not in ("cpsat", "greedy"):
        raise InputError(f"unknown solver {solver!r}", field="--solver", allowed="cpsat, greedy")
    _run_to(ctx, load_scenario(scenario), out, "schedule", schedule_solver=solver,
            time_limit_s=time_limit)


def simulate_command(
    ctx: typer.Context,
    scenario: ScenarioArg,
    out: OutOption = "out",
    ion: Annotated[str | None, typer.Option(
        "--ion", metavar="PLAN", help="Simulate this ION contact plan (ionadmin commands) "
        "instead of computing contacts.")] = None,
    node: Annotated[list[str] | None, typer.Option(
        "--node", metavar="NUMBER=NAME",
        help="ION node NUMBER stands for scenario node NAME (repeatable; adds to and "
             "overrides the scenario's \\[ion.nodes]).")] = None,
    export_ion: Annotated[str | None, typer.Option(
        "--export-ion", metavar="FILE",
        help="Also write the contact plan used as an ION plan to this file.")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, metavar="N", help="Override the scenario's simulation seed.")] = None,
) -> None:
    """Simulate SCENARIO's traffic through its contacts (Contact Graph Routing): contacts,
    links, schedule and the simulation tables in --out."""
    from marsrelay.simulation import ContactPlan
    from marsrelay.simulation.ion import (
        parse_node_options,
        read_ion,
        scenario_node_map,
        write_ion,
    )

    node_options = parse_node_options(node or [])
    export_path = (None if export_ion is None
                   else check_output_file(path_option(export_ion, "--export-ion"), "--export-ion"))
    sc = load_scenario(scenario)
    if seed is not None:
        sc = sc.with_overrides(simulation=sc.simulation.model_copy(update={"seed": seed}))
    ion_numbers = {name: n for n, name in scenario_node_map(sc, node_options).items()}
    if ion is None:
        result = _run_to(ctx, sc, out, "simulation")
        assert result.links is not None
        plan = ContactPlan.from_contact_table(result.links.contacts, sc, sc.simulation)
    else:
        check_size(ctx, sc, "simulation")
        reading = read_ion(path_option(ion, "--ion"), scenario=sc, nodes=node_options)
        plan, ion_numbers = reading.plan, dict(reading.node_numbers)
        writer = RunFolderWriter(path_option(out, "--out"))
        console.print(f"{ion}: {reading.summary()}", highlight=False, markup=False)
        _note_interrupt(ctx, out)
        with writer, stage_progress() as progress:
            result = pipeline.run_on_plan(sc, plan, progress=progress)
            pipeline.fill_run_folder(writer, result, report=False,
                                     notes=[f"contact plan: {ion}"])
        print_run(result)
        _wrote(writer)
    if export_path is not None:
        exported = write_ion(export_path, plan, node_numbers=ion_numbers)
        console.print(f"Wrote {export_ion}: {exported.summary()}", highlight=False,
                      markup=False)


def run_command(
    ctx: typer.Context,
    scenario: ScenarioArg,
    out: OutOption = "out",
    without: Annotated[list[str] | None, typer.Option(
        "--without", metavar="PARTNER",
        help="Also run the mission without this partner's assets (an agency such as NASA, or "
        "a node name) and compare side by side; repeatable. Default: the scenario's "
        "compare_without list.")] = None,
    no_compare: Annotated[bool, typer.Option(
        "--no-compare", help="Run the scenario alone, no side-by-side.")] = False,
) -> None:
    """Run every stage on SCENARIO and write the results and report.html into --out.

    Stages, in order: contacts, links, schedule, simulation, report. With partners to compare
    (--without, or the scenario's compare_without), each variant runs into
    OUT/without-<partner>/ and the report and console show the side-by-side.
    """
    sc = load_scenario(scenario)
    partners = [] if no_compare else list(without or sc.compare_without)
    for p in partners:
        sc.without(p)  # a partner that matches nothing fails before any work
    check_size(ctx, sc, "simulation", runs=1 + len(partners))
    writer = RunFolderWriter(path_option(out, "--out"))  # checks --out before any work
    _note_interrupt(ctx, out)
    with writer:
        print_geometry(sc.geometry_at(sc.start_tdb_s))
        with stage_progress() as progress:
            result = pipeline.run(sc, progress=progress)
        print_run(result)
        variants: tuple[pipeline.Variant, ...] = ()
        if partners:
            with stage_progress() as progress:
                variants = pipeline.run_variants(sc, partners, progress=progress)
        pipeline.fill_run_folder(writer, result, variants=variants)
    _wrote(writer)
    if variants:
        dirs = [writer.out_dir, *(writer.out_dir / v.folder for v in variants)]
        for v in variants:
            console.print(f"Without {v.partner} -> {writer.out_dir / v.folder}",
                          highlight=False, markup=False, soft_wrap=True)
        console.print(comparison_table(compare_runs(dirs)))
    side = " (with the side-by-side)" if variants else ""
    console.print(f"Report{side}: {writer.out_dir / 'report.html'}", highlight=False,
                  markup=False, soft_wrap=True)
