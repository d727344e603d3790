"""The report's look: fonts, colours per node (stable across every figure of a report), the
common plot layout and the shading of solar-conjunction windows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from marsrelay.report.run_data import RunData, tdb_to_plot_time

__all__ = ["CONJUNCTION_FILL", "CONJUNCTION_LINE", "FONT", "GRID", "INK", "MUTED",
           "NodeColors", "base_layout", "conjunction_windows", "node_colors", "shade_windows"]

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


def base_layout(fig: go.Figure, height: int, **kw) -> go.Figure:
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


def conjunction_windows(run: RunData) -> list[tuple[float, float]]:
    if run.conjunction is not None:
        s, e = run.conjunction.get("start_tdb_s"), run.conjunction.get("end_tdb_s")
        return [(float(a), float(b)) for a, b in zip(s, e, strict=True)
                if math.isfinite(a) and math.isfinite(b)]
    return []


def shade_windows(fig: go.Figure, windows: list[tuple[float, float]], label: str,
                   row: int | None = None, col: int | None = None) -> None:
    for a, b in windows:
        x0, x1 = tdb_to_plot_time(np.array([a, b]))
        kw = {"row": row, "col": col} if row is not None else {}
        fig.add_vrect(x0=str(x0), x1=str(x1), fillcolor=CONJUNCTION_FILL, line_width=0,
                      layer="below", annotation_text=label, annotation_position="top left",
                      annotation_font={"size": 11, "color": CONJUNCTION_LINE}, **kw)


