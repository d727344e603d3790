"""``marsrelay scenarios``: list the built-in scenarios."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from marsrelay.cli.common import console
from marsrelay.scenario import builtin_scenario_names, load_scenario

__all__ = ["scenarios_command"]


def scenarios_command() -> None:
    """List the built-in scenarios (any command taking SCENARIO accepts these names)."""
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
            Text(", ".join(o.name for o in sc.orbiters)),
            Text(", ".join(la.name for la in sc.landers)),
            Text(", ".join(st.name for st in sc.stations)),
            Text(sc.description),
        )
    console.print(table)
