"""Per-sol and per-day tables of the links stage: ``volumes_per_sol`` and Earth capacity.

Per-sol volumes split each pass at the lander's LMST midnight
(:mod:`marsrelay.geometry.solar_time`); Earth capacity per day splits at UTC midnight. Both sum
over stations, so simultaneous views of one spacecraft by two stations count twice (the schedule
stage picks one). The builders take per-interval records from
:func:`marsrelay.links.compute.compute_links`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from marsrelay.geometry.solar_time import sol_start_tdb_s
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.rundir import schema
from marsrelay.rundir.tables import OutputTable, utc_column
from marsrelay.scenario import Scenario

__all__ = [
    "PerDayVolumes",
    "PerSolVolumes",
    "per_day_table",
    "per_sol_table",
]

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


def per_sol_table(parts: list, scenario: Scenario) -> PerSolVolumes:
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


def per_day_table(parts: list, scenario: Scenario) -> PerDayVolumes:
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
