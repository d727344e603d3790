"""Split passes: two landers sharing one orbiter overflight, one after the other.

An orbiter's relay radio serves one lander at a time. When two landers' passes on one orbiter
overlap, the whole passes exclude each other (``orbiter_busy``); with ``[schedule]
split_passes = true`` the orbiter may instead serve one lander until a hand-over instant ``tau``
and the other from ``tau + h`` on, where ``h = max(switch_time_s, min_gap_s)`` of that orbiter.
Each lander's part of the overflight is a *share*: a shorter candidate pass of the same lander,
orbiter and lander sol, appended to the problem after the whole passes
(:attr:`~marsrelay.schedule.problem.RelayProblem.share_of` names its whole pass).

:func:`pass_shares` makes the shares. For every overlap ``[o0, o1)`` of two usable passes of
different landers on one orbiter, ``split_cuts + 1`` hand-over instants spread evenly over
``[o0 - h, o1]`` (at the ends one lander keeps its whole pass), in both orders (which lander
goes first). The first lander's share runs from its pass's start to ``tau`` (a *head*), the
second's from ``tau + h`` to its pass's end (a *tail*). Passes fixed by ``[[schedule.fixed]]``
get no shares (a required pass is taken whole). Shares equal to a whole pass are not
repeated; shares carrying no whole kbit (or less than ``min_pass_bits``) are dropped.

The solvers see shares as ordinary passes; the rules that make them exact live in
:mod:`marsrelay.schedule.conflicts`: a whole pass and its shares exclude each other (at most
one of them, so a lander never gets two parts of one overflight), and a share and a pass of
another lander on the same orbiter must be ``h`` apart (their lander radios and the orbiter's
pass limits count a share like any pass). Because the whole passes keep exactly the conflicts
they have without splits, the optimum with splits is never below the optimum without.

A share's volume is the link's volume over the share's window (:data:`ShareVolume`):
:func:`rate_profile_share_volume` integrates the links stage's rate profile (the same samples
and trapezoid rule as the pass's own volume); :func:`mean_rate_share_volume`, used when no
profile is available (hand-made contact tables), assumes the pass's mean rate throughout.

After every solve, :func:`prefer_whole_passes` undoes splits that are not needed (the
objective unchanged, every constraint kept): a chosen share becomes its whole pass where the
other landers' passes in the way can give their volume to their other passes of the same sol,
or is dropped where its own lander can carry its volume elsewhere. A plan marks a pass
``split`` only where that is not possible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from marsrelay.schedule.problem import KBIT, RelayProblem
from marsrelay.schedule.selection import Selection

__all__ = [
    "PassShares",
    "RateProfileLike",
    "ShareVolume",
    "mean_rate_share_volume",
    "pass_shares",
    "prefer_whole_passes",
    "rate_profile_share_volume",
    "with_no_shares",
]

#: Volume of sub-windows of passes: ``f(contact_row, start_tdb_s, end_tdb_s) -> bits``, arrays
#: of equal length; ``contact_row`` indexes the contact table given to ``build_problem``.
ShareVolume = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

#: Shares shorter than this are not made, s (their window is mostly rounding).
MIN_SHARE_S: float = 1.0


class RateProfileLike(Protocol):
    """What :func:`rate_profile_share_volume` reads of a rate profile (the links stage's
    :class:`marsrelay.links.RateProfile`): samples ``t_tdb_s`` (TDB s) and ``rate_bps``."""

    t_tdb_s: np.ndarray
    rate_bps: np.ndarray


@dataclass(frozen=True)
class PassShares:
    """Shares of passes (columnar): ``parent`` (index of the whole pass), ``start_tdb_s`` and
    ``end_tdb_s`` (the share's window, TDB s) and ``volume_bits``."""

    parent: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    volume_bits: np.ndarray

    def __len__(self) -> int:
        return len(self.parent)

    @staticmethod
    def none() -> PassShares:
        """No shares."""
        return PassShares(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0))


def mean_rate_share_volume(contacts_volume_bits: np.ndarray, contacts_start_tdb_s: np.ndarray,
                           contacts_end_tdb_s: np.ndarray) -> ShareVolume:
    """Share volumes at each pass's mean rate (``volume_bits / duration``), from the contact
    table's columns: a stand-in where no rate profile is available."""

    def volume(rows: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        dur = contacts_end_tdb_s[rows] - contacts_start_tdb_s[rows]
        frac = np.divide(end - start, dur, out=np.zeros(len(rows)), where=dur > 0)
        return contacts_volume_bits[rows] * np.clip(frac, 0.0, 1.0)

    return volume


def rate_profile_share_volume(profile: Callable[[int], RateProfileLike]) -> ShareVolume:
    """Share volumes from rate profiles (``profile(contact_row)``): the trapezoid integral of the
    sampled rate, cumulated and interpolated at the share's edges."""

    def volume(rows: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows))
        for row in np.unique(rows).tolist():
            prof = profile(int(row))
            t, rate = np.asarray(prof.t_tdb_s, float), np.asarray(prof.rate_bps, float)
            cum = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t))])
            mine = rows == row
            out[mine] = np.interp(end[mine], t, cum) - np.interp(start[mine], t, cum)
        return np.maximum(out, 0.0)

    return volume


