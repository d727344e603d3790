"""Step 1 of the decomposition: the pieces (connected components) of a relay problem.

Passes linked by a radio clique or a lander sol form connected components, typically one sol of
the landers at one site. Pieces are coupled only by the orbiter-to-Earth capacity (the transport
flows of :class:`~marsrelay.schedule.problem.DownlinkFlow`, whose classes a piece sends volume
through: :attr:`Piece.keys`) and by pass limits that span several of them (a piece keeps such a
limit on its own passes, a relaxation, and lists it in :attr:`Piece.shared`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from marsrelay.schedule.problem import PassLimit, RelayProblem

__all__ = ["ClassKey", "Piece", "find_pieces"]

#: A capacity class: (index into ``pb.flows``, class index in that flow).
ClassKey = tuple[int, int]


@dataclass
class Piece:
    """A connected component of the passes: its passes (indices into the problem, in order),
    lander sols (``groups``), radio cliques, pass limits (its own, and its part of the shared
    ones), the capacity classes it sends volume through (``keys``) and the indices (into
    ``pb.limits``) of the pass limits it shares with other pieces (``shared``)."""

    passes: list[int]
    groups: list[int]
    cliques: list[np.ndarray] = field(default_factory=list)
    limits: list[PassLimit] = field(default_factory=list)
    keys: list[ClassKey] = field(default_factory=list)
    shared: list[int] = field(default_factory=list)


def find_pieces(pb: RelayProblem, link_limits: bool = False) -> list[Piece]:
    """The connected components of the active passes under radio cliques and lander sols (and
    pass limits when ``link_limits``), in order of their first pass. A pass limit spanning
    several pieces couples them like the capacity flows do: each piece keeps the limit on its
    own passes (a relaxation) and lists it in ``shared``."""
    act = pb.active.tolist()
    parent = list(range(len(pb)))

    def root(p: int) -> int:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def link(ids: list[int]) -> None:
        first = root(ids[0])
        for q in ids[1:]:
            parent[root(q)] = first

    for clique in pb.cliques:
        link(clique.tolist())
    if link_limits:
        for lim in pb.limits:
            link(lim.members.tolist())
    by_group: dict[int, list[int]] = {}
    for p in act:
        by_group.setdefault(int(pb.group[p]), []).append(p)
    for ids in by_group.values():
        link(ids)
    label = [root(p) for p in range(len(pb))]
    index: dict[int, int] = {}
    pieces: list[Piece] = []
    for p in act:
        k = index.setdefault(label[p], len(pieces))
        if k == len(pieces):
            pieces.append(Piece([], []))
        pieces[k].passes.append(p)
    for piece in pieces:
        piece.groups = sorted(set(pb.group[piece.passes].tolist()))
    for clique in pb.cliques:
        pieces[index[label[int(clique[0])]]].cliques.append(clique)
    for j, lim in enumerate(pb.limits):
        touched: dict[int, list[int]] = {}
        for p in lim.members.tolist():
            touched.setdefault(index[label[p]], []).append(p)
        if len(touched) == 1:
            pieces[next(iter(touched))].limits.append(lim)
            continue
        for k, ps in touched.items():
            pieces[k].shared.append(j)
            if len(ps) > lim.limit:
                pieces[k].limits.append(PassLimit(lim.orbiter, lim.mtc_sol, lim.limit,
                                                  np.array(ps, dtype=np.int64)))
    for fi, flow in enumerate(pb.flows):
        for c_, members in enumerate(flow.class_members):
            for k in sorted({index[label[p]] for p in members.tolist()}):
                pieces[k].keys.append((fi, c_))
    return pieces
