"""Build the relay-pass selection problem from a linked contact table, one named step per rule.

:func:`build_problem` reads as the definition in :mod:`marsrelay.schedule.problem`:

1. candidate passes (:func:`~marsrelay.schedule.candidates.candidate_passes`);
2. lander demand and weights (:func:`~marsrelay.schedule.lander_sols.lander_demand`);
3. orbiter rules (:func:`~marsrelay.schedule.conflicts.orbiter_rules`);
4. lander sols and deadlines (:func:`~marsrelay.schedule.lander_sols.lander_sols`);
5. exclusions: no volume, blackouts (:func:`~marsrelay.schedule.candidates.exclude_unusable`);
6. fixed requests (:func:`~marsrelay.schedule.candidates.apply_fixed_requests`);
7. with ``split_passes``, the shares of overlapping passes (:mod:`marsrelay.schedule.splits`),
   appended after the whole passes;
8. radio cliques and pass limits (:mod:`marsrelay.schedule.conflicts`), then a check that the
   required passes can be taken together;
9. orbiter-to-Earth capacity (:func:`~marsrelay.schedule.downlink.add_downlink_capacity`).

Configuration errors are raised in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.schedule.candidates import (
    CandidatePasses,
    apply_fixed_requests,
    candidate_passes,
    exclude_unusable,
    optimiser_kbit,
)
from marsrelay.schedule.conflicts import (
    check_required,
    mtc_sols,
    orbiter_rules,
    pass_limits,
    radio_cliques,
)
from marsrelay.schedule.downlink import add_downlink_capacity
from marsrelay.schedule.lander_sols import lander_demand, lander_sols
from marsrelay.schedule.problem import LanderNode, OrbiterNode, RelayProblem, Windows
from marsrelay.schedule.splits import (
    PassShares,
    ShareVolume,
    mean_rate_share_volume,
    pass_shares,
)

__all__ = ["build_problem"]


def build_problem(
    contacts: ContactTable,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    config: ScheduleConfig,
    start_tdb_s: float,
    end_tdb_s: float,
    station_blackouts: Mapping[str, Windows] | None = None,
    share_volume: ShareVolume | None = None,
) -> RelayProblem:
    """Build the pass-selection problem over ``[start_tdb_s, end_tdb_s)`` (TDB s).

    ``contacts`` must carry link volumes (``volume_bits``); proximity rows whose lander and
    orbiter are both among ``landers``/``orbiters`` starting inside the horizon are the
    candidates. ``station_blackouts`` (station name -> TDB s windows) cut the orbiters'
    downlink. ``share_volume`` gives the volume of a part of a pass for split passes (default:
    the pass's mean rate, :func:`~marsrelay.schedule.splits.mean_rate_share_volume`). Raises
    :class:`~marsrelay.errors.InputError` for names the config refers to that are not nodes,
    fixed requests that match no pass, contradictory fixed requests, or missing link volumes.
    """
    landers, orbiters = tuple(landers), tuple(orbiters)
    passes = candidate_passes(contacts, landers, orbiters, start_tdb_s, end_tdb_s)
    demand = lander_demand(config, landers)
    rules = orbiter_rules(config, orbiters)
    sols = lander_sols(landers, passes.lander, passes.start_tdb_s, start_tdb_s, end_tdb_s,
                       demand.bits_per_sol, config.deadline_lmst_h)
    volume_kbit = optimiser_kbit(passes.volume_bits)
    exclusions = exclude_unusable(passes, volume_kbit, landers, orbiters, config)
    fixed, exclusions = apply_fixed_requests(passes, exclusions, landers, orbiters, config)
    volume_kbit[~exclusions.usable] = 0
    handover_s = np.maximum(rules.min_gap_s, config.switch_time_s)
    shares = PassShares.none()
    if config.split_passes:
        volume_of = share_volume or mean_rate_share_volume(
            contacts.volume_bits, contacts.start_tdb_s, contacts.end_tdb_s)
        shares = pass_shares(passes.lander, passes.orbiter, passes.start_tdb_s,
                             passes.end_tdb_s, passes.contact_row, exclusions.usable,
                             exclusions.usable & (fixed == 0), handover_s, config.split_cuts,
                             volume_of, config.min_pass_bits)
    rows = _PassRows.of(passes, volume_kbit, sols.of_pass, fixed, exclusions.reason,
                        exclusions.detail, shares)
    usable = rows.excluded == ""
    cliques = radio_cliques(rows.lander, rows.orbiter, rows.start_tdb_s, rows.end_tdb_s,
                            usable, len(landers), rules.min_gap_s, rows.share_of, handover_s)
    mtc_sol = mtc_sols(rows.start_tdb_s)
    limits = pass_limits(rows.orbiter, mtc_sol, usable, rules.max_passes_per_sol)

    problem = RelayProblem(
        landers=landers, orbiters=orbiters, config=config,
        horizon_start_tdb_s=float(start_tdb_s), horizon_end_tdb_s=float(end_tdb_s),
        lander=rows.lander, orbiter=rows.orbiter, start_tdb_s=rows.start_tdb_s,
        end_tdb_s=rows.end_tdb_s, volume_bits=rows.volume_bits, volume_kbit=rows.volume_kbit,
        group=rows.group, mtc_sol=mtc_sol, fixed=rows.fixed, excluded=rows.excluded,
        excluded_detail=rows.excluded_detail,
        group_lander=sols.lander, group_sol=sols.sol,
        group_start_tdb_s=sols.start_tdb_s, group_end_tdb_s=sols.end_tdb_s,
        group_deadline_tdb_s=sols.deadline_tdb_s, group_demand_bits=sols.demand_bits,
        group_demand_kbit=sols.demand_kbit, lander_weight=demand.weight,
        min_gap_s=rules.min_gap_s, cliques=cliques, limits=limits,
        share_of=rows.share_of, handover_s=handover_s,
    )
    check_required(problem)
    add_downlink_capacity(problem, contacts, dict(station_blackouts or {}))
    return problem


@dataclass(frozen=True)
class _PassRows:
    """The problem's pass arrays: whole passes, then their shares (split passes)."""

    lander: np.ndarray
    orbiter: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    volume_bits: np.ndarray
    volume_kbit: np.ndarray
    group: np.ndarray
    fixed: np.ndarray
    excluded: np.ndarray
    excluded_detail: np.ndarray
    share_of: np.ndarray

    @staticmethod
    def of(passes: CandidatePasses, volume_kbit: np.ndarray, group: np.ndarray,
           fixed: np.ndarray, excluded: np.ndarray, excluded_detail: np.ndarray,
           shares: PassShares) -> _PassRows:
        """Whole passes' arrays with ``shares`` appended (each with its whole pass's lander,
        orbiter and lander sol; free, usable)."""
        n, k = len(passes), len(shares)
        if k == 0:
            return _PassRows(passes.lander, passes.orbiter, passes.start_tdb_s,
                             passes.end_tdb_s, passes.volume_bits, volume_kbit, group, fixed,
                             excluded, excluded_detail, np.full(n, -1, dtype=np.int64))
        par = shares.parent
        blank = np.full(k, "", dtype=object)
        return _PassRows(
            lander=np.concatenate([passes.lander, passes.lander[par]]),
            orbiter=np.concatenate([passes.orbiter, passes.orbiter[par]]),
            start_tdb_s=np.concatenate([passes.start_tdb_s, shares.start_tdb_s]),
            end_tdb_s=np.concatenate([passes.end_tdb_s, shares.end_tdb_s]),
            volume_bits=np.concatenate([passes.volume_bits, shares.volume_bits]),
            volume_kbit=np.concatenate([volume_kbit, optimiser_kbit(shares.volume_bits)]),
            group=np.concatenate([group, group[par]]),
            fixed=np.concatenate([fixed, np.zeros(k, dtype=fixed.dtype)]),
            excluded=np.concatenate([excluded, blank]),
            excluded_detail=np.concatenate([excluded_detail, blank.copy()]),
            share_of=np.concatenate([np.full(n, -1, dtype=np.int64), par]),
        )
