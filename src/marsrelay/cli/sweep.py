"""``marsrelay sweep SWEEP.toml --out DIR``: run a trade-study sweep (local or on Dask)."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from marsrelay.cli.common import console, err_console, path_option
from marsrelay.errors import InputError
from marsrelay.sweep import Progress as SweepProgress
from marsrelay.sweep import load_sweep, read_results, run_sweep, summarise
from marsrelay.sweep.run import check_scheduler, resolve_case_function


def _fmt(x: float) -> str:
    return "" if isinstance(x, float) and math.isnan(x) else f"{x:.4g}"


def sweep_command(
    sweep_file: Annotated[str, typer.Argument(help="Sweep file (TOML).", metavar="SWEEP.toml")],
    out: Annotated[str, typer.Option(
        "--out", metavar="DIR", help="Output folder (created if needed); re-run the same "
        "command with it to resume.")],
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="Address of a running Dask scheduler, e.g. "
        "tcp://host:8786 (default: a local cluster).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=0, metavar="N", help="Local worker processes (default: one per CPU; "
        "0: run in this process without Dask). Ignored with --scheduler.")] = None,
    retries: Annotated[int, typer.Option(
        "--retries", min=0, metavar="N", help="Re-runs of a failing case.")] = 2,
    allow_code: Annotated[bool, typer.Option(
        "--allow-code", help="Let the sweep file's case name any 'module:function' (runs that "
        "code); without it only registered case functions run.")] = False,
) -> None:
    """Run every case of SWEEP.toml; results go to DIR/results.parquet and
    DIR/sweep_summary.csv. Interrupted sweeps resume where they stopped. Exit code 1 when some
    cases failed (see DIR/errors.csv), 2 for bad input."""
    sweep = load_sweep(path_option(sweep_file, "SWEEP.toml"))
    if not sweep.cases:
        raise InputError("the sweep has no cases", file=str(sweep_file), field="axis")
    out_dir = path_option(out, "--out")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("exists and is not a folder", file=out, field="--out",
                         allowed="a new folder or the folder of this sweep (to resume)")
    resolve_case_function(sweep.case_function, allow_code=allow_code)  # before any work
    if scheduler is not None:
        check_scheduler(scheduler)
    where = scheduler or ("this process" if workers == 0 else
                          f"a local Dask cluster ({workers or 'one per CPU'} workers)")
    console.print(f"Sweep {sweep.name!r}: {len(sweep.cases)} cases on {where}",
                  highlight=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("cases", total=len(sweep.cases), failed=0)

        def on_progress(p: SweepProgress) -> None:
            bar.update(task, completed=p.done, failed=p.failed)

        try:
            outcome = run_sweep(sweep, out_dir, scheduler=scheduler, workers=workers,
                                retries=retries, on_progress=on_progress,
                            allow_code=allow_code)
        except KeyboardInterrupt:
            bar.stop()
            err_console.print(f"interrupted: finished cases are kept in {out}; run the "
                              "same command again to resume", highlight=False)
            raise typer.Exit(code=130) from None
    done = outcome.n_cases - outcome.n_failed
    table = Table(box=box.SIMPLE_HEAD, title=f"Sweep summary ({done} of {outcome.n_cases} "
                  f"cases; {outcome.n_skipped} already done)")
    table.add_column("figure", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for col in ("rows", "mean", "min", "median", "max"):
        table.add_column(col, justify="right", no_wrap=True)
    for s in summarise(read_results(out_dir), sweep.figures):
        table.add_row(s.figure, s.unit, str(s.rows), _fmt(s.mean), _fmt(s.min),
                      _fmt(s.median), _fmt(s.max))
    console.print(table)
    console.print(f"Wrote {outcome.results_path} and {outcome.summary_path}",
                  highlight=False)
    if outcome.n_failed:
        first = outcome.errors[0]
        err_console.print(
            f"{outcome.n_failed} case(s) failed (first: {first.case_id}: "
            f"{first.error_type}: {first.message}); see {outcome.errors_path}; "
            "run the same command again to retry them", style="red", highlight=False)
        raise typer.Exit(code=1)
