"""Benchmark of the contacts stage against NAIF SPICE's geometry finder (GF), like for like.

Prints one JSON line. Both tools search the same pairs over the same span, each in one process,
to the same tolerance, and must find the same windows:

- **marsrelay**: ``find_contacts`` on ``exomars-2030`` stretched to one year (2030-11-01 +
  365 d; 3 orbiters x 1 lander, 3 orbiters x 9 stations: 30 pairs), ``workers=1``, best of
  ``--repeat`` runs after a warm-up (``marsrelay_s``, ``marsrelay_cpu_s``); the same with the
  default worker processes is reported apart (``marsrelay_parallel_s``, ``parallel_workers``).
- **SPICE GF** (CSPICE through SpiceyPy), every pair over the whole span (nothing scaled), on
  kernels written here from the same geometry (not timed): DE421 planets, orbiters as type 13
  SPKs of their J2 states, the lander and stations as fixed points with topocentric TK
  frames, Earth orientation from ERFA (see ``tests/helpers/gfkit.py``). Tolerance ``gfstol`` 1e-5 s,
  marsrelay's ``tol_s``. The searches, confined as a SPICE user would confine them:

  - proximity (lander, orbiter): ``gfposc`` elevation (LATITUDE in the lander's topocentric
    frame, no aberration) ``> mask`` over the span, then ``gfdist`` ``< max_range_km`` only
    inside those elevation windows;
  - orbiter -> station: ``gfposc`` station elevation ('CN') ``> mask`` over the receive-time
    span whose send times are the scenario's span, then ``gfoclt`` (ANY, Mars ellipsoid in
    front of the orbiter point, 'CN') only inside those elevation windows; visible =
    elevation windows minus occultations, mapped to send times with ``spkezr`` light times
    (timed: a user needs them too).

  GF's steps follow its documented rules (NAIF ``gfposc_c``/``gfdist_c``: the step must be
  shorter than the intervals on which the quantity is monotone; ``gfoclt_c``: shorter than any
  occultation and any interval between occultations inside the confinement window; see
  ``_gf_steps``). Each step is printed with the shortest event it must catch (``gf_steps``),
  measured on this run's own geometry.
- **agreement**: per pair, the windows of both tools are matched one to one; ``identical`` is
  true when every window has a partner, ``max_edge_diff_ms`` is the largest edge difference.
  Windows under a second are outside both tools' promises (marsrelay's ``min_duration_s`` is
  1 s, GF's steps are longer) and are counted apart (``sub_second``). (Solar conjunction and
  blackouts, when a scenario has them, clip both sides alike.)
- **times**: wall seconds (``*_s``) and the process's CPU seconds (``*_cpu_s``, immune to
  other jobs on a shared machine); speedups for both. The parallel figure is wall time only.

Run ``python benchmarks/contacts.py`` (GF takes 10 to 20 CPU minutes) or
``python benchmarks/contacts.py --quick`` (2 days, 2 orbiters x (1 lander + 2 stations):
a smoke run of a few seconds; ``tests/test_contacts_benchmark.py`` runs it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spiceypy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import gfkit as gk
from helpers import spicekit as sk
from marsrelay.contacts import ContactTable, find_contacts, scenario_trajectories
from marsrelay.contacts.api import default_workers
from marsrelay.contacts.earth import OrbiterEarthCriterion, conjunction_free
from marsrelay.contacts.earth_tables import EarthMarsTables
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.proximity import ProximityCriterion
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.scenario import Scenario, load_scenario

LANDER_ID = -1000
TOL_S = 1e-5  # marsrelay's default tol_s; GF gets the same through gfstol
QUICK = {"days": 2.0, "orbiters": ("TGO", "MAVEN"), "stations": ("DSA-1", "DSS-43")}


@dataclass(frozen=True)
class Pair:
    kind: str  # "proximity" or "orbiter_earth"
    source: str
    target: str


@dataclass(frozen=True)
class Step:
    """A GF step and the shortest event it has to catch (s)."""

    step_s: float
    shortest_event_s: float
    rule: str


def _scenario(days: float, quick: bool) -> Scenario:
    sc = load_scenario("exomars-2030")
    sc = sc.with_overrides(end_tdb_s=sc.start_tdb_s + days * 86400.0)
    if quick:
        sc = sc.with_overrides(
            orbiters=tuple(o for o in sc.orbiters if o.name in QUICK["orbiters"]),
            stations=tuple(s for s in sc.stations if s.name in QUICK["stations"]))
    if any(o.blackouts for o in sc.orbiters) or any(la.blackouts for la in sc.landers) or any(
            sc.station_blackouts.values()):
        raise SystemExit("this benchmark does not map blackouts to GF confinement windows")
    if len(sc.landers) != 1 or any(la.direct_to_earth for la in sc.landers):
        raise SystemExit("this benchmark expects one lander without a direct-to-Earth link")
    return sc


def _pairs(sc: Scenario) -> list[Pair]:
    lander = sc.landers[0].name
    return ([Pair("proximity", lander, o.name) for o in sc.orbiters]
            + [Pair("orbiter_earth", o.name, s.name) for o in sc.orbiters for s in sc.stations])


def _time_marsrelay(sc: Scenario, repeat: int,
                    workers: int) -> tuple[list[float], list[float], ContactTable]:
    """Wall and CPU seconds of ``repeat`` runs (after a warm-up), and the last table."""
    find_contacts(sc.with_overrides(end_tdb_s=sc.start_tdb_s + 86400.0), workers=1)  # warm-up
    wall, cpu, table = [], [], None
    for _ in range(repeat):
        tic, cpu0 = time.perf_counter(), time.process_time()
        table = find_contacts(sc, workers=workers, tol_s=TOL_S)
        wall.append(time.perf_counter() - tic)
        cpu.append(time.process_time() - cpu0)
    assert table is not None
    return wall, cpu, table


def _runs_between_extrema(t: np.ndarray, x: np.ndarray, crossing: float | None) -> np.ndarray:
    """Lengths (s) of the monotone runs of samples ``x(t)`` that lie between two interior
    extrema; with ``crossing``, only runs along which ``x`` crosses that value."""
    d = np.sign(np.diff(x))
    turn = np.flatnonzero(d[1:] * d[:-1] < 0) + 1  # sample index of each extremum
    if turn.size < 2:
        return np.empty(0)
    a, b = turn[:-1], turn[1:]
    keep = np.ones(a.size, bool)
    if crossing is not None:
        keep = (x[a] - crossing) * (x[b] - crossing) < 0
    return (t[b] - t[a])[keep]


def _observe(crit, t: np.ndarray, k: int, rows: tuple[int, ...]) -> list[np.ndarray]:
    """``crit.observe`` rows at many times, a day's worth at a time (bounded memory)."""
    out = [np.empty(t.size) for _ in rows]
    for i in range(0, t.size, 20000):
        obs = crit.observe(t[i:i + 20000], np.full(t[i:i + 20000].size, k))
        for o, r in zip(out, rows, strict=True):
            o[i:i + 20000] = obs[r]
    return out


