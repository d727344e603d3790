"""Benchmark of the contacts stage: one JSON line of metrics.

- ``marsrelay_s``: wall time of ``find_contacts`` on ``exomars-2030`` stretched to one year
  (2030-11-01 + 365 d; every pair: 3 orbiters x 1 lander, 3 orbiters x 9 stations), best of
  ``--repeat`` runs after a warm-up, with the default worker processes (2 on 2 cores).
- ``spice_gf_s``: NAIF SPICE's geometry finder doing the same searches (proximity: ``gfposc``
  elevation and ``gfdist`` range; orbiter -> station: ``gfoclt`` Mars occultation and ``gfposc``
  station elevation in receive time, mapped to send time with ``spkezr``; GF's default
  tolerance 1e-6 s, marsrelay's 1e-5 s: GF's time hardly depends on it), measured on a subset
  (every proximity pair and three orbiter -> station pairs, ``--spice-days`` days) and scaled
  per pair-day to the full run (``spice_gf_measured_s``, ``spice_subset``). Kernel writing is
  not timed.
- ``naive_s``: a 1 s sampler over the same constraints (marsrelay's own vectorised
  geometry) on ``--naive-days`` days of every pair, scaled to the year; ``missed_windows``:
  windows that sampler saw (>= 1 s) which marsrelay did not report, over those days;
  ``naive_missed_windows``: the reverse (windows marsrelay found between two samples).
- ``max_edge_diff_ms``: largest edge difference between marsrelay and SPICE on the subset.

Run: ``python benchmarks/contacts.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import spiceypy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import gfkit as gk
from helpers import spicekit as sk
from marsrelay.contacts import find_contacts
from marsrelay.contacts.api import _build_kinds, scenario_trajectories
from marsrelay.contacts.intervals import Intervals
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.scenario import load_scenario

LANDER_ID = -1000
GF_TOL_S = 1e-6


def _naive(kinds, t0: float, t1: float, table) -> tuple[float, int, int, int]:
    """1 s sampler over every pair of every kind; (seconds, windows, missed, naive-missed)."""
    t = np.arange(t0, t1, 1.0)
    n_win = missed = naive_missed = 0
    elapsed = 0.0
    for kind in kinds:
        for k in range(len(kind.sources)):
            dom = kind.domains.of_series(k)
            tic = time.perf_counter()
            g, _ = kind.criterion.evaluate(t, np.full(t.size, k, np.int64))
            inside = np.zeros(t.size, bool)
            for a, b in zip(dom.start, dom.end, strict=True):
                inside |= (t >= a) & (t <= b)
            is_open = (g.min(axis=0) > 0) & inside
            d = np.diff(np.r_[0, is_open.astype(np.int8), 0])
            first, last = t[np.flatnonzero(d == 1)], t[np.flatnonzero(d == -1) - 1]
            elapsed += time.perf_counter() - tic
            rows = table.select(source=kind.sources[k], target=kind.targets[k], kind=kind.name)
            a, b = rows.start_tdb_s, rows.end_tdb_s
            sel = (b > t0) & (a < t1 - 1.0)
            a, b = a[sel], b[sel]
            n_win += len(first)
            for f, la in zip(first, last, strict=True):
                missed += not np.any((a <= la) & (b >= f))
            for aa, bb in zip(a, b, strict=True):
                naive_missed += not np.any((first <= bb) & (last >= aa))
    return elapsed, n_win, missed, naive_missed


def _spice(sc, kinds, days: float, workdir: Path) -> tuple[float, float, int, float]:
    """GF on every proximity pair and 3 orbiter -> station pairs; (seconds, pair-days,
    windows, max edge difference in ms)."""
    t0 = sc.start_tdb_s
    t1 = t0 + days * 86400.0
    trajectories, _ = scenario_trajectories(sc)
    lander = sc.landers[0].site
    files = [sk.write_lsk(workdir), sk.write_pck(workdir, sc.rotation_model),
             sk.write_planetary_spk(workdir / "planets.bsp", Ephemeris.de421(), t0 - 86400.0,
                                    t1 + 2 * 86400.0)]
    ids = {}
    for k, (orb, traj) in enumerate(zip(sc.orbiters, trajectories, strict=True)):
        nid = -100 - k
        ids[orb.name] = nid
        ts = np.arange(t0 - 3600.0, t1 + 3600.0, 60.0)
        p, v = traj.state_km(ts)
        files.append(sk.write_orbiter_spk(workdir / f"o{k}.bsp", nid, ts, p, v, degree=15))
    files.append(gk.write_fixed_point_spk(workdir / "lander.bsp", LANDER_ID, 499, "IAU_MARS",
                                          lander.position_body_km, t0 - 86400.0, t1 + 86400.0))
    pck, fk = gk.write_earth_pck(workdir / "earth.bpc", t0 - 86400.0, t1 + 86400.0)
    files += [pck, fk]
    topo = [("LANDER_TOPO", 1400001, LANDER_ID, "IAU_MARS", lander.topocentric)]
    stations = {st.name: (399100 + k, st) for k, st in enumerate(sc.stations)}
    for sid, st in stations.values():
        files.append(gk.write_fixed_point_spk(workdir / f"s{sid}.bsp", sid, 399, gk.EARTH_FRAME,
                                              st.position_itrs_km, t0 - 86400.0, t1 + 86400.0,
                                              frame_kernels=(fk,)))
        topo.append((f"TOPO_{sid}", 1400000 + sid - 399000, sid, gk.EARTH_FRAME,
                     st.topocentric_itrs))
    files.append(gk.write_topo_fk(workdir / "topo.tf", topo))
    # marsrelay on the same subset, same span
    prox = next(k for k in kinds if k.name == "proximity")
    earth = next(k for k in kinds if k.name == "orbiter_earth")
    from marsrelay.contacts.finder import find_windows

    ours_prox = find_windows(prox.criterion, Intervals.span(range(len(prox.sources)), t0, t1),
                             tol_s=1e-5).windows
    pairs = [(o, s) for o, s in (("TGO", "DSA-1"), ("MRO", "DSS-14"), ("MAVEN", "DSS-43"))]
    series = [next(i for i in range(len(earth.sources))
                   if earth.sources[i] == o and earth.targets[i] == s) for o, s in pairs]
    ours_earth = find_windows(earth.criterion, Intervals.span(series, t0, t1), tol_s=1e-5).windows
    max_diff = 0.0
    n_windows = 0
    elapsed = 0.0
    with sk.LoadedKernels(files):
        sp.gfstol(GF_TOL_S)
        try:
            for k, name in enumerate(prox.targets):
                tic = time.perf_counter()
                cn = gk.window_cell([(t0, t1)])
                up = sp.cell_double(200000)
                sp.gfposc(str(ids[name]), "LANDER_TOPO", "NONE", str(LANDER_ID), "LATITUDINAL",
                          "LATITUDE", ">", math.radians(lander.elevation_mask_deg), 0.0, 10.0,
                          100000, cn, up)
                near = sp.cell_double(200000)
                sp.gfdist(str(ids[name]), "NONE", str(LANDER_ID), "<",
                          sc.orbiters[k].max_range_km, 0.0, 300.0, 100000, cn, near)
                spice = gk.windows_of(sp.wnintd(up, near))
                elapsed += time.perf_counter() - tic
                mine = ours_prox.of_series(k)
                keep = mine.duration >= 10.0
                if len(spice) == keep.sum():
                    diff = np.abs(spice - np.stack([mine.start, mine.end], 1)[keep]).max()
                    max_diff = max(max_diff, diff)
                else:
                    max_diff = math.inf
                n_windows += len(spice)
            for (o, s), k in zip(pairs, series, strict=True):
                sid, st = stations[s]
                tic = time.perf_counter()
                rec = gk.window_cell([(t0 + 1400.0, t1)])
                occ = sp.cell_double(200000)
                sp.gfoclt("ANY", "MARS", "ELLIPSOID", "IAU_MARS", str(ids[o]), "POINT", " ", "CN",
                          str(sid), 60.0, rec, occ)
                vis = gk.send_time_windows(gk.windows_of(sp.wndifd(rec, occ)), str(ids[o]),
                                           str(sid))
                el = sp.cell_double(200000)
                sp.gfposc(str(ids[o]), f"TOPO_{sid}", "CN", str(sid), "LATITUDINAL", "LATITUDE",
                          ">", math.radians(st.elevation_mask_deg), 0.0, 300.0, 100000, rec, el)
                up = gk.send_time_windows(gk.windows_of(el), str(ids[o]), str(sid))
                spice = gk.windows_of(sp.wnintd(gk.window_cell(vis), gk.window_cell(up)))
                lo, hi = gk.send_time_windows(np.array([t0 + 1400.0, t1]), str(ids[o]), str(sid))
                elapsed += time.perf_counter() - tic
                mine = ours_earth.of_series(k)
                a, b = np.maximum(mine.start, lo), np.minimum(mine.end, hi)
                keep = b - a >= 60.0
                if len(spice) == keep.sum():
                    diff = np.abs(spice - np.stack([a, b], 1)[keep]).max()
                    max_diff = max(max_diff, diff)
                else:
                    max_diff = math.inf
                n_windows += len(spice)
        finally:
            sp.gfstol(1e-6)
    pair_days = (len(prox.sources) + len(pairs)) * days
    return elapsed, pair_days, n_windows, max_diff * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--spice-days", type=float, default=10.0)
    ap.add_argument("--naive-days", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()

    sc = load_scenario("exomars-2030")
    sc = sc.with_overrides(end_tdb_s=sc.start_tdb_s + args.days * 86400.0)
    find_contacts(sc.with_overrides(end_tdb_s=sc.start_tdb_s + 86400.0), workers=1)  # warm-up
    times = []
    for _ in range(args.repeat):
        tic = time.perf_counter()
        table = find_contacts(sc, workers=args.workers)
        times.append(time.perf_counter() - tic)
    marsrelay_s = min(times)

    trajectories, motion = scenario_trajectories(sc)
    kinds, _ = _build_kinds(sc, trajectories, motion)
    n_pairs = sum(len(k.sources) for k in kinds)
    total_pair_days = n_pairs * args.days

    t_naive0 = sc.start_tdb_s
    naive_measured, naive_windows, missed, naive_missed = _naive(
        kinds, t_naive0, t_naive0 + args.naive_days * 86400.0, table)
    naive_s = naive_measured * args.days / args.naive_days

    with tempfile.TemporaryDirectory() as tmp:
        spice_measured, spice_pair_days, spice_windows, max_diff_ms = _spice(
            sc, kinds, args.spice_days, Path(tmp))
    spice_s = spice_measured * total_pair_days / spice_pair_days

    print(json.dumps({
        "scenario": "exomars-2030 over one year" if args.days == 365.0 else
                    f"exomars-2030 over {args.days:g} days",
        "pairs": n_pairs,
        "windows": len(table),
        "marsrelay_s": round(marsrelay_s, 3),
        "marsrelay_runs_s": [round(t, 3) for t in times],
        "workers": args.workers or "default",
        "spice_gf_s": round(spice_s, 1),
        "spice_gf_measured_s": round(spice_measured, 2),
        "spice_subset": {"pairs": round(spice_pair_days / args.spice_days),
                         "days": args.spice_days, "windows": spice_windows,
                         "scaled_per_pair_day_to": total_pair_days},
        "naive_s": round(naive_s, 1),
        "naive_measured_s": round(naive_measured, 2),
        "naive_fraction": f"{args.naive_days:g} of {args.days:g} days, all pairs",
        "speedup_vs_spice": round(spice_s / marsrelay_s, 1),
        "speedup_vs_naive": round(naive_s / marsrelay_s, 1),
        "max_edge_diff_ms": round(max_diff_ms, 4),
        "missed_windows": missed,
        "naive_windows": naive_windows,
        "naive_missed_windows": naive_missed,
    }))


if __name__ == "__main__":
    main()
