"""Data rate and data volume of every contact, per-sol volumes per lander, Earth capacity per day.

For each contact the geometry is sampled (:mod:`marsrelay.links.geometry`) and the link budget
gives the link at every sample (:class:`marsrelay.links.model.LinkModel`):

- *proximity passes* run as flown (:mod:`marsrelay.links.proximity`): Proximity-1 hail, then
  either the adaptive data rate (ADR: decisions every few seconds on a lagged measurement, down
  time at each rate change) or one fixed rate for the pass (``[links] fixed_rate_bps`` rounded
  down to the pair's table, or by default the rate with the largest predicted volume at the
  fixed-rate margin); both deliver user data after Proximity-1 framing and go-back-N
  retransmissions at the actual link's frame error rate. ``[links] ideal = true`` gives the
  capacity instead (no hail, framing, ARQ or lag);
- *Earth links* follow the spacecraft's rate ladder at the band's margin (spacecraft switch
  rates along a pass by a rate schedule); the volume is the trapezoid integral of the rate.

``volume_bits`` in the contact table is the ADR volume where the pair runs ADR (config and both
radios allow it) and the fixed-rate volume otherwise. ``rate_bps_mean`` is
``volume_bits / duration_s``.

Per-sol volumes (lander LMST midnights) and Earth capacity per UTC day are built in
:mod:`marsrelay.links.tables` from per-interval records of the passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from marsrelay.contacts.stage import contacts_output_table
from marsrelay.contacts.table import ContactTable
from marsrelay.geometry.ephemeris import Ephemeris, SpkEphemeris
from marsrelay.geometry.solar_time import local_sol
from marsrelay.links.budget import max_data_rate_bps
from marsrelay.links.geometry import (
    LinkGeometry,
    earth_geometry,
    lander_icrf_km,
    proximity_geometry,
    sample_windows,
)
from marsrelay.links.model import LinkModel, ProximityOps, build_link_model
from marsrelay.links.proximity import PassGrid, pass_grid, simulate_passes
from marsrelay.links.tables import PerDayVolumes, PerSolVolumes, per_day_table, per_sol_table
from marsrelay.rundir.tables import OutputTable
from marsrelay.scenario import Scenario

__all__ = [
    "LinkResult",
    "LinkedContacts",
    "PerDayVolumes",
    "PerSolVolumes",
    "RateProfile",
    "compute_links",
]


@dataclass(frozen=True)
class RateProfile:
    """Rates along one contact at its samples, TDB seconds ``t_tdb_s``: ``rate_bps`` the user
    data delivered (bps), ``adr_rate_bps`` the rate in force (ADR decision, or the ladder rate on
    Earth links), ``supported_bps`` the continuous capacity at the margin of that decision."""

    t_tdb_s: np.ndarray
    rate_bps: np.ndarray
    adr_rate_bps: np.ndarray
    supported_bps: np.ndarray


@dataclass(frozen=True)
class LinkResult:
    """Per-contact link figures, one entry per row of the contact table.

    ``volume_ideal_bits``: the capacity model the stage used before the pass model, for
    comparison (proximity: the pair's ladder rate at the fixed-rate margin tracked continuously
    over the whole window, with no hail, framing, ARQ or lag; Earth links: ``volume_bits``).
    It is not a bound: the adaptive rate decides at a smaller margin (see
    :data:`marsrelay.links.catalogue.MARGIN_POLICY`).
    """

    volume_bits: np.ndarray
    rate_bps_mean: np.ndarray
    volume_adr_bits: np.ndarray
    volume_fixed_bits: np.ndarray
    fixed_rate_bps: np.ndarray
    peak_rate_bps: np.ndarray
    adr: np.ndarray
    volume_ideal_bits: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class LinkedContacts:
    """Output of the links stage: the contact table with ``rate_bps_mean``/``volume_bits``
    filled, per-contact details, per-sol volumes and Earth capacity per day; ``ops`` the pass
    model's resolved settings (hail, adaptive rate, framing, margins)."""

    contacts: ContactTable
    result: LinkResult
    per_sol: PerSolVolumes
    earth_per_day: PerDayVolumes
    notes: tuple[str, ...]
    _profile: Callable[[int, float | None], RateProfile] = field(repr=False)
    ops: ProximityOps | None = None

    def rate_profile(self, index: int, step_s: float | None = None) -> RateProfile:
        """Rate profile of contact row ``index`` (samples every ``step_s`` s, default: the
        stage's sampling step)."""
        if not 0 <= index < len(self.contacts):
            raise IndexError(f"contact index {index} out of range 0..{len(self.contacts) - 1}")
        return self._profile(index, step_s)

    def tables(self) -> tuple[OutputTable, ...]:
        """``contacts`` (with the link columns) and ``volumes_per_sol`` for the run folder."""
        return (contacts_output_table(self.contacts), self.per_sol.output_table())


