"""Build the Earth allocation problem from a scenario and its linked contacts.

:func:`earth_problem` reads as the definition in :mod:`marsrelay.schedule.earth.problem`:

1. antennas: each station's capacity (``[[station]]`` ``mspa``) and complex
   (:func:`station_complexes`);
2. each spacecraft's Earth windows per station (``orbiter_earth`` / ``direct_earth`` rows), cut
   by its own and the station's blackouts;
3. candidate passes: an orbiter's tracks of ``hours_per_day / passes_per_day`` slid every
   ``candidate_step_s`` across each view period (its windows at one station merged across
   occultations shorter than :data:`~.defaults.MERGE_GAP_S`), or its explicit tracks; a
   lander's sessions of ``session_minutes`` slid across each of its windows;
4. requests: per orbiter and UTC day, per lander and local sol, with their limits (pro-rated
   at the horizon's edges).

No candidate overlaps a blackout of its spacecraft or of its station (the antenna is
unavailable then); explicit tracks are taken as given.

A candidate's volume spreads each window's link volume evenly over the window (``volume_bits``
of the links stage), clipped to the pass; a lander's session is capped at its ``rate_bps``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.config.earth import EarthConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.geometry.sites import EarthStation
from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.scenario import Scenario
from marsrelay.schedule.earth.defaults import (
    COMPLEX_RADIUS_KM,
    DEFAULT_PASSES_PER_DAY,
    DEFAULT_SESSION_MINUTES,
    DEFAULT_SESSIONS_PER_SOL,
    DEFAULT_TRACK_HOURS,
    KNOWN_COMPLEXES,
    MERGE_GAP_S,
    MIN_TRACK_FRACTION,
)
from marsrelay.schedule.earth.problem import EarthProblem, Windows

__all__ = [
    "EarthCraft",
    "PairWindows",
    "craft_of_scenario",
    "earth_problem",
    "pair_windows",
    "station_complexes",
]


@dataclass(frozen=True)
class EarthCraft:
    """A spacecraft asking for Earth passes: name, kind of its Earth rows (``orbiter_earth``
    or ``direct_earth``), blackouts (TDB s), east longitude for a lander's sols (deg), and
    its request: passes per day (orbiter) or sessions per sol (lander), the pass length (s),
    explicit tracks ``(station, start, end)`` and a session rate cap (bps, NaN: none)."""

    name: str
    kind: str
    blackouts: Windows = ()
    lon_east_deg: float | None = None
    per_period: int = 0
    length_s: float = 0.0
    tracks: tuple[tuple[str, float, float], ...] = ()
    rate_cap_bps: float = float("nan")


@dataclass(frozen=True)
class PairWindows:
    """One spacecraft's Earth windows at one station after blackouts (sorted, disjoint):
    edges (TDB s), link volume (bits), light time (s) and contact-table row of each, with sums
    of volume and contact time over any window."""

    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    volume_bits: np.ndarray
    owlt_s: np.ndarray
    row: np.ndarray

    def _cumulative(self, per_s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Integral of a piecewise-constant rate (``per_s`` over each window) up to ``t``."""
        if len(self.start_tdb_s) == 0:
            return np.zeros(len(t))
        dur = np.maximum(self.end_tdb_s - self.start_tdb_s, 1e-9)
        inside = np.clip(t[:, None] - self.start_tdb_s[None, :], 0.0, dur[None, :])
        return inside @ per_s

    def volume_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Link volume inside each window ``[a, b]``, bits."""
        rate = self.volume_bits / np.maximum(self.end_tdb_s - self.start_tdb_s, 1e-9)
        return self._cumulative(rate, b) - self._cumulative(rate, a)

    def contact_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Time in view inside each window ``[a, b]``, s."""
        ones = np.ones(len(self.start_tdb_s))
        return self._cumulative(ones, b) - self._cumulative(ones, a)

    def owlt_at(self, t: np.ndarray) -> np.ndarray:
        """Light time of the window nearest each instant, s."""
        if len(self.start_tdb_s) == 0:
            return np.zeros(len(t))
        mid = 0.5 * (self.start_tdb_s + self.end_tdb_s)
        k = np.abs(np.asarray(t)[:, None] - mid[None, :]).argmin(axis=1)
        return self.owlt_s[k]


