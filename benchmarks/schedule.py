"""Benchmark of the schedule stage: prints ONE JSON line.

30 days of ``exomars-2030`` (TGO, MRO, MAVEN; Rosalind Franklin) plus a second lander at the same
site, Kazachok (the 2022 plan's surface platform), so two landers compete for the orbiters.
Demands: Rosalind Franklin 150 Mbit/sol at priority 2 (ExoMars science working team #7, 2014);
Kazachok 400 Mbit/sol at priority 1 (assumed), with an Electra-Lite radio (assumed: with the
ExoMars UHF radio of the built-in scenario its relay passes, not the Earth downlink, would
bind). Orbiter limits (assumed, MaROS-like): TGO and MRO at most 4 relay passes per Mars sol
with 10 min between passes; MAVEN has a 2-day blackout.

Contacts come from the contacts stage (``marsrelay.contacts.find_contacts``) when it exists;
otherwise from a stand-in computed here from the geometry modules at 10 s sampling (proximity:
lander elevation mask and orbiter range limit; orbiter-Earth: Mars above the station's mask and
the orbiter not hidden by Mars; no light time, no conjunction check), which the JSON says.
Volumes always come from the links stage (``marsrelay.links.compute_links``).

Keys: scenario, days, landers, contacts_source, candidate_passes, solver_status, solve_s
(wall time of the exact optimiser, ``solve_cpsat``: decomposition, envelope and Lagrangian
cuts, restricted master, CP-SAT, 2 workers), build_s (problem construction), greedy_s,
optimality_gap (from the proven bound; 0 when optimal), pieces (independent parts of the problem
once capacity and shared pass limits are set aside), optimal_vs_greedy_volume (weighted
delivered volume, optimiser / greedy), optimal_delivered_bits, greedy_delivered_bits,
demand_bits, per-lander delivered/demanded, goal_s (10 s on 2 cores), earth_share (1% of each
orbiter's Earth downlink assumed free for these two landers: tight on purpose), one_model (the
same problem as one CP-SAT model, ``decompose=False``, with the same time limit: the previous
solver, for comparison), looser_capacity (the same with 5x that share, where capacity stops
binding) and split_passes (the same problem with split passes allowed, ``[schedule]
split_passes``: the two landers may share an overflight; shares' volumes from the links stage's
rate profiles; solved as the stage does, ``schedule_passes``: the plan without splits first,
warm-starting the search with them; solve_s counts both searches, wall_s adds the builds;
rows = whole passes + shares, split = passes the plan splits, optimal_vs_no_split_volume =
weighted delivered volume with splits / without, never below 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.constants import MARS_EQ_RADIUS_KM
from marsrelay.contacts.table import ContactTable
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.sites import MarsSite, earth_icrf_to_itrs
from marsrelay.links import compute_links
from marsrelay.scenario import LanderSpec, load_scenario
from marsrelay.schedule import (
    build_problem,
    make_schedule,
    nodes_from_scenario,
    schedule_passes,
    solve_cpsat,
    solve_greedy,
)
from marsrelay.schedule.decompose import find_pieces
from marsrelay.schedule.splits import rate_profile_share_volume

STEP_S = 10.0


def _windows(up: np.ndarray, t: np.ndarray) -> list[tuple[float, float]]:
    edges = np.diff(np.r_[0, up.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(t[a], t[b]) for a, b in zip(starts, ends, strict=True) if b > a]


def standin_contacts(sc) -> ContactTable:
    """Proximity and orbiter-Earth windows on a 10 s grid (see the module docstring)."""
    t = np.arange(sc.start_tdb_s, sc.end_tdb_s, STEP_S)
    rows: list[tuple[str, str, str, float, float]] = []
    body = sc.rotation.icrf_to_body(t)
    eph = Ephemeris.de421()
    mars_geo = eph.position_km("mars", t, centre="earth")
    rot = earth_icrf_to_itrs(t)
    mars_up = {st.name: st.azel_of_icrf(mars_geo, t, rot).elevation_deg >= st.elevation_mask_deg
               for st in sc.stations}
    to_earth = -mars_geo / np.linalg.norm(mars_geo, axis=1)[:, None]
    for orb in sc.orbiters:
        pos, _ = orb.trajectory(sc.rotation).state_km(t)
        pos_bf = np.einsum("nij,nj->ni", body, pos)
        for la in sc.landers:
            azel = la.site.azel_of_body_fixed(pos_bf)
            up = (azel.elevation_deg >= la.site.elevation_mask_deg) & (
                azel.range_km <= orb.max_range_km)
            rows += [(la.name, orb.name, "proximity", a, b) for a, b in _windows(up, t)]
        along = np.einsum("ni,ni->n", pos, to_earth)
        miss = np.linalg.norm(pos - along[:, None] * to_earth, axis=1)
        clear = (along > 0) | (miss > MARS_EQ_RADIUS_KM + sc.grazing_height_km)
        for st in sc.stations:
            rows += [(orb.name, st.name, "orbiter_earth", a, b)
                     for a, b in _windows(clear & mars_up[st.name], t)]
    src, tgt, kind, s, e = (np.array(c) for c in zip(*rows, strict=True))
    z = np.zeros(len(rows))
    table = ContactTable(src, tgt, kind, s.astype(float), e.astype(float), z, z, z, z, z)
    return ContactTable.concat([table])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="exomars-2030")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--earth-share", type=float, default=0.01)
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    rf = sc.landers[0]
    kazachok = LanderSpec(  # an Electra-class radio (assumed): Earth capacity binds, as designed
        name="Kazachok", agency="Roscosmos", radio="electra-lite", direct_to_earth=False,
        site=MarsSite("Kazachok", rf.site.lat_deg, rf.site.lon_east_deg, rf.site.height_km,
                      rf.site.elevation_mask_deg))
    maven_off = (sc.start_tdb_s + 10 * 86400.0, sc.start_tdb_s + 12 * 86400.0)
    orbiters = tuple(
        o if o.name != "MAVEN" else dataclasses.replace(o, blackouts=(maven_off,))
        for o in sc.orbiters)
    cfg = ScheduleConfig(
        time_limit_s=args.time_limit, earth_share=args.earth_share,
        demand=[{"lander": rf.name, "bits_per_sol": 600e6, "priority": 2.0},
                {"lander": "Kazachok", "bits_per_sol": 1500e6, "priority": 1.0}],
        orbiter_limits=[{"orbiter": "TGO", "max_passes_per_sol": 3, "min_gap_s": 600.0},
                        {"orbiter": "MRO", "max_passes_per_sol": 2, "min_gap_s": 600.0}])
    sc = sc.with_overrides(landers=(*sc.landers, kazachok), orbiters=orbiters, schedule=cfg)

    try:
        from marsrelay.contacts import find_contacts

        contacts, source = find_contacts(sc), "contacts stage"
    except ImportError:
        contacts = standin_contacts(sc)
        source = "synthetic stand-in: marsrelay geometry at 10 s sampling (no contacts stage yet)"
    links = compute_links(sc, contacts)
    linked = links.contacts

    landers, orbs = nodes_from_scenario(sc)
    t0 = time.perf_counter()
    pb = build_problem(linked, landers, orbs, cfg, sc.start_tdb_s, sc.end_tdb_s,
                       sc.station_blackouts)
    build_s = time.perf_counter() - t0
    greedy = solve_greedy(pb)
    opt = solve_cpsat(pb, cfg.time_limit_s, cfg.workers, hint=greedy)
    one = solve_cpsat(pb, cfg.time_limit_s, cfg.workers, hint=greedy, decompose=False)
    s_opt, s_greedy = make_schedule(pb, opt, greedy.objective), make_schedule(pb, greedy)
    # The same plan with 5x the downlink share: capacity no longer binds.
    cfg_easy = cfg.model_copy(update={"earth_share": 5 * cfg.earth_share})
    pb_easy = build_problem(linked, landers, orbs, cfg_easy, sc.start_tdb_s, sc.end_tdb_s,
                            sc.station_blackouts)
    g_easy = solve_greedy(pb_easy)
    o_easy = solve_cpsat(pb_easy, cfg.time_limit_s, cfg.workers, hint=g_easy)
    # The same with split passes (the stage's path: the plan without them warm-starts it).
    cfg_split = cfg.model_copy(update={"split_passes": True})
    share_volume = rate_profile_share_volume(links.rate_profile)
    t0 = time.perf_counter()
    pb_split = build_problem(linked, landers, orbs, cfg_split, sc.start_tdb_s, sc.end_tdb_s,
                             sc.station_blackouts, share_volume)
    build_split_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s_split = schedule_passes(linked, landers, orbs, cfg_split, sc.start_tdb_s, sc.end_tdb_s,
                              sc.station_blackouts, share_volume=share_volume)
    split_wall_s = time.perf_counter() - t0
    per_lander = {name: {"demand_bits": round(d), "delivered_bits": round(v),
                         "greedy_delivered_bits": round(g[2])}
                  for (name, d, v), g in zip(s_opt.lander_totals(), s_greedy.lander_totals(),
                                             strict=True)}
    print(json.dumps({
        "scenario": sc.name,
        "days": round((sc.end_tdb_s - sc.start_tdb_s) / 86400.0, 3),
        "landers": [x.name for x in landers],
        "contacts_source": source,
        "candidate_passes": len(pb.active),
        "proximity_windows": len(pb),
        "cliques": len(pb.cliques),
        "capacity_windows": len(pb.capacity),
        "solver_status": opt.status,
        "solve_s": round(opt.solve_s, 3),
        "build_s": round(build_s, 3),
        "greedy_s": round(greedy.solve_s, 4),
        "optimality_gap": round(opt.gap, 6),
        "pieces": len(find_pieces(pb)),
        "optimal_vs_greedy_volume": round(opt.objective / max(greedy.objective, 1), 5),
        "optimal_delivered_bits": round(float(s_opt.sols.delivered_bits.sum())),
        "greedy_delivered_bits": round(float(s_greedy.sols.delivered_bits.sum())),
        "demand_bits": round(float(s_opt.sols.demand_bits.sum())),
        "per_lander": per_lander,
        "goal_s": 10.0,
        "earth_share": cfg.earth_share,
        "one_model": {"solver_status": one.status, "solve_s": round(one.solve_s, 3),
                      "optimality_gap": round(one.gap, 6),
                      "objective_vs_optimiser": round(one.objective / max(opt.objective, 1), 6)},
        "looser_capacity": {"earth_share": cfg_easy.earth_share, "solver_status": o_easy.status,
                            "solve_s": round(o_easy.solve_s, 3),
                            "optimality_gap": round(o_easy.gap, 6),
                            "optimal_vs_greedy_volume": round(
                                o_easy.objective / max(g_easy.objective, 1), 5)},
        "split_passes": {"switch_time_s": cfg_split.switch_time_s,
                         "split_cuts": cfg_split.split_cuts, "rows": len(pb_split),
                         "build_s": round(build_split_s, 3), "solver_status": s_split.status,
                         "solve_s": round(s_split.solve_s, 3),
                         "wall_s": round(split_wall_s, 3),
                         "optimality_gap": round(s_split.gap, 6),
                         "split": int(s_split.passes.split.sum()),
                         "optimal_vs_no_split_volume": round(
                             s_split.objective_bits / max(s_opt.objective_bits, 1.0), 5),
                         "optimal_delivered_bits": round(
                             float(s_split.sols.delivered_bits.sum()))},
    }))


if __name__ == "__main__":
    main()
