"""CZML export (Cesium) of a run: orbiters, landers and the active proximity links.

Positions are Mars body-fixed (the scenario's IAU rotation model) in metres, written with
``referenceFrame: FIXED``: view them in Cesium with a Mars globe (``new Cesium.Viewer(el,
{globe: new Cesium.Globe(Cesium.Ellipsoid.MARS)})``, Cesium 1.119 or later). Orbiter positions
are sampled every ``step_s`` seconds and interpolated by Cesium (Lagrange, degree 5). Each
proximity contact of the run's contact table becomes a polyline between the two nodes, shown
only during the window. Sample times are offsets in seconds from the span's start (TDB
differences; they equal elapsed SI seconds to within 2 ms).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import MarsSite
from marsrelay.geometry.time import tdb_to_utc
from marsrelay.io import atomic_write_text
from marsrelay.report.run_data import PROXIMITY, RunData
from marsrelay.report.style import node_colors

__all__ = ["run_czml", "write_czml"]


def _rgba(hex_color: str, alpha: int = 255) -> list[int]:
    h = hex_color.lstrip("#")
    return [int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha]


def _utc(tdb_s: float) -> str:
    return str(tdb_to_utc(tdb_s))


def run_czml(run: RunData, step_s: float = 60.0) -> list[dict[str, Any]]:
    """CZML packets (a list of JSON-ready dicts, document packet first) for a loaded run."""
    info = run.scenario
    t0, t1 = info.start_tdb_s, info.end_tdb_s
    span = f"{_utc(t0)}/{_utc(t1)}"
    colors = node_colors([run])
    packets: list[dict[str, Any]] = [{
        "id": "document",
        "name": info.name,
        "version": "1.0",
        "clock": {"interval": span, "currentTime": _utc(t0), "multiplier": 60,
                  "range": "LOOP_STOP", "step": "SYSTEM_CLOCK_MULTIPLIER"},
    }]
    rot = rotation_model(info.rotation_model)
    t = np.append(np.arange(t0, t1, step_s), t1)
    body_to = rot.icrf_to_body(t)
    for name, traj in info.trajectories:
        pos, _ = traj.state_km(t)
        body_m = np.einsum("nij,nj->ni", body_to, pos) * 1000.0
        samples = np.column_stack([t - t0, body_m]).ravel()
        color = _rgba(colors(name))
        packets.append({
            "id": f"orbiter/{name}",
            "name": name,
            "availability": span,
            "position": {
                "referenceFrame": "FIXED",
                "epoch": _utc(t0),
                "interpolationAlgorithm": "LAGRANGE",
                "interpolationDegree": 5,
                "cartesian": [round(float(v), 3) for v in samples],
            },
            "point": {"pixelSize": 9, "color": {"rgba": color},
                      "outlineColor": {"rgba": [255, 255, 255, 255]}, "outlineWidth": 1},
            "label": {"text": name, "font": "13px sans-serif", "pixelOffset":
                      {"cartesian2": [12, -8]}, "fillColor": {"rgba": color}},
            "path": {"leadTime": 0, "trailTime": 2 * 3600, "width": 1.5, "resolution": step_s,
                     "material": {"solidColor": {"color": {"rgba": _rgba(colors(name), 160)}}}},
        })
    for node in info.landers:
        if not (math.isfinite(node.lat_deg) and math.isfinite(node.lon_east_deg)):
            continue
        p = MarsSite(node.name, node.lat_deg, node.lon_east_deg).position_body_km * 1000.0
        color = _rgba(colors(node.name))
        packets.append({
            "id": f"lander/{node.name}",
            "name": node.name,
            "position": {"referenceFrame": "FIXED",
                         "cartesian": [round(float(v), 3) for v in p]},
            "point": {"pixelSize": 11, "color": {"rgba": color},
                      "outlineColor": {"rgba": [255, 255, 255, 255]}, "outlineWidth": 2},
            "label": {"text": node.name, "font": "13px sans-serif",
                      "pixelOffset": {"cartesian2": [12, 0]}, "fillColor": {"rgba": color}},
        })
    packets += _link_packets(run, colors)
    return packets


def _link_packets(run: RunData, colors) -> list[dict[str, Any]]:
    c = run.contacts
    if c is None:
        return []
    orbiters = {name for name, _ in run.scenario.trajectories}
    landers = {n.name for n in run.scenario.landers}
    out: list[dict[str, Any]] = []
    prox = np.flatnonzero(c["kind"] == PROXIMITY)
    for k in prox:
        a, b = str(c["source"][k]), str(c["target"][k])
        lander, orbiter = (a, b) if a in landers else (b, a)
        if lander not in landers or orbiter not in orbiters:
            continue
        out.append({
            "id": f"link/{lander}/{orbiter}/{len(out)}",
            "name": f"{lander} - {orbiter}",
            "availability": f"{_utc(c['start_tdb_s'][k])}/{_utc(c['end_tdb_s'][k])}",
            "polyline": {
                "positions": {"references": [f"lander/{lander}#position",
                                             f"orbiter/{orbiter}#position"]},
                "width": 3,
                "arcType": "NONE",
                "material": {"polylineGlow": {"color": {"rgba": _rgba(colors(orbiter))},
                                              "glowPower": 0.25}},
            },
        })
    return out


def write_czml(run: RunData, out_file: str | Path, step_s: float = 60.0) -> Path:
    """Write the run's CZML document to ``out_file`` (atomically); returns the path."""
    return atomic_write_text(out_file, json.dumps(run_czml(run, step_s), separators=(",", ":")))