def _gf_steps(sc: Scenario, table: ContactTable, pairs: list[Pair]) -> dict[str, Step]:
    """GF steps by its documented rules, from this scenario's own geometry (not timed).

    - ``gfposc`` / ``gfdist`` (NAIF, https://naif.jpl.nasa.gov/pub/naif/toolkit_docs/C/
      cspice/gfposc_c.html and gfdist_c.html, "step"; GF required reading, .../C/req/gf.html,
      "Step Size"): the search brackets the extrema of the quantity, then its roots on each
      monotone interval, so the step must be shorter than the monotone intervals. A run that
      stays on one side of the reference value cannot hide a window, so the runs that count
      are those crossing it; inside a confinement interval with at most one extremum any step
      finds it (the interval's ends are always sampled).
    - ``gfoclt`` (NAIF, .../C/cspice/gfoclt_c.html, "step"; gfsstp_c: a step "definitely
      [does] not bracket more than one state transition"): a binary-state search; the step
      must be shorter than every occultation and every interval between two occultations
      inside the confinement window.

    Each step is 0.8 times the shortest such event, rounded down to 10 s (1 s below 50 s),
    the events measured here by sampling marsrelay's geometry (proximity elevation every
    5 s, station elevation every 300 s) and from the windows both tools must find.
    """
    t0, t1 = sc.start_tdb_s, sc.end_tdb_s
    trajectories, motion = scenario_trajectories(sc)
    lander = sc.landers[0]
    names = [o.name for o in sc.orbiters]

    def step_for(shortest: float) -> float:
        s = 0.8 * shortest
        return math.floor(s / 10.0) * 10.0 if s >= 50.0 else max(1.0, math.floor(s))

    prox = ProximityCriterion([lander.site], trajectories, motion, [0] * len(names),
                              list(range(len(names))), [o.max_range_km for o in sc.orbiters],
                              sc.rotation)
    el_runs, rng_runs = [], []
    t = np.arange(t0, t1, 5.0)
    for k in range(len(names)):
        el, rho = _observe(prox, t, k, (0, 1))
        el_runs.append(_runs_between_extrema(t, el, lander.site.elevation_mask_deg))
        rows = table.select(source=lander.name, target=names[k], kind="proximity")
        for a, b in zip(rows.start_tdb_s, rows.end_tdb_s, strict=True):
            i, j = np.searchsorted(t, [a, b])
            rng_runs.append(_runs_between_extrema(t[i:j], rho[i:j], None))
    el_short = float(np.concatenate(el_runs).min())
    rng_all = np.concatenate(rng_runs) if rng_runs else np.empty(0)
    rng_short = float(rng_all.min()) if rng_all.size else math.inf

    tables = EarthMarsTables(t0, t1, sc.rotation, sc.ephemeris)
    oi = np.repeat(np.arange(len(names)), len(sc.stations))
    si = np.tile(np.arange(len(sc.stations)), len(names))
    earth = OrbiterEarthCriterion(tables, trajectories, motion, sc.stations, oi, si,
                                  sc.grazing_height_km)
    t = np.arange(t0, t1, 300.0)
    sta_runs = []
    for k in range(oi.size):
        (el,) = _observe(earth, t, k, (0,))
        sta_runs.append(_runs_between_extrema(t, el, sc.stations[si[k]].elevation_mask_deg))
    sta_short = float(np.concatenate(sta_runs).min())

    # Occultations: gaps between a pair's windows across which the station keeps the orbiter
    # above its mask; intervals between occultations: windows with an occultation each side.
    occ, between = [math.inf], [math.inf]
    for k in range(oi.size):
        rows = table.select(source=names[oi[k]], target=sc.stations[si[k]].name,
                            kind="orbiter_earth")
        a, b = rows.start_tdb_s, rows.end_tdb_s
        if a.size < 2:
            continue
        g0, g1 = b[:-1], a[1:]
        probe = np.concatenate([g0, 0.5 * (g0 + g1), g1])
        el = earth.observe(probe, np.full(probe.size, k))[0].reshape(3, -1)
        is_occ = (el > sc.stations[si[k]].elevation_mask_deg + 1e-6).all(axis=0)
        occ.extend((g1 - g0)[is_occ])
        both = is_occ[:-1] & is_occ[1:]  # window k + 1 lies between occultations k and k + 1
        between.extend((b[1:-1] - a[1:-1])[both])
    occ_short = min(min(occ), min(between))

    return {
        "proximity_elevation": Step(step_for(el_short), el_short,
                                    "gfposc: shorter than every monotone run crossing the mask"),
        "proximity_range": Step(step_for(min(rng_short, el_short)), rng_short,
                                "gfdist inside the elevation windows: shorter than every "
                                "monotone run between two extrema there (none: the "
                                "elevation step)"),
        "station_elevation": Step(step_for(sta_short), sta_short,
                                  "gfposc: shorter than every monotone run crossing the mask"),
        "occultation": Step(step_for(occ_short), occ_short,
                            "gfoclt inside the elevation windows: shorter than every "
                            "occultation and every interval between two"),
    }