def _cut(start: np.ndarray, end: np.ndarray, vol: np.ndarray, owlt: np.ndarray,
         row: np.ndarray, dark: Windows) -> tuple[np.ndarray, ...]:
    """Windows with the ``dark`` spans removed (volume pro-rated to what is left)."""
    s, e, v, o, r = list(start), list(end), list(vol), list(owlt), list(row)
    for d0, d1 in dark:
        ns, ne, nv, no, nr = [], [], [], [], []
        for a, b, x, w, k in zip(s, e, v, o, r, strict=True):
            dur = max(b - a, 1e-9)
            for a2, b2 in ((a, min(b, d0)), (max(a, d1), b)):
                if b2 > a2:
                    ns.append(a2)
                    ne.append(b2)
                    nv.append(x * (b2 - a2) / dur)
                    no.append(w)
                    nr.append(k)
        s, e, v, o, r = ns, ne, nv, no, nr
    order = np.argsort(s, kind="stable")
    return (*(np.asarray(c, dtype=float)[order] for c in (s, e, v, o)),
            np.asarray(r, dtype=np.int64)[order])


def pair_windows(contacts: ContactTable, craft: str, station: str, kind: str,
                 dark: Windows = ()) -> PairWindows:
    """:class:`PairWindows` of ``craft`` at ``station`` from the ``kind`` rows of
    ``contacts`` (link volumes filled by the links stage; NaN counts as 0)."""
    m = (contacts.kind == kind) & (contacts.source == craft) & (contacts.target == station)
    s, e, v, o, r = _cut(contacts.start_tdb_s[m], contacts.end_tdb_s[m],
                         np.nan_to_num(contacts.volume_bits[m]),
                         np.nan_to_num(contacts.owlt_s[m]), np.flatnonzero(m), dark)
    return PairWindows(s, e, v, o, r)


def station_complexes(stations: Sequence[EarthStation], config: EarthConfig) -> list[str]:
    """Each station's complex: its ``[[station]]`` ``complex``, else the stations of its
    agency within :data:`~.defaults.COMPLEX_RADIUS_KM` together, named after a known complex
    that close or after their first station."""
    pos = np.array([st.position_itrs_km for st in stations]).reshape(-1, 3)
    out: list[str] = []
    for k, st in enumerate(stations):
        given = config.stations.get(st.name)
        if given is not None and given.complex:
            out.append(given.complex)
            continue
        name = None
        for j in range(k):
            if (stations[j].agency.casefold() == st.agency.casefold()
                    and np.linalg.norm(pos[j] - pos[k]) < COMPLEX_RADIUS_KM):
                name = out[j]
                break
        if name is None:
            near = [n for n, lat, lon, agency in KNOWN_COMPLEXES
                    if agency.casefold() == st.agency.casefold()
                    and np.linalg.norm(EarthStation(n, lat, lon).position_itrs_km - pos[k])
                    < COMPLEX_RADIUS_KM]
            name = near[0] if near else st.name
        out.append(name)
    return out


def _utc_days(t0: float, t1: float) -> tuple[np.ndarray, list[str]]:
    """TDB s of the UTC midnights from the day of ``t0`` to the one after ``t1``, and the day
    labels (``YYYY-MM-DD``) of the days between them."""
    day = _dt.date.fromisoformat(str(tdb_to_utc(t0))[:10])
    last = _dt.date.fromisoformat(str(tdb_to_utc(t1))[:10])
    labels = []
    while day <= last:
        labels.append(day.isoformat())
        day += _dt.timedelta(days=1)
    edges = utc_to_tdb(np.array([f"{d}T00:00:00Z" for d in [*labels, day.isoformat()]]))
    return np.atleast_1d(np.asarray(edges, dtype=float)), labels


def _slide(a: float, b: float, length: float, step: float) -> np.ndarray:
    """Start times of windows of ``length`` inside ``[a, b]`` every ``step`` (the last one
    flush with ``b``); one window ``[a, b]`` when it is shorter but long enough."""
    if b - a < length:
        return np.array([a]) if b - a >= MIN_TRACK_FRACTION * length else np.zeros(0)
    starts = np.arange(a, b - length, step)
    return np.append(starts, b - length)


def _view_periods(w: PairWindows, merge_gap_s: float) -> list[tuple[float, float]]:
    """The windows merged across gaps shorter than ``merge_gap_s``."""
    spans: list[tuple[float, float]] = []
    for a, b in zip(w.start_tdb_s.tolist(), w.end_tdb_s.tolist(), strict=True):
        if spans and a - spans[-1][1] <= merge_gap_s:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


