"""``marsrelay report RUN_OR_SCENARIO [more...] --out FILE``: one self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.report.html import write_report
from marsrelay.report.inputs import resolve_inputs


@app.command("report")
def report_command(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(help="Run directories, scenario files or built-in scenario names "
                            "(scenarios are run first); several are compared with the first."),
    ],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    map_sol: Annotated[
        int, typer.Option("--map-sol", min=0, help="Which whole sol of the span the map shows "
                                                   "(0 = the first).")
    ] = 0,
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs-dir", help="Where to run scenarios given by name or file "
                                        "(default: a new temporary folder)."),
    ] = None,
) -> None:
    """Write one self-contained report.html (opens offline in any browser)."""
    with user_errors(ctx):
        dirs = resolve_inputs(inputs, runs_dir)
        try:
            path = write_report(dirs, out, map_sol=map_sol)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", file=str(out),
                             field="--out") from None
        console.print(f"Wrote {path}", highlight=False)
