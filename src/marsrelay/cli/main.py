"""``marsrelay`` entry point: the shared typer ``app`` and the global options.

Command modules live in ``marsrelay/cli/<group>.py``; each does ``from marsrelay.cli.main import
app`` and registers its commands with ``@app.command()``. They are imported at the bottom of this
file, one line per module: add yours there. Command bodies run inside
:func:`marsrelay.cli.common.user_errors` (exit code 2 and one line for bad input).
"""

from __future__ import annotations

from typing import Annotated

import typer

from marsrelay import __version__
from marsrelay.cli.common import CliState, console

app = typer.Typer(
    name="marsrelay",
    help="Plan and simulate the relay communications of Mars surface missions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"marsrelay {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for input errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True,
                     callback=_print_version),
    ] = False,
) -> None:
    """Plan and simulate the relay communications of Mars surface missions."""
    ctx.obj = CliState(debug=debug)


# Command modules (each registers its commands on ``app``): one import per module.
from marsrelay.cli import compare as _compare  # noqa: E402, F401
from marsrelay.cli import contacts as _contacts  # noqa: E402, F401
from marsrelay.cli import czml as _czml  # noqa: E402, F401
from marsrelay.cli import geometry as _geometry  # noqa: E402, F401
from marsrelay.cli import links as _links  # noqa: E402, F401
from marsrelay.cli import report as _report  # noqa: E402, F401
from marsrelay.cli import run as _run  # noqa: E402, F401
from marsrelay.cli import scenarios as _scenarios  # noqa: E402, F401
from marsrelay.cli import schedule as _schedule  # noqa: E402, F401
from marsrelay.cli import service as _service  # noqa: E402, F401
from marsrelay.cli import simulate as _simulate  # noqa: E402, F401
from marsrelay.cli import sweep as _sweep  # noqa: E402, F401
