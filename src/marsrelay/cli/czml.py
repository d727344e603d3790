"""``marsrelay czml RUN_OR_SCENARIO --out FILE``: a CZML file (Cesium) of orbiters, landers and
active relay links."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.report.czml import write_czml
from marsrelay.report.inputs import resolve_inputs
from marsrelay.report.rundir import load_run


@app.command("czml")
def czml_command(
    ctx: typer.Context,
    scenario: Annotated[
        str, typer.Argument(help="Run directory, scenario file or built-in scenario name.")
    ],
    out: Annotated[Path, typer.Option("--out", help="CZML file to write.")] = Path("run.czml"),
    step_s: Annotated[
        float, typer.Option("--step", min=1.0, help="Orbiter sampling step, s.")
    ] = 60.0,
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs-dir", help="Where to run a scenario given by name or file."),
    ] = None,
) -> None:
    """Write orbiters, landers and proximity links as CZML (Mars body-fixed, for Cesium)."""
    with user_errors(ctx):
        (run_dir,) = resolve_inputs([scenario], runs_dir)
        try:
            path = write_czml(load_run(run_dir), out, step_s)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", file=str(out),
                             field="--out") from None
        console.print(f"Wrote {path}", highlight=False)
