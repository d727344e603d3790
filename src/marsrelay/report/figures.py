"""Plotly figures of the report, one function per picture.

Each ``*_figure`` takes a loaded run (and the report's node colours) and returns a
``plotly.graph_objects.Figure``, or ``None`` with nothing to draw. Times on axes are UTC; every
axis says its unit. These draw the run's own outputs; the geometry pictures are in
:mod:`marsrelay.report.maps`, the look in :mod:`marsrelay.report.style`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from marsrelay.constants import DAY_S
from marsrelay.report.compare import Comparison
from marsrelay.report.run_data import PROXIMITY, RunData, tdb_to_plot_time
from marsrelay.report.style import (
    INK,
    MUTED,
    NodeColors,
    base_layout,
    conjunction_windows,
    shade_windows,
)
from marsrelay.report.summary import bundle_latency_s, per_sol_series

__all__ = [
    "buffer_figure",
    "comparison_figure",
    "latency_figure",
    "per_sol_figure",
    "timeline_figure",
]

# ---------------------------------------------------------------------------------------------
# timeline


def _row_label(kind: str, source: str, target: str) -> str:
    arrow = "⇄" if kind == PROXIMITY else "→"
    return f"{source} {arrow} {target}"


def _colour_node(kind: str, source: str, target: str, orbiters: set[str]) -> str:
    if kind == PROXIMITY:
        return source if source in orbiters else target
    return source


def _segments(t0: np.ndarray, t1: np.ndarray, y: Sequence[str], text: Sequence[str]):
    n = len(t0)
    xs = np.empty(3 * n, dtype="datetime64[ms]")
    xs[0::3], xs[1::3], xs[2::3] = tdb_to_plot_time(t0), tdb_to_plot_time(t1), np.datetime64("NaT")
    ys: list[str | None] = []
    tx: list[str | None] = []
    for k in range(n):
        ys += [y[k], y[k], None]
        tx += [text[k], text[k], None]
    return [str(x) if not np.isnat(x) else None for x in xs], ys, tx


def timeline_figure(run: RunData, colors: NodeColors) -> go.Figure | None:
    """Gantt chart of every contact window, one row per pair, coloured by the relay (orbiter)
    or the sending node; scheduled passes drawn solid over the faded visibility windows."""
    c = run.contacts
    if c is None or len(c) == 0:
        return None
    info = run.scenario
    orbiters = {o.name for o in info.orbiters}
    kinds, src, tgt = c["kind"], c["source"], c["target"]
    order_kind = {PROXIMITY: 0, "direct_earth": 1, "orbiter_earth": 2}
    rows = sorted({(order_kind.get(k, 3), _row_label(k, s, t)) for k, s, t in zip(kinds, src, tgt,
                   strict=True)})
    labels = [r[1] for r in rows]
    row_of = [_row_label(k, s, t) for k, s, t in zip(kinds, src, tgt, strict=True)]
    col_node = np.array([_colour_node(k, s, t, orbiters) for k, s, t in zip(kinds, src, tgt,
                         strict=True)], dtype=object)
    dur = c["duration_s"]
    el = c.get("max_elevation_deg")
    vol = c.get("volume_bits")
    texts = []
    starts_utc = tdb_to_plot_time(c["start_tdb_s"])
    for k in range(len(c)):
        t = (f"<b>{row_of[k]}</b><br>{str(starts_utc[k])[:16].replace('T', ' ')} UTC"
             f"<br>{dur[k] / 60:.1f} min")
        if math.isfinite(el[k]):
            t += f", max elevation {el[k]:.0f}°"
        if math.isfinite(vol[k]):
            t += f"<br>{vol[k] / 1e6:.1f} Mbit"
        texts.append(t)
    scheduled = run.schedule is not None and len(run.schedule) > 0
    n_rows = len(labels)
    width = max(4.0, min(14.0, 300.0 / max(n_rows, 1)))
    fig = go.Figure()
    known = [n.name for n in (*info.orbiters, *info.landers, *info.stations)]
    present = set(col_node)
    for node in [n for n in known if n in present] + [n for n in present if n not in known]:
        m = np.flatnonzero(col_node == node)
        xs, ys, tx = _segments(c["start_tdb_s"][m], c["end_tdb_s"][m], [row_of[i] for i in m],
                               [texts[i] for i in m])
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=f"{node} visible" if scheduled else node,
            legendgroup=node,
            line={"color": colors(node), "width": width},
            opacity=0.35 if scheduled else 1.0,
            hovertext=tx, hoverinfo="text", connectgaps=False,
        ))
    if scheduled:
        s = run.schedule
        assert s is not None
        s_kind = np.full(len(s), PROXIMITY, dtype=object)
        s_rows = [_row_label(k, a, b) for k, a, b in zip(s_kind, s["lander"], s["orbiter"],
                  strict=True)]
        s_node = np.array([_colour_node(k, a, b, orbiters) for k, a, b in zip(
            s_kind, s["lander"], s["orbiter"], strict=True)], dtype=object)
        for node in dict.fromkeys(s_node):
            m = np.flatnonzero(s_node == node)
            txt = [f"<b>scheduled</b> {s_rows[i]}" for i in m]
            xs, ys, tx = _segments(s["start_tdb_s"][m], s["end_tdb_s"][m], [s_rows[i] for i in m],
                                   txt)
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", name=f"{node} (scheduled)", legendgroup=node,
                line={"color": colors(node), "width": width}, hovertext=tx, hoverinfo="text",
                showlegend=True,
            ))
    shade_windows(fig, conjunction_windows(run), "solar conjunction")
    height = 120 + 26 * n_rows
    base_layout(fig, height)
    t0, t1 = tdb_to_plot_time(np.array([info.start_tdb_s, info.end_tdb_s]))
    first_view = tdb_to_plot_time(np.array([info.start_tdb_s + min(2 * DAY_S, info.span_s)]))[0]
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], type="category",
                     title=None, showgrid=True, automargin=True)
    fig.update_xaxes(
        type="date", title="time (UTC)", range=[str(t0), str(first_view)],
        rangeselector={"buttons": [
            {"count": 1, "label": "1 day", "step": "day", "stepmode": "backward"},
            {"count": 3, "label": "3 days", "step": "day", "stepmode": "backward"},
            {"count": 7, "label": "1 week", "step": "day", "stepmode": "backward"},
            {"step": "all", "label": "all"},
        ], "x": 1, "y": 1.0, "yanchor": "bottom", "xanchor": "right",
           "bgcolor": "#eef2f6", "activecolor": "#cbd2d9", "font": {"size": 11}},
        rangeslider={"visible": True, "thickness": 0.06, "range": [str(t0), str(t1)]},
    )
    fig.update_layout(margin={"l": 10, "r": 30, "t": 20, "b": 40},
                      legend={"y": 1.0, "yanchor": "bottom"})
    return fig


# ---------------------------------------------------------------------------------------------
# per-sol data


def per_sol_figure(run: RunData, colors: NodeColors) -> tuple[go.Figure, str] | None:
    """Grouped bars per local sol and lander: data returned if the simulation ran, else link
    capacity, else passes; returns ``(figure, what was drawn)``."""
    series = [s for s in per_sol_series(run) if s.sol.size]
    if not series:
        return None
    fig = go.Figure()
    for s in series:
        fig.add_trace(go.Bar(
            x=s.sol, y=s.value, name=s.lander, marker_color=colors(s.lander),
            hovertemplate=f"{s.lander}<br>sol %{{x:.0f}}: %{{y:,.1f}} {s.unit}<extra></extra>",
        ))
    if run.volumes is not None and series[0].what == "data returned":
        v = run.volumes
        for s in series:
            m = v["lander"] == s.lander
            sols, inv = np.unique(v["sol"][m], return_inverse=True)
            cap = np.zeros(sols.size)
            np.add.at(cap, inv, v["volume_bits"][m] / 1e6)
            fig.add_trace(go.Scatter(
                x=sols - (sols.min() if sols.size else 0), y=cap, mode="lines+markers",
                name=f"{s.lander} link capacity", line={"color": colors(s.lander), "dash": "dot",
                                                        "width": 1.5},
                marker={"size": 5}, hovertemplate="capacity %{y:,.1f} Mbit<extra></extra>",
            ))
    what, unit = series[0].what, series[0].unit
    base_layout(fig, 380, barmode="group", bargap=0.25)
    fig.update_xaxes(title="sol (local mean solar time, counted from the first sol of the span)",
                     dtick=1 if series[0].sol.size <= 40 else None)
    fig.update_yaxes(title=f"{what} ({unit} per sol)")
    return fig, f"{what} ({series[0].source})"


# ---------------------------------------------------------------------------------------------
# latency


def latency_figure(run: RunData, colors: NodeColors) -> go.Figure | None:
    """Distribution of delivery latency (h) per lander from ``bundles.parquet``, with the p50
    and p95 of all bundles marked; per-sol percentiles from ``delivery.csv`` otherwise."""
    b = run.bundles
    if b is not None:
        delivered, lat = bundle_latency_s(b)
        lat_h = lat / 3600.0
        if not delivered.any():
            return None
        vals = lat_h[delivered]
        edges = np.histogram_bin_edges(vals, bins=min(60, max(10, int(np.sqrt(vals.size)))))
        centres = 0.5 * (edges[:-1] + edges[1:])
        fig = go.Figure()
        for name in dict.fromkeys(b["source"][delivered]):
            m = delivered & (b["source"] == name)
            counts, _ = np.histogram(lat_h[m], bins=edges)
            fig.add_trace(go.Bar(
                x=centres, y=counts, width=np.diff(edges), name=name,
                marker_color=colors(name), opacity=0.85,
                hovertemplate=f"{name}<br>%{{x:.1f}} h: %{{y}} bundles<extra></extra>",
            ))
        p50, p95 = np.percentile(vals, [50, 95])
        base_layout(fig, 360, barmode="stack", bargap=0.02)
        for q, v, dash in (("p50", p50, "dash"), ("p95", p95, "dot")):
            fig.add_vline(x=v, line={"color": INK, "dash": dash, "width": 1.5},
                          annotation_text=f"{q} {v:.1f} h", annotation_position="top right",
                          annotation_font={"size": 11})
        fig.update_xaxes(title="latency from creation to delivery on Earth (h)")
        fig.update_yaxes(title="bundles (count)")
        return fig
    d = run.delivery
    if d is not None and d.has("latency_p50_s"):
        fig = go.Figure()
        for name in dict.fromkeys(d["lander"]):
            m = d["lander"] == name
            fig.add_trace(go.Scatter(x=d["sol"][m], y=d["latency_p50_s"][m] / 3600,
                                     name=f"{name} p50", mode="lines+markers",
                                     line={"color": colors(name)}))
            if d.has("latency_p95_s"):
                fig.add_trace(go.Scatter(x=d["sol"][m], y=d["latency_p95_s"][m] / 3600,
                                         name=f"{name} p95", mode="lines",
                                         line={"color": colors(name), "dash": "dot"}))
        base_layout(fig, 340)
        fig.update_xaxes(title="sol")
        fig.update_yaxes(title="latency (h)")
        return fig
    return None


# ---------------------------------------------------------------------------------------------
# buffers


def _occupancy(t_in: np.ndarray, t_out: np.ndarray, bits: np.ndarray, t_end: float):
    """Step function of stored bits from arrival/departure times (departure NaN: stays)."""
    t_out = np.where(np.isfinite(t_out), t_out, np.inf)
    times = np.concatenate([t_in, t_out])
    deltas = np.concatenate([bits, -bits])
    ok = np.isfinite(times) & (times <= t_end)
    times, deltas = times[ok], deltas[ok]
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(deltas[order])
    return _thin_max(times, level)


def _thin_max(t: np.ndarray, y: np.ndarray, n_max: int = 3000):
    """At most ``n_max`` points: the maximum of each time bin (peaks stay visible)."""
    if t.size <= n_max:
        return t, y
    edges = np.linspace(t[0], t[-1], n_max // 2 + 1)
    idx = np.searchsorted(t, edges[:-1])
    idx = np.unique(idx)
    ymax = np.maximum.reduceat(y, idx)
    return t[idx], ymax


def buffer_figure(run: RunData, colors: NodeColors) -> tuple[go.Figure, str] | None:
    """Stored data per node (Mbit) over time: ``buffers.*`` if the simulation wrote it, else
    derived from the bundles' creation, relay and delivery times."""
    t_end = run.scenario.end_tdb_s
    curves: list[tuple[str, np.ndarray, np.ndarray]] = []
    source = ""
    if run.buffers is not None:
        bf = run.buffers
        for node in dict.fromkeys(bf["node"]):
            m = bf["node"] == node
            order = np.argsort(bf["time_tdb_s"][m])
            t, y = bf["time_tdb_s"][m][order], bf["used_bits"][m][order]
            t, y = _thin_max(t, y)
            curves.append((node, t, y))
        source = bf.path.name
    elif run.bundles is not None:
        b = run.bundles
        delivered = np.where(b["status"] == "delivered", b["done_tdb_s"], np.nan)
        created = b["created_tdb_s"]
        for name in dict.fromkeys(b["source"]):
            m = b["source"] == name
            curves.append((f"{name} (in the network)",
                           *_occupancy(created[m], delivered[m], b["size_bits"][m], t_end)))
        source = f"{b.path.name} (data created but not yet on Earth)"
    if not curves:
        return None
    fig = go.Figure()
    for name, t, y in curves:
        base = name.split(" (")[0]
        fig.add_trace(go.Scatter(
            x=[str(x) for x in tdb_to_plot_time(t)], y=y / 1e6, mode="lines", name=name,
            line={"color": colors(base), "width": 1.8, "shape": "hv"},
            hovertemplate=f"{name}<br>%{{x}}<br>%{{y:,.1f}} Mbit<extra></extra>",
        ))
    shade_windows(fig, conjunction_windows(run), "solar conjunction")
    base_layout(fig, 360)
    fig.update_xaxes(type="date", title="UTC")
    fig.update_yaxes(title="stored data (Mbit)", rangemode="tozero")
    return fig, source


