"""Orbiter-to-Earth capacity: how much relayed data each orbiter can send home, and by when.

The last step of :func:`~marsrelay.schedule.build.build_problem`. Data relayed during a lander's
sol must be home by ``deadline_lmst_h`` of the next sol. For every orbiter and every window
``[a, b]`` where ``a`` is the start of a lander sol and ``b`` a deadline, the data of the passes
that start in the window and are due by ``b`` cannot exceed what the orbiter can downlink in the
window (:func:`downlink_cumulative_bits`: its ``orbiter_earth`` contacts, one station at a time,
times ``earth_share``). These are necessary conditions of a feasible downlink order (Hall's
condition for earliest-deadline-first on the sol grid). :func:`downlink_capacity` keeps the
windows that can bind (:class:`~marsrelay.schedule.problem.CapacityWindow`, for explanations and
the greedy baseline) and their exactly equivalent transport form
(:class:`~marsrelay.schedule.problem.DownlinkFlow`, for the optimisers). Windows that end after
the horizon are dropped (downlink after it is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.schedule.problem import (
    KBIT,
    CapacityWindow,
    DownlinkFlow,
    OrbiterNode,
    RelayProblem,
    Windows,
)

__all__ = ["add_downlink_capacity", "downlink_capacity", "downlink_cumulative_bits"]


def downlink_cumulative_bits(
    contacts: ContactTable,
    orbiter: OrbiterNode,
    station_blackouts: Mapping[str, Windows],
    share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (TDB s) and cumulative downlink volume (bits) of one orbiter.

    Simultaneous Earth contacts do not add up (one downlink at a time): on each elementary
    interval the best rate among the contacts covering it counts. Blackouts of the orbiter or
    of the station remove their share of a contact (volume spread evenly over the window).
    ``share`` (0-1) is the fraction of the downlink available to relayed lander data.
    """
    rows = contacts.select(kind="orbiter_earth")
    mine = (rows.source == orbiter.name) | (rows.target == orbiter.name)
    rows = rows.take(mine)
    if len(rows) == 0:
        return np.array([0.0, 1.0]), np.zeros(2)
    s, e = rows.start_tdb_s, rows.end_tdb_s
    dur = np.maximum(e - s, 1e-9)
    rate = np.nan_to_num(rows.volume_bits / dur) * share
    station = np.where(rows.source == orbiter.name, rows.target, rows.source)
    edges = [s, e] + [np.asarray(w, dtype=float).ravel() for w in orbiter.blackouts]
    for name in set(station.tolist()):
        edges += [np.asarray(w, dtype=float).ravel() for w in station_blackouts.get(name, ())]
    t = np.unique(np.concatenate(edges))
    mid = 0.5 * (t[:-1] + t[1:])
    # Each contact covers the elementary intervals [i0, i1) between its edges; the pairs
    # (interval, contact) number sum_k (i1 - i0): linear in the span (a few stations overlap
    # at a time), never the product of intervals and contacts.
    i0 = np.searchsorted(t, s, side="left")
    i1 = np.searchsorted(t, e, side="left")
    span = np.maximum(i1 - i0, 0)
    which = np.repeat(np.arange(len(s)), span)
    interval = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span) + i0[which]
    keep = np.ones(len(which), dtype=bool)
    for name, windows in station_blackouts.items():
        here = station[which] == name
        for t0, t1 in windows:
            keep &= ~(here & (mid[interval] >= t0) & (mid[interval] < t1))
    best = np.zeros(len(mid))
    np.maximum.at(best, interval[keep], rate[which[keep]])
    for t0, t1 in orbiter.blackouts:
        best[(mid >= t0) & (mid < t1)] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(best * np.diff(t))])
    return t, cum


