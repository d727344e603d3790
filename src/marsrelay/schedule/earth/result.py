"""The Earth allocation: the passes granted, the requests left unmet and why, its tables.

:class:`EarthAllocation` holds the chosen passes (columnar), each cut into the pieces of its
Earth windows inside it (:attr:`EarthAllocation.contacts`, a contact table), and the unmet
requests with their reason:

- ``no_view``: no window of the pass length at any antenna serving the spacecraft that day or
  sol (Mars below the stations' masks, occultation, conjunction, blackouts);
- ``antenna_busy``: every window left is on an antenna already at its capacity then;
- ``spacecraft_busy``: every window left overlaps the spacecraft's other passes;
- ``not_chosen``: none of the above (only when the search stopped at its time limit).

:meth:`EarthAllocation.apply` replaces a contact table's Earth rows by the allocated pieces:
the relay schedule's downlink capacity and the simulation see only allocated passes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from marsrelay.contacts.table import ContactTable
from marsrelay.rundir import schema
from marsrelay.rundir.tables import OutputTable, utc_column
from marsrelay.schedule.earth.candidates import PairWindows, pair_windows
from marsrelay.schedule.earth.problem import EarthProblem
from marsrelay.schedule.earth.solve import EarthSelection, IntervalLoad

__all__ = ["UNMET_REASONS", "EarthAllocation", "make_allocation"]

UNMET_REASONS: tuple[str, ...] = ("no_view", "antenna_busy", "spacecraft_busy", "not_chosen")


@dataclass
class EarthAllocation:
    """Allocated Earth passes (arrays, sorted by start) and unmet requests, with the solve.

    Pass arrays: ``craft``, ``kind``, ``station``, ``complex`` (names), ``start_tdb_s``,
    ``end_tdb_s``, ``period`` (day or sol label), ``explicit``, ``mode`` (``single`` /
    ``mspa``), ``max_downlinks``, ``contact_s``, ``volume_bits``, ``owlt_s``. ``contacts``: the
    passes' pieces as contact rows (Earth windows clipped to the passes). Unmet requests:
    ``unmet_craft``, ``unmet_kind``, ``unmet_period``, ``unmet_start_tdb_s``,
    ``unmet_end_tdb_s``, ``unmet_reason``, ``unmet_detail`` (one row per missing pass).

    ``objective``/``greedy_objective``/``best_bound`` in the problem's value units; ``gap``
    relative to the bound; ``requested`` and ``granted`` count passes.
    """

    craft: np.ndarray
    kind: np.ndarray
    station: np.ndarray
    complex: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    period: np.ndarray
    explicit: np.ndarray
    mode: np.ndarray
    max_downlinks: np.ndarray
    contact_s: np.ndarray
    volume_bits: np.ndarray
    owlt_s: np.ndarray
    contacts: ContactTable
    unmet_craft: np.ndarray
    unmet_kind: np.ndarray
    unmet_period: np.ndarray
    unmet_start_tdb_s: np.ndarray
    unmet_end_tdb_s: np.ndarray
    unmet_reason: np.ndarray
    unmet_detail: np.ndarray
    solver: str
    status: str
    objective: int
    greedy_objective: int
    best_bound: float
    gap: float
    solve_s: float
    candidates: int
    requested: int

    def __len__(self) -> int:
        return len(self.craft)

    @property
    def granted(self) -> int:
        """Passes allocated."""
        return len(self.craft)

    @property
    def optimal_vs_greedy(self) -> float:
        """Objective of this plan over the greedy plan's (1 when they tie)."""
        return self.objective / max(self.greedy_objective, 1)

    def apply(self, contacts: ContactTable) -> ContactTable:
        """``contacts`` with its Earth rows (``orbiter_earth``, ``direct_earth``) replaced by
        the allocated passes' pieces, sorted by start (proximity rows keep their order)."""
        keep = contacts.kind == "proximity"
        return ContactTable.concat([contacts.take(keep), self.contacts])

    def tables(self) -> tuple[OutputTable, ...]:
        """``earth_passes`` (:data:`marsrelay.rundir.schema.EARTH_PASSES`)."""
        n, u = len(self), len(self.unmet_craft)
        nan_u = np.full(u, np.nan)
        blank_u = np.full(u, "", dtype=object)
        start = np.concatenate([self.start_tdb_s, self.unmet_start_tdb_s])
        end = np.concatenate([self.end_tdb_s, self.unmet_end_tdb_s])
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(self.contact_s > 0, self.volume_bits / self.contact_s, np.nan)
        status = np.where(self.explicit, "explicit", "allocated").astype(object)
        return (OutputTable(schema.EARTH_PASSES, {
            "pass_id": np.arange(1, n + u + 1, dtype=np.int64),
            "orbiter": np.concatenate([self.craft, self.unmet_craft]).astype(object),
            "kind": np.concatenate([self.kind, self.unmet_kind]).astype(object),
            "station": np.concatenate([self.station, blank_u]).astype(object),
            "complex": np.concatenate([self.complex, blank_u]).astype(object),
            "status": np.concatenate([status, np.full(u, "unmet", dtype=object)]),
            "start_utc": utc_column(start), "end_utc": utc_column(end),
            "duration_s": end - start,
            "period": np.concatenate([self.period, self.unmet_period]).astype(object),
            "mode": np.concatenate([self.mode, blank_u]).astype(object),
            "max_downlinks": np.concatenate([self.max_downlinks.astype(float), nan_u]),
            "contact_s": np.concatenate([self.contact_s, np.zeros(u)]),
            "rate_bps": np.concatenate([rate, nan_u]),
            "volume_bits": np.concatenate([self.volume_bits, np.zeros(u)]),
            "owlt_s": np.concatenate([self.owlt_s, nan_u]),
            "reason": np.concatenate([np.full(n, "", dtype=object), self.unmet_reason]),
            "detail": np.concatenate([np.full(n, "", dtype=object), self.unmet_detail]),
            "start_tdb_s": start, "end_tdb_s": end,
        }),)


