"""What the command line prints about results: short summaries and tables that fit 100
columns (``--all`` shows the full per-sol tables). Stages never print; the CLI prints these.

Names from the scenario are printed as plain text (never as rich markup), so a node called
``[links.spacecraft.X]`` keeps its brackets.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from marsrelay.cli.common import console
from marsrelay.contacts import ContactTable, summarise_contacts
from marsrelay.geometry.snapshot import GeometrySnapshot
from marsrelay.links import LinkedContacts
from marsrelay.pipeline import RunResult
from marsrelay.report.compare import Comparison, format_delta, format_value
from marsrelay.schedule import Schedule
from marsrelay.schedule.earth import EarthAllocation
from marsrelay.simulation import SimulationResult

__all__ = [
    "comparison_table",
    "print_contacts",
    "print_geometry",
    "print_links",
    "print_run",
    "print_schedule",
    "print_simulation",
]

_STYLE = {"better": "green", "worse": "red", "same": "dim", "": "dim"}
#: Rows of a per-sol table shown without ``--all``.
_HEAD_ROWS = 12


def _say(text: str, out: Console = console) -> None:
    out.print(text, highlight=False, markup=False, soft_wrap=True)


def _mbit(bits: float) -> str:
    return f"{bits / 1e6:,.1f}"


def print_geometry(snap: GeometrySnapshot, out: Console = console) -> None:
    """The scenario's geometry at one instant as short tables."""
    out.print(Text(f"Geometry at {snap.utc}", style="bold"),
              Text(f" (TDB {snap.tdb_s:.3f} s past J2000)"), sep="", soft_wrap=True)
    _say(f"Earth-Mars distance {snap.earth_mars_distance_km:,.0f} km (one-way light time "
         f"{snap.one_way_light_time_s / 60.0:.2f} min); Sun-Earth-Mars angle "
         f"{snap.sun_earth_mars_deg:.3f} deg", out)
    if snap.sub_orbiter_points:
        t = Table(title="Sub-orbiter points (nearest ellipsoid point)")
        for col in ("orbiter", "lat deg", "lon E deg", "altitude km"):
            t.add_column(col, justify="left" if col == "orbiter" else "right")
        for p in snap.sub_orbiter_points:
            t.add_row(Text(p.orbiter), f"{p.lat_deg:.4f}", f"{p.lon_east_deg:.4f}",
                      f"{p.altitude_km:.3f}")
        out.print(t)
    if snap.lander_orbiter_views:
        t = Table(title="Orbiters seen from landers")
        for col in ("lander", "orbiter", "az deg", "el deg", "range km", "in view"):
            t.add_column(col, justify="left" if col in ("lander", "orbiter") else "right")
        for v in snap.lander_orbiter_views:
            t.add_row(Text(v.lander), Text(v.orbiter), f"{v.azimuth_deg:.3f}",
                      f"{v.elevation_deg:.3f}", f"{v.range_km:.1f}",
                      "yes" if v.in_view else "no")
        out.print(t)
    if snap.lander_earth_views:
        t = Table(title="Earth seen from landers (geometric)")
        for col in ("lander", "az deg", "el deg"):
            t.add_column(col, justify="left" if col == "lander" else "right")
        for e in snap.lander_earth_views:
            t.add_row(Text(e.lander), f"{e.azimuth_deg:.3f}", f"{e.elevation_deg:.3f}")
        out.print(t)


def print_contacts(table: ContactTable, span_s: float, out: Console = console) -> None:
    """One row per pair: windows, windows per sol, mean duration (min), total (h)."""
    t = Table(title=f"Contact windows ({len(table)} in {span_s / 86400.0:.2f} days)")
    for col in ("source", "target", "kind", "windows", "per sol", "mean min", "total h"):
        t.add_column(col, justify="left" if col in ("source", "target", "kind") else "right")
    for p in summarise_contacts(table, span_s):
        t.add_row(Text(p.source), Text(p.target), p.kind, str(p.n_windows),
                  f"{p.passes_per_sol:.2f}", f"{p.mean_duration_s / 60.0:.1f}",
                  f"{p.total_s / 3600.0:.2f}")
    out.print(t)


def _shown_rows(n: int, show_all: bool) -> tuple[int, str]:
    if show_all or n <= _HEAD_ROWS:
        return n, ""
    return _HEAD_ROWS, f"... {n - _HEAD_ROWS} more rows (--all shows every row)"


