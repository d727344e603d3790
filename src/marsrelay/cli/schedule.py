"""``marsrelay schedule SCENARIO --out DIR``: choose relay passes, explain the dropped ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.scenario import load_scenario


@app.command("schedule")
def schedule_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")] = Path(
        "out"
    ),
    solver: Annotated[
        str | None,
        typer.Option("--solver", help="cpsat (optimal) or greedy; default: the scenario's."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", min=0.001, help="CP-SAT time limit, s."),
    ] = None,
) -> None:
    """Relay pass plan for SCENARIO: writes schedule.csv and schedule_sols.csv into --out."""
    with user_errors(ctx):
        if solver is not None and solver not in ("cpsat", "greedy"):
            raise InputError(f"unknown solver {solver!r}", field="--solver",
                             allowed="cpsat, greedy")
        sc = load_scenario(scenario)
        try:
            from marsrelay.contacts import find_contacts  # the contacts stage
        except ImportError:
            raise InputError(
                "the contacts stage (marsrelay.contacts.find_contacts) is not available in "
                "this installation", field="schedule",
            ) from None
        from marsrelay.links import compute_links
        from marsrelay.schedule import run_schedule

        linked = compute_links(sc, find_contacts(sc))
        run_schedule(sc, linked.contacts, out, console, solver, time_limit)
        console.print(f"Wrote {out / 'schedule.csv'} and {out / 'schedule_sols.csv'}",
                      highlight=False)
