"""The report's geometry pictures: a Mars map with ground tracks and lander coverage over one
sol, and the Earth-Mars geometry over the span with the conjunction threshold
(:mod:`marsrelay.geometry.tracks` computes them from the run's scenario)."""

from __future__ import annotations

import math

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
from marsrelay.report.run_data import PROXIMITY, RunData, tdb_to_plot_time
from marsrelay.report.style import (
    CONJUNCTION_LINE,
    FONT,
    NodeColors,
    base_layout,
    shade_windows,
)

__all__ = ["earth_mars_figure", "map_figure", "map_sol_window"]


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
    base_layout(fig, 560)
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
        shade_windows(fig, windows, "SEP below threshold")
    base_layout(fig, 360)
    fig.update_xaxes(type="date", title="UTC")
    fig.update_yaxes(title="Earth-Mars distance (million km)", secondary_y=False,
                     color="#1f4e79")
    fig.update_yaxes(title="Sun-Earth-Mars angle (deg)", secondary_y=True, color="#b35f00",
                     rangemode="tozero", showgrid=False, tickmode="auto")
    return fig


