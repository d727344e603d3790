"""``marsrelay run SCENARIO --out DIR``: run the pipeline's stages in order, write the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.geometry import print_geometry
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.geometry import geometry_snapshot
from marsrelay.io import atomic_write_text
from marsrelay.scenario import load_scenario


def _write_text(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}", field="--out",
                         allowed="a folder you can write to") from None


@app.command("run")
def run_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")] = Path(
        "out"
    ),
) -> None:
    """Run every stage on SCENARIO and write the results into --out."""
    with user_errors(ctx):
        # Stages, in order (scenario -> geometry -> contacts -> links -> schedule ->
        # simulation -> report); each writes its outputs into `out`.
        sc = load_scenario(scenario)
        _write_text(out / "scenario.json", sc.to_json())
        print_geometry(geometry_snapshot(sc, sc.start_tdb_s))
        console.print(f"Wrote {out / 'scenario.json'}", highlight=False)
