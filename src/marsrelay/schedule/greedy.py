"""The greedy baseline: fast, deterministic, never better than the optimum and often close.

Required passes first, then the others by weighted usable volume (largest first); a pass is
taken if it conflicts with nothing taken, its orbiter's per-sol limit allows it, and it can
still carry something (lander sol demand and orbiter-to-Earth capacity left). A share of a split
pass comes after any whole pass of equal value and is taken only where its whole pass is
blocked. Its plan is also the exact optimiser's warm start.
"""

from __future__ import annotations

import time

import numpy as np

from marsrelay.schedule.problem import RelayProblem
from marsrelay.schedule.selection import Selection, objective_of
from marsrelay.schedule.splits import prefer_whole_passes

__all__ = ["solve_greedy"]


def solve_greedy(pb: RelayProblem) -> Selection:
    """Greedy baseline (see the module docstring); O(n log n + conflicts)."""
    t0 = time.perf_counter()
    n = len(pb)
    selected = np.zeros(n, dtype=bool)
    planned = np.zeros(n, dtype=np.int64)
    act = pb.active
    nbrs = pb.neighbours()
    caps_of, lims_of = pb.memberships()
    cap_left = np.array([w.cap_kbit for w in pb.capacity], dtype=np.int64)
    lim_left = np.array([lim.limit for lim in pb.limits], dtype=np.int64)
    dem_left = pb.group_demand_kbit.copy()
    usable = np.minimum(pb.volume_kbit, pb.group_demand_kbit[pb.group])
    key = -(pb.weight * usable).astype(float)
    if (pb.share_of >= 0).any():  # at equal value a whole pass before a share (split pass)
        order = act[np.lexsort((pb.start_tdb_s[act], pb.share_of[act] >= 0, key[act],
                                -pb.fixed[act]))]
    else:
        order = act[np.lexsort((pb.start_tdb_s[act], key[act], -pb.fixed[act]))]
    for p in order.tolist():
        if any(selected[q] for q in nbrs[p]):
            continue
        if any(lim_left[k] <= 0 for k in lims_of[p]):
            continue
        room = min([int(pb.volume_kbit[p]), int(dem_left[pb.group[p]])]
                   + [int(cap_left[k]) for k in caps_of[p]])
        room = max(room, 0)
        if room <= 0 and pb.fixed[p] <= 0:
            continue
        selected[p] = True
        planned[p] = room
        dem_left[pb.group[p]] -= room
        for k in caps_of[p]:
            cap_left[k] -= room
        for k in lims_of[p]:
            lim_left[k] -= 1
    prefer_whole_passes(pb, selected, planned)
    obj = objective_of(pb, planned)
    return Selection("greedy", "FEASIBLE", selected, planned, obj, float("nan"), float("nan"),
                     time.perf_counter() - t0)