def _kernels(sc: Scenario, workdir: Path) -> tuple[list[Path], dict[str, int], dict[str, int]]:
    """Write every kernel GF needs for the span; returns (files, orbiter ids, station ids)."""
    t0, t1 = sc.start_tdb_s, sc.end_tdb_s
    trajectories, _ = scenario_trajectories(sc)
    lander = sc.landers[0].site
    files = [sk.write_lsk(workdir), sk.write_pck(workdir, sc.rotation_model),
             sk.write_planetary_spk(workdir / "planets.bsp", Ephemeris.de421(), t0 - 86400.0,
                                    t1 + 2 * 86400.0)]
    orbiter_ids = {}
    for k, (orb, traj) in enumerate(zip(sc.orbiters, trajectories, strict=True)):
        nid = -100 - k
        orbiter_ids[orb.name] = nid
        ts = np.arange(t0 - 3600.0, t1 + 3600.0, 60.0)
        p, v = traj.state_km(ts)
        files.append(sk.write_orbiter_spk(workdir / f"o{k}.bsp", nid, ts, p, v, degree=15))
    files.append(gk.write_fixed_point_spk(workdir / "lander.bsp", LANDER_ID, 499, "IAU_MARS",
                                          lander.position_body_km, t0 - 86400.0, t1 + 86400.0))
    pck, fk = gk.write_earth_pck(workdir / "earth.bpc", t0 - 86400.0, t1 + 86400.0)
    files += [pck, fk]
    topo = [("LANDER_TOPO", 1400001, LANDER_ID, "IAU_MARS", lander.topocentric)]
    station_ids = {}
    for k, st in enumerate(sc.stations):
        sid = 399100 + k
        station_ids[st.name] = sid
        files.append(gk.write_fixed_point_spk(workdir / f"s{sid}.bsp", sid, 399, gk.EARTH_FRAME,
                                              st.position_itrs_km, t0 - 86400.0, t1 + 86400.0,
                                              frame_kernels=(fk,)))
        topo.append((f"TOPO_{sid}", 1400000 + sid - 399000, sid, gk.EARTH_FRAME,
                     st.topocentric_itrs))
    files.append(gk.write_topo_fk(workdir / "topo.tf", topo))
    return files, orbiter_ids, station_ids


