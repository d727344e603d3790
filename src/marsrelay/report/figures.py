"""Plotly figures of the report, one function per picture.

Each ``*_figure`` takes a loaded run (and the report's node colours) and returns a
``plotly.graph_objects.Figure``, or ``None`` with nothing to draw. Times on axes are UTC; every
axis says its unit. Only the map and the Earth-Mars plot compute geometry
(:mod:`marsrelay.geometry.tracks`); everything else draws the run's own outputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from marsrelay.constants import DAY_S, SOL_S
from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s
from marsrelay.geometry.tracks import (
    coverage_half_angle_deg,
    earth_mars_geometry,
    ground_track,
    small_circle_deg,
)
from marsrelay.report.compare import Comparison
from marsrelay.report.run_data import PROXIMITY, RunData, tdb_to_plot_time
from marsrelay.report.summary import bundle_latency_s, per_sol_series

__all__ = [
    "FONT",
    "NodeColors",
    "buffer_figure",
    "comparison_figure",
    "earth_mars_figure",
    "latency_figure",
    "map_figure",
    "map_sol_window",
    "node_colors",
    "per_sol_figure",
    "timeline_figure",
]

FONT = (
    'Inter, "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", "DejaVu Sans", '
    "Arial, sans-serif"
)
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"
CONJUNCTION_FILL = "rgba(214, 69, 65, 0.10)"
CONJUNCTION_LINE = "#c0392b"

# Colour-blind-safe hues (Okabe & Ito 2008), then a few more, for orbiters; deeper tones for
# landers; slate greys for Earth stations.
_ORBITER_COLORS = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6A3D9A", "#8C564B",
)
_LANDER_COLORS = ("#7A1F5C", "#1B5E20", "#8C2D04", "#283593", "#006064", "#4E342E")
_STATION_COLORS = ("#37474F", "#546E7A", "#78909C", "#455A64", "#607D8B", "#263238")


@dataclass(frozen=True)
class NodeColors:
    """One colour per node name, the same in every figure and scenario of a report."""

    colors: tuple[tuple[str, str], ...]

    def __call__(self, name: str) -> str:
        for n, c in self.colors:
            if n == name:
                return c
        return MUTED


def node_colors(runs: Sequence[RunData]) -> NodeColors:
    """Assign colours to every orbiter, lander and station of ``runs`` (first seen first)."""
    out: dict[str, str] = {}
    for kind, palette in (
        ("orbiters", _ORBITER_COLORS), ("landers", _LANDER_COLORS), ("stations", _STATION_COLORS),
    ):
        k = 0
        for run in runs:
            for node in getattr(run.scenario, kind):
                if node.name not in out:
                    out[node.name] = palette[k % len(palette)]
                    k += 1
    return NodeColors(tuple(out.items()))


def _base_layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": 13, "color": INK},
        margin={"l": 70, "r": 30, "t": 20, "b": 55},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        hoverlabel={"font": {"family": FONT, "size": 12}, "bgcolor": "white"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                "font": {"size": 12}},
        **kw,
    )
    fig.update_xaxes(gridcolor=GRID, linecolor="#9aa5b1", ticks="outside", tickcolor="#9aa5b1",
                     zeroline=False)
    fig.update_yaxes(gridcolor=GRID, linecolor="#9aa5b1", zeroline=False)
    return fig


def _conjunction_windows(run: RunData) -> list[tuple[float, float]]:
    if run.conjunction is not None:
        s, e = run.conjunction.get("start_tdb_s"), run.conjunction.get("end_tdb_s")
        return [(float(a), float(b)) for a, b in zip(s, e, strict=True)
                if math.isfinite(a) and math.isfinite(b)]
    return []


def _shade_windows(fig: go.Figure, windows: list[tuple[float, float]], label: str,
                   row: int | None = None, col: int | None = None) -> None:
    for a, b in windows:
        x0, x1 = tdb_to_plot_time(np.array([a, b]))
        kw = {"row": row, "col": col} if row is not None else {}
        fig.add_vrect(x0=str(x0), x1=str(x1), fillcolor=CONJUNCTION_FILL, line_width=0,
                      layer="below", annotation_text=label, annotation_position="top left",
                      annotation_font={"size": 11, "color": CONJUNCTION_LINE}, **kw)


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
    _shade_windows(fig, _conjunction_windows(run), "solar conjunction")
    height = 120 + 26 * n_rows
    _base_layout(fig, height)
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
    _base_layout(fig, 380, barmode="group", bargap=0.25)
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
        centers = 0.5 * (edges[:-1] + edges[1:])
        fig = go.Figure()
        for name in dict.fromkeys(b["source"][delivered]):
            m = delivered & (b["source"] == name)
            counts, _ = np.histogram(lat_h[m], bins=edges)
            fig.add_trace(go.Bar(
                x=centers, y=counts, width=np.diff(edges), name=name,
                marker_color=colors(name), opacity=0.85,
                hovertemplate=f"{name}<br>%{{x:.1f}} h: %{{y}} bundles<extra></extra>",
            ))
        p50, p95 = np.percentile(vals, [50, 95])
        _base_layout(fig, 360, barmode="stack", bargap=0.02)
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
        _base_layout(fig, 340)
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
    _shade_windows(fig, _conjunction_windows(run), "solar conjunction")
    _base_layout(fig, 360)
    fig.update_xaxes(type="date", title="UTC")
    fig.update_yaxes(title="stored data (Mbit)", rangemode="tozero")
    return fig, source


# ---------------------------------------------------------------------------------------------
# map

#: A few named features for orientation (IAU Gazetteer of Planetary Nomenclature, feature
#: centres, planetocentric, east longitude; rounded to 0.1 deg).
MARS_FEATURES: tuple[tuple[str, float, float], ...] = (
    ("Olympus Mons", 18.7, 226.2),
    ("Tharsis Montes", 1.6, 247.0),
    ("Valles Marineris", -13.9, 300.8),
    ("Hellas Planitia", -42.4, 70.5),
    ("Argyre Planitia", -49.7, 316.0),
    ("Utopia Planitia", 49.7, 118.0),
    ("Elysium Mons", 25.0, 147.2),
    ("Syrtis Major", 8.4, 69.5),
    ("Acidalia Planitia", 49.8, 339.3),
    ("Arabia Terra", 22.8, 14.0),  # centre 5.0 E, shifted to stay on the map
)


def map_sol_window(run: RunData, sol_index: int = 0) -> tuple[float, float]:
    """TDB span (s) of the ``sol_index``-th whole local sol of the first lander (LMST midnight
    to midnight; prime-meridian mean solar time without landers), clipped to the run."""
    info = run.scenario
    lon = info.landers[0].lon_east_deg if info.landers else 0.0
    lon = lon if math.isfinite(lon) else 0.0
    first = int(local_sol(info.start_tdb_s, lon))
    if float(sol_start_tdb_s(first, lon)) < info.start_tdb_s:
        first += 1
    t0 = float(sol_start_tdb_s(first + max(sol_index, 0), lon))
    if t0 >= info.end_tdb_s:
        t0 = info.start_tdb_s
    return t0, min(t0 + SOL_S, info.end_tdb_s) if info.span_s > 0 else t0 + SOL_S


def _wrap_breaks(lon: np.ndarray, lat: np.ndarray, mask: np.ndarray | None = None):
    """Lists for a line plot on a 0-360 map, broken where the track wraps (and outside
    ``mask``)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    prev = None
    for k in range(lon.size):
        if mask is not None and not mask[k]:
            if xs and xs[-1] is not None:
                xs.append(None)
                ys.append(None)
            prev = None
            continue
        if prev is not None and abs(lon[k] - prev) > 180.0:
            xs.append(None)
            ys.append(None)
        xs.append(round(float(lon[k]), 3))
        ys.append(round(float(lat[k]), 3))
        prev = lon[k]
    return xs, ys


