"""The relay-pass selection problem: its definition and the arrays that hold it.

Candidate passes are the ``proximity`` rows of a :class:`~marsrelay.contacts.table.ContactTable`
whose ``volume_bits`` the links stage has filled. The problem says which passes can be taken
together and how much each may carry:

- **radios**: an orbiter serves one lander at a time, and a lander talks to one orbiter at a
  time. Passes of one orbiter must also leave ``min_gap_s`` between them. Both rules are
  interval conflicts, stored as the maximal cliques of the interval graphs (exact, and the
  strongest linear form of "at most one of these").
- **sols and demand**: each lander's time is cut at its LMST midnights
  (:mod:`marsrelay.geometry.solar_time`); a pass belongs to the sol it starts in. Delivery
  counts up to
  the lander's demand per sol (pro-rated for the partial sols at the horizon's edges).
- **deadline and orbiter-to-Earth capacity**: data relayed during a lander's sol must be home
  by ``deadline_lmst_h`` of the next sol. For every orbiter and every window ``[a, b]`` where
  ``a`` is the start of a lander sol and ``b`` a deadline, the data of the passes that start in
  the window and are due by ``b`` cannot exceed what the orbiter can downlink in the window
  (its ``orbiter_earth`` contacts, one station at a time, times ``earth_share``). These are
  necessary conditions of a feasible downlink order (Hall's condition for
  earliest-deadline-first on the sol grid); windows that cannot bind are dropped, and so are
  windows that end after the horizon (downlink after it is unknown).
- **orbiter limits**: at most ``max_passes_per_sol`` passes per Mars sol (sols of Mars
  coordinated time, the LMST of longitude 0).
- **blackouts and fixed requests**: passes touching a lander's or orbiter's blackout and passes
  marked ``forbid`` are excluded (with that reason); passes marked ``require`` must be taken.
- **split passes** (``split_passes = true``): where two landers' passes on one orbiter overlap,
  each lander's part of the overflight before or after a hand-over is a candidate of its own (a
  share of the pass, :mod:`marsrelay.schedule.splits`); at most one of a pass and its shares is
  taken, and a share keeps ``max(switch_time_s, min_gap_s)`` from another lander's pass on the
  same orbiter.

Volumes inside the optimiser are integers in kbit (``floor(bits / 1000)``).

This module holds the types only; :func:`marsrelay.schedule.build.build_problem` fills them,
one named step per rule above (:mod:`~marsrelay.schedule.candidates`,
:mod:`~marsrelay.schedule.lander_sols`, :mod:`~marsrelay.schedule.conflicts`,
:mod:`~marsrelay.schedule.downlink`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.errors import InputError
from marsrelay.geometry.time import tdb_to_utc

__all__ = [
    "KBIT",
    "WEIGHT_SCALE",
    "CapacityWindow",
    "DownlinkFlow",
    "LanderNode",
    "OrbiterNode",
    "PassLimit",
    "RelayProblem",
    "Windows",
    "node_index",
]

#: Bits per optimiser volume unit.
KBIT: int = 1000
#: Priorities are turned into integer weights ``round(priority * WEIGHT_SCALE)``.
WEIGHT_SCALE: int = 1000

#: Time windows ``((start, end), ...)``, TDB s (blackouts).
Windows = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LanderNode:
    """A lander as the scheduler sees it: name, east longitude (for its LMST), blackouts."""

    name: str
    lon_east_deg: float
    blackouts: Windows = ()


@dataclass(frozen=True)
class OrbiterNode:
    """An orbiter as the scheduler sees it: name and blackouts (TDB s windows)."""

    name: str
    blackouts: Windows = ()


@dataclass(frozen=True)
class CapacityWindow:
    """Orbiter ``orbiter`` can downlink at most ``cap_kbit`` during ``[start, deadline]``
    (TDB s); ``members`` are the pass indices bound by it."""

    orbiter: int
    start_tdb_s: float
    deadline_tdb_s: float
    cap_kbit: int
    members: np.ndarray


@dataclass(frozen=True)
class DownlinkFlow:
    """One orbiter's capacity windows in transport form (exactly equivalent, much smaller).

    Time is cut at ``edges_tdb_s``; segment ``k`` (between edges ``k`` and ``k + 1``) can carry
    ``segment_cap_kbit[k]``. Passes released at the same sol start and due at the same deadline
    form a class; class ``c`` (passes ``class_members[c]``) may use segments
    ``class_first[c] <= k < class_last[c]``. By Hall's theorem for interval supplies, flows
    exist exactly when every capacity window holds.
    """

    orbiter: int
    edges_tdb_s: np.ndarray
    segment_cap_kbit: np.ndarray
    class_members: tuple[np.ndarray, ...]
    class_first: np.ndarray
    class_last: np.ndarray


@dataclass(frozen=True)
class PassLimit:
    """At most ``limit`` of the passes ``members`` (one orbiter, one Mars sol)."""

    orbiter: int
    mtc_sol: int
    limit: int
    members: np.ndarray


@dataclass
class RelayProblem:
    """Everything the solvers and the explanation need, as arrays over candidate passes.

    Pass arrays (length ``n``): ``lander``/``orbiter`` (node indices), ``start_tdb_s``,
    ``end_tdb_s``, ``volume_bits`` (from the links stage), ``volume_kbit`` (optimiser units, 0
    for excluded passes), ``group`` (index of the lander sol it belongs to), ``mtc_sol``,
    ``fixed`` (+1 required, -1 forbidden, 0 free), ``excluded`` (reason code or ``""``) and
    ``excluded_detail``.

    Group arrays (one per lander sol inside the horizon): ``group_lander``, ``group_sol``
    (local sol number), ``group_start_tdb_s``/``group_end_tdb_s`` (clipped to the horizon),
    ``group_deadline_tdb_s``, ``group_demand_bits``, ``group_demand_kbit``.

    Split passes: the whole passes come first; shares of them (split passes, see
    :mod:`marsrelay.schedule.splits`) follow, with ``share_of`` the index of their whole pass
    (-1 for a whole pass), the whole pass's lander, orbiter and group, and their own window
    and volume. ``handover_s`` is each orbiter's hand-over time inside a split pass (s).
    """

    landers: tuple[LanderNode, ...]
    orbiters: tuple[OrbiterNode, ...]
    config: ScheduleConfig
    horizon_start_tdb_s: float
    horizon_end_tdb_s: float
    lander: np.ndarray
    orbiter: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    volume_bits: np.ndarray
    volume_kbit: np.ndarray
    group: np.ndarray
    mtc_sol: np.ndarray
    fixed: np.ndarray
    excluded: np.ndarray
    excluded_detail: np.ndarray
    group_lander: np.ndarray
    group_sol: np.ndarray
    group_start_tdb_s: np.ndarray
    group_end_tdb_s: np.ndarray
    group_deadline_tdb_s: np.ndarray
    group_demand_bits: np.ndarray
    group_demand_kbit: np.ndarray
    lander_weight: np.ndarray
    min_gap_s: np.ndarray
    cliques: list[np.ndarray] = field(default_factory=list)
    limits: list[PassLimit] = field(default_factory=list)
    capacity: list[CapacityWindow] = field(default_factory=list)
    flows: list[DownlinkFlow] = field(default_factory=list)
    earth_capacity_modelled: bool = True
    share_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    handover_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if len(self.share_of) != len(self.lander):
            self.share_of = np.full(len(self.lander), -1, dtype=np.int64)
        if len(self.handover_s) != len(self.orbiters):
            self.handover_s = np.asarray(self.min_gap_s, dtype=float).copy()

    def __len__(self) -> int:
        return len(self.lander)

    @property
    def n_whole(self) -> int:
        """Number of whole passes (the first rows; shares follow)."""
        return int(np.count_nonzero(self.share_of < 0))

    @property
    def active(self) -> np.ndarray:
        """Indices of the passes the solvers choose among (not excluded)."""
        return np.flatnonzero(self.excluded == "")

    def usable_kbit(self) -> np.ndarray:
        """Most each pass can carry in any plan, kbit: its volume, its lander sol's demand, and
        every capacity window it is in. Used as the coefficient of ``v_p <= U_p x_p`` (a
        tighter linear relaxation than the pass volume alone when capacity or demand is
        small)."""
        usable = np.minimum(self.volume_kbit, self.group_demand_kbit[self.group])
        for w in self.capacity:
            usable[w.members] = np.minimum(usable[w.members], max(w.cap_kbit, 0))
        return usable

    def pass_label(self, p: int) -> str:
        """``lander/orbiter start-UTC`` of pass ``p``, for messages."""
        return (f"{self.landers[self.lander[p]].name}/{self.orbiters[self.orbiter[p]].name} "
                f"{tdb_to_utc(self.start_tdb_s[p], digits=0)}")

    @property
    def weight(self) -> np.ndarray:
        """Integer objective weight of each pass (its lander's)."""
        return self.lander_weight[self.lander]

    def neighbours(self) -> list[set[int]]:
        """For each pass, the passes it cannot be taken with (same clique)."""
        out: list[set[int]] = [set() for _ in range(len(self))]
        for clique in self.cliques:
            members = clique.tolist()
            for p in members:
                out[p].update(members)
        for p, s in enumerate(out):
            s.discard(p)
        return out

    def conflict_kind(self, p: int, q: int) -> str:
        """Why passes ``p`` and ``q`` exclude each other: ``orbiter_busy`` (same orbiter,
        overlapping), ``min_gap`` (same orbiter, too close), ``switch_time`` (a share and
        another lander's pass on the same orbiter, closer than the hand-over time) or
        ``lander_busy``."""
        overlap = (self.start_tdb_s[p] < self.end_tdb_s[q]) and (
            self.start_tdb_s[q] < self.end_tdb_s[p])
        if self.orbiter[p] == self.orbiter[q]:
            if overlap:
                return "orbiter_busy"
            gap = max(self.start_tdb_s[q] - self.end_tdb_s[p],
                      self.start_tdb_s[p] - self.end_tdb_s[q])
            return "min_gap" if gap < self.min_gap_s[self.orbiter[p]] else "switch_time"
        return "lander_busy"

    def memberships(self) -> tuple[list[list[int]], list[list[int]]]:
        """For each pass, the indices of the capacity windows and of the pass limits it is in."""
        caps: list[list[int]] = [[] for _ in range(len(self))]
        lims: list[list[int]] = [[] for _ in range(len(self))]
        for k, w in enumerate(self.capacity):
            for p in w.members.tolist():
                caps[p].append(k)
        for k, lim in enumerate(self.limits):
            for p in lim.members.tolist():
                lims[p].append(k)
        return caps, lims


def node_index(name: str, names: Sequence[str], field_name: str) -> int:
    """Position of ``name`` in ``names``; :class:`~marsrelay.errors.InputError` naming the
    config field ``field_name`` and the allowed names when it is not there."""
    if name not in names:
        raise InputError(f"unknown name {name!r}", field=field_name, allowed=", ".join(names))
    return list(names).index(name)