def craft_of_scenario(scenario: Scenario, config: EarthConfig) -> list[EarthCraft]:
    """The spacecraft asking for Earth passes: every orbiter (its ``[orbiter.tracking]`` table
    or the default allocation) and every lander with ``direct_to_earth`` (its
    ``[lander.dte]`` table or the default sessions)."""
    out: list[EarthCraft] = []
    for o in scenario.orbiters:
        spec = config.orbiters.get(o.name)
        tracks: tuple[tuple[str, float, float], ...] = ()
        per, hours = DEFAULT_PASSES_PER_DAY, DEFAULT_TRACK_HOURS * DEFAULT_PASSES_PER_DAY
        if spec is not None:
            tracks = tuple((t.station, float(utc_to_tdb(t.start)), float(utc_to_tdb(t.end)))
                           for t in spec.tracks)
            if spec.passes_per_day is not None:
                per = spec.passes_per_day
                hours = (spec.hours_per_day if spec.hours_per_day is not None
                         else DEFAULT_TRACK_HOURS * per)
            elif spec.hours_per_day is not None:
                hours = spec.hours_per_day
                per = max(1, int(np.ceil(hours / DEFAULT_TRACK_HOURS - 1e-9)))
        length = hours / max(per, 1) * 3600.0
        out.append(EarthCraft(o.name, "orbiter_earth", tuple(o.blackouts), None,
                              0 if tracks else per, length, tracks))
    for la in scenario.landers:
        if not la.direct_to_earth:
            continue
        ses = config.landers.get(la.name)
        count = DEFAULT_SESSIONS_PER_SOL if ses is None else ses.sessions_per_sol
        minutes = DEFAULT_SESSION_MINUTES if ses is None else ses.session_minutes
        cap = float("nan") if ses is None or ses.rate_bps is None else ses.rate_bps
        out.append(EarthCraft(la.name, "direct_earth", tuple(la.blackouts),
                              float(la.site.lon_east_deg), count, minutes * 60.0, (), cap))
    return out