def print_links(linked: LinkedContacts, show_all: bool = False, out: Console = console) -> None:
    """The pass model's settings, volume per sol per lander, per-pass volumes per lander and
    orbiter, Earth capacity per UTC day."""
    for note in linked.notes:
        _say(f"note: {note}", out)
    ops = linked.ops
    if ops is not None and not ops.ideal:
        _say(f"pass model: hail {ops.hail_s:g} s; adaptive rate every {ops.update_interval_s:g} s "
             f"on the link {ops.lag_s:g} s earlier, {ops.comm_change_s:g} s per change;", out)
        _say(f"frames {ops.frame_data_octets}+{ops.frame_overhead_octets} octets"
             f"{' with go-back-N' if ops.arq else ''}; fixed-rate margin "
             f"{ops.fixed_margin_db:g} dB", out)
    ps = linked.per_sol
    table = Table(title="Data volume per sol per lander (Mbit; sols from LMST midnight)")
    for col in ("lander", "sol", "passes", "contact min", "relay", "to Earth", "total"):
        table.add_column(col, justify="left" if col == "lander" else "right")
    rows: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for k in range(len(ps)):
        acc = rows[(str(ps.lander[k]), int(ps.sol[k]))]
        acc[0] += ps.passes[k]
        acc[1] += ps.contact_s[k] / 60.0
        acc[2 if ps.kind[k] == "proximity" else 3] += ps.volume_bits[k]
    items = sorted(rows.items())
    n_show, more = _shown_rows(len(items), show_all)
    for (lander, sol), (n, minutes, relay, dte) in items[:n_show]:
        table.add_row(Text(lander), str(sol), f"{n:.0f}", f"{minutes:.1f}", _mbit(relay),
                      _mbit(dte), _mbit(relay + dte))
    out.print(table)
    if more:
        _say(more, out)
    ct, res = linked.contacts, linked.result
    prox = ct.kind == "proximity"
    landers = set(ps.lander.tolist())
    lander_of = np.where(np.isin(ct.source, list(landers)), ct.source, ct.target)
    partners = np.where(np.isin(ct.source, list(landers)), ct.target, ct.source)
    pair_table = Table(title="Relay passes per lander and orbiter (kbps; Mbit per pass; fixed: "
                             "median of the best single rate)")
    for col in ("lander", "orbiter", "passes", "ADR", "peak", "mean", "median", "p90", "max",
                "fixed"):
        pair_table.add_column(col, justify="left" if col in ("lander", "orbiter") else "right")
    for lander, orb in sorted(set(zip(lander_of[prox].tolist(), partners[prox].tolist(),
                                      strict=True))):
        m = prox & (lander_of == lander) & (partners == orb)
        v, dur = ct.volume_bits[m], ct.duration_s[m].sum()
        pair_table.add_row(
            Text(lander), Text(orb), str(int(m.sum())), "yes" if res.adr[m].all() else "no",
            f"{res.peak_rate_bps[m].max() / 1e3:,.0f}",
            f"{v.sum() / dur / 1e3:,.0f}" if dur > 0 else "-", _mbit(float(np.median(v))),
            _mbit(float(np.percentile(v, 90))), _mbit(float(v.max())),
            _mbit(float(np.median(res.volume_fixed_bits[m]))),
        )
    out.print(pair_table)
    pd = linked.earth_per_day
    if len(pd):
        day_table = Table(title="Downlink capacity to Earth per UTC day (Mbit; all stations)")
        for col in ("node", "day", "passes", "contact h", "Mbit"):
            day_table.add_column(col, justify="left" if col in ("node", "day") else "right")
        n_show, more = _shown_rows(len(pd), show_all)
        for k in range(n_show):
            day_table.add_row(Text(str(pd.node[k])), str(pd.day_utc[k]), str(int(pd.passes[k])),
                              f"{pd.contact_s[k] / 3600:.1f}", _mbit(pd.volume_bits[k]))
        out.print(day_table)
        if more:
            _say(more, out)


def print_schedule(schedule: Schedule, out: Console = console) -> None:
    """The plan's headline figures (passes used, of which split between two landers) and, per
    lander, delivered vs demanded volume."""
    n_sel = int(schedule.passes.selected.sum())
    n_split = int(schedule.passes.split.sum())
    gap = "" if math.isnan(schedule.gap) else f", gap {100 * schedule.gap:.2f}%"
    split = f" ({n_split} split)" if n_split else ""
    _say(f"schedule: {schedule.solver} {schedule.status}, {n_sel} of {len(schedule.passes)} "
         f"passes{split}, {schedule.solve_s:.2f} s{gap}", out)
    table = Table("lander", "demand Mbit", "delivered Mbit", "%", "sols short", "binding")
    short = {s.lander: s for s in schedule.shortfalls}
    for name, demand, delivered in schedule.lander_totals():
        s = short.get(name)
        pct = 100.0 * delivered / demand if demand > 0 else 100.0
        table.add_row(Text(name), f"{demand / 1e6:.1f}", f"{delivered / 1e6:.1f}", f"{pct:.1f}",
                      f"{s.sols_short}/{s.sols}" if s else "0",
                      s.binding if s else "demand_met")
    out.print(table)
    for s in schedule.shortfalls:
        _say(f"  {s.lander}: short {s.shortfall_bits / 1e6:.1f} Mbit: {s.detail}", out)
    if schedule.earth is not None:
        print_earth(schedule.earth, out)