def _modes(station: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``mspa`` where another pass uses the same antenna at some instant, else ``single``."""
    out = np.full(len(station), "single", dtype=object)
    for k in range(len(station)):
        others = (station == station[k]) & (start < end[k]) & (end > start[k])
        if others.sum() > 1:
            out[k] = "mspa"
    return out


def _pieces(pb: EarthProblem, chosen: np.ndarray, contacts: ContactTable
            ) -> tuple[ContactTable, np.ndarray]:
    """The chosen passes' Earth windows clipped to them (contact rows) and each pass's
    volume (the sum of its pieces), bits."""
    cache: dict[tuple[int, int], PairWindows] = {}
    rows: list[int] = []
    starts: list[float] = []
    ends: list[float] = []
    vols: list[float] = []
    total = np.zeros(len(chosen))
    for j, c in enumerate(chosen.tolist()):
        key = (int(pb.cand_craft[c]), int(pb.cand_station[c]))
        if key not in cache:
            cache[key] = pair_windows(contacts, pb.craft[key[0]], pb.stations[key[1]],
                                      pb.craft_kind[key[0]], pb.blackouts(*key))
        w = cache[key]
        a, b = pb.start_tdb_s[c], pb.end_tdb_s[c]
        s, e = np.maximum(w.start_tdb_s, a), np.minimum(w.end_tdb_s, b)
        m = e > s
        dur = np.maximum(w.end_tdb_s[m] - w.start_tdb_s[m], 1e-9)
        v = w.volume_bits[m] * (e[m] - s[m]) / dur
        cap = pb.rate_cap_bps[key[0]]
        if np.isfinite(cap):
            v = np.minimum(v, cap * (e[m] - s[m]))
        rows += w.row[m].tolist()
        starts += s[m].tolist()
        ends += e[m].tolist()
        vols += v.tolist()
        total[j] = float(v.sum())
    idx = np.asarray(rows, dtype=np.int64)
    base = contacts.take(idx)
    start_a, end_a, vol_a = (np.asarray(x, dtype=float) for x in (starts, ends, vols))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(end_a > start_a, vol_a / (end_a - start_a), 0.0)
    table = ContactTable(base.source, base.target, base.kind, start_a, end_a,
                         base.max_elevation_deg, base.max_elevation_tdb_s, base.min_range_km,
                         base.max_range_km, base.owlt_s, rate, vol_a)
    return ContactTable.concat([table]), total


def _unmet(pb: EarthProblem, selected: np.ndarray, status: str
           ) -> tuple[list[int], list[str], list[str]]:
    """Per missing pass: its request, reason code and detail."""
    craft_load, antenna_load = IntervalLoad(), IntervalLoad()
    users: dict[int, list[int]] = {}
    for c in np.flatnonzero(selected).tolist():
        a, b = float(pb.start_tdb_s[c]), float(pb.end_tdb_s[c])
        craft_load.add(int(pb.cand_craft[c]), a, b)
        antenna_load.add(int(pb.cand_station[c]), a, b)
        users.setdefault(int(pb.cand_station[c]), []).append(c)
    granted = np.bincount(pb.request[selected & (pb.request >= 0)],
                          minlength=len(pb.req_limit))
    out_r: list[int] = []
    out_reason: list[str] = []
    out_detail: list[str] = []
    for r in np.flatnonzero(granted < pb.req_limit).tolist():
        k = int(pb.req_craft[r])
        missing = int(pb.req_limit[r] - granted[r])
        cands = np.flatnonzero((pb.request == r) & ~selected)
        busy: Counter[str] = Counter()
        reason, detail = "", ""
        free_antenna = free_craft = False
        for c in cands.tolist():
            a, b, s = float(pb.start_tdb_s[c]), float(pb.end_tdb_s[c]), int(pb.cand_station[c])
            craft_ok = craft_load.peak(k, a, b) == 0
            antenna_ok = antenna_load.peak(s, a, b) < pb.station_mspa[s]
            if craft_ok and antenna_ok:
                reason = "not_chosen"
                detail = f"a window was free ({pb.pass_label(c)}); the search stopped at its " \
                         f"time limit ({status})"
                break
            free_craft |= craft_ok
            free_antenna |= antenna_ok
            if craft_ok:
                for u in users.get(s, []):
                    if pb.start_tdb_s[u] < b and pb.end_tdb_s[u] > a:
                        busy[f"{pb.craft[pb.cand_craft[u]]}@{pb.stations[s]}"] += 1
        if not reason:
            if len(cands) == 0:
                reason = "no_view"
                detail = f"no Earth window of the pass length for {pb.craft[k]} in " \
                         f"{pb.req_label[r]}"
            elif free_craft:
                reason = "antenna_busy"
                who = ", ".join(name for name, _ in busy.most_common(4))
                detail = f"every antenna in view is at capacity ({who})"
            else:
                reason = "spacecraft_busy"
                detail = f"every window left overlaps {pb.craft[k]}'s other passes"
        out_r += [r] * missing
        out_reason += [reason] * missing
        out_detail += [detail] * missing
    return out_r, out_reason, out_detail


def make_allocation(pb: EarthProblem, sel: EarthSelection, greedy: EarthSelection,
                    contacts: ContactTable) -> EarthAllocation:
    """The :class:`EarthAllocation` of ``sel`` on ``contacts`` (the linked contacts the
    problem was built from; ``greedy``: the baseline's plan, for the comparison)."""
    chosen = np.flatnonzero(sel.selected)
    chosen = chosen[np.lexsort((pb.cand_station[chosen], pb.start_tdb_s[chosen]))]
    pieces, volume = _pieces(pb, chosen, contacts)
    station = np.asarray(pb.stations, dtype=object)[pb.cand_station[chosen]] if len(
        chosen) else np.empty(0, dtype=object)
    start, end = pb.start_tdb_s[chosen], pb.end_tdb_s[chosen]
    req = pb.request[chosen]
    labels = np.where(req >= 0, pb.req_label[np.maximum(req, 0)] if len(pb.req_label) else "",
                      "") if len(chosen) else np.empty(0, dtype=object)
    craft_names = np.asarray(pb.craft, dtype=object)
    kinds = np.asarray(pb.craft_kind, dtype=object)
    complexes = np.asarray(pb.station_complex, dtype=object)
    r, reason, detail = _unmet(pb, sel.selected, sel.status)
    r_a = np.asarray(r, dtype=np.int64)
    uc = pb.req_craft[r_a] if len(r_a) else np.zeros(0, dtype=np.int64)
    return EarthAllocation(
        craft=craft_names[pb.cand_craft[chosen]] if len(chosen) else np.empty(0, dtype=object),
        kind=kinds[pb.cand_craft[chosen]] if len(chosen) else np.empty(0, dtype=object),
        station=station,
        complex=complexes[pb.cand_station[chosen]] if len(chosen) else np.empty(0, dtype=object),
        start_tdb_s=start, end_tdb_s=end, period=np.asarray(labels, dtype=object),
        explicit=pb.fixed[chosen].copy(), mode=_modes(station, start, end),
        max_downlinks=pb.station_mspa[pb.cand_station[chosen]],
        contact_s=pb.contact_s[chosen].copy(), volume_bits=volume,
        owlt_s=pb.owlt_s[chosen].copy(), contacts=pieces,
        unmet_craft=craft_names[uc] if len(uc) else np.empty(0, dtype=object),
        unmet_kind=kinds[uc] if len(uc) else np.empty(0, dtype=object),
        unmet_period=pb.req_label[r_a] if len(r_a) else np.empty(0, dtype=object),
        unmet_start_tdb_s=pb.req_start_tdb_s[r_a], unmet_end_tdb_s=pb.req_end_tdb_s[r_a],
        unmet_reason=np.asarray(reason, dtype=object),
        unmet_detail=np.asarray(detail, dtype=object),
        solver=sel.solver, status=sel.status, objective=sel.objective,
        greedy_objective=greedy.objective, best_bound=sel.best_bound, gap=sel.gap,
        solve_s=sel.solve_s, candidates=len(pb), requested=pb.requested,
    )
