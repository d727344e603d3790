"""``marsrelay geometry SCENARIO --at TIME``: the scenario's geometry at one instant."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from marsrelay.cli.common import console, parse_utc_option, user_errors
from marsrelay.cli.main import app
from marsrelay.geometry.snapshot import GeometrySnapshot, geometry_snapshot
from marsrelay.scenario import load_scenario


def print_geometry(snap: GeometrySnapshot, out: Console = console) -> None:
    """Print a :class:`~marsrelay.geometry.GeometrySnapshot` as rich tables."""
    out.print(f"[bold]Geometry at {snap.utc}[/bold] (TDB {snap.tdb_s:.3f} s past J2000)",
              soft_wrap=True)
    out.print(
        f"Earth-Mars distance {snap.earth_mars_distance_km:,.0f} km "
        f"(one-way light time {snap.one_way_light_time_s / 60.0:.2f} min); "
        f"Sun-Earth-Mars angle {snap.sun_earth_mars_deg:.3f} deg",
        highlight=False,
        soft_wrap=True,
    )
    if snap.sub_orbiter_points:
        t = Table(title="Sub-orbiter points (nearest ellipsoid point)")
        for col in ("orbiter", "lat deg", "lon E deg", "altitude km"):
            t.add_column(col, justify="left" if col == "orbiter" else "right")
        for p in snap.sub_orbiter_points:
            t.add_row(p.orbiter, f"{p.lat_deg:.4f}", f"{p.lon_east_deg:.4f}",
                      f"{p.altitude_km:.3f}")
        out.print(t)
    if snap.lander_orbiter_views:
        t = Table(title="Orbiters seen from landers")
        for col in ("lander", "orbiter", "az deg", "el deg", "range km", "in view"):
            t.add_column(col, justify="left" if col in ("lander", "orbiter") else "right")
        for v in snap.lander_orbiter_views:
            t.add_row(v.lander, v.orbiter, f"{v.azimuth_deg:.3f}", f"{v.elevation_deg:.3f}",
                      f"{v.range_km:.1f}", "yes" if v.in_view else "no")
        out.print(t)
    if snap.lander_earth_views:
        t = Table(title="Earth seen from landers (geometric)")
        for col in ("lander", "az deg", "el deg"):
            t.add_column(col, justify="left" if col == "lander" else "right")
        for e in snap.lander_earth_views:
            t.add_row(e.lander, f"{e.azimuth_deg:.3f}", f"{e.elevation_deg:.3f}")
        out.print(t)


@app.command("geometry")
def geometry_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="UTC time, e.g. 2030-11-01T12:00:00Z (default: the start)."),
    ] = None,
) -> None:
    """Sub-orbiter points, orbiters and Earth seen from each lander, Earth-Mars distance, SEP."""
    with user_errors(ctx):
        sc = load_scenario(scenario)
        tdb = sc.start_tdb_s if at is None else parse_utc_option(at, "--at")
        print_geometry(geometry_snapshot(sc, tdb))
