"""``marsrelay contacts SCENARIO --out DIR``: every contact window, as CSV and Parquet.

Thin: :func:`marsrelay.contacts.find_contacts` finds the windows (a progress bar follows it),
:func:`marsrelay.contacts.write_contacts` writes ``DIR/contacts.csv`` and
``DIR/contacts.parquet``, and a table summarises each pair (windows per sol, mean and total
duration). :func:`run_contacts` does all three for ``marsrelay run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marsrelay.cli.common import console, contacts_progress, user_errors
from marsrelay.cli.main import app
from marsrelay.contacts import ContactTable, find_contacts, summarize_contacts, write_contacts
from marsrelay.errors import InputError
from marsrelay.scenario import load_scenario

__all__ = ["print_contacts_summary", "run_contacts"]


def print_contacts_summary(table: ContactTable, span_s: float, out: Console = console) -> None:
    """Print one row per pair: windows, windows per sol, mean duration (min), total (h)."""
    t = Table(title=f"Contact windows ({len(table)} in {span_s / 86400.0:.2f} days)")
    for col in ("source", "target", "kind", "windows", "per sol", "mean min", "total h"):
        t.add_column(col, justify="left" if col in ("source", "target", "kind") else "right")
    for p in summarize_contacts(table, span_s):
        t.add_row(p.source, p.target, p.kind, str(p.n_windows), f"{p.passes_per_sol:.2f}",
                  f"{p.mean_duration_s / 60.0:.1f}", f"{p.total_s / 3600.0:.2f}")
    out.print(t)


def run_contacts(scenario: Any, out_dir: str | Path, out: Console = console) -> ContactTable:
    """Find ``scenario``'s contact windows (with a progress bar on ``out``), write them into
    ``out_dir`` and print the per-pair summary. Returns the table."""
    with contacts_progress(out) as advance:
        table = find_contacts(scenario, progress=advance)
    try:
        csv_path, parquet_path = write_contacts(table, out_dir)
    except OSError as exc:
        raise InputError(f"cannot write into {out_dir}: {exc.strerror}", field="--out",
                         allowed="a folder you can write to") from None
    print_contacts_summary(table, scenario.end_tdb_s - scenario.start_tdb_s, out)
    out.print(f"Wrote {csv_path} and {parquet_path}", highlight=False, soft_wrap=True)
    return table


@app.command("contacts")
def contacts_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")] = Path(
        "out"
    ),
) -> None:
    """Find every window in which two nodes of SCENARIO can talk; write contacts.csv/.parquet."""
    with user_errors(ctx):
        run_contacts(load_scenario(scenario), out)
