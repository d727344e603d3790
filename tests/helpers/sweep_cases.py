"""Case functions for the sweep tests, built on the geometry core only (no contacts stage).

They live in an importable module (not in a test file) so that Dask worker processes and the
CLI subprocess (``case = "sweep_cases:prox_case"`` with this folder on PYTHONPATH) can import
them by name.

:func:`prox_case` counts proximity windows lander <-> orbiter with a plain 10 s sampler: a
window is a run of samples with the orbiter above the lander's elevation mask and within the
orbiter's ``max_range_km``. It reads the case's scenario data directly (geometry core:
``utc_to_tdb``, ``J2Orbit``, ``rotation_model``, ``MarsSite``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from marsrelay.geometry.orbits import J2Orbit, MeanElements
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import MarsSite
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.sweep.case import Case, CaseResult

SAMPLE_S = 10.0
SOL_S = 88775.244  # Allison & McEwen (2000), Mars24: the mean solar day


def _windows(mask: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times of the runs of True in ``mask`` (sample times ``t``)."""
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return t[starts], t[ends]


def prox_case(case: Case) -> CaseResult:
    """Passes per sol, contact minutes per sol and the longest gap per lander (10 s sampler)."""
    data = case.scenario_data
    scen = data["scenario"]
    t0 = float(utc_to_tdb(str(scen["start"])))
    t1 = float(utc_to_tdb(str(scen["end"])))
    t = np.arange(t0, t1 + 0.5 * SAMPLE_S, SAMPLE_S)
    rot = rotation_model(scen.get("rotation_model", "iau2009"))
    to_body = rot.icrf_to_body(t)
    tracks = []
    for orb in data.get("orbiter", []):
        el = orb["elements"]
        epoch = float(utc_to_tdb(str(el["epoch"]))) if "epoch" in el else t0
        orbit = J2Orbit(MeanElements(epoch, el["a_km"], el.get("e", 0.0), el["i_deg"],
                                     el.get("raan_deg", 0.0), el.get("argp_deg", 0.0),
                                     el.get("mean_anomaly_deg", 0.0)), rot)
        pos, _ = orbit.state_km(t)
        tracks.append((np.einsum("nij,nj->ni", to_body, pos), orb.get("max_range_km", 5000.0)))
    sols = (t1 - t0) / SOL_S
    names, lats, lons, passes, minutes, gaps = [], [], [], [], [], []
    for la in data.get("lander", []):
        site = MarsSite(la["name"], la["lat_deg"], la["lon_east_deg"], la.get("height_km", 0.0),
                        la.get("elevation_mask_deg", 10.0))
        visible_any = np.zeros(t.size, dtype=bool)
        n_pass, contact_s = 0, 0.0
        for body_km, max_range_km in tracks:
            aer = site.azel_of_body_fixed(body_km)
            vis = (aer.elevation_deg >= site.elevation_mask_deg) & (aer.range_km <= max_range_km)
            a, b = _windows(vis, t)
            n_pass += a.size
            contact_s += float(np.sum(b - a))
            visible_any |= vis
        # longest run of samples with nothing visible, as a duration
        ga, gb = _windows(~visible_any, t)
        gap_s = float(np.max(gb - ga)) if ga.size else 0.0
        names.append(la["name"])
        lats.append(la["lat_deg"])
        lons.append(la["lon_east_deg"])
        passes.append(n_pass / sols)
        minutes.append(contact_s / 60.0 / sols)
        gaps.append(gap_s / 3600.0)
    return CaseResult(lander=tuple(names), lat_deg=tuple(lats), lon_east_deg=tuple(lons),
                      passes_per_sol=passes, contact_min_per_sol=minutes, max_gap_h=gaps)


def kill_worker_once(case: Case, marker: str, index: int) -> CaseResult:
    """Like :func:`prox_case`, but case ``index`` kills its process (``os._exit``) the first
    time it runs (the marker file records that it did)."""
    if case.index == index and not Path(marker).exists():
        Path(marker).write_text("killed\n")
        os._exit(17)
    return prox_case(case)


class DeliberateError(RuntimeError):
    """Raised by :func:`fail_one`."""


def fail_one(case: Case, index: int, attempts_dir: str) -> CaseResult:
    """Like :func:`prox_case`, but case ``index`` always raises (each attempt leaves a file in
    ``attempts_dir`` so the test can count retries)."""
    if case.index == index:
        folder = Path(attempts_dir)
        folder.mkdir(parents=True, exist_ok=True)
        n = len(list(folder.iterdir()))
        (folder / f"attempt-{n}-{os.getpid()}").write_text("")
        raise DeliberateError(f"case {case.case_id} fails on purpose")
    return prox_case(case)
