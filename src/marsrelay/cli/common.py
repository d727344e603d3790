"""Shared pieces of the command line: consoles, the one error path, the progress bar, small
parsers and checks of options before any work starts.

Errors are handled in one place, :class:`MarsrelayGroup` (the root command's class):

- a :class:`~marsrelay.errors.MarsrelayError` (bad input) -> one plain line on stderr naming the
  file, field and allowed values, exit code 2;
- an ``OSError`` (a file that cannot be read or written, a full disk) -> one line, exit 2;
- Ctrl-C or SIGTERM -> "interrupted", exit 130 or 143 (run folders keep their previous run);
- anything else is a bug -> "please report", exit 1.

``marsrelay --debug ...`` prints the traceback before the line in every case.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from marsrelay.errors import InputError, MarsrelayError
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.pipeline import Stage, estimate
from marsrelay.scenario import Scenario

__all__ = [
    "CliState",
    "MarsrelayGroup",
    "check_output_file",
    "check_size",
    "console",
    "err_console",
    "parse_utc_option",
    "path_option",
    "stage_progress",
]

#: Results go to stdout, errors and progress to stderr (rich consoles follow sys.stdout/err).
console = Console()
err_console = Console(stderr=True)

ISSUES_URL = "https://github.com/marsrelay/marsrelay/issues"


@dataclass
class CliState:
    """Global options (the root context's ``obj``) and what to say if interrupted."""

    debug: bool = False
    interrupt_note: str = ""
    max_memory_gb: float | None = None
    max_minutes: float = 60.0


def default_max_memory_gb() -> float:
    """Half of this machine's physical memory, GB."""
    import os

    try:
        return 0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return 8.0


def check_size(ctx: typer.Context, scenario: Scenario, until: Stage = "simulation",
               runs: int = 1) -> None:
    """Refuse, before any work, a run estimated above the memory or time limit (root options
    ``--max-memory-gb`` and ``--max-minutes``), saying the estimate and how to go on."""
    state = _state(ctx)
    limit_gb = state.max_memory_gb or default_max_memory_gb()
    est = estimate(scenario, until)
    seconds = est.seconds * runs
    too_big = est.memory_bytes / 1e9 > limit_gb
    too_long = seconds / 60.0 > state.max_minutes
    if not (too_big or too_long):
        return
    what = (f"the memory limit is {limit_gb:.1f} GB" if too_big
            else f"the time limit is {state.max_minutes:g} min")
    runs_note = f" for each of {runs} runs" if runs > 1 else ""
    flag = (f"--max-memory-gb {est.memory_bytes / 1e9 * 1.5:.0f}" if too_big
            else f"--max-minutes {seconds / 60.0 * 1.5:.0f}")
    raise InputError(
        f"this run is {est.describe()}{runs_note}; {what}",
        file=str(scenario.path) if scenario.path else scenario.name, field="scenario.end",
        allowed=f"a shorter span or fewer stations, 'marsrelay {flag} ...' to go on anyway, "
        "or a sweep over span pieces (span_days) on a Dask cluster")


class Interrupted(BaseException):
    """SIGTERM received (SIGINT arrives as KeyboardInterrupt)."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted()


def _state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def _error_line(text: str) -> None:
    line = " ".join(text.split())  # one line, whatever the message held
    err_console.print(Text(f"error: {line}", style="red"), soft_wrap=True, highlight=False)


class MarsrelayGroup(TyperGroup):
    """The root command: turns every exception into the exit codes of the module docstring."""

    def invoke(self, ctx: typer.Context) -> Any:
        previous = signal.getsignal(signal.SIGTERM)
        try:
            signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not the main thread (e.g. a test runner's worker)
            previous = None
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except MarsrelayError as exc:
            self._debug_traceback(ctx)
            for each in exc.errors or (exc,):
                _error_line(str(each))
            raise typer.Exit(code=2) from None
        except OSError as exc:
            self._debug_traceback(ctx)
            where = f"{exc.filename}: " if exc.filename else ""
            _error_line(f"{where}{exc.strerror or exc}")
            raise typer.Exit(code=2) from None
        except (KeyboardInterrupt, Interrupted) as exc:
            self._debug_traceback(ctx)
            note = _state(ctx).interrupt_note
            kind = "SIGTERM" if isinstance(exc, Interrupted) else "Ctrl-C"
            err_console.print(f"interrupted ({kind}){': ' + note if note else ''}",
                              highlight=False, markup=False)
            raise typer.Exit(code=143 if isinstance(exc, Interrupted) else 130) from None
        except Exception as exc:
            self._debug_traceback(ctx, always=False)
            _error_line(
                f"internal error ({type(exc).__name__}: {exc}). This is a bug in marsrelay: "
                f"please report it at {ISSUES_URL} with the command you ran"
                + ("" if _state(ctx).debug else " and the output of 'marsrelay --debug ...'"))
            raise typer.Exit(code=1) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    @staticmethod
    def _debug_traceback(ctx: typer.Context, always: bool = False) -> None:
        if always or _state(ctx).debug:
            sys.stderr.write(traceback.format_exc())


def parse_utc_option(text: str, option: str) -> float:
    """A UTC ISO 8601 option value -> TDB seconds past J2000 (InputError naming the option)."""
    try:
        return float(utc_to_tdb(text))
    except MarsrelayError:
        raise InputError(
            f"{text!r} is not a valid UTC time",
            field=option,
            allowed="a UTC ISO 8601 time such as 2030-06-01T12:00:00Z",
        ) from None


def path_option(text: str, option: str) -> Path:
    """A path given to ``option``; an empty string is an error (``Path("")`` would silently
    mean the current folder)."""
    if not text.strip():
        raise InputError("the path is an empty string", field=option,
                         allowed="a file or folder path")
    return Path(text).expanduser()


def check_output_file(path: Path, option: str) -> Path:
    """Check, before any work, that ``path`` can be written as a file (its folder exists or
    can be made, it is not a folder, the folder is writable); InputError naming the option."""
    text = str(path)
    if not text.strip():
        raise InputError("the file name is an empty string", field=option,
                         allowed="a file path such as out/report.html")
    if path.is_dir():
        raise InputError("is a folder", file=text, field=option, allowed="a file path")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    import os

    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {parent}", file=text, field=option,
                         allowed="a file in a folder you can write to")
    return path


@contextmanager
def stage_progress(out: Console = err_console) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar on ``out`` for the pipeline's stages.

    Yields the ``progress(description, completed, total)`` callback the stages call; the bar
    shows the description, ``completed/total`` and the elapsed time (s).
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
        task = bar.add_task("starting", total=None)

        def advance(description: str, completed: int, total: int) -> None:
            bar.update(task, description=description, completed=completed, total=total)

        yield advance
