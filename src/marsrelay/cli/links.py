"""``marsrelay links SCENARIO``: data volume per sol per lander, per orbiter, Earth capacity/day."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from marsrelay.cli.common import console, user_errors
from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.links import LinkedContacts, build_link_model, compute_links
from marsrelay.scenario import load_scenario


def _find_contacts(scenario: Any) -> Any:
    try:
        from marsrelay.contacts import find_contacts  # the contacts stage
    except ImportError:
        raise InputError(
            "the contacts stage (marsrelay.contacts.find_contacts) is not available in this "
            "installation", field="links", allowed="an installation with the contacts stage",
        ) from None
    return find_contacts(scenario)


def _mbit(bits: float) -> str:
    return f"{bits / 1e6:,.1f}"


def print_links_summary(linked: LinkedContacts) -> None:
    """Rich tables: volume per sol per lander, relay volume per orbiter, Earth capacity/day."""
    for note in linked.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    ps = linked.per_sol
    table = Table(title="Data volume per sol per lander (Mbit; sols from LMST midnight)")
    for col in ("lander", "sol", "passes", "contact min", "relay", "direct to Earth", "total"):
        table.add_column(col, justify="left" if col == "lander" else "right")
    rows: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for k in range(len(ps)):
        acc = rows[(str(ps.lander[k]), int(ps.sol[k]))]
        acc[0] += ps.passes[k]
        acc[1] += ps.contact_s[k] / 60.0
        acc[2 if ps.kind[k] == "proximity" else 3] += ps.volume_bits[k]
    for (lander, sol), (n, minutes, relay, dte) in sorted(rows.items()):
        table.add_row(lander, str(sol), f"{n:.0f}", f"{minutes:.1f}", _mbit(relay), _mbit(dte),
                      _mbit(relay + dte))
    console.print(table)

    ct, res = linked.contacts, linked.result
    prox = ct.kind == "proximity"
    orb_table = Table(title="Relay passes per orbiter (all landers)")
    for col in ("orbiter", "passes", "ADR", "peak kbps", "mean kbps", "volume Mbit",
                "best fixed Mbit"):
        orb_table.add_column(col, justify="left" if col == "orbiter" else "right")
    landers = set(ps.lander.tolist())
    partners = np.where(np.isin(ct.source, list(landers)), ct.target, ct.source)
    for orb in sorted(set(partners[prox].tolist())):
        m = prox & (partners == orb)
        dur = ct.duration_s[m].sum()
        orb_table.add_row(
            orb, str(int(m.sum())), "yes" if res.adr[m].all() else "no",
            f"{res.peak_rate_bps[m].max() / 1e3:,.0f}",
            f"{ct.volume_bits[m].sum() / dur / 1e3:,.0f}" if dur > 0 else "-",
            _mbit(ct.volume_bits[m].sum()), _mbit(res.volume_fixed_bits[m].sum()),
        )
    console.print(orb_table)

    pd = linked.earth_per_day
    if len(pd):
        day_table = Table(title="Downlink capacity to Earth per UTC day (Mbit; sum over stations)")
        for col in ("node", "day", "passes", "contact h", "capacity Mbit"):
            day_table.add_column(col, justify="left" if col in ("node", "day") else "right")
        for k in range(len(pd)):
            day_table.add_row(str(pd.node[k]), str(pd.day_utc[k]), str(int(pd.passes[k])),
                              f"{pd.contact_s[k] / 3600:.1f}", _mbit(pd.volume_bits[k]))
        console.print(day_table)


@app.command("links")
def links_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
) -> None:
    """Data rate and volume of every contact: per sol per lander, per orbiter, Earth per day."""
    with user_errors(ctx):
        sc = load_scenario(scenario)
        build_link_model(sc)  # check [links] before the (slower) contact search
        print_links_summary(compute_links(sc, _find_contacts(sc)))