class _Evaluator:
    """Geometry + link model of one scenario; evaluates groups of contacts of one node pair."""

    def __init__(self, scenario: Scenario, model: LinkModel) -> None:
        self.model = model
        self.rotation = scenario.rotation
        self.landers = {spec.name: spec for spec in scenario.landers}
        self.orbiters = {spec.name: spec for spec in scenario.orbiters}
        self.stations = {st.name: st for st in scenario.stations}
        self._traj: dict[str, Any] = {}
        self.ephemeris: Ephemeris | SpkEphemeris = scenario.ephemeris

    def trajectory(self, name: str) -> Any:
        if name not in self._traj:
            self._traj[name] = self.orbiters[name].trajectory(self.rotation)
        return self._traj[name]

    def step(self, kind: str) -> float:
        cfg = self.model.config
        return cfg.sample_step_s if kind == "proximity" else cfg.earth_sample_step_s

    def lander_of(self, kind: str, source: str, target: str) -> str | None:
        if source in self.landers:
            return source
        if target in self.landers:
            return target
        return None

    def geometry(self, kind: str, source: str, target: str, t: np.ndarray) -> LinkGeometry:
        if kind == "proximity":
            lander = self.lander_of(kind, source, target)
            orbiter = target if lander == source else source
            if lander is None or orbiter not in self.orbiters:
                raise ValueError(f"proximity contact {source!r}-{target!r}: unknown lander/orbiter")
            return proximity_geometry(
                self.landers[lander].site, self.trajectory(orbiter), self.rotation, t
            )
        if target not in self.stations:
            raise ValueError(f"{kind} contact {source!r}-{target!r}: unknown station {target!r}")
        if source in self.orbiters:
            pos, _ = self.trajectory(source).state_km(t)
        elif source in self.landers:
            pos = lander_icrf_km(self.landers[source].site, self.rotation, t)
        else:
            raise ValueError(f"{kind} contact: unknown sender {source!r}")
        return earth_geometry(pos, self.stations[target], self.ephemeris, t)

    def supported(self, kind: str, source: str, target: str, geo: LinkGeometry) -> np.ndarray:
        if kind == "proximity":
            lander = self.lander_of(kind, source, target)
            orbiter = target if lander == source else source
            return self.model.proximity_supported_bps(
                lander, orbiter, geo.range_km, geo.elevation_deg, geo.off_nadir_deg
            )
        return self.model.earth_supported_bps(source, target, geo.range_km, geo.elevation_deg)

    def uses_adr(self, kind: str, source: str, target: str) -> bool:
        if kind != "proximity":
            return True
        lander = self.lander_of(kind, source, target)
        orbiter = target if lander == source else source
        return self.model.pair_adr(lander, orbiter)

    def pair(self, source: str, target: str) -> tuple[str, str]:
        """(lander, orbiter) of a proximity contact."""
        lander = self.lander_of("proximity", source, target)
        if lander is None:
            raise ValueError(f"proximity contact {source!r}-{target!r}: no lander")
        return lander, (target if lander == source else source)

    def passes(self, source: str, target: str, start: np.ndarray, end: np.ndarray,
               step_s: float) -> tuple[PassGrid, Any, np.ndarray]:
        """Pass model of proximity windows ``[start, end]`` of one pair on a grid of at most
        ``step_s``: the grid, its :class:`~marsrelay.links.proximity.PassVolumes` and the
        capacity (bps) at the fixed-rate margin at its points."""
        lander, orbiter = self.pair(source, target)
        ops = self.model.ops
        grid = pass_grid(start, end, ops.hail_s, ops.update_interval_s, step_s)
        geo = self.geometry("proximity", source, target, grid.t_tdb_s)
        pdn0 = self.model.proximity_data_pn0_dbhz(
            lander, orbiter, geo.range_km, geo.elevation_deg, geo.off_nadir_deg)
        vols = simulate_passes(self.model, lander, orbiter, grid, pdn0, geo.range_km,
                               self.model.config.fixed_rate_bps)
        cap_fixed = max_data_rate_bps(pdn0, self.model.proximity_required_ebn0_db(lander),
                                      ops.fixed_margin_db)
        return grid, vols, cap_fixed

    def profile(self, table: ContactTable, index: int, step_s: float | None) -> RateProfile:
        kind, src, dst = table.kind[index], table.source[index], table.target[index]
        step = step_s or self.step(kind)
        if kind == "proximity":
            grid, v, _ = self.passes(src, dst, table.start_tdb_s[[index]],
                                     table.end_tdb_s[[index]], step)
            if self.uses_adr(kind, src, dst):
                return RateProfile(grid.t_tdb_s, v.adr_throughput_bps, v.adr_rate_bps,
                                   v.supported_bps)
            fixed_rate = np.where(grid.live, v.fixed_rate_bps[0], 0.0)
            return RateProfile(grid.t_tdb_s, v.fixed_throughput_bps, fixed_rate,
                               v.supported_bps)
        s = sample_windows(table.start_tdb_s[[index]], table.end_tdb_s[[index]], step)
        supported = self.supported(kind, src, dst, self.geometry(kind, src, dst, s.t_tdb_s))
        ladder = self.model.ladder(kind, src, dst)
        k = _ladder_index(supported, ladder)
        rate = np.where(k >= 0, ladder[np.clip(k, 0, None)], 0.0)
        return RateProfile(s.t_tdb_s, rate, rate, supported)