def print_earth(earth: EarthAllocation, out: Console = console) -> None:
    """The Earth allocation: passes granted of those requested, shared antennas (MSPA), the
    solver against the greedy baseline, and unmet requests by reason."""
    gap = "" if math.isnan(earth.gap) else f", gap {100 * earth.gap:.2f}%"
    n_mspa = int(np.count_nonzero(earth.mode == "mspa"))
    ratio = earth.optimal_vs_greedy
    versus = ("same as greedy" if abs(ratio - 1.0) < 5e-7
              else f"{100 * (ratio - 1.0):+.2f}% against greedy")
    _say(f"earth passes: {earth.granted} of {earth.requested} requested "
         f"({n_mspa} sharing an antenna), {earth.solver} {earth.status}, "
         f"{earth.solve_s:.2f} s{gap}, {versus}", out)
    if len(earth.unmet_reason):
        counts = Counter(str(r) for r in earth.unmet_reason)
        _say("  unmet: " + ", ".join(f"{r} {n}" for r, n in counts.most_common()), out)


def print_simulation(result: SimulationResult, out: Console = console) -> None:
    """Bundles, bits delivered / stored / dropped, latency percentiles."""
    tot = result.totals()
    lat = result.latency
    gen = tot["generated_bits"]

    def share(x: float) -> str:
        return f"{x / 1e9:.3f} Gbit ({100.0 * x / gen:.1f}%)" if gen else "0"

    _say(f"simulation: {lat.count} bundles, {gen / 1e9:.3f} Gbit generated; delivered "
         f"{share(tot['delivered_bits'])}, stored {share(tot['stored_bits'])}", out)
    drops = ", ".join(f"{k[8:-5]} {share(v)}" for k, v in tot.items()
                      if k.startswith("dropped_") and v > 0)
    _say(f"dropped: {drops or 'none'}", out)
    if lat.delivered:
        _say(f"latency: p50 {lat.p50_s / 3600:.2f} h, p95 {lat.p95_s / 3600:.2f} h, "
             f"max {lat.max_s / 3600:.2f} h", out)


def print_run(result: RunResult, out: Console = console) -> None:
    """Every stage's summary, then the stage timings."""
    sc = result.scenario
    if result.links is not None:
        for note in result.links.notes:
            _say(f"note: {note}", out)
        prox = result.links.contacts.kind == "proximity"
        total = float(np.sum(result.links.contacts.volume_bits[prox]))
        _say(f"links: {len(result.links.contacts)} contacts, relay volume {total / 1e9:.2f} "
             f"Gbit over {int(np.sum(prox))} proximity passes", out)
    elif result.contacts is not None:
        print_contacts(result.contacts.contacts, sc.duration_s, out)
    if result.schedule is not None:
        print_schedule(result.schedule, out)
    if result.simulation is not None:
        print_simulation(result.simulation, out)
    table = Table(title="Run", show_edge=False)
    table.add_column("stage")
    table.add_column("time (s)", justify="right")
    for t in result.timings:
        table.add_row(t.stage, f"{t.seconds:.2f}")
    out.print(table)


def comparison_table(comp: Comparison) -> Table:
    """A rich table of a :class:`~marsrelay.report.compare.Comparison` (deltas coloured)."""
    t = Table(title="Comparison (differences against the first run)", title_justify="left")
    t.add_column("figure", no_wrap=True)
    t.add_column("unit", style="dim")
    for k, name in enumerate(comp.names):
        # Fold long scenario names onto several lines rather than cutting them with "...".
        t.add_column(Text(name + (" (ref.)" if k == 0 else "")), justify="right",
                     overflow="fold")
    group = None
    for row in comp.rows:
        g = row.lander or "whole run"
        if g != group:
            if group is not None:
                t.add_section()
            t.add_row(Text(g, style="bold"), "", *[""] * len(comp.names))
            group = g
        cells: list[Text] = []
        verdicts = row.verdicts()
        for k, v in enumerate(row.values):
            cell = Text(format_value(v, row.metric))
            if k and row.deltas[k] is not None:
                cell.append(f" {format_delta(row.deltas[k], row.metric)}",
                            style=_STYLE[verdicts[k]])
            cells.append(cell)
        t.add_row("  " + row.metric.label, row.metric.unit, *cells)
    return t
