"""The contact table: the one schema every later stage reads (links, schedule, simulation).

Columns are numpy arrays of equal length; the schema is defined once here. Times are TDB
seconds past J2000 inside; UTC ISO 8601 strings are added only when writing files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["CONTACT_KINDS", "ContactTable"]

#: Allowed values of ``kind``.
CONTACT_KINDS: tuple[str, ...] = ("proximity", "orbiter_earth", "direct_earth")

@dataclass
class ContactTable:
    """Visibility windows, one row each, sorted by start.

    - ``source``/``target``: node names from the scenario (lander or orbiter first for
      proximity; the spacecraft first for Earth links).
    - ``kind``: one of :data:`CONTACT_KINDS`.
    - ``start_tdb_s``/``end_tdb_s``: window edges, TDB s past J2000 (sender's time for Earth
      links, see the conventions).
    - ``max_elevation_deg``/``max_elevation_tdb_s``: elevation of the far end seen from the
      surface end (lander or Earth station) at its maximum, and when.
    - ``min_range_km``/``max_range_km``: over the window.
    - ``owlt_s``: one-way light time at the window's midpoint (0 for proximity).
    - ``rate_bps_mean``/``volume_bits``: filled by the links stage (NaN until then).
    """

    source: np.ndarray
    target: np.ndarray
    kind: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    max_elevation_deg: np.ndarray
    max_elevation_tdb_s: np.ndarray
    min_range_km: np.ndarray
    max_range_km: np.ndarray
    owlt_s: np.ndarray
    rate_bps_mean: np.ndarray = field(default_factory=lambda: np.empty(0))
    volume_bits: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        n = len(self.start_tdb_s)
        for f in fields(self):
            v = np.asarray(getattr(self, f.name))
            if f.name in ("rate_bps_mean", "volume_bits") and v.size == 0 and n:
                v = np.full(n, np.nan)
            v = v.astype(object) if f.name in ("source", "target", "kind") else v.astype(float)
            if len(v) != n:
                raise ValueError(f"column {f.name} has {len(v)} rows, expected {n}")
            setattr(self, f.name, v)

    def __len__(self) -> int:
        return len(self.start_tdb_s)

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_tdb_s - self.start_tdb_s

    @classmethod
    def empty(cls) -> ContactTable:
        e = np.empty(0)
        return cls(e.astype(object), e.astype(object), e.astype(object), e, e, e, e, e, e, e)

    @classmethod
    def concat(cls, tables: list[ContactTable]) -> ContactTable:
        """Concatenate tables and sort rows by (start, source, target)."""
        if not tables:
            return cls.empty()
        cols = {f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(cls)}
        out = cls(**cols)
        return out.take(
            np.lexsort((out.target.astype(str), out.source.astype(str), out.start_tdb_s))
        )

    def take(self, index: np.ndarray) -> ContactTable:
        """Rows ``index`` (integer or boolean array) as a new table."""
        return ContactTable(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def select(
        self, source: str | None = None, target: str | None = None, kind: str | None = None
    ) -> ContactTable:
        """Rows matching the given source, target and/or kind."""
        mask = np.ones(len(self), dtype=bool)
        if source is not None:
            mask &= self.source == source
        if target is not None:
            mask &= self.target == target
        if kind is not None:
            mask &= self.kind == kind
        return self.take(mask)

    def with_links(self, rate_bps_mean: np.ndarray, volume_bits: np.ndarray) -> ContactTable:
        """A copy with the link columns filled."""
        cols = {f.name: getattr(self, f.name) for f in fields(self)}
        cols["rate_bps_mean"] = np.asarray(rate_bps_mean, dtype=float)
        cols["volume_bits"] = np.asarray(volume_bits, dtype=float)
        return ContactTable(**cols)
