"""``marsrelay run SCENARIO --out DIR``: run the pipeline's stages in order, write the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marsrelay.cli.common import console, contacts_progress, user_errors
from marsrelay.cli.geometry import print_geometry
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.geometry.snapshot import geometry_snapshot
from marsrelay.io import atomic_write_text
from marsrelay.scenario import load_scenario


def _write_text(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror}",
            field="--out",
            allowed="a folder you can write to",
        ) from None


def _run_stages(sc, out: Path, report: bool = True):
    from marsrelay.pipeline import run_pipeline

    with contacts_progress(console, "contacts") as progress:
        return run_pipeline(sc, out, console, progress=progress, report=report)


def _print_run(result) -> None:
    from rich.table import Table

    table = Table(title="Run", show_edge=False)
    table.add_column("stage")
    table.add_column("time (s)", justify="right")
    for t in result.timings:
        table.add_row(t.stage, f"{t.seconds:.2f}")
    console.print(table)
    files = sorted(p.name for p in result.out_dir.iterdir() if p.is_file())
    console.print(
        f"Wrote {len(files)} files into {result.out_dir}: {', '.join(files)}", highlight=False
    )
    if result.report_path is not None:
        console.print(f"Report: {result.report_path}", highlight=False)


@app.command("run")
def run_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")] = Path(
        "out"
    ),
    without: Annotated[
        list[str] | None,
        typer.Option(
            "--without",
            help="Also run the mission without this partner's assets (an agency such as NASA, "
            "or a node name) and compare side by side; repeatable. Default: the scenario's "
            "compare_without list.",
        ),
    ] = None,
    no_compare: Annotated[
        bool, typer.Option("--no-compare", help="Run the scenario alone, no side-by-side.")
    ] = False,
) -> None:
    """Run every stage on SCENARIO and write the results into --out.

    Stages, in order: contacts, links, schedule, simulation, report. With partners to compare
    (``--without``, or the scenario's ``compare_without``), each variant runs into
    ``OUT/without-<partner>/`` and the report and console show the side-by-side.
    """
    with user_errors(ctx):
        sc = load_scenario(scenario)
        partners = [] if no_compare else list(without or sc.compare_without)
        variants = [sc.without(p) for p in partners]  # bad partner names fail before any work
        # Written here first as the fail-fast check of --out (exit 2 before any work);
        # run_pipeline writes the same file again as part of the library API.
        _write_text(out / "scenario.json", sc.to_json())
        print_geometry(geometry_snapshot(sc, sc.start_tdb_s))
        result = _run_stages(sc, out, report=not variants)
        _print_run(result)
        if variants:
            _run_variants(sc, out, partners, variants)


def _run_variants(sc, out: Path, partners: list[str], variants: list) -> None:
    from marsrelay.cli.compare import comparison_table
    from marsrelay.pipeline import run_pipeline
    from marsrelay.report import write_report
    from marsrelay.report.compare import compare_runs

    dirs = [out]
    for partner, variant in zip(partners, variants, strict=True):
        vdir = out / variant.name.removeprefix(f"{sc.name}-")
        console.print(f"[bold]Without {partner}[/bold] -> {vdir}", highlight=False)
        run_pipeline(variant, vdir, None, report=False)
        dirs.append(vdir)
    console.print(comparison_table(compare_runs(dirs)))
    report = write_report(dirs, out / "report.html")
    console.print(f"Report (with the side-by-side): {report}", highlight=False)
