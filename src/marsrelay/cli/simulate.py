"""``marsrelay simulate SCENARIO --out DIR``: store-and-forward simulation of the scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.errors import InputError


def _contacts_and_links(scenario: Any) -> Any:
    """Run the contacts and links stages (imported here: later stages never import them at
    module level)."""
    try:
        from marsrelay.contacts.api import find_contacts
    except ImportError:
        raise InputError("the contacts stage is not available in this build",
                         field="SCENARIO", allowed="--ion PLAN to simulate an ION contact plan"
                         ) from None
    table = find_contacts(scenario)
    try:
        from marsrelay.links.compute import compute_links
    except ImportError:
        return table
    return compute_links(scenario, table)


@app.command("simulate")
def simulate_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")] = Path(
        "out"),
    ion: Annotated[Path | None, typer.Option(
        "--ion", help="Simulate this ION contact plan (ionadmin commands) instead of computing "
                      "contacts.", exists=True, dir_okay=False)] = None,
    node: Annotated[list[str] | None, typer.Option(
        "--node", metavar="NUMBER=NAME",
        help="ION node NUMBER stands for scenario node NAME (repeatable; adds to and "
             "overrides the scenario's \\[ion.nodes]).")] = None,
    export_ion: Annotated[Path | None, typer.Option(
        "--export-ion", help="Also write the contact plan used as an ION plan to this file.")
    ] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="Override the scenario's simulation seed.")] = None,
) -> None:
    """Simulate SCENARIO's traffic through its contacts (Contact Graph Routing) and write
    bundles.parquet, delivery.csv, latency.csv and buffers.csv into --out."""
    with user_errors(ctx):
        from marsrelay.scenario import load_scenario
        from marsrelay.simulation.ion import (
            parse_node_options,
            read_ion,
            scenario_node_map,
            write_ion,
        )
        from marsrelay.simulation.plan import ContactPlan
        from marsrelay.simulation.run import run_simulation_on_plan

        node_options = parse_node_options(node or [])
        sc = load_scenario(scenario)
        if seed is not None:
            sc = sc.with_overrides(simulation=sc.simulation.model_copy(update={"seed": seed}))
        ion_numbers = {name: n for n, name in scenario_node_map(sc, node_options).items()}
        if ion is not None:
            reading = read_ion(ion, scenario=sc, nodes=node_options)
            plan, ion_numbers = reading.plan, dict(reading.node_numbers)
            console.print(f"{ion}: {reading.summary()}", highlight=False, markup=False)
        else:
            plan = ContactPlan.from_contact_table(_table(_contacts_and_links(sc)), sc,
                                                  sc.simulation)
        console.print(f"simulate {sc.name}: {len(plan)} contacts, "
                      f"{len(plan.node_names)} nodes", highlight=False)
        try:
            run_simulation_on_plan(sc, plan, out, console)
            if export_ion is not None:
                exported = write_ion(export_ion, plan, node_numbers=ion_numbers)
                console.print(f"wrote {export_ion}: {exported.summary()}", highlight=False,
                              markup=False)
        except OSError as exc:
            raise InputError(f"cannot write outputs: {exc.strerror}", field="--out",
                             allowed="a folder you can write to") from None


def _table(linked: Any) -> Any:
    return getattr(linked, "contacts", linked)
