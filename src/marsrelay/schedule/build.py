"""Build the relay-pass selection problem from a linked contact table, one named step per rule.

:func:`build_problem` reads as the definition in :mod:`marsrelay.schedule.problem`:

1. candidate passes (:func:`~marsrelay.schedule.candidates.candidate_passes`);
2. lander demand and weights (:func:`~marsrelay.schedule.lander_sols.lander_demand`);
3. orbiter rules (:func:`~marsrelay.schedule.conflicts.orbiter_rules`);
4. lander sols and deadlines (:func:`~marsrelay.schedule.lander_sols.lander_sols`);
5. exclusions: no volume, blackouts (:func:`~marsrelay.schedule.candidates.exclude_unusable`);
6. fixed requests (:func:`~marsrelay.schedule.candidates.apply_fixed_requests`);
7. radio cliques and pass limits (:mod:`marsrelay.schedule.conflicts`), then a check that the
   required passes can be taken together;
8. orbiter-to-Earth capacity (:func:`~marsrelay.schedule.downlink.add_downlink_capacity`).

Configuration errors are raised in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.schedule.candidates import (
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

__all__ = ["build_problem"]


def build_problem(
    contacts: ContactTable,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    config: ScheduleConfig,
    start_tdb_s: float,
    end_tdb_s: float,
    station_blackouts: Mapping[str, Windows] | None = None,
) -> RelayProblem:
    """Build the pass-selection problem over ``[start_tdb_s, end_tdb_s)`` (TDB s).

    ``contacts`` must carry link volumes (``volume_bits``); proximity rows whose lander and
    orbiter are both among ``landers``/``orbiters`` starting inside the horizon are the
    candidates. ``station_blackouts`` (station name -> TDB s windows) cut the orbiters'
    downlink. Raises :class:`~marsrelay.errors.InputError` for names the config refers to that
    are not nodes, fixed requests that match no pass, contradictory fixed requests, or missing
    link volumes.
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
    usable = exclusions.usable
    volume_kbit[~usable] = 0
    cliques = radio_cliques(passes.lander, passes.orbiter, passes.start_tdb_s, passes.end_tdb_s,
                            usable, len(landers), rules.min_gap_s)
    mtc_sol = mtc_sols(passes.start_tdb_s)
    limits = pass_limits(passes.orbiter, mtc_sol, usable, rules.max_passes_per_sol)

    problem = RelayProblem(
        landers=landers, orbiters=orbiters, config=config,
        horizon_start_tdb_s=float(start_tdb_s), horizon_end_tdb_s=float(end_tdb_s),
        lander=passes.lander, orbiter=passes.orbiter, start_tdb_s=passes.start_tdb_s,
        end_tdb_s=passes.end_tdb_s, volume_bits=passes.volume_bits, volume_kbit=volume_kbit,
        group=sols.of_pass, mtc_sol=mtc_sol, fixed=fixed, excluded=exclusions.reason,
        excluded_detail=exclusions.detail,
        group_lander=sols.lander, group_sol=sols.sol,
        group_start_tdb_s=sols.start_tdb_s, group_end_tdb_s=sols.end_tdb_s,
        group_deadline_tdb_s=sols.deadline_tdb_s, group_demand_bits=sols.demand_bits,
        group_demand_kbit=sols.demand_kbit, lander_weight=demand.weight,
        min_gap_s=rules.min_gap_s, cliques=cliques, limits=limits,
    )
    check_required(problem)
    add_downlink_capacity(problem, contacts, dict(station_blackouts or {}))
    return problem
