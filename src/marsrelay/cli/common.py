"""Shared pieces of the command line: consoles, the user-error guard, small parsers, the
contact-search progress bar.

Every command body runs inside :func:`user_errors`, which turns bad user input
(:class:`~marsrelay.errors.InputError` and the geometry modules' own ``ValueError`` subclasses)
into one red line on stderr and exit code 2; with ``marsrelay --debug`` the traceback is printed
first. Other exceptions are bugs and propagate with their traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.text import Text

from marsrelay.errors import EphemerisCoverageError, InputError, TimeError, TrajectoryError
from marsrelay.geometry.time import utc_to_tdb

__all__ = [
    "USER_ERRORS",
    "CliState",
    "console",
    "contacts_progress",
    "err_console",
    "parse_utc_option",
    "user_errors",
]

#: Exceptions that mean "the user's input is wrong" (exit code 2, one line).
USER_ERRORS: tuple[type[Exception], ...] = (
    InputError,
    EphemerisCoverageError,
    TrajectoryError,
    TimeError,
)

#: Results go to stdout, errors to stderr (rich consoles follow sys.stdout/sys.stderr).
console = Console()
err_console = Console(stderr=True)


@dataclass(frozen=True)
class CliState:
    """Global options, stored in the root typer context's ``obj``."""

    debug: bool = False


def _debug(ctx: typer.Context | None) -> bool:
    root = ctx.find_root() if ctx is not None else None
    state = root.obj if root is not None else None
    return bool(getattr(state, "debug", False))


@contextmanager
def user_errors(ctx: typer.Context | None) -> Iterator[None]:
    """Run a command body; user errors become one red line on stderr and exit code 2.

    Use as ``with user_errors(ctx): ...`` inside every command (``ctx: typer.Context`` is a
    parameter of the command). With ``--debug`` the traceback is printed before the line.
    """
    try:
        yield
    except USER_ERRORS as exc:
        if _debug(ctx):
            sys.stderr.write(traceback.format_exc())
        line = " ".join(str(exc).split())  # one line, whatever the message held
        err_console.print(Text(f"error: {line}", style="red"), soft_wrap=True, highlight=False)
        raise typer.Exit(code=2) from None


def parse_utc_option(text: str, option: str) -> float:
    """A UTC ISO 8601 option value -> TDB seconds past J2000 (InputError naming the option)."""
    try:
        return float(utc_to_tdb(text))
    except TimeError:
        raise InputError(
            f"{text!r} is not a valid UTC time",
            field=option,
            allowed="a UTC ISO 8601 time such as 2030-06-01T12:00:00Z",
        ) from None


@contextmanager
def contacts_progress(
    out: Console, label: str = "contact windows"
) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar on ``out`` for the contact search.

    Yields the ``progress(description, completed, total)`` callback that
    :func:`marsrelay.contacts.find_contacts` (and the pipeline) call as groups of pairs finish;
    the bar reads ``"<label>: <description>"``, ``completed/total`` and the elapsed time (s).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(description: str, completed: int, total: int) -> None:
            bar.update(task, description=f"{label}: {description}", completed=completed,
                       total=total)

        yield advance
