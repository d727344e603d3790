"""``marsrelay scenarios``: list the built-in scenarios."""

from __future__ import annotations

import typer
from rich import box
from rich.table import Table

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.scenario import builtin_scenario_names, load_scenario


@app.command("scenarios")
def scenarios_command(ctx: typer.Context) -> None:
    """List the built-in scenarios (any command taking SCENARIO accepts these names)."""
    with user_errors(ctx):
        table = Table(title="Built-in scenarios", box=box.SIMPLE_HEAD, show_lines=True)
        table.add_column("name", no_wrap=True)
        table.add_column("span (UTC)", no_wrap=True)
        for column in ("orbiters", "landers", "stations", "description"):
            table.add_column(column, overflow="fold")
        for name in builtin_scenario_names():
            sc = load_scenario(name)
            table.add_row(
                sc.name,
                f"{sc.start_utc[:10]}\n{sc.end_utc[:10]}",
                ", ".join(o.name for o in sc.orbiters),
                ", ".join(la.name for la in sc.landers),
                ", ".join(st.name for st in sc.stations),
                sc.description,
            )
        console.print(table)