def pass_shares(
    lander: np.ndarray,
    orbiter: np.ndarray,
    start_tdb_s: np.ndarray,
    end_tdb_s: np.ndarray,
    contact_row: np.ndarray,
    usable: np.ndarray,
    splittable: np.ndarray,
    handover_s: Sequence[float],
    cuts: int,
    share_volume: ShareVolume,
    min_pass_bits: float,
) -> PassShares:
    """Shares of the ``splittable`` passes (usable and not fixed) where they overlap another
    lander's ``usable`` pass on the same orbiter, see the module docstring. ``handover_s`` is
    ``h`` per orbiter (s), ``cuts`` the number of intervals the hand-over range of an overlap is
    cut into."""
    parent: list[int] = []
    s_out: list[float] = []
    e_out: list[float] = []
    seen: set[tuple[int, float, float]] = set()

    def add(p: int, s: float, e: float) -> None:
        if not splittable[p] or e - s < MIN_SHARE_S or (s == start_tdb_s[p]
                                                        and e == end_tdb_s[p]):
            return
        key = (p, round(s, 3), round(e, 3))
        if key not in seen:
            seen.add(key)
            parent.append(p)
            s_out.append(s)
            e_out.append(e)

    for j, h in enumerate(handover_s):
        ids = np.flatnonzero(usable & (orbiter == j))
        ids = ids[np.argsort(start_tdb_s[ids], kind="stable")]
        for a, p in enumerate(ids.tolist()):
            for q in ids[a + 1:].tolist():
                if start_tdb_s[q] >= end_tdb_s[p]:
                    break
                if lander[p] == lander[q] or not (splittable[p] or splittable[q]):
                    continue
                o0 = max(start_tdb_s[p], start_tdb_s[q])
                o1 = min(end_tdb_s[p], end_tdb_s[q])
                for tau in np.linspace(o0 - h, o1, cuts + 1).tolist():
                    for first, second in ((p, q), (q, p)):
                        head = (start_tdb_s[first], min(tau, end_tdb_s[first]))
                        tail = (max(tau + h, start_tdb_s[second]), end_tdb_s[second])
                        if head[1] - head[0] < MIN_SHARE_S or tail[1] - tail[0] < MIN_SHARE_S:
                            continue
                        add(first, *head)
                        add(second, *tail)
    if not parent:
        return PassShares.none()
    par = np.array(parent, dtype=np.int64)
    s_arr, e_arr = np.array(s_out), np.array(e_out)
    order = np.lexsort((e_arr, s_arr, par))
    par, s_arr, e_arr = par[order], s_arr[order], e_arr[order]
    vol = share_volume(contact_row[par], s_arr, e_arr)
    keep = (np.floor(vol / KBIT) > 0) & (vol >= min_pass_bits)
    return PassShares(par[keep], s_arr[keep], e_arr[keep], vol[keep])


