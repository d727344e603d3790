"""Which passes cannot be taken together: radio conflicts and orbiter pass limits.

Steps of :func:`~marsrelay.schedule.build.build_problem`:

1. :func:`orbiter_rules`: each orbiter's ``min_gap_s`` and ``max_passes_per_sol`` from
   ``[[schedule.orbiter_limits]]``.
2. :func:`radio_cliques`: a lander talks to one orbiter at a time, an orbiter serves one lander
   at a time and leaves ``min_gap_s`` between passes. Both are interval conflicts, stored as the
   maximal cliques of the interval graphs (:func:`interval_cliques`: exact, and the strongest
   linear form of "at most one of these").
3. :func:`pass_limits`: at most ``max_passes_per_sol`` passes of an orbiter per Mars sol (Mars
   coordinated time, :func:`mtc_sols`), kept only where an orbiter sol has more candidates.
4. :func:`check_required`: required passes that conflict, or exceed a limit, are an input error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.errors import InputError
from marsrelay.geometry.solar_time import local_sol
from marsrelay.schedule.problem import OrbiterNode, PassLimit, RelayProblem, node_index

__all__ = [
    "OrbiterRules",
    "check_required",
    "interval_cliques",
    "mtc_sols",
    "orbiter_rules",
    "pass_limits",
    "radio_cliques",
]


@dataclass(frozen=True)
class OrbiterRules:
    """Per orbiter (scheduler order): ``min_gap_s`` between its passes (s) and, for orbiters
    that have one, ``max_passes_per_sol`` (orbiter index -> passes per Mars sol)."""

    min_gap_s: np.ndarray
    max_passes_per_sol: dict[int, int]


def orbiter_rules(config: ScheduleConfig, orbiters: Sequence[OrbiterNode]) -> OrbiterRules:
    """``[[schedule.orbiter_limits]]`` resolved to orbiter indices;
    :class:`~marsrelay.errors.InputError` for an orbiter name that is not scheduled."""
    onames = [n.name for n in orbiters]
    min_gap = np.zeros(len(orbiters))
    max_passes: dict[int, int] = {}
    for k, lim in enumerate(config.orbiter_limits):
        j = node_index(lim.orbiter, onames, f"schedule.orbiter_limits[{k}].orbiter")
        min_gap[j] = lim.min_gap_s
        if lim.max_passes_per_sol is not None:
            max_passes[j] = lim.max_passes_per_sol
    return OrbiterRules(min_gap, max_passes)


def interval_cliques(start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """Maximal cliques (size >= 2) of the intervals ``[start, end)`` (touching ones do not
    overlap), as arrays of positions into ``start``. Sweep over sorted edges, O(n log n + out)."""
    n = len(start)
    if n < 2:
        return []
    # Events: (time, kind) with ends (0) before starts (1) at equal times.
    times = np.concatenate([end, start])
    kinds = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(n, dtype=np.int8)])
    ids = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((kinds, times))
    active: set[int] = set()
    out: list[np.ndarray] = []
    grew = False
    for e in order.tolist():
        if kinds[e] == 1:
            active.add(int(ids[e]))
            grew = True
        else:
            if grew and len(active) >= 2:
                out.append(np.array(sorted(active), dtype=np.int64))
            grew = False
            active.discard(int(ids[e]))
    return out


def radio_cliques(
    lander: np.ndarray,
    orbiter: np.ndarray,
    start_tdb_s: np.ndarray,
    end_tdb_s: np.ndarray,
    usable: np.ndarray,
    n_landers: int,
    min_gap_s: np.ndarray,
) -> list[np.ndarray]:
    """Cliques of usable passes (pass indices) that share a radio: per lander the overlapping
    passes, then per orbiter the passes whose windows widened by its ``min_gap_s`` overlap."""
    cliques: list[np.ndarray] = []
    for i in range(n_landers):
        ids = np.flatnonzero(usable & (lander == i))
        cliques += [ids[c] for c in interval_cliques(start_tdb_s[ids], end_tdb_s[ids])]
    for j in range(len(min_gap_s)):
        ids = np.flatnonzero(usable & (orbiter == j))
        cliques += [ids[c] for c in interval_cliques(start_tdb_s[ids],
                                                     end_tdb_s[ids] + min_gap_s[j])]
    return cliques


def mtc_sols(start_tdb_s: np.ndarray) -> np.ndarray:
    """Mars sol (coordinated time: the LMST of longitude 0) in which each pass starts."""
    return local_sol(start_tdb_s, 0.0) if len(start_tdb_s) else np.zeros(0, dtype=np.int64)


def pass_limits(
    orbiter: np.ndarray, mtc_sol: np.ndarray, usable: np.ndarray,
    max_passes_per_sol: dict[int, int],
) -> list[PassLimit]:
    """One :class:`~marsrelay.schedule.problem.PassLimit` per orbiter and Mars sol with more
    usable passes than the orbiter's ``max_passes_per_sol`` (the others cannot bind)."""
    limits: list[PassLimit] = []
    for j, m in max_passes_per_sol.items():
        for s in np.unique(mtc_sol[usable & (orbiter == j)]).tolist():
            ids = np.flatnonzero(usable & (orbiter == j) & (mtc_sol == s))
            if len(ids) > m:
                limits.append(PassLimit(j, int(s), m, ids))
    return limits


def check_required(pb: RelayProblem) -> None:
    """:class:`~marsrelay.errors.InputError` (field ``schedule.fixed``) when two required passes
    share a radio clique, or an orbiter sol has more required passes than its limit."""
    req = np.flatnonzero(pb.fixed > 0)
    req_set = set(req.tolist())
    for clique in pb.cliques:
        both = [p for p in clique.tolist() if p in req_set]
        if len(both) > 1:
            p, q = both[:2]
            raise InputError(
                f"required passes conflict ({pb.conflict_kind(p, q)}): "
                f"{pb.pass_label(p)} and {pb.pass_label(q)}", field="schedule.fixed")
    for lim in pb.limits:
        if len(req_set.intersection(lim.members.tolist())) > lim.limit:
            raise InputError(
                f"more required passes of {pb.orbiters[lim.orbiter].name} in Mars sol "
                f"{lim.mtc_sol} than max_passes_per_sol = {lim.limit}", field="schedule.fixed")
