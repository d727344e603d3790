"""The contacts stage as the pipeline runs it: ``run(scenario, config) -> ContactsResult``.

The result holds every contact window (:class:`~marsrelay.contacts.table.ContactTable`) and
the spans of solar conjunction that block Earth links; ``tables()`` gives ``contacts`` and
``conjunction`` for the run folder (:mod:`marsrelay.rundir.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marsrelay.contacts.api import search_contacts
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.table import ContactTable
from marsrelay.progress import ProgressCallback
from marsrelay.rundir import schema
from marsrelay.rundir.tables import OutputTable, utc_column
from marsrelay.scenario import Scenario

__all__ = ["ContactsConfig", "ContactsResult", "contacts_output_table", "run"]


@dataclass(frozen=True)
class ContactsConfig:
    """How the contact search runs (the results do not depend on ``workers``).

    - ``min_duration_s``: no window longer than this is missed (s);
    - ``tol_s``: window edges are located to this (s);
    - ``workers``: processes sharing the pairs (None: up to 2 for spans over 5 days).
    """

    min_duration_s: float = 1.0
    tol_s: float = 1e-5
    workers: int | None = None


@dataclass(frozen=True)
class ContactsResult:
    """Every contact window of a scenario and the conjunction spans (TDB s past J2000) during
    which the Sun-Earth-Mars angle is below ``conjunction_sep_deg`` (Earth links blocked)."""

    contacts: ContactTable
    conjunction_tdb_s: tuple[tuple[float, float], ...]
    conjunction_sep_deg: float

    def tables(self) -> tuple[OutputTable, ...]:
        """``contacts`` and ``conjunction`` for the run folder."""
        return (contacts_output_table(self.contacts), self._conjunction_table())

    def _conjunction_table(self) -> OutputTable:
        w = np.asarray(self.conjunction_tdb_s, dtype=float).reshape(-1, 2)
        return OutputTable(schema.CONJUNCTION, {
            "start_utc": utc_column(w[:, 0]), "end_utc": utc_column(w[:, 1]),
            "duration_s": w[:, 1] - w[:, 0],
            "threshold_deg": np.full(len(w), self.conjunction_sep_deg),
            "start_tdb_s": w[:, 0], "end_tdb_s": w[:, 1],
        })


def contacts_output_table(table: ContactTable) -> OutputTable:
    """The ``contacts`` table of the run folder (rows by start, source, target)."""
    order = np.lexsort((table.target.astype(str), table.source.astype(str), table.start_tdb_s))
    t = table.take(order)
    return OutputTable(schema.CONTACTS, {
        "source": t.source, "target": t.target, "kind": t.kind,
        "start_utc": utc_column(t.start_tdb_s), "end_utc": utc_column(t.end_tdb_s),
        "duration_s": t.duration_s, "max_elevation_deg": t.max_elevation_deg,
        "max_elevation_utc": utc_column(t.max_elevation_tdb_s),
        "min_range_km": t.min_range_km, "max_range_km": t.max_range_km, "owlt_s": t.owlt_s,
        "rate_bps_mean": t.rate_bps_mean, "volume_bits": t.volume_bits,
        "start_tdb_s": t.start_tdb_s, "end_tdb_s": t.end_tdb_s,
        "max_elevation_tdb_s": t.max_elevation_tdb_s,
    })


def _blocked(allowed: Intervals | None, t0: float, t1: float) -> tuple[tuple[float, float], ...]:
    """The complement of the conjunction-free intervals inside ``[t0, t1]``."""
    if allowed is None:
        return ()
    order = np.argsort(allowed.start)
    blocked: list[tuple[float, float]] = []
    cursor = t0
    for a, b in zip(allowed.start[order], allowed.end[order], strict=True):
        if a > cursor:
            blocked.append((cursor, float(a)))
        cursor = max(cursor, float(b))
    if cursor < t1:
        blocked.append((cursor, t1))
    return tuple(blocked)


def run(scenario: Scenario, config: ContactsConfig | None = None, *,
        progress: ProgressCallback | None = None) -> ContactsResult:
    """Every contact window of ``scenario`` and its conjunction spans.

    Raises :class:`~marsrelay.errors.InputError` for a span the ephemeris or a trajectory does
    not cover, or an orbit inside Mars.
    """
    cfg = config or ContactsConfig()
    table, allowed = search_contacts(scenario, progress, min_duration_s=cfg.min_duration_s,
                                     tol_s=cfg.tol_s, workers=cfg.workers)
    blocked = _blocked(allowed, scenario.start_tdb_s, scenario.end_tdb_s)
    return ContactsResult(table, blocked, scenario.conjunction_sep_deg)
