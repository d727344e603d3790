"""``marsrelay report``, ``compare`` and ``czml``: read run folders (running scenarios given by
name or file first) and write an HTML report, a comparison, or a CZML file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from marsrelay import pipeline
from marsrelay.cli.common import (
    check_output_file,
    check_size,
    console,
    path_option,
    stage_progress,
)
from marsrelay.cli.summaries import comparison_table
from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.report.compare import compare_runs
from marsrelay.report.czml import write_czml
from marsrelay.report.html import write_report
from marsrelay.report.run_data import load_run
from marsrelay.scenario import Scenario

__all__ = ["compare_command", "czml_command", "report_command"]

InputsArg = Annotated[list[str], typer.Argument(
    help="Run folders, scenario files or built-in scenario names (scenarios are run first); "
    "the first is the reference.", metavar="RUN_OR_SCENARIO...")]
RunsDirOption = Annotated[str | None, typer.Option(
    "--runs-dir", metavar="DIR", help="Keep the runs of scenarios given by name or file in "
    "this folder (default: a temporary folder, removed at the end).")]


@contextmanager
def _run_folders(ctx: typer.Context, items: Sequence[str],
                 runs_dir: str | None) -> Iterator[list[Path]]:
    """Run folders for ``items``; scenario runs go to ``runs_dir`` or a temporary folder
    that is removed when the block ends."""
    def check(scenario: Scenario) -> None:
        check_size(ctx, scenario)

    if runs_dir is not None:
        with stage_progress() as progress:
            yield pipeline.run_folders(items, path_option(runs_dir, "--runs-dir"),
                                       progress=progress, check=check)
        return
    with tempfile.TemporaryDirectory(prefix="marsrelay-runs-") as tmp, \
            stage_progress() as progress:
        yield pipeline.run_folders(items, Path(tmp), progress=progress, check=check)


def report_command(
    ctx: typer.Context,
    inputs: InputsArg,
    out: Annotated[str, typer.Option("--out", metavar="FILE", help="HTML file to write.")
                   ] = "report.html",
    map_sol: Annotated[int, typer.Option(
        "--map-sol", min=0, metavar="N",
        help="Which whole sol of the span the map shows (0 = the first).")] = 0,
    runs_dir: RunsDirOption = None,
) -> None:
    """Write one self-contained report.html (opens offline in any browser)."""
    target = check_output_file(path_option(out, "--out"), "--out")
    with _run_folders(ctx, inputs, runs_dir) as dirs:
        path = write_report(dirs, target, map_sol=map_sol)
    console.print(f"Wrote {path}", highlight=False, markup=False)


def compare_command(
    ctx: typer.Context,
    runs: InputsArg,
    csv_out: Annotated[str | None, typer.Option(
        "--csv", metavar="FILE", help="Also write the comparison as CSV here.")] = None,
    runs_dir: RunsDirOption = None,
) -> None:
    """Compare runs: passes, contact time, data returned, latency, outages; deltas vs the
    first."""
    if len(runs) < 2:
        raise InputError("give at least two runs to compare", field="RUNS",
                         allowed="two or more run folders or scenarios")
    csv_path = (None if csv_out is None
                else check_output_file(path_option(csv_out, "--csv"), "--csv"))
    with _run_folders(ctx, runs, runs_dir) as dirs:
        comp = compare_runs(dirs)
    console.print(comparison_table(comp))
    if csv_path is not None:
        atomic_write_text(csv_path, comp.to_csv())
        console.print(f"Wrote {csv_path}", highlight=False, markup=False)


def czml_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(
        help="Run folder, scenario file or built-in scenario name.",
        metavar="RUN_OR_SCENARIO")],
    out: Annotated[str, typer.Option("--out", metavar="FILE", help="CZML file to write.")
                   ] = "run.czml",
    step_s: Annotated[float, typer.Option(
        "--step", min=1.0, metavar="S", help="Orbiter sampling step, s.")] = 60.0,
    runs_dir: RunsDirOption = None,
) -> None:
    """Write orbiters, landers and proximity links as CZML (Mars body-fixed, for Cesium)."""
    target = check_output_file(path_option(out, "--out"), "--out")
    with _run_folders(ctx, [scenario], runs_dir) as dirs:
        path = write_czml(load_run(dirs[0]), target, step_s)
    console.print(f"Wrote {path}", highlight=False, markup=False)
