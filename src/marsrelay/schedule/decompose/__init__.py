"""Exact pass selection by decomposition: the engine of :func:`~marsrelay.schedule.solve_cpsat`.

The one-model formulation (``x_p``, ``v_p <= U_p x_p``) leaves a small gap in every lander sol:
its linear relaxation lets two landers share one pass, so each sol's relaxation is a little too
optimistic, and a branch-and-bound must close thirty such gaps at once (their product). CP-SAT's
presolve also rewrites ``v_p <= U_p x_p`` into implications its linear relaxation does not see.
This package solves the same problem (same constraints, same objective) in a form where those
gaps are closed piece by piece. :func:`solve_decomposed` (here) runs the steps; each step has
its module:

1. **Pieces** (:mod:`.pieces`). Passes linked by a radio clique or a lander sol form connected
   components, typically one sol of the landers at one site. Pieces are coupled only by the
   orbiter-to-Earth capacity (the transport flows of
   :class:`~marsrelay.schedule.problem.DownlinkFlow`) and by pass limits that span several of
   them (a piece keeps such a limit on its own passes, a relaxation).
2. **Aggregated volumes** (:mod:`.piece_model`). Per lander sol ``g`` and capacity class ``c``,
   one integer ``y_gc <= sum_p U_p x_p`` replaces the per-pass volumes (any ``y_gc`` can be
   split among the selected passes, so this is exact); passes in no class count ``U_p x_p``
   directly. Weights are divided by their greatest common divisor.
3. **Envelope cuts** (:mod:`.cuts`). For a piece with value ``W`` (weighted delivered kbit)
   and capacity use ``T`` (kbit it sends through capacity classes), small exact CP-SAT solves
   of ``max q W - p T`` over the piece alone give valid inequalities ``q W - p T <= rhs``: the
   upper concave envelope of the piece's (T, W) frontier (Eisner-Severance recursion). Each
   solve's plan is kept as a candidate.
4. **Master** (:mod:`.master_lp`). The linear relaxation of the whole aggregated model plus the
   cuts (HiGHS) gives an upper bound, certified from its duals
   (:func:`marsrelay.schedule.lp_bound.certified_max`: valid whatever the LP solver's
   tolerances), and each piece's share of what it shares; each piece is then solved exactly
   within its share (one more candidate).
5. **Restricted master** (:mod:`.restricted_master`, :mod:`.whole_model`). The whole model with
   every piece's passes restricted to its candidates (CP-SAT): a plan satisfying every
   constraint. Each piece is then re-solved within what that plan gives it (never worse, a new
   candidate) and the restricted master again, while it improves. When the plan reaches the
   certified bound it is optimal.
6. **Lagrangian cuts** (:mod:`.cuts`). Otherwise each coupled piece is solved at the master's
   prices (duals) of capacity classes and shared limits, ``max q W - sum a_c T_c - sum b_j
   N_j``: one more valid cut and candidate per piece, until the bound stops falling; then 5
   again.
7. **Last,** if still unproven, the whole model with every cut by CP-SAT for the remaining
   time, warm-started from the best plan (:mod:`.whole_model`).

CP-SAT runs without its presolve and with its full linear relaxation (``linearization_level =
2``); the whole-model solves also run a second search with presolve side by side
(:func:`.whole_model.solve_portfolio`), as some instances need it. Steps end at fixed fractions
of the time limit (the ``*_SHARE`` constants below). The tuning constants of the driver live
here (tests vary them); those of the cuts in :mod:`.cuts`.
"""

from __future__ import annotations

import math
import time

import numpy as np

from marsrelay.schedule.decompose.cuts import Envelope, envelope_cuts, lagrangian_cut
from marsrelay.schedule.decompose.master_lp import master_lp
from marsrelay.schedule.decompose.piece_model import map_threads, model_inputs
from marsrelay.schedule.decompose.pieces import Piece, find_pieces
from marsrelay.schedule.decompose.restricted_master import (
    add_candidates,
    improve_by_restricted_master,
)
from marsrelay.schedule.decompose.whole_model import (
    pass_volumes,
    plan_from_selection,
    solve_whole_model,
)
from marsrelay.schedule.problem import RelayProblem
from marsrelay.schedule.selection import Selection

__all__ = ["Piece", "find_pieces", "solve_decomposed"]

#: Pieces with more passes than this (or than half of all) get no envelope: one solve of such a
#: piece is most of the hard problem. Counted in whole passes (a pass with its shares is one).
MAX_ENVELOPE_PASSES: int = 80
#: Fractions of the time limit by which the envelopes, the first restricted master, the
#: Lagrangian cuts and the second restricted master must be done (the rest: step 7).
ENVELOPE_SHARE: float = 0.3
MASTER_SHARE: float = 0.45
PRICE_SHARE: float = 0.6
SECOND_MASTER_SHARE: float = 0.75
#: Most rounds of Lagrangian cuts.
MAX_PRICE_ROUNDS: int = 20
#: Pass limits link pieces (True) or couple them like capacity (False).
LINK_LIMITS: bool = False
#: Most rounds of restricted master and per-piece re-optimisation.
MAX_ROUNDS: int = 4


