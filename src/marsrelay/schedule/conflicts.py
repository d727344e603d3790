"""Which passes cannot be taken together: radio conflicts and orbiter pass limits.

Steps of :func:`~marsrelay.schedule.build.build_problem`:

1. :func:`orbiter_rules`: each orbiter's ``min_gap_s`` and ``max_passes_per_sol`` from
   ``[[schedule.orbiter_limits]]``.
2. :func:`radio_cliques`: a lander talks to one orbiter at a time, an orbiter serves one lander
   at a time and leaves ``min_gap_s`` between passes. Both are interval conflicts, stored as the
   maximal cliques of the interval graphs (:func:`interval_cliques`: exact, and the strongest
   linear form of "at most one of these"). With split passes the orbiter's rule also depends on
   who is served (:func:`orbiter_cliques`).
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
    "orbiter_cliques",
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
    share_of: np.ndarray | None = None,
    handover_s: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Cliques of usable passes (pass indices) that share a radio: per lander the overlapping
    passes, then per orbiter the passes whose windows widened by its ``min_gap_s`` overlap.

    With split passes (``share_of``: whole pass of each share, -1 for whole passes;
    ``handover_s`` per orbiter, s) the orbiter rule also keeps a share ``handover_s`` from
    another lander's pass (:func:`orbiter_cliques`), and each whole pass with its shares is
    one more clique (at most one part of an overflight per lander)."""
    cliques: list[np.ndarray] = []
    for i in range(n_landers):
        ids = np.flatnonzero(usable & (lander == i))
        cliques += [ids[c] for c in interval_cliques(start_tdb_s[ids], end_tdb_s[ids])]
    shares = share_of is not None and bool((share_of >= 0).any())
    for j in range(len(min_gap_s)):
        ids = np.flatnonzero(usable & (orbiter == j))
        if not shares or not (share_of[ids] >= 0).any():
            cliques += [ids[c] for c in interval_cliques(start_tdb_s[ids],
                                                         end_tdb_s[ids] + min_gap_s[j])]
            continue
        assert share_of is not None and handover_s is not None
        cliques += orbiter_cliques(ids, lander, start_tdb_s, end_tdb_s, share_of,
                                   float(min_gap_s[j]), float(handover_s[j]))
    if shares:
        assert share_of is not None
        kids = np.flatnonzero(share_of >= 0)
        for p in np.unique(share_of[kids]).tolist():
            cliques.append(np.r_[p, kids[share_of[kids] == p]].astype(np.int64))
    return cliques


def orbiter_cliques(
    ids: np.ndarray,
    lander: np.ndarray,
    start_tdb_s: np.ndarray,
    end_tdb_s: np.ndarray,
    share_of: np.ndarray,
    min_gap_s: float,
    handover_s: float,
) -> list[np.ndarray]:
    """Maximal cliques of one orbiter's conflicts among passes ``ids`` when some are shares.

    Two uses of the orbiter conflict when they overlap or are closer than ``min_gap_s``, or,
    for a share and a pass of another lander, closer than ``handover_s``; parts of one pass
    (the whole pass and its shares) are treated as conflicting too (they exclude each other
    anyway). Not an interval graph, so: the cliques of the intervals widened by
    ``max(handover_s, min_gap_s)`` (a superset of the conflicts), each split into the maximal
    cliques of the true conflicts among its members (Bron-Kerbosch) where it holds a pair that
    does not conflict. Every conflict is in some clique and every clique is a conflict set."""
    root = np.where(share_of >= 0, share_of, np.arange(len(share_of)))
    widest = max(handover_s, min_gap_s)
    out: list[np.ndarray] = []
    seen: set[tuple[int, ...]] = set()
    for c in interval_cliques(start_tdb_s[ids], end_tdb_s[ids] + widest):
        members = ids[c]
        s, e = start_tdb_s[members], end_tdb_s[members]
        gap = np.maximum(s[None, :] - e[:, None], s[:, None] - e[None, :])
        mixed = (lander[members][:, None] != lander[members][None, :]) & (
            (share_of[members][:, None] >= 0) | (share_of[members][None, :] >= 0))
        conflict = (gap < np.where(mixed, widest, min_gap_s)) | (
            root[members][:, None] == root[members][None, :])
        if conflict.all():
            found = [members]
        else:
            found = [members[sorted(k)] for k in _maximal_cliques(conflict) if len(k) >= 2]
        for clique in found:
            key = tuple(clique.tolist())
            if key not in seen:
                seen.add(key)
                out.append(clique)
    return out


def _maximal_cliques(adjacent: np.ndarray) -> list[set[int]]:
    """Maximal cliques of a small graph given by its symmetric boolean adjacency matrix
    (Bron-Kerbosch with pivoting; the diagonal is ignored)."""
    n = len(adjacent)
    nbrs = [set(np.flatnonzero(adjacent[v]).tolist()) - {v} for v in range(n)]
    out: list[set[int]] = []

    def expand(r: set[int], p: set[int], x: set[int]) -> None:
        if not p and not x:
            out.append(r)
            return
        pivot = max(p | x, key=lambda v: len(nbrs[v] & p))
        for v in list(p - nbrs[pivot]):
            expand(r | {v}, p & nbrs[v], x & nbrs[v])
            p = p - {v}
            x = x | {v}

    expand(set(), set(range(n)), set())
    return out


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
