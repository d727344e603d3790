"""``marsrelay compare A B [C...]``: the figures that matter per run, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.report.compare import Comparison, compare_runs, format_delta, format_value
from marsrelay.report.inputs import resolve_inputs

_STYLE = {"better": "green", "worse": "red", "same": "dim", "": "dim"}


def comparison_table(comp: Comparison) -> Table:
    """A rich table of a :class:`~marsrelay.report.compare.Comparison` (deltas coloured)."""
    t = Table(title="Comparison (differences against the first run)", title_justify="left")
    t.add_column("figure", no_wrap=True)
    t.add_column("unit", style="dim")
    for k, name in enumerate(comp.names):
        # Fold long scenario names onto several lines rather than cutting them with "...".
        t.add_column(name + (" (ref.)" if k == 0 else ""), justify="right", overflow="fold")
    group = None
    for row in comp.rows:
        g = row.lander or "whole run"
        if g != group:
            if group is not None:
                t.add_section()
            t.add_row(Text(g, style="bold"), "", *[""] * len(comp.names))
            group = g
        cells: list[Text] = []
        verdicts = row.verdicts()
        for k, v in enumerate(row.values):
            cell = Text(format_value(v, row.metric))
            if k and row.deltas[k] is not None:
                cell.append(f" {format_delta(row.deltas[k], row.metric)}",
                            style=_STYLE[verdicts[k]])
            cells.append(cell)
        t.add_row("  " + row.metric.label, row.metric.unit, *cells)
    return t


@app.command("compare")
def compare_command(
    ctx: typer.Context,
    runs: Annotated[
        list[str],
        typer.Argument(help="Run directories, scenario files or built-in scenario names "
                            "(scenarios are run first); the first is the reference."),
    ],
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the comparison as CSV here.")
    ] = None,
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs-dir", help="Where to run scenarios given by name or file "
                                        "(default: a new temporary folder)."),
    ] = None,
) -> None:
    """Compare runs: passes, contact time, data returned, latency, outages; deltas vs the first."""
    with user_errors(ctx):
        if len(runs) < 2:
            raise InputError("give at least two runs to compare", field="RUNS",
                             allowed="two or more run directories or scenarios")
        comp = compare_runs(resolve_inputs(runs, runs_dir))
        console.print(comparison_table(comp))
        for s in comp.summaries:
            for p in s.problems:
                console.print(f"[yellow]{s.name}: not read: {p}[/yellow]", highlight=False)
        if csv_out is not None:
            try:
                atomic_write_text(csv_out, comp.to_csv())
            except OSError as exc:
                raise InputError(f"cannot write: {exc.strerror}", file=str(csv_out),
                                 field="--csv") from None
            console.print(f"Wrote {csv_out}", highlight=False)