def solve_decomposed(
    pb: RelayProblem,
    usable: np.ndarray,
    time_limit_s: float,
    workers: int,
    hint: Selection | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, str, float]:
    """Solve ``pb`` exactly (module docstring) within ``time_limit_s`` (wall clock, s) on
    ``workers`` threads. ``usable`` (kbit per pass) bounds each pass's volume. Returns the
    selected passes, kbit planned per pass (before trimming to demand), the status
    (``FEASIBLE``, or ``HINT`` when no better plan than ``hint`` was found; the caller compares
    the plan with the bound) and the proven upper bound of the objective in weighted kbit
    (``inf`` when none)."""
    start = time.perf_counter()
    limit = float(time_limit_s)

    def at(share: float) -> float:
        return start + share * limit

    data = model_inputs(pb, usable)
    pieces = find_pieces(pb, LINK_LIMITS)
    start_plan = plan_from_selection(data, hint) if hint is not None else None

    # Steps 1-3: pieces, envelopes (cuts and candidates), smallest pieces first, so that a
    # timeout costs the largest. A piece holding most of the problem is left to the last step:
    # its envelope would cost several solves of nearly the whole problem.
    # Sizes count whole passes: a pass and its shares (split passes) are one choice.
    whole = pb.share_of < 0
    size = [int(whole[piece.passes].sum()) for piece in pieces]
    most = min(MAX_ENVELOPE_PASSES, int(whole[pb.active].sum()) // 2)
    todo = sorted((k for k in range(len(pieces)) if size[k] <= most), key=lambda k: size[k])
    envelopes: list[Envelope | None] = [None] * len(pieces)
    found = map_threads(lambda k: envelope_cuts(data, pieces[k], at(ENVELOPE_SHARE), seed),
                        todo, workers)
    for k, env in zip(todo, found, strict=True):
        envelopes[k] = env
    cuts = [e.cuts if e is not None else [] for e in envelopes]
    candidates: list[list[tuple[int, ...]] | None] = []
    for piece, env in zip(pieces, envelopes, strict=True):
        pool = list(env.candidates) if env is not None else []
        if start_plan is not None:
            pool.append(tuple(start_plan.x[p] for p in piece.passes))
        candidates.append(pool or None)
    coupled = [k for k, piece in enumerate(pieces) if envelopes[k] is not None
               and (piece.keys or piece.shared) and candidates[k] is not None]

    # Steps 4-5: master LP (bound and shares), restricted master.
    bound_lp, lp_use, prices = master_lp(data, pieces, cuts)
    bound = math.floor(bound_lp) if math.isfinite(bound_lp) else float("inf")
    best = improve_by_restricted_master(data, pieces, candidates, coupled, lp_use, start_plan,
                                        bound, at(MASTER_SHARE), workers, seed, MAX_ROUNDS)

    # Step 6, not proven yet: Lagrangian cuts at the master's prices, then 5 again.
    if best is None or best.objective < bound:
        for _ in range(MAX_PRICE_ROUNDS):
            if time.perf_counter() >= at(PRICE_SHARE):
                break
            priced = map_threads(lambda k, prices=prices: lagrangian_cut(
                data, pieces[k], prices, at(PRICE_SHARE), seed), coupled, workers)
            for k, (cut, plan) in zip(coupled, priced, strict=True):
                if cut is not None:
                    cuts[k].append(cut)
                add_candidates(candidates, [k], [plan])
            new_lp, lp_use, prices = master_lp(data, pieces, cuts)
            improved = math.isfinite(new_lp) and math.floor(new_lp) < bound
            bound = min(bound, math.floor(new_lp)) if math.isfinite(new_lp) else bound
            if not improved or (best is not None and best.objective >= bound):
                break
        if best is None or best.objective < bound:
            best = improve_by_restricted_master(data, pieces, candidates, coupled, lp_use, best,
                                                bound, at(SECOND_MASTER_SHARE), workers, seed,
                                                MAX_ROUNDS)

    # Step 7, still not proven: the whole model with every cut, warm-started.
    if best is None or best.objective < bound:
        final = solve_whole_model(data, pieces, start + limit - time.perf_counter(), workers,
                                  seed, cuts=cuts, hint=best)
        if final is not None:
            bound = min(bound, math.floor(final.bound + 1e-9))
            if best is None or final.objective >= best.objective:
                best = final
            if final.optimal:
                bound = min(bound, final.objective)
    if best is None:
        raise RuntimeError(f"CP-SAT found no plan within {time_limit_s} s")
    if best is start_plan and hint is not None:
        selected, planned, status = hint.selected.copy(), hint.planned_kbit.copy(), "HINT"
    else:
        selected, planned = pass_volumes(data, best)
        status = "FEASIBLE"
    return selected, planned, status, float(bound) * data.weight_gcd