def map_figure(
    run: RunData, colors: NodeColors, sol_index: int = 0
) -> tuple[go.Figure, str] | None:
    """Equirectangular map of Mars: landers, each orbiter's ground track over one sol, the
    stretches of track during proximity passes (from the contact table) drawn bold, and each
    lander's visibility ring for near-circular orbits (orbiter seen above the lander's mask)."""
    info = run.scenario
    if not info.landers and not info.trajectories:
        return None
    t0, t1 = map_sol_window(run, sol_index)
    fig = go.Figure()
    for name, lat, lon in MARS_FEATURES:
        fig.add_trace(go.Scatter(
            x=[lon], y=[lat], mode="text", text=[name], showlegend=False, hoverinfo="skip",
            textfont={"size": 11, "color": "#a1887f", "family": FONT},
        ))
    from marsrelay.geometry.rotation import rotation_model

    rot = rotation_model(info.rotation_model)
    t = np.arange(t0, t1 + 1.0, 20.0)
    c = run.contacts
    for name, traj in info.trajectories:
        try:
            tr = ground_track(traj, rot, t)
        except Exception:
            continue
        xs, ys = _wrap_breaks(tr.lon_east_deg, tr.lat_deg)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=f"{name} ground track", legendgroup=name,
            line={"color": colors(name), "width": 1.0}, opacity=0.45,
            hovertemplate=f"{name}<br>lat %{{y:.1f}}°, lon %{{x:.1f}}°E<extra></extra>",
        ))
        if c is not None:
            prox = (c["kind"] == PROXIMITY) & ((c["source"] == name) | (c["target"] == name))
            active = np.zeros(t.size, dtype=bool)
            for a, b in zip(c["start_tdb_s"][prox], c["end_tdb_s"][prox], strict=True):
                if b >= t0 and a <= t1:
                    active |= (t >= a) & (t <= b)
            if active.any():
                xs, ys = _wrap_breaks(tr.lon_east_deg, tr.lat_deg, active)
                fig.add_trace(go.Scatter(
                    x=xs, y=ys, mode="lines", name=f"{name} relay pass", legendgroup=name,
                    line={"color": colors(name), "width": 5},
                    hovertemplate=f"{name} in contact<extra></extra>",
                ))
        h = tr.height_km
        if h.size and float(h.max() - h.min()) < 200.0:
            for lander in info.landers:
                if not (math.isfinite(lander.lat_deg) and math.isfinite(lander.lon_east_deg)):
                    continue
                mask = lander.elevation_mask_deg if math.isfinite(lander.elevation_mask_deg) else 0
                lam = coverage_half_angle_deg(float(np.median(h)), mask)
                rl, rn = small_circle_deg(lander.lat_deg, lander.lon_east_deg, lam)
                xs, ys = _wrap_breaks(rn, rl)
                fig.add_trace(go.Scatter(
                    x=xs, y=ys, mode="lines", showlegend=False, legendgroup=name,
                    line={"color": colors(name), "width": 1.6, "dash": "dot"},
                    hovertemplate=(f"{name} seen from {lander.name} above {mask:.0f}° "
                                   "inside this ring<extra></extra>"),
                ))
    for lander in info.landers:
        if math.isfinite(lander.lat_deg) and math.isfinite(lander.lon_east_deg):
            fig.add_trace(go.Scatter(
                x=[lander.lon_east_deg % 360.0], y=[lander.lat_deg], mode="markers+text",
                name=lander.name, text=[f"<b>{lander.name}</b>"], textposition="top center",
                textfont={"size": 12, "color": colors(lander.name),
                          "shadow": "0 0 3px #ffffff, 0 0 3px #ffffff"},
                marker={"symbol": "star", "size": 17, "color": colors(lander.name),
                        "line": {"color": "white", "width": 1.5}},
                hovertemplate=(f"<b>{lander.name}</b><br>{lander.lat_deg:.3f}°N, "
                               f"{lander.lon_east_deg:.3f}°E<extra></extra>"),
            ))
    _base_layout(fig, 560)
    fig.update_layout(plot_bgcolor="#f4e6d7", margin={"l": 60, "r": 20, "t": 20, "b": 50})
    fig.update_xaxes(range=[0, 360], dtick=30, title="east longitude (deg)", gridcolor="#e6d2bd",
                     ticksuffix="°", showline=True, mirror=True, constrain="domain")
    fig.update_yaxes(range=[-90, 90], dtick=30, title="planetocentric latitude (deg)",
                     gridcolor="#e6d2bd", ticksuffix="°", showline=True, mirror=True,
                     scaleanchor="x", scaleratio=1)
    a, b = tdb_to_plot_time(np.array([t0, t1]))
    caption = (f"ground tracks from {str(a)[:16].replace('T', ' ')} to "
               f"{str(b)[:16].replace('T', ' ')} UTC (one sol)")
    return fig, caption


