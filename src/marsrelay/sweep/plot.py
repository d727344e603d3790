"""A plot of sweep results over a landing-site map (plotly), for reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from marsrelay.sweep.case import FIGURE_NAMES, FIGURES

__all__ = ["site_means", "sweep_figure"]

#: Figures tried in this order when ``figure`` is not given.
_PREFERRED = ("capacity_mbit_per_sol", "delivered_mbit_per_sol", "passes_per_sol",
              "contact_min_per_sol", "max_gap_h", "dte_min_per_sol", "latency_p50_s")


def _as_table(results: Any) -> pa.Table:
    if isinstance(results, pa.Table):
        return results
    if isinstance(results, str | Path):
        path = Path(results)
        return pq.read_table(path / "results.parquet" if path.is_dir() else path)
    if hasattr(results, "to_dict") and hasattr(results, "columns"):  # a pandas DataFrame
        return pa.Table.from_pandas(results, preserve_index=False)
    raise TypeError("results must be a pyarrow Table, a DataFrame or a path to results.parquet")


def site_means(results: Any, figure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray, np.ndarray]:
    """Mean of ``figure`` per (lander, lat, lon) over the other parameters.

    Returns ``(lander names, lat_deg, lon_east_deg in [-180, 180), mean, n rows)``; rows with
    a NaN figure are left out.
    """
    t = _as_table(results)
    names = np.asarray(t.column("lander").to_pylist(), dtype=object)
    lat = t.column("lander_lat_deg").to_numpy(zero_copy_only=False).astype(float)
    lon = (t.column("lander_lon_east_deg").to_numpy(zero_copy_only=False).astype(float)
           + 180.0) % 360.0 - 180.0
    v = t.column(figure).to_numpy(zero_copy_only=False).astype(float)
    ok = np.isfinite(v)
    keys = [(n, round(a, 9), round(b, 9)) for n, a, b in zip(names[ok], lat[ok], lon[ok],
                                                              strict=True)]
    uniq: dict[tuple, list[float]] = {}
    for k, x in zip(keys, v[ok], strict=True):
        uniq.setdefault(k, []).append(float(x))
    out_n = np.array([k[0] for k in uniq], dtype=object)
    out_lat = np.array([k[1] for k in uniq], dtype=float)
    out_lon = np.array([k[2] for k in uniq], dtype=float)
    out_mean = np.array([np.mean(x) for x in uniq.values()], dtype=float)
    out_count = np.array([len(x) for x in uniq.values()], dtype=int)
    return out_n, out_lat, out_lon, out_mean, out_count


def _ranges(lon: np.ndarray, lat: np.ndarray) -> tuple[list[float], list[float]]:
    """Axis ranges (deg): the sites with a margin of 10% of their spread (at least 5 deg),
    clipped to the map [-180, 180] x [-90, 90]."""
    if not lon.size:
        return [-180.0, 180.0], [-90.0, 90.0]
    out = []
    for v, lim in ((lon, 180.0), (lat, 90.0)):
        pad = max(5.0, 0.1 * float(v.max() - v.min()))
        out.append([max(-lim, float(v.min()) - pad), min(lim, float(v.max()) + pad)])
    return out[0], out[1]


def sweep_figure(results: Any, figure: str | None = None, title: str | None = None):
    """A plotly ``Figure``: each landing site of the sweep on a latitude/longitude map of Mars,
    coloured by ``figure`` (mean over the other swept parameters).

    ``results`` is the sweep's results (pyarrow Table, pandas DataFrame, ``results.parquet``
    or the sweep's output folder). ``figure`` defaults to the first of data volume per sol,
    passes per sol, contact minutes per sol, ... that the results hold with finite values.
    Longitudes are shown east, in [-180, 180) deg; latitudes planetocentric, deg.
    """
    import plotly.graph_objects as go

    t = _as_table(results)
    if figure is None:
        avail = [f for f in _PREFERRED if f in t.column_names
                 and np.isfinite(t.column(f).to_numpy(zero_copy_only=False).astype(float)).any()]
        if not avail:
            raise ValueError(f"results hold no figure with values (known: {FIGURE_NAMES})")
        figure = avail[0]
    if figure not in t.column_names:
        raise ValueError(f"results have no column {figure!r}")
    unit = {f.name: f.unit for f in FIGURES}.get(figure, "")
    names, lat, lon, mean, count = site_means(t, figure)
    fig = go.Figure()
    symbols = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star"]
    for k, lander in enumerate(dict.fromkeys(names)):
        sel = names == lander
        fig.add_trace(go.Scatter(
            x=lon[sel], y=lat[sel], mode="markers", name=str(lander),
            marker={"color": mean[sel], "colorscale": "Viridis", "size": 11,
                    "symbol": symbols[k % len(symbols)],
                    "cmin": float(mean.min()), "cmax": float(mean.max()),
                    "colorbar": {"title": {"text": f"{figure} ({unit})"}} if k == 0 else None,
                    "showscale": k == 0, "line": {"width": 0.5, "color": "black"}},
            customdata=np.stack([mean[sel], count[sel]], -1),
            hovertemplate=(f"{lander}<br>lat %{{y:.3f}} deg, lon %{{x:.3f}} deg E<br>"
                           f"{figure} %{{customdata[0]:.4g}} {unit}<br>"
                           "mean of %{customdata[1]} rows<extra></extra>"),
        ))
    x_range, y_range = _ranges(lon, lat)
    fig.update_layout(
        title=title or f"{figure.replace('_', ' ')} by landing site",
        xaxis={"title": "east longitude (deg)", "range": x_range},
        yaxis={"title": "planetocentric latitude (deg)", "range": y_range,
               "scaleanchor": "x", "scaleratio": 1},
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    return fig