def _ladder_index(supported_bps: np.ndarray, ladder: np.ndarray) -> np.ndarray:
    """Index of the highest ladder rate <= supported (-1 where none)."""
    return np.searchsorted(ladder, supported_bps * (1.0 + 1e-9), side="right") - 1


def _ideal_bits(grid: PassGrid, cap_bps: np.ndarray, ladder: np.ndarray) -> np.ndarray:
    """Capacity of each window of ``grid``: the ladder rate under ``cap_bps`` tracked
    continuously from the window's start (trapezoid rule)."""
    k = _ladder_index(cap_bps, ladder)
    rate = np.where(k >= 0, ladder[np.clip(k, 0, None)], 0.0) if len(ladder) else 0.0 * cap_bps
    i0 = np.nonzero(grid.interval_mask)[0]
    v = 0.5 * (rate[i0] + rate[i0 + 1]) * (grid.t_tdb_s[i0 + 1] - grid.t_tdb_s[i0])
    return np.bincount(grid.window[i0], v, minlength=len(grid.start_tdb_s))


@dataclass(frozen=True)
class _GroupResult:
    adr_bits: np.ndarray
    fixed_bits: np.ndarray
    fixed_rate: np.ndarray
    fixed_idx: np.ndarray
    peak: np.ndarray


def _evaluate_group(
    s: Any, k: np.ndarray, ladder: np.ndarray, n_rows: int, fixed_idx: int | None
) -> _GroupResult:
    """Volumes of ``n_rows`` windows sampled by ``s`` with ladder indices ``k`` per sample."""
    m = len(ladder)
    rate = np.where(k >= 0, ladder[np.clip(k, 0, None)], 0.0) if m else np.zeros(len(k))
    keep = s.interval_mask
    i0 = np.nonzero(keep)[0]
    dt = s.t_tdb_s[i0 + 1] - s.t_tdb_s[i0]
    row = s.window[i0]
    adr_bits = np.bincount(row, 0.5 * (rate[i0] + rate[i0 + 1]) * dt, minlength=n_rows)
    peak = np.maximum.reduceat(rate, s.offsets[:-1]) if len(rate) else np.zeros(n_rows)
    if m == 0:
        z = np.zeros(n_rows)
        return _GroupResult(adr_bits, z, z, np.full(n_rows, -1), peak)
    # time (s) each window spends at ladder index >= q, for every q: histogram, reverse cumsum.
    h = np.zeros(n_rows * (m + 1))
    h += np.bincount(row * (m + 1) + k[i0] + 1, 0.5 * dt, minlength=n_rows * (m + 1))
    h += np.bincount(row * (m + 1) + k[i0 + 1] + 1, 0.5 * dt, minlength=n_rows * (m + 1))
    h = h.reshape(n_rows, m + 1)
    time_at = np.cumsum(h[:, :0:-1], axis=1)[:, ::-1]  # (n_rows, m): time with index >= q
    volumes = time_at * ladder[None, :]
    idx = np.argmax(volumes, axis=1) if fixed_idx is None else np.full(n_rows, fixed_idx)
    rows = np.arange(n_rows)
    fixed_bits = np.where(idx >= 0, volumes[rows, np.clip(idx, 0, None)], 0.0)
    fixed_rate = np.where((idx >= 0) & (fixed_bits > 0), ladder[np.clip(idx, 0, None)], 0.0)
    return _GroupResult(adr_bits, fixed_bits, fixed_rate, idx, peak)