# ---------------------------------------------------------------------------------------------
# Earth-Mars geometry


def earth_mars_figure(run: RunData) -> go.Figure | None:
    """Earth-Mars distance (million km) and Sun-Earth-Mars angle (deg) over the span, with the
    scenario's conjunction threshold and the stretches below it."""
    info = run.scenario
    if not info.span_s > 0:
        return None
    step = 3600.0 if info.span_s > 5 * DAY_S else 600.0
    t = np.append(np.arange(info.start_tdb_s, info.end_tdb_s, step), info.end_tdb_s)
    try:
        g = earth_mars_geometry(t)
    except Exception:
        return None
    x = [str(v) for v in tdb_to_plot_time(t)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(
        x=x, y=g.distance_km / 1e6, name="Earth-Mars distance", mode="lines",
        line={"color": "#1f4e79", "width": 2.2},
        customdata=g.owlt_s / 60.0,
        hovertemplate="%{y:.2f} million km<br>one-way light time %{customdata:.2f} min"
                      "<extra></extra>",
    ), secondary_y=False)
    fig.add_trace(go.Scatter(
        x=x, y=g.sep_deg, name="Sun-Earth-Mars angle", mode="lines",
        line={"color": "#e07b00", "width": 2.2},
        hovertemplate="SEP %{y:.2f}°<extra></extra>",
    ), secondary_y=True)
    thr = info.conjunction_sep_deg
    fig.add_trace(go.Scatter(
        x=[x[0], x[-1]], y=[thr, thr], name=f"conjunction threshold {thr:g}°", mode="lines",
        line={"color": CONJUNCTION_LINE, "dash": "dash", "width": 1.5}, hoverinfo="skip",
    ), secondary_y=True)
    below = g.sep_deg < thr
    if below.any():
        edges = np.flatnonzero(np.diff(np.concatenate([[0], below.astype(int), [0]])))
        windows = [(float(t[a]), float(t[min(b, t.size - 1)])) for a, b in
                   zip(edges[0::2], edges[1::2], strict=True)]
        _shade_windows(fig, windows, "SEP below threshold")
    _base_layout(fig, 360)
    fig.update_xaxes(type="date", title="UTC")
    fig.update_yaxes(title="Earth-Mars distance (million km)", secondary_y=False,
                     color="#1f4e79")
    fig.update_yaxes(title="Sun-Earth-Mars angle (deg)", secondary_y=True, color="#b35f00",
                     rangemode="tozero", showgrid=False, tickmode="auto")
    return fig


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
    _base_layout(fig, 400, barmode="group")
    fig.update_layout(margin={"t": 90}, legend={"y": 1.14})
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig

