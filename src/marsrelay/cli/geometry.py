"""``marsrelay geometry SCENARIO --at TIME``: the scenario's geometry at one instant."""

from __future__ import annotations

from typing import Annotated

import typer

from marsrelay.cli.common import parse_utc_option
from marsrelay.cli.summaries import print_geometry
from marsrelay.scenario import load_scenario

__all__ = ["geometry_command"]


def geometry_command(
    scenario: Annotated[str, typer.Argument(
        help="Built-in scenario name or TOML file.", metavar="SCENARIO")],
    at: Annotated[str | None, typer.Option(
        "--at", metavar="UTC", help="UTC time, e.g. 2030-11-01T12:00:00Z (default: the start)."
    )] = None,
) -> None:
    """Sub-orbiter points, orbiters and Earth seen from each lander, Earth-Mars distance, SEP."""
    sc = load_scenario(scenario)
    tdb = sc.start_tdb_s if at is None else parse_utc_option(at, "--at")
    print_geometry(sc.geometry_at(tdb))