def _gf(sc: Scenario, pairs: list[Pair], steps: dict[str, Step], orbiter_ids: dict[str, int],
        station_ids: dict[str, int]) -> tuple[float, float, dict[Pair, np.ndarray]]:
    """GF on every pair over the whole span (kernels loaded); (wall s, CPU s, send-time
    windows)."""
    t0, t1 = sc.start_tdb_s, sc.end_tdb_s
    lander = sc.landers[0].site
    orbiters = {o.name: o for o in sc.orbiters}
    stations = {s.name: s for s in sc.stations}
    n_max = 400000
    out: dict[Pair, np.ndarray] = {}
    tic, cpu0 = time.perf_counter(), time.process_time()
    for pair in pairs:
        if pair.kind == "proximity":
            oid = str(orbiter_ids[pair.target])
            span = gk.window_cell([(t0, t1)])
            up = sp.cell_double(2 * n_max)
            sp.gfposc(oid, "LANDER_TOPO", "NONE", str(LANDER_ID), "LATITUDINAL", "LATITUDE",
                      ">", math.radians(lander.elevation_mask_deg), 0.0,
                      steps["proximity_elevation"].step_s, n_max, span, up)
            near = sp.cell_double(2 * n_max)
            sp.gfdist(oid, "NONE", str(LANDER_ID), "<", orbiters[pair.target].max_range_km, 0.0,
                      steps["proximity_range"].step_s, n_max, up, near)
            out[pair] = gk.windows_of(near)
        else:
            oid, sid = str(orbiter_ids[pair.source]), str(station_ids[pair.target])
            # receive times of the signals sent at t0 and t1 (transmission light time)
            r0 = t0 + sp.spkezr(sid, t0, "J2000", "XCN", oid)[1]
            r1 = t1 + sp.spkezr(sid, t1, "J2000", "XCN", oid)[1]
            up = sp.cell_double(2 * n_max)
            sp.gfposc(oid, f"TOPO_{sid}", "CN", sid, "LATITUDINAL", "LATITUDE", ">",
                      math.radians(stations[pair.target].elevation_mask_deg), 0.0,
                      steps["station_elevation"].step_s, n_max, gk.window_cell([(r0, r1)]), up)
            occulted = sp.cell_double(2 * n_max)
            sp.gfoclt("ANY", "MARS", "ELLIPSOID", "IAU_MARS", oid, "POINT", " ", "CN", sid,
                      steps["occultation"].step_s, up, occulted)
            visible = gk.windows_of(sp.wndifd(up, occulted))
            out[pair] = gk.send_time_windows(visible, oid, sid)
    return time.perf_counter() - tic, time.process_time() - cpu0, out


