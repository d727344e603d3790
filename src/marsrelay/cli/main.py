"""``marsrelay`` entry point: the root ``app``, its global options, and every command,
registered here in one place.

Command modules (``marsrelay/cli/<group>.py``) hold plain functions and never import this
module; :data:`COMMANDS` below is the whole command line. Errors are handled once, by the root
command's class (:class:`marsrelay.cli.common.MarsrelayGroup`): exit 2 and one line for bad
input, exit 1 and "please report" for a bug, ``--debug`` for the traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from marsrelay import __version__
from marsrelay.cli.common import CliState, MarsrelayGroup, console
from marsrelay.cli.geometry import geometry_command
from marsrelay.cli.report import compare_command, czml_command, report_command
from marsrelay.cli.run import (
    contacts_command,
    links_command,
    run_command,
    schedule_command,
    simulate_command,
)
from marsrelay.cli.scenarios import scenarios_command
from marsrelay.cli.service import serve_command, service_app
from marsrelay.cli.sweep import sweep_command

__all__ = ["COMMANDS", "app"]

app = typer.Typer(
    name="marsrelay",
    cls=MarsrelayGroup,
    help="Plan and simulate the relay communications of Mars surface missions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: Every command: name -> function (in the order ``marsrelay --help`` lists them).
COMMANDS: dict[str, Callable[..., Any]] = {
    "run": run_command,
    "scenarios": scenarios_command,
    "geometry": geometry_command,
    "contacts": contacts_command,
    "links": links_command,
    "schedule": schedule_command,
    "simulate": simulate_command,
    "report": report_command,
    "compare": compare_command,
    "czml": czml_command,
    "sweep": sweep_command,
    "serve": serve_command,
}

for _name, _function in COMMANDS.items():
    app.command(_name)(_function)
app.add_typer(service_app, name="service")


def _print_version(value: bool) -> None:
    if value:
        console.print(f"marsrelay {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Print the traceback of any error.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True,
        callback=_print_version)] = False,
    max_memory_gb: Annotated[float | None, typer.Option(
        "--max-memory-gb", min=0.01, metavar="GB", envvar="MARSRELAY_MAX_MEMORY_GB",
        help="Refuse runs estimated to need more memory (default: half of this machine's).")
    ] = None,
    max_minutes: Annotated[float, typer.Option(
        "--max-minutes", min=0.0001, metavar="MIN", envvar="MARSRELAY_MAX_MINUTES",
        help="Refuse runs estimated to take longer.")] = 60.0,
) -> None:
    """Plan and simulate the relay communications of Mars surface missions."""
    ctx.obj = CliState(debug=debug, max_memory_gb=max_memory_gb, max_minutes=max_minutes)