def earth_problem(
    crafts: Sequence[EarthCraft],
    stations: Sequence[EarthStation],
    contacts: ContactTable,
    config: EarthConfig,
    start_tdb_s: float,
    end_tdb_s: float,
    station_blackouts: Mapping[str, Windows] | None = None,
) -> EarthProblem:
    """Candidates and requests of ``crafts`` on ``stations`` over ``[start_tdb_s, end_tdb_s)``
    (see the module docstring). Raises :class:`~marsrelay.errors.InputError` for an explicit
    track on a station that does not serve its orbiter."""
    dark_station = [tuple((station_blackouts or {}).get(st.name, ())) for st in stations]
    names = [st.name for st in stations]
    complexes = station_complexes(stations, config)
    mspa = np.array([config.stations[n].mspa if n in config.stations else 1 for n in names],
                    dtype=np.int64)
    serves = {n: set(config.stations[n].serves) for n in names
              if n in config.stations and config.stations[n].serves is not None}
    day_edges, day_labels = _utc_days(start_tdb_s, end_tdb_s)
    cols: dict[str, list] = {k: [] for k in ("craft", "station", "start", "end", "contact",
                                             "volume", "owlt", "request", "fixed")}
    req: dict[str, list] = {k: [] for k in ("craft", "label", "start", "end", "limit")}
    step = config.candidate_step_s
    for i, craft in enumerate(crafts):
        windows = {s: pair_windows(contacts, craft.name, s, craft.kind,
                                   tuple(craft.blackouts) + dark_station[k])
                   for k, s in enumerate(names) if craft.name in serves.get(s, {craft.name})}
        if craft.tracks:
            for k, (st, a, b) in enumerate(craft.tracks):
                if st not in windows:
                    raise InputError(f"{st} does not serve {craft.name}",
                                     field=f"{craft.name}: orbiter.tracking.tracks[{k}].station",
                                     allowed=", ".join(windows) or "no station serves it")
                a, b = max(a, start_tdb_s), min(b, end_tdb_s)
                if b > a:
                    _add(cols, windows[st], i, names.index(st), np.array([a]), b - a, -1, True)
            continue
        if craft.per_period <= 0:
            continue
        # Requests: per UTC day (orbiter) or local sol (lander), pro-rated at the edges.
        if craft.lon_east_deg is None:
            edges, labels = day_edges, day_labels
        else:
            s0 = int(local_sol(start_tdb_s, craft.lon_east_deg))
            s1 = int(local_sol(np.nextafter(end_tdb_s, -np.inf), craft.lon_east_deg))
            edges = sol_start_tdb_s(np.arange(s0, s1 + 2), craft.lon_east_deg)
            labels = [f"sol {s}" for s in range(s0, s1 + 1)]
        first = len(req["craft"])
        for k, label in enumerate(labels):
            a, b = max(edges[k], start_tdb_s), min(edges[k + 1], end_tdb_s)
            frac = max(b - a, 0.0) / (edges[k + 1] - edges[k])
            req["craft"].append(i)
            req["label"].append(label)
            req["start"].append(a)
            req["end"].append(b)
            req["limit"].append(int(np.floor(craft.per_period * frac + 0.5)))
        for s, w in windows.items():
            periods = (_view_periods(w, MERGE_GAP_S) if craft.kind == "orbiter_earth"
                       else list(zip(w.start_tdb_s.tolist(), w.end_tdb_s.tolist(), strict=True)))
            for a, b in periods:
                a, b = max(a, start_tdb_s), min(b, end_tdb_s)
                starts = _slide(a, b, craft.length_s, step)
                if craft.kind == "direct_earth":
                    starts = starts[starts + craft.length_s <= b + 1e-6]
                length = min(craft.length_s, b - a)
                for d0, d1 in tuple(craft.blackouts) + dark_station[names.index(s)]:
                    starts = starts[(starts >= d1) | (starts + length <= d0)]  # unavailable
                if len(starts) == 0:
                    continue
                period = np.searchsorted(edges, starts, side="right") - 1
                request = first + np.clip(period, 0, len(labels) - 1)
                _add(cols, w, i, names.index(s), starts, length, request, False,
                     craft.rate_cap_bps)
    req_limit = np.asarray(req["limit"], dtype=np.int64)
    cand_request = np.asarray(cols["request"], dtype=np.int64)
    keep = np.asarray(cols["contact"], dtype=float) > 0.0
    keep |= np.asarray(cols["fixed"], dtype=bool)
    if len(req_limit):
        keep &= (cand_request < 0) | (req_limit[np.maximum(cand_request, 0)] > 0)
    arr = {k: np.asarray(v)[keep] if len(v) else np.asarray(v) for k, v in cols.items()}
    return EarthProblem(
        craft=tuple(c.name for c in crafts), craft_kind=tuple(c.kind for c in crafts),
        stations=tuple(names), station_complex=tuple(complexes), station_mspa=mspa,
        horizon_start_tdb_s=float(start_tdb_s), horizon_end_tdb_s=float(end_tdb_s),
        cand_craft=arr["craft"].astype(np.int64), cand_station=arr["station"].astype(np.int64),
        start_tdb_s=arr["start"].astype(float), end_tdb_s=arr["end"].astype(float),
        contact_s=arr["contact"].astype(float), volume_bits=arr["volume"].astype(float),
        owlt_s=arr["owlt"].astype(float), request=arr["request"].astype(np.int64),
        fixed=arr["fixed"].astype(bool),
        req_craft=np.asarray(req["craft"], dtype=np.int64),
        req_label=np.asarray(req["label"], dtype=object),
        req_start_tdb_s=np.asarray(req["start"], dtype=float),
        req_end_tdb_s=np.asarray(req["end"], dtype=float), req_limit=req_limit,
        rate_cap_bps=np.array([c.rate_cap_bps for c in crafts], dtype=float),
        craft_blackouts=tuple(tuple(c.blackouts) for c in crafts),
        station_blackouts=tuple(dark_station),
    )


def _add(cols: dict[str, list], w: PairWindows, craft: int, station: int, starts: np.ndarray,
         length: float, request: np.ndarray | int, fixed: bool,
         rate_cap_bps: float = float("nan")) -> None:
    """Append candidates ``[start, start + length]`` of ``craft`` at ``station``."""
    ends = starts + length
    contact = w.contact_between(starts, ends)
    volume = w.volume_between(starts, ends)
    if np.isfinite(rate_cap_bps):
        volume = np.minimum(volume, rate_cap_bps * contact)
    n = len(starts)
    cols["craft"] += [craft] * n
    cols["station"] += [station] * n
    cols["start"] += starts.tolist()
    cols["end"] += ends.tolist()
    cols["contact"] += contact.tolist()
    cols["volume"] += volume.tolist()
    cols["owlt"] += w.owlt_at(0.5 * (starts + ends)).tolist()
    cols["request"] += np.broadcast_to(np.asarray(request), n).tolist()
    cols["fixed"] += [fixed] * n