def _compare(sc: Scenario, table: ContactTable, gf: dict[Pair, np.ndarray]) -> dict:
    """Match each pair's windows one to one; count and largest edge difference.

    Windows shorter than a second are outside both tools' promises (marsrelay's
    ``min_duration_s`` of 1 s; GF's steps are longer still) and are counted apart
    (``sub_second``)."""
    t0, t1 = sc.start_tdb_s, sc.end_tdb_s
    free = conjunction_free(EarthMarsTables(t0, t1, sc.rotation, sc.ephemeris), t0, t1,
                            sc.conjunction_sep_deg)
    n_ours = n_gf = matched = 0
    short = {"marsrelay": 0, "gf": 0}
    diffs: list[np.ndarray] = []
    unmatched: list[dict] = []
    for pair, spice in gf.items():
        if pair.kind == "orbiter_earth":  # conjunction clips both sides alike
            w = Intervals(np.zeros(len(spice), np.int64), spice[:, 0], spice[:, 1])
            w = w.intersect(free)
            spice = np.stack([w.start, w.end], 1)
        rows = table.select(source=pair.source, target=pair.target, kind=pair.kind)
        ours = np.stack([rows.start_tdb_s, rows.end_tdb_s], 1)
        for name, arr in (("marsrelay", ours), ("gf", spice)):
            short[name] += int((arr[:, 1] - arr[:, 0] < 1.0).sum())
        ours = ours[ours[:, 1] - ours[:, 0] >= 1.0]
        spice = spice[spice[:, 1] - spice[:, 0] >= 1.0]
        n_ours += len(ours)
        n_gf += len(spice)
        # one to one: each window's partner is the other tool's window holding its midpoint
        ok = np.zeros(len(ours), bool)
        j = np.zeros(len(ours), np.int64)
        if len(spice) and len(ours):
            mid = ours.mean(axis=1)
            j = np.clip(np.searchsorted(spice[:, 0], mid, side="right") - 1, 0, len(spice) - 1)
            ok = (spice[j, 0] <= mid) & (mid <= spice[j, 1])
            ok[1:] &= j[1:] != j[:-1]
        matched += int(ok.sum())
        if ok.any():
            diffs.append(np.abs(ours[ok] - spice[j[ok]]).ravel())
        taken = np.zeros(len(spice), bool)
        taken[j[ok]] = True
        for w in ours[~ok][:3]:
            unmatched.append({"pair": [pair.source, pair.target], "only": "marsrelay",
                              "start_tdb_s": w[0], "duration_s": w[1] - w[0]})
        for w in spice[~taken][:3]:
            unmatched.append({"pair": [pair.source, pair.target], "only": "gf",
                              "start_tdb_s": w[0], "duration_s": w[1] - w[0]})
    d = np.concatenate(diffs) if diffs else np.zeros(1)
    return {"windows": n_ours, "gf_windows": n_gf, "matched": matched,
            "identical": n_ours == n_gf == matched,
            "max_edge_diff_ms": round(float(d.max()) * 1e3, 4),
            "median_edge_diff_ms": round(float(np.median(d)) * 1e3, 5),
            "sub_second": short, "unmatched": unmatched[:10]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK['days']:g} days, orbiters {', '.join(QUICK['orbiters'])} and "
                         f"stations {', '.join(QUICK['stations'])}: a smoke run")
    args = ap.parse_args()
    days = QUICK["days"] if args.quick else args.days
    sc = _scenario(days, args.quick)
    pairs = _pairs(sc)

    runs, cpu_runs, table = _time_marsrelay(sc, args.repeat, workers=1)
    par_workers = default_workers(sc.duration_s)
    par_runs, _, par_table = _time_marsrelay(sc, args.repeat, workers=par_workers)
    if len(par_table) != len(table) or not np.array_equal(par_table.start_tdb_s,
                                                          table.start_tdb_s):
        raise SystemExit("parallel search differs from the one-process search")

    steps = _gf_steps(sc, table, pairs)
    with tempfile.TemporaryDirectory() as tmp:
        files, orbiter_ids, station_ids = _kernels(sc, Path(tmp))
        with sk.LoadedKernels(files):
            sp.gfstol(TOL_S)
            try:
                gf_s, gf_cpu_s, gf = _gf(sc, pairs, steps, orbiter_ids, station_ids)
            finally:
                sp.gfstol(1e-6)
    agreement = _compare(sc, table, gf)
    marsrelay_s, marsrelay_cpu_s = min(runs), min(cpu_runs)
    print(json.dumps({
        "scenario": f"exomars-2030 over {days:g} days" + (" (quick subset)" if args.quick else ""),
        "pairs": len(pairs),
        **{k: agreement[k] for k in ("windows", "gf_windows", "matched", "identical",
                                     "max_edge_diff_ms", "median_edge_diff_ms",
                                     "sub_second")},
        "marsrelay_s": round(marsrelay_s, 3),
        "marsrelay_cpu_s": round(marsrelay_cpu_s, 3),
        "marsrelay_runs_s": [round(t, 3) for t in runs],
        "marsrelay_parallel_s": round(min(par_runs), 3),
        "parallel_workers": par_workers,
        "spice_gf_s": round(gf_s, 1),
        "spice_gf_cpu_s": round(gf_cpu_s, 1),
        "speedup_vs_spice": round(gf_s / marsrelay_s, 1),
        "speedup_vs_spice_cpu": round(gf_cpu_s / marsrelay_cpu_s, 1),
        "speedup_parallel_vs_spice": round(gf_s / min(par_runs), 1),
        "tol_s": TOL_S,
        "gf_steps": {k: {"step_s": v.step_s,
                         "shortest_event_s": (round(v.shortest_event_s, 1)
                                              if math.isfinite(v.shortest_event_s) else None),
                         "rule": v.rule} for k, v in steps.items()},
        "unmatched": agreement["unmatched"],
    }))


if __name__ == "__main__":
    main()