# ---------------------------------------------------------------------------------------------
# comparison


def comparison_figure(comp: Comparison) -> go.Figure | None:
    """Small multiples: passes, contact time and data per sol for each lander and scenario."""
    keys = [("passes_per_sol", "relay passes", "passes per sol"),
            ("contact_min_per_sol", "contact time", "min per sol"),
            ("returned_mbit_per_sol", "data returned", "Mbit per sol"),
            ("capacity_mbit_per_sol", "link capacity", "Mbit per sol")]
    keys = [(k, t, u) for k, t, u in keys
            if any(r.metric.key == k and r.lander and any(v is not None for v in r.values)
                   for r in comp.rows)]
    if not keys:
        return None
    keys = keys[:3]
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=[t for _, t, _ in keys],
                        horizontal_spacing=0.08)
    palette = ("#1f4e79", "#e07b00", "#2e7d32", "#8e24aa", "#6d4c41", "#00838f")
    for j, (key, _, unit) in enumerate(keys, start=1):
        rows = [r for r in comp.rows if r.metric.key == key and r.lander]
        for k, name in enumerate(comp.names):
            fig.add_trace(go.Bar(
                x=[r.lander for r in rows],
                y=[r.values[k] if r.values[k] is not None else 0.0 for r in rows],
                name=name, legendgroup=name, showlegend=j == 1,
                marker_color=palette[k % len(palette)],
                hovertemplate=f"{name}<br>%{{x}}: %{{y:,.2f}}<extra></extra>",
            ), row=1, col=j)
        fig.update_yaxes(title_text=unit, row=1, col=j)
    base_layout(fig, 400, barmode="group")
    fig.update_layout(margin={"t": 90}, legend={"y": 1.14})
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig

