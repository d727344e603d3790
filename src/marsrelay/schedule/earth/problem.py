"""The Earth pass allocation problem: candidate passes, requests and antennas, as arrays.

A *candidate* is one possible Earth pass: a spacecraft (an orbiter's track, or a lander's
direct-to-Earth session) on one antenna (a scenario station) over one window. The problem says
which candidates can be taken together:

- **spacecraft**: a spacecraft has one Earth link at a time (one high-gain antenna and X-band
  transmitter): its passes never overlap;
- **antennas**: at any instant an antenna serves at most its capacity (``mspa`` downlinks at
  once; 1 when it serves one spacecraft at a time);
- **requests**: an orbiter gets at most ``passes_per_day`` tracks per UTC day, a lander at most
  ``sessions_per_sol`` sessions per local sol (a pass belongs to the day or sol it starts in);
  explicit tracks of the scenario are taken as given (``fixed``).

The objective ranks plans by the number of requested passes they grant first, then by the
volume those passes carry: each candidate is worth ``value = request_weight + volume units``
with ``request_weight`` larger than any plan's total volume units (so one more granted pass
always beats any volume), see :func:`candidate_values`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["VOLUME_UNIT_BITS", "EarthProblem", "Windows", "candidate_values"]

#: Volume unit of the optimiser's objective, bits (0.1 Mbit).
VOLUME_UNIT_BITS: float = 1e5

#: Time windows ``((start, end), ...)``, TDB s (blackouts).
Windows = tuple[tuple[float, float], ...]


@dataclass
class EarthProblem:
    """Candidates, requests and antennas of one Earth allocation (arrays over candidates).

    Node tables: ``craft`` names (orbiters, then landers) with ``craft_kind``
    (``orbiter_earth`` or ``direct_earth``); ``stations`` with their ``station_complex`` and
    ``station_mspa`` (downlinks at once).

    Candidate arrays (length ``n``): ``cand_craft``/``cand_station`` (indices),
    ``start_tdb_s``/``end_tdb_s`` (the pass window, TDB s), ``contact_s`` (time in view inside
    it), ``volume_bits`` (what it carries), ``owlt_s`` (one-way light time), ``request``
    (index of its request, -1 for a fixed pass), ``fixed`` (explicit track of the scenario)
    and ``value`` (objective weight).

    Request arrays (one per spacecraft and UTC day or local sol): ``req_craft``, ``req_label``
    (the day ``YYYY-MM-DD`` or ``sol N``), ``req_start_tdb_s``/``req_end_tdb_s`` (clipped to
    the horizon) and ``req_limit`` (passes it may get).
    """

    craft: tuple[str, ...]
    craft_kind: tuple[str, ...]
    stations: tuple[str, ...]
    station_complex: tuple[str, ...]
    station_mspa: np.ndarray
    horizon_start_tdb_s: float
    horizon_end_tdb_s: float
    cand_craft: np.ndarray
    cand_station: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    contact_s: np.ndarray
    volume_bits: np.ndarray
    owlt_s: np.ndarray
    request: np.ndarray
    fixed: np.ndarray
    req_craft: np.ndarray
    req_label: np.ndarray
    req_start_tdb_s: np.ndarray
    req_end_tdb_s: np.ndarray
    req_limit: np.ndarray
    value: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: Per spacecraft: the session rate cap of a lander (bps; NaN: the link's rate).
    rate_cap_bps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Per spacecraft and per station: blackout windows (TDB s) cut out of the Earth windows.
    craft_blackouts: tuple[Windows, ...] = ()
    station_blackouts: tuple[Windows, ...] = ()

    def __post_init__(self) -> None:
        if len(self.value) != len(self.start_tdb_s):
            self.value = candidate_values(self.volume_bits, self.req_limit)
        if len(self.rate_cap_bps) != len(self.craft):
            self.rate_cap_bps = np.full(len(self.craft), np.nan)

    def __len__(self) -> int:
        return len(self.start_tdb_s)

    def blackouts(self, craft: int, station: int) -> Windows:
        """Windows (TDB s) when spacecraft ``craft`` cannot use antenna ``station``."""
        own = self.craft_blackouts[craft] if craft < len(self.craft_blackouts) else ()
        ant = self.station_blackouts[station] if station < len(self.station_blackouts) else ()
        return tuple(own) + tuple(ant)

    @property
    def requested(self) -> int:
        """Passes requested in all (explicit tracks included)."""
        return int(self.req_limit.sum()) + int(self.fixed.sum())

    def pass_label(self, c: int) -> str:
        """``spacecraft@station start-UTC`` of candidate ``c``, for messages."""
        from marsrelay.geometry.time import tdb_to_utc

        return (f"{self.craft[self.cand_craft[c]]}@{self.stations[self.cand_station[c]]} "
                f"{tdb_to_utc(self.start_tdb_s[c], digits=0)}")


def candidate_values(volume_bits: np.ndarray, req_limit: np.ndarray) -> np.ndarray:
    """Objective weight of each candidate: a request weight larger than the volume units of
    any plan (``1 + requests x largest volume``), plus its own volume units
    (:data:`VOLUME_UNIT_BITS`); integers."""
    units = np.floor(np.nan_to_num(volume_bits) / VOLUME_UNIT_BITS).astype(np.int64)
    top = int(units.max()) if len(units) else 0
    weight = 1 + (int(req_limit.sum()) + len(units)) * top
    return weight + units
