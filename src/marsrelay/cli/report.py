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
from marsrelay.cli.common import check_output_file, console, stage_progress
from marsrelay.cli.summaries import comparison_table
from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.report.compare import compare_runs
from marsrelay.report.czml import write_czml
from marsrelay.report.html import write_report
from marsrelay.report.run_data import load_run

__all__ = ["compare_command", "czml_command", "report_command"]

InputsArg = Annotated[list[str], typer.Argument(
    help="Run folders, scenario files or built-in scenario names (scenarios are run first); "
    "the first is the reference.")]
RunsDirOption = Annotated[Path | None, typer.Option(
    "--runs-dir", help="Keep the runs of scenarios given by name or file in this folder "
    "(default: a temporary folder, removed at the end).")]


@contextmanager
def _run_folders(items: Sequence[str], runs_dir: Path | None) -> Iterator[list[Path]]:
    """Run folders for ``items``; scenario runs go to ``runs_dir`` or a temporary folder
    that is removed when the block ends."""
    if runs_dir is not None:
        with stage_progress() as progress:
            yield pipeline.run_folders(items, runs_dir, progress=progress)
        return
    with tempfile.TemporaryDirectory(prefix="marsrelay-runs-") as tmp, \
            stage_progress() as progress:
        yield pipeline.run_folders(items, Path(tmp), progress=progress)


def report_command(
    inputs: InputsArg,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path(
        "report.html"),
    map_sol: Annotated[int, typer.Option(
        "--map-sol", min=0, help="Which whole sol of the span the map shows (0 = the first)."
    )] = 0,
    runs_dir: RunsDirOption = None,
) -> None:
    """Write one self-contained report.html (opens offline in any browser)."""
    check_output_file(out, "--out")
    with _run_folders(inputs, runs_dir) as dirs:
        path = write_report(dirs, out, map_sol=map_sol)
    console.print(f"Wrote {path}", highlight=False, markup=False)


def compare_command(
    runs: InputsArg,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", help="Also write the comparison as CSV here.")] = None,
    runs_dir: RunsDirOption = None,
) -> None:
    """Compare runs: passes, contact time, data returned, latency, outages; deltas vs the
    first."""
    if len(runs) < 2:
        raise InputError("give at least two runs to compare", field="RUNS",
                         allowed="two or more run folders or scenarios")
    if csv_out is not None:
        check_output_file(csv_out, "--csv")
    with _run_folders(runs, runs_dir) as dirs:
        comp = compare_runs(dirs)
    console.print(comparison_table(comp))
    if csv_out is not None:
        atomic_write_text(csv_out, comp.to_csv())
        console.print(f"Wrote {csv_out}", highlight=False, markup=False)


def czml_command(
    scenario: Annotated[str, typer.Argument(
        help="Run folder, scenario file or built-in scenario name.")],
    out: Annotated[Path, typer.Option("--out", help="CZML file to write.")] = Path("run.czml"),
    step_s: Annotated[float, typer.Option(
        "--step", min=1.0, help="Orbiter sampling step, s.")] = 60.0,
    runs_dir: RunsDirOption = None,
) -> None:
    """Write orbiters, landers and proximity links as CZML (Mars body-fixed, for Cesium)."""
    check_output_file(out, "--out")
    with _run_folders([scenario], runs_dir) as dirs:
        path = write_czml(load_run(dirs[0]), out, step_s)
    console.print(f"Wrote {path}", highlight=False, markup=False)
