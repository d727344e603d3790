"""Results of a simulation: per-sol delivery per lander, latency, buffer occupancy, outputs.

Tables for the run folder (:meth:`SimulationResult.tables`; columns in
:mod:`marsrelay.rundir.schema`): ``bundles`` (one row per bundle), ``delivery`` (per lander and
local sol, LMST midnight to midnight), ``latency`` (percentiles per source and priority, and
overall) and ``buffers`` (storage in use per node, sampled every ``sample_s``: the value at the
sample time, ``peak_bits`` the maximum since the previous sample, ``capacity_bits`` the node's
storage, empty when unlimited).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from marsrelay.constants import SOL_S
from marsrelay.rundir import schema
from marsrelay.rundir.tables import OutputTable, utc_column
from marsrelay.simulation.engine import (
    DROP_REASONS,
    STATUS_DELIVERED,
    STATUS_DROPPED,
    STATUS_STORED,
    SimulationOutcome,
)
from marsrelay.simulation.traffic import PRIORITY_NAMES

__all__ = [
    "LatencyStats",
    "SimulationResult",
]

_STATUS_NAMES = {STATUS_STORED: "stored", STATUS_DELIVERED: "delivered",
                 STATUS_DROPPED: "dropped"}


@dataclass(frozen=True)
class LatencyStats:
    """Latency of delivered bundles, s (NaN when none was delivered)."""

    count: int
    delivered: int
    p50_s: float
    p95_s: float
    max_s: float


def _latency(lat: np.ndarray) -> tuple[float, float, float]:
    d = lat[np.isfinite(lat)]
    if not len(d):
        return (np.nan, np.nan, np.nan)
    p50, p95 = np.percentile(d, [50.0, 95.0])
    return (float(p50), float(p95), float(d.max()))


def _num(x: float) -> str:
    if not np.isfinite(x):
        return ""
    return f"{x:.15g}" if abs(x) < 1e15 else f"{x:.0f}"


def _utc(t: np.ndarray) -> list[str]:
    from marsrelay.geometry.time import tdb_to_utc

    if not len(t):
        return []
    return [str(s) for s in np.atleast_1d(tdb_to_utc(np.asarray(t, dtype=float)))]


@dataclass
class SimulationResult:
    """A simulation outcome with its derived tables. ``lander_lon_east_deg`` fixes each
    lander's LMST sols (landers without one count sols from the start)."""

    outcome: SimulationOutcome
    lander_lon_east_deg: dict[str, float] = field(default_factory=dict)
    sample_s: float = 3600.0

    # ----------------------------------------------------------------- summary
    @property
    def latency(self) -> LatencyStats:
        """Latency over every delivered bundle."""
        o = self.outcome
        p50, p95, mx = _latency(o.latency_s)
        return LatencyStats(len(o.status), int(o.delivered.sum()), p50, p95, mx)

    def totals(self) -> dict[str, float]:
        """Bits generated, delivered, stored and dropped per reason (the conservation check)."""
        return dict(self.outcome.conservation)

    def sol_edges(self, lander: str) -> np.ndarray:
        """TDB s of the local sol boundaries covering the run for ``lander``."""
        o = self.outcome
        lon = self.lander_lon_east_deg.get(lander)
        if lon is None:
            n = int(np.ceil((o.end_tdb_s - o.start_tdb_s) / SOL_S)) + 1
            return o.start_tdb_s + SOL_S * np.arange(n + 1)
        from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s

        s0 = int(local_sol(o.start_tdb_s, lon))
        s1 = int(local_sol(o.end_tdb_s, lon))
        return sol_start_tdb_s(np.arange(s0, s1 + 2), lon)

    def delivery_rows(self) -> list[tuple[object, ...]]:
        """Rows of ``delivery`` (:data:`marsrelay.rundir.schema.DELIVERY`), per lander and sol."""
        o = self.outcome
        names = o.plan.node_names
        b = o.bundles
        rows: list[tuple[object, ...]] = []
        lat = o.latency_s
        for n, kind in enumerate(o.plan.node_kind):
            if kind != "lander":
                continue
            lander = names[n]
            mine = b.source == n
            edges = self.sol_edges(lander)
            lon = self.lander_lon_east_deg.get(lander)
            if lon is not None:
                from marsrelay.geometry.solar_time import local_sol

                first = int(local_sol(edges[0] + 1.0, lon))
            else:
                first = 0
            gen_sol = np.searchsorted(edges, b.created_tdb_s[mine], side="right") - 1
            deliv = mine & (o.status == STATUS_DELIVERED)
            del_sol = np.searchsorted(edges, o.done_tdb_s[deliv], side="right") - 1
            nsol = len(edges) - 1
            bits_m = b.bits[mine]
            gen = np.bincount(gen_sol, weights=bits_m, minlength=nsol)[:nsol]
            dgen = np.bincount(gen_sol, weights=np.where(o.status[mine] == STATUS_DELIVERED,
                                                         bits_m, 0.0), minlength=nsol)[:nsol]
            dd = np.bincount(np.clip(del_sol, 0, nsol - 1), weights=b.bits[deliv],
                             minlength=nsol)[:nsol]
            lat_m = lat[mine]
            lo = max(0, int(np.searchsorted(edges, o.start_tdb_s, side="right")) - 1)
            hi = min(nsol, int(np.searchsorted(edges, o.end_tdb_s, side="left")))
            starts = _utc(np.maximum(edges[lo:hi], o.start_tdb_s))
            ends = _utc(np.minimum(edges[lo + 1:hi + 1], o.end_tdb_s))
            for j, k in enumerate(range(lo, hi)):
                p50, p95, _ = _latency(lat_m[gen_sol == k])
                rows.append((lander, first + k, starts[j], ends[j], gen[k], dd[k], dgen[k],
                             p50, p95))
        return rows

    def latency_rows(self) -> list[tuple[object, ...]]:
        """Rows of ``latency``: per (source, priority) with bundles, then ``all``."""
        o = self.outcome
        b = o.bundles
        lat = o.latency_s
        rows: list[tuple[object, ...]] = []
        for n in np.unique(b.source):
            for p in np.unique(b.priority[b.source == n]):
                m = (b.source == n) & (b.priority == p)
                p50, p95, mx = _latency(lat[m])
                rows.append((o.plan.node_names[n], PRIORITY_NAMES[p], int(m.sum()),
                             int((o.status[m] == STATUS_DELIVERED).sum()), p50, p95, mx))
        s = self.latency
        rows.append(("all", "all", s.count, s.delivered, s.p50_s, s.p95_s, s.max_s))
        return rows

    def buffer_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample times (TDB s), storage in use at them and its maximum since the previous
        sample, bits, shape (nodes, samples)."""
        o = self.outcome
        n_nodes = len(o.plan.node_names)
        times = np.arange(o.start_tdb_s, o.end_tdb_s + self.sample_s, self.sample_s)
        times[-1] = min(times[-1], o.end_tdb_s) if len(times) > 1 else times[-1]
        used = np.zeros((n_nodes, len(times)))
        peak = np.zeros((n_nodes, len(times)))
        for n in range(n_nodes):
            m = o.occupancy_node == n
            if not m.any():
                continue
            t = o.occupancy_tdb_s[m]
            order = np.argsort(t, kind="stable")
            t = t[order]
            level = np.cumsum(o.occupancy_delta_bits[m][order])
            pos = np.searchsorted(t, times, side="right")
            used[n] = np.where(pos > 0, level[np.maximum(pos - 1, 0)], 0.0)
            # maximum of the step function over (times[k-1], times[k]]
            peak[n] = used[n]
            for k in range(1, len(times)):
                a, z = pos[k - 1], pos[k]
                top = float(level[a:z].max()) if z > a else -np.inf
                peak[n, k] = max(used[n, k - 1], top)
        return times, used, peak

    # ------------------------------------------------------------------ tables
    def bundles_table(self) -> OutputTable:
        """``bundles``: one row per bundle (:data:`marsrelay.rundir.schema.BUNDLES`)."""
        o = self.outcome
        b = o.bundles
        names = np.array(o.plan.node_names, dtype=object)
        hop_nodes = np.where(o.hops >= 0, o.plan.to_node[np.maximum(o.hops, 0)], -1)
        key = np.concatenate([b.source[:, None].astype(np.int32), hop_nodes], axis=1)
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        texts = np.array([">".join(names[v] for v in row if v >= 0) for row in uniq],
                         dtype=object)
        status = np.array([_STATUS_NAMES[s] for s in range(3)], dtype=object)[o.status]
        first = hop_nodes[:, 0]
        is_orbiter = np.array([k == "orbiter" for k in o.plan.node_kind] + [False])
        relay = np.where(is_orbiter[first], np.append(names, "")[first], "")
        reasons = np.array(["", *DROP_REASONS], dtype=object)[o.reason]
        return OutputTable(schema.BUNDLES, {
            "bundle_id": np.arange(len(b), dtype=np.int64),
            "source": names[b.source],
            "priority": b.priority.astype(np.int64),
            "size_bits": b.bits,
            "product": b.product,
            "created_utc": utc_column(b.created_tdb_s),
            "done_utc": utc_column(o.done_tdb_s),
            "status": status,
            "drop_reason": reasons,
            "node": names[o.node],
            "latency_s": o.latency_s,
            "n_hops": o.n_hops.astype(np.int64),
            "path": texts[inv.ravel()],
            "relay": relay,
            "created_tdb_s": b.created_tdb_s,
            "expiry_tdb_s": b.expiry_tdb_s,
            "done_tdb_s": o.done_tdb_s,
        })

    def buffers_table(self) -> OutputTable:
        """``buffers``: storage in use per lander and orbiter at each sample time."""
        times, used, peak = self.buffer_series()
        keep = [n for n, kind in enumerate(self.outcome.plan.node_kind) if kind != "station"]
        names = np.array(self.outcome.plan.node_names, dtype=object)
        capacity = np.asarray(self.outcome.storage_bits, dtype=float)
        capacity = np.where(np.isfinite(capacity), capacity, np.nan)
        t = np.tile(times, len(keep))
        return OutputTable(schema.BUFFERS, {
            "node": np.repeat(names[keep], len(times)),
            "time_utc": utc_column(t), "time_tdb_s": t,
            "used_bits": used[keep].ravel(), "peak_bits": peak[keep].ravel(),
            "capacity_bits": np.repeat(capacity[keep], len(times)),
        })

    def tables(self) -> tuple[OutputTable, ...]:
        """``bundles``, ``delivery``, ``latency`` and ``buffers`` for the run folder."""
        return (self.bundles_table(), _rows_table(schema.DELIVERY, self.delivery_rows()),
                _rows_table(schema.LATENCY, self.latency_rows()), self.buffers_table())


def _rows_table(spec: schema.TableSpec, rows: list[tuple[object, ...]]) -> OutputTable:
    """An output table from row tuples in the spec's column order."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(spec.columns)
    out = {}
    for col, values in zip(spec.columns, columns, strict=True):
        dtype = {"int": np.int64, "float": float}.get(col.type, object)
        out[col.name] = np.asarray(values, dtype=dtype)
    return OutputTable(spec, out)
