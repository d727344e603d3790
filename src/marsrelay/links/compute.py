"""Data rate and data volume of every contact, per-sol volumes per lander, Earth capacity per day.

For each contact the geometry is sampled (:mod:`marsrelay.links.geometry`), the link budget gives
the continuous capacity at every sample (:class:`marsrelay.links.model.LinkModel`), and:

- *ADR* (adaptive data rate): at each moment the highest ladder rate the budget supports; the
  volume is its time integral (trapezoid rule on the samples);
- *fixed rate*: one rate for the whole pass, data flowing only while the budget supports it;
  the rate is ``[links] fixed_rate_bps`` (rounded down to the pair's ladder) or, by default, the
  single rate that returns the most data on that pass (an upper bound for fixed-rate planning).

``volume_bits`` in the contact table is the ADR volume where the pair runs ADR (config and both
radios allow it) and the fixed-rate volume otherwise. Earth links always follow the ladder
(spacecraft switch rates along a pass by a rate schedule). ``rate_bps_mean`` is
``volume_bits / duration_s``.

Per-sol volumes split each pass at the lander's LMST midnight
(:mod:`marsrelay.geometry.solar_time`);
Earth capacity per day splits at UTC midnight. Both sum over stations, so simultaneous views of
one spacecraft by two stations count twice (the schedule stage picks one).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from marsrelay.contacts.stage import contacts_output_table
from marsrelay.contacts.table import ContactTable
from marsrelay.geometry.ephemeris import Ephemeris, SpkEphemeris
from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.links.geometry import (
    LinkGeometry,
    earth_geometry,
    lander_icrf_km,
    proximity_geometry,
    sample_windows,
)
from marsrelay.links.model import LinkModel, build_link_model
from marsrelay.rundir import schema
from marsrelay.rundir.tables import OutputTable, utc_column
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
    """Rates along one contact at its samples: the rate run (bps), the ADR ladder rate (bps)
    and the continuous capacity of the budget (bps), at TDB seconds ``t_tdb_s``."""

    t_tdb_s: np.ndarray
    rate_bps: np.ndarray
    adr_rate_bps: np.ndarray
    supported_bps: np.ndarray


@dataclass(frozen=True)
class LinkResult:
    """Per-contact link figures, one entry per row of the contact table."""

    volume_bits: np.ndarray
    rate_bps_mean: np.ndarray
    volume_adr_bits: np.ndarray
    volume_fixed_bits: np.ndarray
    fixed_rate_bps: np.ndarray
    peak_rate_bps: np.ndarray
    adr: np.ndarray


@dataclass(frozen=True)
class PerSolVolumes:
    """Data volume per lander, partner (orbiter or station) and local sol (LMST midnights).

    ``passes`` counts contacts by the sol of their midpoint; ``contact_s`` and volumes are split
    at the boundary. Rows sorted by lander, partner, sol.
    """

    lander: np.ndarray
    partner: np.ndarray
    kind: np.ndarray
    sol: np.ndarray
    sol_start_tdb_s: np.ndarray
    passes: np.ndarray
    contact_s: np.ndarray
    volume_bits: np.ndarray
    volume_adr_bits: np.ndarray
    volume_fixed_bits: np.ndarray

    def __len__(self) -> int:
        return len(self.sol)

    def totals_by_lander_sol(self) -> dict[tuple[str, int], float]:
        """Total ``volume_bits`` per (lander, sol), all partners together."""
        out: dict[tuple[str, int], float] = {}
        for lander, sol, v in zip(self.lander, self.sol, self.volume_bits, strict=True):
            out[(str(lander), int(sol))] = out.get((str(lander), int(sol)), 0.0) + float(v)
        return out

    def output_table(self) -> OutputTable:
        """The ``volumes_per_sol`` table of the run folder."""
        return OutputTable(schema.VOLUMES_PER_SOL, {
            "lander": self.lander, "partner": self.partner, "kind": self.kind,
            "sol": self.sol, "sol_start_utc": utc_column(self.sol_start_tdb_s),
            "passes": self.passes, "contact_s": self.contact_s,
            "volume_bits": self.volume_bits, "volume_adr_bits": self.volume_adr_bits,
            "volume_fixed_bits": self.volume_fixed_bits,
            "sol_start_tdb_s": self.sol_start_tdb_s,
        })


@dataclass(frozen=True)
class PerDayVolumes:
    """Downlink capacity to Earth per sending node and UTC day (``day_utc`` = 'YYYY-MM-DD')."""

    node: np.ndarray
    day_utc: np.ndarray
    passes: np.ndarray
    contact_s: np.ndarray
    volume_bits: np.ndarray

    def __len__(self) -> int:
        return len(self.day_utc)


@dataclass
class LinkedContacts:
    """Output of the links stage: the contact table with ``rate_bps_mean``/``volume_bits``
    filled, per-contact details, per-sol volumes and Earth capacity per day."""

    contacts: ContactTable
    result: LinkResult
    per_sol: PerSolVolumes
    earth_per_day: PerDayVolumes
    notes: tuple[str, ...]
    _profile: Callable[[int, float | None], RateProfile] = field(repr=False)

    def rate_profile(self, index: int, step_s: float | None = None) -> RateProfile:
        """Rate profile of contact row ``index`` (samples every ``step_s`` s, default: the
        stage's sampling step)."""
        if not 0 <= index < len(self.contacts):
            raise IndexError(f"contact index {index} out of range 0..{len(self.contacts) - 1}")
        return self._profile(index, step_s)

    def tables(self) -> tuple[OutputTable, ...]:
        """``contacts`` (with the link columns) and ``volumes_per_sol`` for the run folder."""
        return (contacts_output_table(self.contacts), self.per_sol.output_table())


# -------------------------------------------------------------------------------------------


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

    def fixed_index(self, kind: str, ladder: np.ndarray) -> int | None:
        """Ladder index of the configured fixed rate (None: best rate per pass)."""
        fixed = self.model.config.fixed_rate_bps
        if kind != "proximity" or fixed is None:
            return None
        return int(np.searchsorted(ladder, fixed * (1 + 1e-9), side="right") - 1)

    def profile(self, table: ContactTable, index: int, step_s: float | None) -> RateProfile:
        kind, src, dst = table.kind[index], table.source[index], table.target[index]
        s = sample_windows(table.start_tdb_s[[index]], table.end_tdb_s[[index]],
                           step_s or self.step(kind))
        supported = self.supported(kind, src, dst, self.geometry(kind, src, dst, s.t_tdb_s))
        ladder = self.model.ladder(kind, src, dst)
        k = _ladder_index(supported, ladder)
        adr_rate = np.where(k >= 0, ladder[np.clip(k, 0, None)], 0.0)
        if self.uses_adr(kind, src, dst):
            rate = adr_rate
        else:
            g = _evaluate_group(s, k, ladder, 1, self.fixed_index(kind, ladder))
            rate = np.where(k >= g.fixed_idx[0], g.fixed_rate[0], 0.0)
        return RateProfile(s.t_tdb_s, rate, adr_rate, supported)


def _ladder_index(supported_bps: np.ndarray, ladder: np.ndarray) -> np.ndarray:
    """Index of the highest ladder rate <= supported (-1 where none)."""
    return np.searchsorted(ladder, supported_bps * (1.0 + 1e-9), side="right") - 1


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


def _utc_day_edges(t0: float, t1: float) -> tuple[np.ndarray, list[str]]:
    """TDB seconds of the UTC midnights around ``[t0, t1]`` and the day labels between them."""
    first = str(tdb_to_utc(t0 - 86400.0))[:10]
    days: list[str] = []
    edges: list[float] = []
    y, mo, d = (int(x) for x in first.split("-"))
    day = _dt.date(y, mo, d)
    while True:
        label = day.isoformat()
        edge = float(utc_to_tdb(f"{label}T00:00:00Z"))
        edges.append(edge)
        days.append(label)
        if edge > t1:
            break
        day += _dt.timedelta(days=1)
    return np.asarray(edges), days


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
        s = sample_windows(contacts.start_tdb_s[rows], contacts.end_tdb_s[rows], ev.step(kind))
        supported = ev.supported(kind, src, dst, ev.geometry(kind, src, dst, s.t_tdb_s))
        ladder = model.ladder(kind, src, dst)
        k = _ladder_index(supported, ladder)
        g = _evaluate_group(s, k, ladder, len(rows), ev.fixed_index(kind, ladder))
        use_adr = ev.uses_adr(kind, src, dst)
        adr_bits[rows], fixed_bits[rows] = g.adr_bits, g.fixed_bits
        fixed_rate[rows], peak[rows] = g.fixed_rate, g.peak
        adr_flag[rows] = use_adr

        # per-interval contributions (bits) in the three modes
        i0 = np.nonzero(s.interval_mask)[0]
        dt = s.t_tdb_s[i0 + 1] - s.t_tdb_s[i0]
        w = s.window[i0]
        rate = np.where(k >= 0, ladder[np.clip(k, 0, None)], 0.0) if len(ladder) else 0.0 * k
        v_adr = 0.5 * (rate[i0] + rate[i0 + 1]) * dt
        on = (k[i0] >= g.fixed_idx[w]).astype(float) + (k[i0 + 1] >= g.fixed_idx[w])
        v_fix = np.where(g.fixed_idx[w] >= 0, 0.5 * on * g.fixed_rate[w] * dt, 0.0)
        v_sel = v_adr if use_adr else v_fix
        t_mid = 0.5 * (s.t_tdb_s[i0] + s.t_tdb_s[i0 + 1])
        mid_row = 0.5 * (contacts.start_tdb_s[rows] + contacts.end_tdb_s[rows])
        lander = ev.lander_of(kind, src, dst)
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
    result = LinkResult(volume, mean, adr_bits, fixed_bits, fixed_rate, peak, adr_flag)
    per_sol = _per_sol_table(sol_parts, scenario)
    per_day = _per_day_table(day_parts, scenario)
    linked_table = contacts.with_links(mean, volume)
    return LinkedContacts(
        linked_table, result, per_sol, per_day, tuple(model.notes),
        lambda index, step: ev.profile(contacts, index, step),
    )


def _per_sol_table(parts: list, scenario: Scenario) -> PerSolVolumes:
    cols: dict[str, list] = {c: [] for c in (
        "lander", "partner", "kind", "sol", "start", "passes", "contact_s", "vol", "adr", "fix")}
    lons = {spec.name: spec.site.lon_east_deg for spec in scenario.landers}
    for lander, partner, kind, sol_i, sol_rows, dt, v_sel, v_adr, v_fix in parts:
        sols = np.unique(np.concatenate([sol_i, sol_rows]))
        inv = np.searchsorted(sols, sol_i)
        m = len(sols)
        cols["lander"] += [lander] * m
        cols["partner"] += [partner] * m
        cols["kind"] += [kind] * m
        cols["sol"].append(sols)
        cols["start"].append(sol_start_tdb_s(sols, lons[lander]))
        cols["passes"].append(np.bincount(np.searchsorted(sols, sol_rows), minlength=m))
        cols["contact_s"].append(np.bincount(inv, dt, minlength=m))
        cols["vol"].append(np.bincount(inv, v_sel, minlength=m))
        cols["adr"].append(np.bincount(inv, v_adr, minlength=m))
        cols["fix"].append(np.bincount(inv, v_fix, minlength=m))

    def cat(name: str, dtype: type) -> np.ndarray:
        return np.concatenate(cols[name]).astype(dtype) if cols[name] else np.empty(0, dtype)

    table = PerSolVolumes(
        np.asarray(cols["lander"], dtype=object), np.asarray(cols["partner"], dtype=object),
        np.asarray(cols["kind"], dtype=object), cat("sol", np.int64), cat("start", float),
        cat("passes", np.int64), cat("contact_s", float), cat("vol", float), cat("adr", float),
        cat("fix", float),
    )
    order = np.lexsort((table.sol, table.partner.astype(str), table.lander.astype(str)))
    return PerSolVolumes(*(getattr(table, f)[order] for f in table.__dataclass_fields__))


def _per_day_table(parts: list, scenario: Scenario) -> PerDayVolumes:
    if not parts:
        e = np.empty(0)
        return PerDayVolumes(e.astype(object), e.astype(object), e.astype(np.int64), e, e)
    t_all = np.concatenate([p[1] for p in parts])
    edges, labels = _utc_day_edges(float(t_all.min()), float(t_all.max()))
    by: dict[tuple[str, int], list[float]] = {}
    for node, t_mid, mid_row, dt, v_sel, ones in parts:
        d_int = np.searchsorted(edges, t_mid, side="right") - 1
        d_row = np.searchsorted(edges, mid_row, side="right") - 1
        for d in np.unique(np.concatenate([d_int, d_row])):
            sel = d_int == d
            acc = by.setdefault((node, int(d)), [0.0, 0.0, 0.0])
            acc[0] += float(np.sum(ones[d_row == d]))
            acc[1] += float(np.sum(dt[sel]))
            acc[2] += float(np.sum(v_sel[sel]))
    keys = sorted(by)
    return PerDayVolumes(
        np.asarray([k[0] for k in keys], dtype=object),
        np.asarray([labels[k[1]] for k in keys], dtype=object),
        np.asarray([by[k][0] for k in keys], dtype=np.int64),
        np.asarray([by[k][1] for k in keys]),
        np.asarray([by[k][2] for k in keys]),
    )
