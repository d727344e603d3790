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


#: Widest output of ``marsrelay links`` (columns).
MAX_WIDTH = 100


def _table(title: str, cols: tuple[str, ...], left: int = 1) -> Table:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(cols):
        table.add_column(col, justify="left" if i < left else "right")
    return table


def _show(table: Table) -> None:
    console.print(table, width=min(console.width, MAX_WIDTH))


def _pass_model_line(linked: LinkedContacts) -> str:
    ops = linked.ops
    if ops is None or ops.ideal:
        return "pass model: ideal (capacity at the fixed-rate margin; no hail, framing or ARQ)"
    return (f"pass model: hail {ops.hail_s:g} s; adaptive rate every {ops.update_interval_s:g} s "
            f"on the link {ops.lag_s:g} s earlier, {ops.comm_change_s:g} s per change;\n"
            f"frames {ops.frame_data_octets}+{ops.frame_overhead_octets} octets"
            f"{' with go-back-N' if ops.arq else ''}; fixed-rate margin {ops.fixed_margin_db:g} dB")


def print_links_summary(linked: LinkedContacts, show_all: bool = False) -> None:
    """Rich tables, at most :data:`MAX_WIDTH` columns wide: volume per lander (per sol with
    ``show_all``), relay passes per lander and orbiter, Earth capacity per node (per UTC day
    with ``show_all``)."""
    for note in linked.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(_pass_model_line(linked), highlight=False, width=MAX_WIDTH)
    ps = linked.per_sol
    rows: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for k in range(len(ps)):
        acc = rows[(str(ps.lander[k]), int(ps.sol[k]))]
        acc[0] += ps.passes[k]
        acc[1] += ps.contact_s[k] / 60.0
        acc[2 if ps.kind[k] == "proximity" else 3] += ps.volume_bits[k]
    if show_all:
        table = _table("Data volume per sol per lander (Mbit; sols from LMST midnight)",
                       ("lander", "sol", "passes", "contact min", "relay", "direct to Earth",
                        "total"))
        for (lander, sol), (n, minutes, relay, dte) in sorted(rows.items()):
            table.add_row(lander, str(sol), f"{n:.0f}", f"{minutes:.1f}", _mbit(relay),
                          _mbit(dte), _mbit(relay + dte))
    else:
        table = _table("Data volume per lander (mean per complete sol, Mbit; --all: every sol)",
                       ("lander", "sols", "passes/sol", "contact min/sol", "relay/sol",
                        "DTE/sol", "total/sol"))
        for lander in sorted({key[0] for key in rows}):
            sols = sorted(sol for la, sol in rows if la == lander)
            full = sols[1:-1] if len(sols) > 2 else sols  # first and last sols are partial
            mean = np.mean([rows[(lander, sol)] for sol in full], axis=0)
            table.add_row(lander, str(len(full)), f"{mean[0]:.1f}", f"{mean[1]:.1f}",
                          _mbit(mean[2]), _mbit(mean[3]), _mbit(mean[2] + mean[3]))
    _show(table)

    ct, res = linked.contacts, linked.result
    prox = ct.kind == "proximity"
    landers = set(ps.lander.tolist())
    lander_col = np.where(np.isin(ct.source, list(landers)), ct.source, ct.target)
    partners = np.where(np.isin(ct.source, list(landers)), ct.target, ct.source)
    pair_table = _table("Relay passes per lander and orbiter (kbps; Mbit per pass; fixed: median "
                        "of the best single rate)",
                        ("lander", "orbiter", "passes", "ADR", "peak", "mean", "median", "p90",
                         "max", "fixed"), left=2)
    for lander, orb in sorted(set(zip(lander_col[prox].tolist(), partners[prox].tolist(),
                                      strict=True))):
        m = prox & (lander_col == lander) & (partners == orb)
        v = ct.volume_bits[m]
        dur = ct.duration_s[m].sum()
        pair_table.add_row(
            lander, orb, str(int(m.sum())), "yes" if res.adr[m].all() else "no",
            f"{res.peak_rate_bps[m].max() / 1e3:,.0f}",
            f"{v.sum() / dur / 1e3:,.0f}" if dur > 0 else "-",
            _mbit(float(np.median(v))), _mbit(float(np.percentile(v, 90))), _mbit(v.max()),
            _mbit(float(np.median(res.volume_fixed_bits[m]))),
        )
    _show(pair_table)

    pd = linked.earth_per_day
    if not len(pd):
        return
    if show_all:
        day_table = _table("Downlink capacity to Earth per UTC day (Mbit; sum over stations)",
                           ("node", "day", "passes", "contact h", "capacity Mbit"), left=2)
        for k in range(len(pd)):
            day_table.add_row(str(pd.node[k]), str(pd.day_utc[k]), str(int(pd.passes[k])),
                              f"{pd.contact_s[k] / 3600:.1f}", _mbit(pd.volume_bits[k]))
    else:
        day_table = _table("Downlink capacity to Earth, mean per UTC day (sum over stations; "
                           "--all: every day)",
                           ("node", "days", "passes/day", "contact h/day", "capacity Mbit/day"))
        for node in sorted(set(pd.node.tolist())):
            m = pd.node == node
            days = int(m.sum())
            day_table.add_row(node, str(days), f"{pd.passes[m].mean():.1f}",
                              f"{pd.contact_s[m].mean() / 3600:.1f}",
                              _mbit(float(pd.volume_bits[m].mean())))
    _show(day_table)


@app.command("links")
def links_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or TOML file.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Every sol and every UTC day, not the means.")
    ] = False,
) -> None:
    """Data rate and volume of every contact: per lander, per relay pair, Earth per day."""
    with user_errors(ctx):
        sc = load_scenario(scenario)
        build_link_model(sc)  # check [links] before the (slower) contact search
        print_links_summary(compute_links(sc, _find_contacts(sc)), show_all=show_all)