class _TentativePlan:
    """A plan being edited: chosen passes, kbit per pass, use of capacity windows and pass
    limits; every edit keeps each lander sol's total, hence the objective."""

    def __init__(self, pb: RelayProblem, selected: np.ndarray, planned_kbit: np.ndarray,
                 nbrs: list[set[int]], caps_of: list[list[int]], lims_of: list[list[int]],
                 usable_kbit: np.ndarray) -> None:
        self.pb, self.nbrs, self.caps_of, self.lims_of = pb, nbrs, caps_of, lims_of
        self.usable = usable_kbit
        self.selected = selected.copy()
        self.planned = planned_kbit.copy()
        self.cap_left = np.array([w.cap_kbit - int(planned_kbit[w.members].sum())
                                  for w in pb.capacity], dtype=np.int64)
        self.lim_left = np.array([lim.limit - int(selected[lim.members].sum())
                                  for lim in pb.limits], dtype=np.int64)

    def copy(self) -> _TentativePlan:
        """An independent copy (to try an edit on)."""
        out = _TentativePlan.__new__(_TentativePlan)
        out.pb, out.nbrs, out.caps_of, out.lims_of = self.pb, self.nbrs, self.caps_of, self.lims_of
        out.usable = self.usable
        out.selected, out.planned = self.selected.copy(), self.planned.copy()
        out.cap_left, out.lim_left = self.cap_left.copy(), self.lim_left.copy()
        return out

    def remove(self, q: int) -> int:
        """Unchoose ``q``; its kbit (returned) must be placed again by the caller."""
        amount = int(self.planned[q])
        for k in self.caps_of[q]:
            self.cap_left[k] += amount
        for k in self.lims_of[q]:
            self.lim_left[k] += 1
        self.selected[q], self.planned[q] = False, 0
        return amount

    def room(self, t: int) -> int:
        """kbit ``t`` can still take (0 when it cannot be chosen next to the plan)."""
        if not self.selected[t] and (any(self.selected[q] for q in self.nbrs[t])
                                     or any(self.lim_left[k] < 1 for k in self.lims_of[t])):
            return 0
        left = int(self.usable[t]) - int(self.planned[t])
        for k in self.caps_of[t]:
            left = min(left, int(self.cap_left[k]))
        return max(left, 0)

    def put(self, t: int, amount: int) -> None:
        """Add ``amount`` kbit on ``t`` (choosing it); the caller checked :meth:`room`."""
        if not self.selected[t]:
            for k in self.lims_of[t]:
                self.lim_left[k] -= 1
            self.selected[t] = True
        for k in self.caps_of[t]:
            self.cap_left[k] -= amount
        self.planned[t] += amount

    def place(self, lander: int, group: int, amount: int) -> bool:
        """Put ``amount`` kbit on the lander's passes of lander sol ``group``: chosen ones with
        room first, then whole passes that fit the plan. False (the plan then partly edited)
        when it does not fit."""
        pb = self.pb
        rows = np.flatnonzero((pb.excluded == "") & (pb.group == group) & (pb.lander == lander))
        rows = [t for t in rows.tolist() if self.selected[t] or pb.share_of[t] < 0]
        rows.sort(key=lambda t: (not self.selected[t], t))
        for t in rows:
            if amount <= 0:
                break
            take = min(self.room(t), amount)
            if take > 0:
                self.put(t, take)
                amount -= take
        return amount <= 0


def prefer_whole_passes(pb: RelayProblem, selected: np.ndarray, planned_kbit: np.ndarray
                        ) -> None:
    """Among plans of equal value prefer whole passes, in place: for each chosen share, first
    try its whole pass instead (the lander's volume moves there; the other landers' passes in
    the way give their volume to their other passes of the same sol), then try without it (its
    volume to its lander's other passes). An edit is kept only when everything fits (conflicts,
    pass limits, capacity windows); each lander sol's delivery is unchanged."""
    chosen = np.flatnonzero(selected & (pb.share_of >= 0))
    if chosen.size == 0:
        return
    nbrs = pb.neighbours()
    caps_of, lims_of = pb.memberships()
    plan = _TentativePlan(pb, selected, planned_kbit, nbrs, caps_of, lims_of, pb.usable_kbit())
    changed = True
    while changed:  # each edit removes a share and adds none: this ends
        changed = False
        for s in np.flatnonzero(plan.selected & (pb.share_of >= 0)).tolist():
            if not plan.selected[s]:
                continue
            p = int(pb.share_of[s])
            for attempt in ("whole", "without"):
                trial = plan.copy()
                amount = trial.remove(s)
                if attempt == "whole":
                    moved = [(int(pb.lander[q]), int(pb.group[q]), trial.remove(q))
                             for q in sorted(nbrs[p]) if trial.selected[q]]
                    if trial.room(p) < amount:
                        continue
                    trial.put(p, amount)
                    if not all(trial.place(*m) for m in moved):
                        continue
                elif not trial.place(int(pb.lander[s]), int(pb.group[s]), amount):
                    continue
                plan, changed = trial, True
                break
    selected[:] = plan.selected
    planned_kbit[:] = plan.planned


def with_no_shares(pb: RelayProblem, whole: Selection) -> Selection:
    """A plan of the same problem without shares (whole passes only, in the same order, as
    ``build_problem`` makes them) as a plan of ``pb``: its shares unchosen. It satisfies every
    constraint of ``pb`` (the whole passes keep their rules; capacity windows are necessary
    conditions either way), with the same objective."""
    n = pb.n_whole
    if len(whole.selected) != n:
        raise ValueError(f"plan has {len(whole.selected)} passes, the problem {n} whole passes")
    selected = np.zeros(len(pb), dtype=bool)
    planned = np.zeros(len(pb), dtype=np.int64)
    selected[:n], planned[:n] = whole.selected, whole.planned_kbit
    return Selection(whole.solver, whole.status, selected, planned, whole.objective,
                     whole.best_bound, whole.gap, whole.solve_s)