def add_downlink_capacity(
    pb: RelayProblem, contacts: ContactTable, station_blackouts: Mapping[str, Windows]
) -> None:
    """Fill ``pb.capacity`` and ``pb.flows`` from the ``orbiter_earth`` rows of ``contacts``
    and set ``pb.earth_capacity_modelled`` (False when there are none: capacity unlimited).
    :class:`~marsrelay.errors.InputError` when those rows carry no link volumes."""
    has_earth = bool((contacts.kind == "orbiter_earth").any())
    pb.earth_capacity_modelled = has_earth
    if not has_earth:
        return
    earth = contacts.select(kind="orbiter_earth")
    if np.isnan(earth.volume_bits).any():
        raise InputError("orbiter_earth contacts have no link volumes (volume_bits is NaN): "
                         "run the links stage first", field="contacts.volume_bits")
    pb.capacity, pb.flows = downlink_capacity(pb, contacts, station_blackouts)


def downlink_capacity(
    pb: RelayProblem, contacts: ContactTable, station_blackouts: Mapping[str, Windows]
) -> tuple[list[CapacityWindow], list[DownlinkFlow]]:
    """The Hall-condition windows of each orbiter that can bind (see the module docstring) and,
    for each orbiter with at least one, the equivalent transport formulation."""
    windows: list[CapacityWindow] = []
    flows: list[DownlinkFlow] = []
    act = pb.excluded == ""
    pass_deadline = pb.group_deadline_tdb_s[pb.group]
    for j, node in enumerate(pb.orbiters):
        ids = np.flatnonzero(act & (pb.orbiter == j))
        if ids.size == 0:
            continue
        t, cum = downlink_cumulative_bits(contacts, node, station_blackouts,
                                          pb.config.earth_share)

        def kbit_until(x: np.ndarray, t: np.ndarray = t, cum: np.ndarray = cum) -> np.ndarray:
            """Downlink volume from the start until ``x``, whole kbit."""
            return np.floor(np.interp(x, t, cum) / KBIT).astype(np.int64)

        groups = np.unique(pb.group[ids])
        a_all = np.unique(pb.group_start_tdb_s[groups])
        b_all = np.unique(pb.group_deadline_tdb_s[groups])
        b_all = b_all[b_all <= pb.horizon_end_tdb_s]
        ps, pd, pg = pb.start_tdb_s[ids], pass_deadline[ids], pb.group[ids]
        pv = pb.volume_kbit[ids]
        seen: dict[bytes, int] = {}
        first = len(windows)
        cap_a, cap_b = kbit_until(a_all), kbit_until(b_all)
        for ia, a in enumerate(a_all.tolist()):
            for ib, b in enumerate(b_all.tolist()):
                if b <= a:
                    continue
                m = (ps >= a) & (pd <= b)
                if not m.any():
                    continue
                cap = int(cap_b[ib] - cap_a[ia])
                # Most the members can ever carry: per group, min(demand, passes' volume).
                per_group = np.bincount(pg[m], weights=pv[m], minlength=len(pb.group_demand_kbit))
                if np.minimum(per_group, pb.group_demand_kbit).sum() <= cap:
                    continue
                key = m.tobytes()
                if key in seen:  # same passes, keep the tighter window
                    k = seen[key]
                    if cap < windows[k].cap_kbit:
                        windows[k] = CapacityWindow(j, a, b, cap, windows[k].members)
                    continue
                seen[key] = len(windows)
                windows.append(CapacityWindow(j, a, b, cap, ids[m]))
        if len(windows) == first or b_all.size == 0:
            continue
        # Transport form: a pass is released at the last sol start (of any lander) at or before
        # its start and is due at its deadline; passes due after the horizon are free.
        edges = np.unique(np.concatenate([a_all, b_all]))
        release = a_all[np.searchsorted(a_all, ps, side="right") - 1]
        due = pd <= pb.horizon_end_tdb_s
        keys = np.stack([release[due], pd[due]], axis=1)
        uniq, cls = np.unique(keys, axis=0, return_inverse=True)
        cls = cls.ravel()
        flows.append(DownlinkFlow(
            orbiter=j, edges_tdb_s=edges, segment_cap_kbit=np.diff(kbit_until(edges)),
            class_members=tuple(ids[due][cls == c] for c in range(len(uniq))),
            class_first=np.searchsorted(edges, uniq[:, 0]),
            class_last=np.searchsorted(edges, uniq[:, 1]),
        ))
    return windows, flows
