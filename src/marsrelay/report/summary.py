"""The figures that matter per run, computed from the stage outputs only (never from geometry).

Definitions (each figure says where it comes from in :attr:`Summary.sources`):

- a run lasts ``n_sols = (end - start) / 88775.244 s``; "per sol" figures are totals over the
  run divided by ``n_sols``;
- a lander's *passes* are its proximity contacts (either end of the pair); *contact time* is
  their summed duration (overlapping passes with two orbiters both count);
- *sols without contact*: whole local sols (LMST midnight to midnight at the lander) inside the
  span in which the lander has no contact of any kind;
- *data returned*: bits delivered to Earth (``delivery.csv``, else delivered bundles);
  *link capacity*: ``volumes_per_sol.csv``, else the contact table's ``volume_bits`` over the
  same links (the lander's proximity passes and its own direct-to-Earth windows);
- *latency* percentiles over delivered bundles (each bundle counts once);
- *conjunction outage*: days of the span inside the conjunction windows the run wrote;
- *longest Earth gap*: the longest stretch of the span with no Earth link open at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marsrelay.constants import DAY_S, SOL_S
from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s
from marsrelay.report.run_data import EARTH_KINDS, PROXIMITY, RunData, Table

__all__ = [
    "LanderFigures",
    "PerSol",
    "Summary",
    "bundle_latency_s",
    "longest_gap_s",
    "per_sol_series",
    "proximity_mask",
    "summarise_run",
]


@dataclass(frozen=True)
class LanderFigures:
    """Per-lander figures of a run; ``None`` where the run did not compute the input."""

    lander: str
    passes_per_sol: float | None
    contact_min_per_sol: float | None
    mean_pass_min: float | None
    sols_without_contact: int | None
    whole_sols: int | None
    longest_gap_h: float | None
    capacity_mbit_per_sol: float | None
    returned_mbit_per_sol: float | None
    latency_p50_h: float | None
    latency_p95_h: float | None


@dataclass(frozen=True)
class Summary:
    """The figures of one run (see the module docstring for their definitions)."""

    name: str
    run_dir: Path
    start_tdb_s: float
    end_tdb_s: float
    n_sols: float
    n_orbiters: int
    n_landers: int
    n_stations: int
    n_contacts: int | None
    landers: tuple[LanderFigures, ...]
    returned_mbit_per_sol: float | None
    capacity_mbit_per_sol: float | None
    latency_p50_h: float | None
    latency_p95_h: float | None
    conjunction_outage_days: float | None
    longest_earth_gap_h: float | None
    sources: tuple[tuple[str, str], ...]

    @property
    def span_days(self) -> float:
        """Length of the run, Earth days."""
        return (self.end_tdb_s - self.start_tdb_s) / DAY_S

    def lander(self, name: str) -> LanderFigures | None:
        """Figures of lander ``name``, if the run has it."""
        return next((f for f in self.landers if f.lander == name), None)


@dataclass(frozen=True)
class PerSol:
    """A per-sol series of one lander: sol numbers (counted from the span's first local sol)
    and values in ``unit``; ``what`` says what is counted and ``source`` from which file."""

    lander: str
    sol: np.ndarray
    value: np.ndarray
    what: str
    unit: str
    source: str


def proximity_mask(contacts: Table, lander: str) -> np.ndarray:
    """Rows of the contact table that are proximity passes of ``lander`` (either end)."""
    return (contacts["kind"] == PROXIMITY) & (
        (contacts["source"] == lander) | (contacts["target"] == lander)
    )


def _own_links_mask(contacts: Table, lander: str) -> np.ndarray:
    """Rows that are links of ``lander``: its proximity passes and its direct-to-Earth windows."""
    return proximity_mask(contacts, lander) | (
        (contacts["kind"] == "direct_earth") & (contacts["source"] == lander)
    )


def longest_gap_s(start_s: np.ndarray, end_s: np.ndarray, t0: float, t1: float) -> float:
    """Longest stretch of [t0, t1] (s) covered by none of the intervals [start, end]."""
    s = np.clip(np.asarray(start_s, dtype=float), t0, t1)
    e = np.clip(np.asarray(end_s, dtype=float), t0, t1)
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return t1 - t0
    order = np.argsort(s, kind="stable")
    s, e = s[order], np.maximum.accumulate(e[order])
    inner = s[1:] - e[:-1]
    return float(max(s[0] - t0, t1 - e[-1], inner.max() if inner.size else 0.0, 0.0))


def _whole_sols(t0: float, t1: float, lon_deg: float) -> tuple[int, int]:
    """``(first, stop)``: local sol numbers of the whole sols inside [t0, t1]."""
    first = int(local_sol(t0, lon_deg))
    if float(sol_start_tdb_s(first, lon_deg)) < t0 - 1e-6:
        first += 1
    stop = int(local_sol(t1, lon_deg))
    if float(sol_start_tdb_s(stop + 1, lon_deg)) <= t1 + 1e-6:
        stop += 1
    return first, max(stop, first)


def _sols_without_contact(
    start_s: np.ndarray, end_s: np.ndarray, t0: float, t1: float, lon_deg: float
) -> tuple[int, int]:
    """``(sols with no contact, whole sols)`` for intervals at a site of east longitude."""
    first, stop = _whole_sols(t0, t1, lon_deg)
    n = stop - first
    if n <= 0:
        return 0, 0
    if start_s.size == 0:
        return n, n
    ks = local_sol(start_s, lon_deg) - first
    ke = local_sol(np.maximum(end_s - 1e-6, start_s), lon_deg) - first
    ks, ke = np.clip(ks, 0, n), np.clip(ke, -1, n - 1)
    ok = ke >= ks
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, ks[ok], 1)
    np.add.at(diff, ke[ok] + 1, -1)
    covered = np.cumsum(diff[:n]) > 0
    return int(n - covered.sum()), n


def bundle_latency_s(b: Table) -> tuple[np.ndarray, np.ndarray]:
    """``(delivered mask, latency s)`` of the bundles table (NaN latency where not
    delivered)."""
    delivered = (b["status"] == "delivered") & np.isfinite(b["latency_s"])
    return delivered, np.where(delivered, b["latency_s"], np.nan)


def _pct_h(values_s: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values_s, q)) / 3600.0 if values_s.size else None


def _lander_figures(
    run: RunData, name: str, n_sols: float, sources: dict[str, str]
) -> LanderFigures:
    info = run.scenario
    t0, t1 = info.start_tdb_s, info.end_tdb_s
    c = run.contacts
    passes = contact_min = mean_pass = gap_h = None
    no_contact = whole = None
    capacity = returned = p50 = p95 = None
    if c is not None:
        prox = proximity_mask(c, name)
        dur = c["duration_s"][prox]
        passes = prox.sum() / n_sols
        contact_min = float(dur.sum()) / 60.0 / n_sols
        mean_pass = float(dur.mean()) / 60.0 if dur.size else None
        mine = _own_links_mask(c, name)
        node = info.lander(name)
        lon = node.lon_east_deg if node is not None and math.isfinite(node.lon_east_deg) else 0.0
        no_contact, whole = _sols_without_contact(
            c["start_tdb_s"][mine], c["end_tdb_s"][mine], t0, t1, lon
        )
        gap_h = longest_gap_s(c["start_tdb_s"][mine], c["end_tdb_s"][mine], t0, t1) / 3600.0
        vol = c.get("volume_bits")[mine]  # the links volumes_per_sol.csv counts
        if vol.size and np.isfinite(vol).all():
            capacity = float(vol.sum()) / 1e6 / n_sols
            sources.setdefault("link capacity", c.path.name)
    if run.volumes is not None:
        v = run.volumes
        capacity = float(np.nansum(v["volume_bits"][v["lander"] == name])) / 1e6 / n_sols
        sources["link capacity"] = v.path.name
    if run.delivery is not None:
        d = run.delivery
        returned = float(np.nansum(d["delivered_bits"][d["lander"] == name])) / 1e6 / n_sols
        sources["data returned"] = d.path.name
    if run.bundles is not None:
        b = run.bundles
        delivered, lat = bundle_latency_s(b)
        mine_b = delivered & (b["source"] == name)
        if returned is None:
            returned = float(b["size_bits"][mine_b].sum()) / 1e6 / n_sols
            sources["data returned"] = b.path.name
        p50, p95 = _pct_h(lat[mine_b], 50), _pct_h(lat[mine_b], 95)
    return LanderFigures(
        lander=name,
        passes_per_sol=None if passes is None else float(passes),
        contact_min_per_sol=contact_min,
        mean_pass_min=mean_pass,
        sols_without_contact=no_contact,
        whole_sols=whole,
        longest_gap_h=gap_h,
        capacity_mbit_per_sol=capacity,
        returned_mbit_per_sol=returned,
        latency_p50_h=p50,
        latency_p95_h=p95,
    )


def _conjunction_outage_days(run: RunData, sources: dict[str, str]) -> float | None:
    info = run.scenario
    t0, t1 = info.start_tdb_s, info.end_tdb_s
    if run.conjunction is not None:
        s, e = run.conjunction.get("start_tdb_s"), run.conjunction.get("end_tdb_s")
        sources["conjunction outage"] = run.conjunction.path.name
    else:
        return None
    covered = (t1 - t0) - _uncovered_s(s, e, t0, t1)
    return covered / DAY_S


def _uncovered_s(start_s: np.ndarray, end_s: np.ndarray, t0: float, t1: float) -> float:
    s = np.clip(start_s, t0, t1)
    e = np.clip(end_s, t0, t1)
    ok = np.isfinite(s) & np.isfinite(e) & (e > s)
    s, e = s[ok], e[ok]
    if s.size == 0:
        return t1 - t0
    order = np.argsort(s)
    s, e = s[order], e[order]
    covered, cur_s, cur_e = 0.0, s[0], e[0]
    for a, b in zip(s[1:], e[1:], strict=True):  # windows: a handful per run
        if a > cur_e:
            covered += cur_e - cur_s
            cur_s, cur_e = a, b
        else:
            cur_e = max(cur_e, b)
    covered += cur_e - cur_s
    return (t1 - t0) - covered


def _sum_or_none(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(sum(vals)) if vals else None


def summarise_run(run: RunData) -> Summary:
    """The :class:`Summary` of a loaded run directory (stage outputs only)."""
    info = run.scenario
    t0, t1 = info.start_tdb_s, info.end_tdb_s
    n_sols = max((t1 - t0) / SOL_S, 1e-9)
    sources: dict[str, str] = {}
    if run.contacts is not None:
        for key in ("passes", "contact time", "sols without contact", "longest Earth gap"):
            sources[key] = run.contacts.path.name
    landers = tuple(_lander_figures(run, n.name, n_sols, sources) for n in info.landers)
    p50 = p95 = None
    if run.bundles is not None:
        delivered, lat = bundle_latency_s(run.bundles)
        p50, p95 = _pct_h(lat[delivered], 50), _pct_h(lat[delivered], 95)
        sources["latency"] = run.bundles.path.name
    earth_gap = None
    c = run.contacts
    if c is not None and (info.stations or np.isin(c["kind"], EARTH_KINDS).any()):
        earth = np.isin(c["kind"], EARTH_KINDS)
        earth_gap = longest_gap_s(c["start_tdb_s"][earth], c["end_tdb_s"][earth], t0, t1) / 3600
    return Summary(
        name=info.name,
        run_dir=run.run_dir,
        start_tdb_s=t0,
        end_tdb_s=t1,
        n_sols=(t1 - t0) / SOL_S,
        n_orbiters=len(info.orbiters),
        n_landers=len(info.landers),
        n_stations=len(info.stations),
        n_contacts=None if c is None else len(c),
        landers=landers,
        returned_mbit_per_sol=_sum_or_none([f.returned_mbit_per_sol for f in landers]),
        capacity_mbit_per_sol=_sum_or_none([f.capacity_mbit_per_sol for f in landers]),
        latency_p50_h=p50,
        latency_p95_h=p95,
        conjunction_outage_days=_conjunction_outage_days(run, sources),
        longest_earth_gap_h=earth_gap,
        sources=tuple(sources.items()),
    )


def per_sol_series(run: RunData) -> list[PerSol]:
    """Per-sol series per lander for the report: data returned (``delivery.csv``), else link
    capacity (``volumes_per_sol.csv``, then contact volumes), else passes per sol."""
    info = run.scenario
    out: list[PerSol] = []
    for node in info.landers:
        name = node.name
        if run.delivery is not None:
            out.append(_mbit_per_sol(run.delivery, name, "delivered_bits", "data returned"))
            continue
        if run.volumes is not None:
            out.append(_mbit_per_sol(run.volumes, name, "volume_bits", "link capacity"))
            continue
        c = run.contacts
        if c is None:
            continue
        lon = node.lon_east_deg if math.isfinite(node.lon_east_deg) else 0.0
        prox, mine = proximity_mask(c, name), _own_links_mask(c, name)
        first = int(local_sol(info.start_tdb_s, lon))
        vol = c.get("volume_bits")[mine]
        if vol.size and np.isfinite(vol).all():
            sol = local_sol(c["start_tdb_s"][mine], lon) - first
            sols, vals = _group_sum(sol.astype(float), vol / 1e6)
            out.append(PerSol(name, sols, vals, "link capacity", "Mbit", c.path.name))
        else:
            sol = local_sol(c["start_tdb_s"][prox], lon) - first
            sols, vals = _group_sum(sol.astype(float), np.ones(sol.size))
            out.append(PerSol(name, sols, vals, "passes", "passes", c.path.name))
    return out


def _mbit_per_sol(table: Table, name: str, column: str, label: str) -> PerSol:
    """``column`` (bits) of lander ``name`` summed per sol of a per-sol table, in Mbit, sols
    counted from the table's first."""
    m = table["lander"] == name
    sols, vals = _group_sum(table["sol"][m], table[column][m] / 1e6)
    return PerSol(name, sols - (sols.min() if sols.size else 0), vals, label, "Mbit",
                  table.path.name)


def _group_sum(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.asarray(keys, dtype=float)
    ok = np.isfinite(keys)
    uniq, inv = np.unique(keys[ok], return_inverse=True)
    sums = np.zeros(uniq.size)
    np.add.at(sums, inv, np.nan_to_num(np.asarray(values, dtype=float)[ok]))
    return uniq, sums