def compute_links(scenario: Scenario, contacts: ContactTable) -> LinkedContacts:
    """Rates and volumes of every contact of ``scenario`` (see the module docstring).

    Returns a :class:`LinkedContacts` whose ``contacts`` has ``rate_bps_mean`` (bps) and
    ``volume_bits`` (bits) filled. Raises :class:`~marsrelay.errors.InputError` for bad link
    parameters in the scenario.
    """
    model = build_link_model(scenario)
    ev = _Evaluator(scenario, model)
    n = len(contacts)
    adr_bits, fixed_bits = np.zeros(n), np.zeros(n)
    fixed_rate, peak = np.zeros(n), np.zeros(n)
    adr_flag = np.zeros(n, dtype=bool)
    ideal_bits = np.zeros(n)
    # per-interval records for the per-sol / per-day tables
    sol_parts: list[tuple[str, str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray, np.ndarray]] = []
    day_parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    keys = np.array([f"{k}\x00{s}\x00{t}" for k, s, t in
                     zip(contacts.kind, contacts.source, contacts.target, strict=True)],
                    dtype=object)
    for key in dict.fromkeys(keys):
        rows = np.nonzero(keys == key)[0]
        kind, src, dst = str(key).split("\x00")
        lander = ev.lander_of(kind, src, dst)
        use_adr = ev.uses_adr(kind, src, dst)
        if kind == "proximity":
            grid, v, cap_fixed = ev.passes(src, dst, contacts.start_tdb_s[rows],
                                           contacts.end_tdb_s[rows], ev.step(kind))
            adr_bits[rows], fixed_bits[rows] = v.adr_bits, v.fixed_bits
            fixed_rate[rows] = v.fixed_rate_bps
            peak[rows] = v.peak_adr_rate_bps if use_adr else v.fixed_rate_bps
            ideal_bits[rows] = _ideal_bits(grid, cap_fixed, model.ladder(kind, src, dst))
            i0 = v.interval_t0
            t_all, win = grid.t_tdb_s, grid.window[i0]
            v_adr, v_fix = v.v_adr_bits, v.v_fixed_bits
        else:
            s = sample_windows(contacts.start_tdb_s[rows], contacts.end_tdb_s[rows],
                               ev.step(kind))
            supported = ev.supported(kind, src, dst, ev.geometry(kind, src, dst, s.t_tdb_s))
            ladder = model.ladder(kind, src, dst)
            k = _ladder_index(supported, ladder)
            g = _evaluate_group(s, k, ladder, len(rows), None)
            adr_bits[rows], fixed_bits[rows] = g.adr_bits, g.fixed_bits
            fixed_rate[rows], peak[rows] = g.fixed_rate, g.peak
            ideal_bits[rows] = g.adr_bits
            # per-interval contributions (bits) in both modes
            i0 = np.nonzero(s.interval_mask)[0]
            t_all, win = s.t_tdb_s, s.window[i0]
            rate = np.where(k >= 0, ladder[np.clip(k, 0, None)], 0.0) if len(ladder) else 0.0 * k
            v_adr = 0.5 * (rate[i0] + rate[i0 + 1]) * (t_all[i0 + 1] - t_all[i0])
            on = (k[i0] >= g.fixed_idx[win]).astype(float) + (k[i0 + 1] >= g.fixed_idx[win])
            v_fix = np.where(g.fixed_idx[win] >= 0,
                             0.5 * on * g.fixed_rate[win] * (t_all[i0 + 1] - t_all[i0]), 0.0)
        adr_flag[rows] = use_adr
        dt = t_all[i0 + 1] - t_all[i0]
        v_sel = v_adr if use_adr else v_fix
        t_mid = 0.5 * (t_all[i0] + t_all[i0 + 1])
        mid_row = 0.5 * (contacts.start_tdb_s[rows] + contacts.end_tdb_s[rows])
        if lander is not None:
            partner = dst if lander == src else src
            lon = ev.landers[lander].site.lon_east_deg
            sol_parts.append((lander, partner, kind, local_sol(t_mid, lon),
                              local_sol(mid_row, lon), dt, v_sel, v_adr, v_fix))
        if kind != "proximity":
            day_parts.append((src, t_mid, mid_row, dt, v_sel, np.ones(len(rows))))

    volume = np.where(adr_flag, adr_bits, fixed_bits)
    dur = contacts.duration_s
    mean = np.divide(volume, dur, out=np.zeros(n), where=dur > 0)
    result = LinkResult(volume, mean, adr_bits, fixed_bits, fixed_rate, peak, adr_flag,
                        ideal_bits)
    per_sol = per_sol_table(sol_parts, scenario)
    per_day = per_day_table(day_parts, scenario)
    linked_table = contacts.with_links(mean, volume)
    return LinkedContacts(
        linked_table, result, per_sol, per_day, tuple(model.notes),
        lambda index, step: ev.profile(contacts, index, step), model.ops,
    )

