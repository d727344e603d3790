"""All contact windows of a scenario: every pair of nodes that can talk, as a ContactTable.

Pairs (source first):

- ``proximity``: every lander with every orbiter (lander, orbiter);
- ``orbiter_earth``: every orbiter with every station (orbiter, station);
- ``direct_earth``: every lander with ``direct_to_earth`` with every station (lander, station).

Each kind's pairs are searched together by one vectorised criterion (see
:mod:`marsrelay.contacts.finder`), inside the scenario's span minus the blackouts of both
nodes and, for Earth links, minus solar conjunction. Station blackouts are given in the
station's own time (reception) and moved to each pair's sender time with that pair's own
one-way light time (``t + OWLT(t) = b``, to about 1e-8 s). ``max_elevation_deg`` is the far
end's elevation seen from the lander for proximity, and the sender's elevation seen from the
station for Earth links.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from marsrelay.constants import MARS_EQ_RADIUS_KM
from marsrelay.contacts.earth import DirectEarthCriterion, OrbiterEarthCriterion, conjunction_free
from marsrelay.contacts.earth_tables import MAX_LIGHT_TIME_S, EarthMarsTables
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.motion import MotionBounds, motion_bounds
from marsrelay.contacts.passes import PairCriterion, Passes, search_passes
from marsrelay.contacts.proximity import ProximityCriterion
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.geometry.orbits import Trajectory
from marsrelay.progress import ProgressCallback
from marsrelay.scenario import LanderSpec, OrbiterSpec, Scenario

__all__ = [
    "default_workers",
    "find_contacts",
    "scenario_trajectories",
    "search_contacts",
]



@dataclass(frozen=True)
class _Kind:
    name: str
    criterion: PairCriterion
    sources: list[str]
    targets: list[str]
    domains: Intervals


def scenario_trajectories(scenario: Scenario) -> tuple[list[Trajectory], list[MotionBounds]]:
    """Each orbiter's trajectory and motion bounds over the scenario's span.

    Raises :class:`~marsrelay.errors.InputError` if a trajectory does not cover the span or
    its orbit reaches below Mars' surface.
    """
    t0, t1 = scenario.start_tdb_s, scenario.end_tdb_s
    trajectories, motion = [], []
    for k, orb in enumerate(scenario.orbiters):
        traj = orb.trajectory(scenario.rotation)
        lo, hi = traj.coverage_tdb_s
        if t0 < lo or t1 > hi:
            raise InputError(
                f"orbiter {orb.name!r}: its trajectory covers TDB {lo:.0f}..{hi:.0f} s past "
                f"J2000, not the scenario's span {t0:.0f}..{t1:.0f}",
                field=f"orbiter[{k}]", allowed="a trajectory covering the whole span")
        mb = motion_bounds(traj, t0, t1)
        if mb.r_min_km <= MARS_EQ_RADIUS_KM:
            raise InputError(
                f"orbiter {orb.name!r} comes within {mb.r_min_km:.1f} km of Mars' centre, inside "
                "Mars", field=f"orbiter[{k}]",
                allowed=f"an orbit above Mars' surface (radius > {MARS_EQ_RADIUS_KM} km)")
        trajectories.append(traj)
        motion.append(mb)
    return trajectories, motion


def _blackouts(node: OrbiterSpec | LanderSpec) -> tuple[tuple[float, float], ...]:
    return tuple(node.blackouts)


def _windows(pairs: list[tuple[int, tuple[tuple[float, float], ...]]]) -> Intervals:
    return Intervals.from_pairs((s, a, b) for s, ws in pairs for a, b in ws)


def _station_blackouts_send(tables: EarthMarsTables, crit: PairCriterion, windows_of,
                            sta_idx: np.ndarray, t0: float, t1: float) -> list[tuple]:
    """Each pair's station blackouts (reception times ``b``) as its sender's times:
    ``t + OWLT(t) = b`` with the pair's own light time (``crit.observe``), by fixed-point
    steps from the Mars-centre light time (a pair's differs by up to ``(r + 6400 km) / c``,
    ``r`` the sender's distance from Mars' centre: a few hundredths of a second; each step
    shrinks the error by ``|dOWLT/dt| < 2e-4``, so two reach about 1e-8 s). Send times are
    kept inside the span ``[t0, t1]``, where the pair's geometry is defined (edges outside
    it change nothing)."""
    out: list[tuple] = []
    for k, s in enumerate(sta_idx):
        windows = windows_of[s]
        if not windows:
            out.append(())
            continue
        b = np.clip(np.asarray(windows, float), t0, t1 + 2.0 * MAX_LIGHT_TIME_S).ravel()
        t = np.clip(b - tables.light_time(b - tables.light_time(b)[0])[0], t0, t1)
        series = np.full(b.size, k, np.int64)
        for _ in range(2):
            t = np.clip(b - crit.observe(t, series)[2], t0, t1)
        out.append(tuple(map(tuple, t.reshape(-1, 2))))
    return out


def _build_kinds(scenario: Scenario, trajectories, motion) -> tuple[list[_Kind], Intervals | None]:
    """The searches of every kind of pair, and the span's conjunction-free intervals (None when
    no Earth link is searched)."""
    t0, t1 = float(scenario.start_tdb_s), float(scenario.end_tdb_s)
    rotation = scenario.rotation
    orbiters, landers, stations = scenario.orbiters, scenario.landers, scenario.stations
    kinds: list[_Kind] = []
    st_black = scenario.station_blackouts

    # Proximity: lander x orbiter.
    li, oi = np.meshgrid(np.arange(len(landers)), np.arange(len(orbiters)), indexing="ij")
    li, oi = li.ravel(), oi.ravel()
    if li.size:
        crit = ProximityCriterion(
            [la.site for la in landers], trajectories, motion, li, oi,
            [orbiters[o].max_range_km for o in oi], rotation)
        dom = Intervals.span(range(li.size), t0, t1).subtract(_windows(
            [(k, _blackouts(landers[li[k]])) for k in range(li.size)]
            + [(k, _blackouts(orbiters[oi[k]])) for k in range(li.size)]))
        kinds.append(_Kind("proximity", crit, [landers[i].name for i in li],
                           [orbiters[o].name for o in oi], dom))

    dte = [k for k, la in enumerate(landers) if la.direct_to_earth]
    if not stations or (not orbiters and not dte):
        return kinds, None
    tables = EarthMarsTables(t0, t1, rotation, scenario.ephemeris)
    allowed = conjunction_free(tables, t0, t1, scenario.conjunction_sep_deg)
    sta_black = [st_black.get(s.name, ()) for s in stations]

    def earth_domains(crit: PairCriterion, sender_black, sta_idx) -> Intervals:
        n = len(sta_idx)
        base = Intervals(np.repeat(np.arange(n), len(allowed)), np.tile(allowed.start, n),
                         np.tile(allowed.end, n))
        pair_black = _station_blackouts_send(tables, crit, sta_black, sta_idx, t0, t1)
        return base.subtract(_windows([(k, sender_black[k]) for k in range(n)]
                                      + [(k, pair_black[k]) for k in range(n)]))

    oi, si = np.meshgrid(np.arange(len(orbiters)), np.arange(len(stations)), indexing="ij")
    oi, si = oi.ravel(), si.ravel()
    if oi.size:
        crit = OrbiterEarthCriterion(tables, trajectories, motion, stations, oi, si,
                                     scenario.grazing_height_km)
        dom = earth_domains(crit, [_blackouts(orbiters[o]) for o in oi], si)
        kinds.append(_Kind("orbiter_earth", crit, [orbiters[o].name for o in oi],
                           [stations[s].name for s in si], dom))
    li, si = np.meshgrid(np.asarray(dte, np.int64), np.arange(len(stations)), indexing="ij")
    li, si = li.ravel(), si.ravel()
    if li.size:
        crit = DirectEarthCriterion(tables, [la.site for la in landers], stations, li, si,
                                    rotation)
        dom = earth_domains(crit, [_blackouts(landers[i]) for i in li], si)
        kinds.append(_Kind("direct_earth", crit, [landers[i].name for i in li],
                           [stations[s].name for s in si], dom))
    return kinds, allowed


def _table(kind: _Kind, passes: Passes) -> ContactTable:
    n = len(passes)
    src = np.asarray(kind.sources, dtype=object)[passes.series] if n else np.empty(0, object)
    tgt = np.asarray(kind.targets, dtype=object)[passes.series] if n else np.empty(0, object)
    return ContactTable(
        source=src, target=tgt, kind=np.full(n, kind.name, dtype=object),
        start_tdb_s=passes.start_tdb_s, end_tdb_s=passes.end_tdb_s,
        max_elevation_deg=passes.max_elevation_deg,
        max_elevation_tdb_s=passes.max_elevation_tdb_s,
        min_range_km=passes.min_range_km, max_range_km=passes.max_range_km,
        owlt_s=passes.owlt_s)


def _search(kind: _Kind, series: np.ndarray, min_duration_s: float, tol_s: float) -> Passes:
    domains = kind.domains.take(np.isin(kind.domains.series, series))
    return search_passes(kind.criterion, domains, min_duration_s=min_duration_s, tol_s=tol_s)


#: The kinds a forked worker searches (set in the parent just before the pool forks, so the
#: children inherit them instead of unpickling criteria and tables).
_FORKED_KINDS: list[_Kind] = []


def _forked_search(task: tuple[int, np.ndarray, float, float]) -> tuple[int, Passes]:
    k, series, min_duration_s, tol_s = task
    return k, _search(_FORKED_KINDS[k], series, min_duration_s, tol_s)


def default_workers(span_s: float) -> int:
    """Worker processes for a search over ``span_s``: up to 2, and only where a fork pays and
    is safe: a span over 5 days, called from the main thread of a process that is not itself
    a worker (not inside a Dask task thread or a multiprocessing pool). The forked workers
    only compute; they never touch consoles or files another thread may hold."""
    if (span_s < 5 * 86400.0 or not hasattr(os, "fork")
            or threading.current_thread() is not threading.main_thread()
            or multiprocessing.parent_process() is not None):
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, cpus or 1))


def find_contacts(
    scenario: Scenario,
    progress: ProgressCallback | None = None,
    *,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
    workers: int | None = None,
) -> ContactTable:
    """Every contact window of ``scenario``, sorted by start (see :func:`search_contacts`)."""
    return search_contacts(scenario, progress, min_duration_s=min_duration_s, tol_s=tol_s,
                           workers=workers)[0]


def search_contacts(
    scenario: Scenario,
    progress: ProgressCallback | None = None,
    *,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
    workers: int | None = None,
) -> tuple[ContactTable, Intervals | None]:
    """Every contact window of ``scenario``, sorted by start, and the conjunction-free
    intervals of the span (TDB s; None when the scenario has no Earth link to search).

    No window longer than ``min_duration_s`` (s) is missed; edges are located to ``tol_s`` (s).
    ``progress(description, completed, total)`` is called as groups of pairs finish.
    ``workers``: processes to share the pairs among (default: up to 2 for spans over 5 days,
    where a fork pays off, from a main thread; see :func:`default_workers`; 1 searches in this
    process). Results do not depend on it. Raises
    :class:`~marsrelay.errors.InputError` for an empty span, a span the ephemeris or a
    trajectory does not cover, or an orbit inside Mars.
    """
    t0, t1 = float(scenario.start_tdb_s), float(scenario.end_tdb_s)
    if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
        raise InputError("the time span is empty (end is not after start)",
                         field="scenario.end", allowed="an end after the start")
    trajectories, motion = scenario_trajectories(scenario)
    kinds, allowed = _build_kinds(scenario, trajectories, motion)
    n_workers = default_workers(t1 - t0) if workers is None else max(1, int(workers))
    # Tasks: each kind's pairs dealt round-robin into n_workers groups (balanced work).
    tasks = []
    for k, kind in enumerate(kinds):
        n_series = len(kind.sources)
        for w in range(min(n_workers, n_series)):
            tasks.append((k, np.arange(w, n_series, n_workers), min_duration_s, tol_s))
    total = len(tasks)
    if progress is not None:
        progress("contacts", 0, total)
    results: dict[int, list[Passes]] = {k: [] for k in range(len(kinds))}
    if n_workers > 1 and len(tasks) > 1:
        global _FORKED_KINDS
        _FORKED_KINDS = kinds
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
                for done, (k, passes) in enumerate(pool.map(_forked_search, tasks), 1):
                    results[k].append(passes)
                    if progress is not None:
                        progress(kinds[k].name, done, total)
        finally:
            _FORKED_KINDS = []
    else:
        for done, (k, series, mind, tol) in enumerate(tasks, 1):
            results[k].append(_search(kinds[k], series, mind, tol))
            if progress is not None:
                progress(kinds[k].name, done, total)
    tables = [_table(kinds[k], p) for k in results for p in results[k]]
    return ContactTable.concat(tables), allowed
