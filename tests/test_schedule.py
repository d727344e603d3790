"""Relay pass scheduling on hand-made contact tables: explanations, binding constraints,
fixed requests, sol boundaries, the downlink capacity, and the files written."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

from marsrelay.cli.summaries import print_schedule
from marsrelay.config.schedule import ScheduleConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.geometry.solar_time import sol_start_tdb_s
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.rundir.schema import SCHEDULE, SCHEDULE_SOLS
from marsrelay.rundir.tables import write_table
from marsrelay.schedule import (
    LanderNode,
    OrbiterNode,
    build_problem,
    nodes_from_scenario,
    schedule_passes,
    solve_cpsat,
    solve_greedy,
)

SOL_S = 88775.244  # Allison & McEwen 2000 (Mars24)
T = float(sol_start_tdb_s(55630, 0.0))  # an LMST midnight at longitude 0 (2030-06-27)
END = T + 3 * SOL_S


def table(*rows: tuple[str, str, str, float, float, float]) -> ContactTable:
    """Rows (source, target, kind, start offset s from T, duration s, volume Mbit)."""
    src, tgt, kind, s, d, v = zip(*rows, strict=True)
    s = T + np.array(s, dtype=float)
    z = np.zeros(len(rows))
    return ContactTable(np.array(src), np.array(tgt), np.array(kind), s, s + np.array(d), z, z,
                        z, z, z, np.full(len(rows), 1e5), np.array(v, dtype=float) * 1e6)


def prox(lander: str, orbiter: str, t: float, dur: float, mbit: float):
    return (lander, orbiter, "proximity", t, dur, mbit)


def plan(contacts, cfg, landers=("A", "B"), orbiters=("O0", "O1"), lander_blackouts=None,
         orbiter_blackouts=None, solver="cpsat", **kw):
    lb, ob = lander_blackouts or {}, orbiter_blackouts or {}
    return schedule_passes(
        contacts, [LanderNode(x, 0.0, lb.get(x, ())) for x in landers],
        [OrbiterNode(x, ob.get(x, ())) for x in orbiters], cfg, T, END, solver=solver, **kw)


def demand(**bits_priority):
    return [{"lander": k, "bits_per_sol": v[0] * 1e6, "priority": v[1]}
            for k, v in bits_priority.items()]


def row(schedule, lander, t):
    p = schedule.passes
    k = np.flatnonzero((p.lander == lander) & (np.abs(p.start_tdb_s - (T + t)) < 1e-3))
    assert k.size == 1
    return int(k[0])


def test_sols_start_at_lmst_midnight_insight() -> None:
    # InSight's mission clock (IPGP MarsConverter landerconfig, Mars24-based): sol origin
    # 2018-330T05:10:50.336 UTC at 224.03 deg W. A lander there has a sol boundary at that
    # instant (Mars24 quotes ~3 s accuracy).
    t0 = float(utc_to_tdb("2018-11-26T05:10:50.336Z"))
    pb = build_problem(ContactTable.empty(), [LanderNode("InSight", 360.0 - 224.03)], [],
                       ScheduleConfig(), t0 - 40000.0, t0 + 40000.0)
    assert len(pb.group_sol) == 2
    assert pb.group_start_tdb_s[1] == pytest.approx(t0, abs=3.0)
    # The deadline is deadline_lmst_h of the next sol: 9 Mars hours after that sol's end.
    assert pb.group_deadline_tdb_s[0] - pb.group_start_tdb_s[1] == pytest.approx(
        9.0 / 24.0 * SOL_S, abs=1e-3)


def test_priority_wins_the_shared_orbiter_and_the_loser_is_told_why() -> None:
    # Two co-located landers see the same TGO pass; only one radio on the orbiter.
    contacts = table(prox("A", "O0", 3600, 600, 60), prox("B", "O0", 3600, 600, 60))
    s = plan(contacts, ScheduleConfig(demand=demand(A=(100, 1.0), B=(100, 3.0))))
    a, b = row(s, "A", 3600), row(s, "B", 3600)
    assert s.passes.selected[b] and not s.passes.selected[a]
    assert s.passes.reason[a] == "orbiter_busy"
    assert f"pass {b + 1} (B/O0)" in s.passes.detail[a]
    short = {x.lander: x for x in s.shortfalls}
    assert short["A"].binding == "visibility"  # sols 2 and 3 have no pass at all
    first = np.flatnonzero((s.sols.lander == "A") & (s.sols.sol == 55630))[0]
    assert s.sols.binding[first] == "orbiter_busy"
    assert s.sols.detail[first] == "orbiter_busy 60.0 Mbit (B), visibility 40.0 Mbit"
    assert s.sols.shortfall_bits[first] == pytest.approx(100e6)


def test_greedy_can_be_beaten_by_the_optimiser() -> None:
    # A's long pass (80 Mbit) overlaps two B passes (50 + 50 Mbit) on the same orbiter:
    # the greedy baseline grabs the big one, the optimum takes the two smaller ones.
    contacts = table(prox("A", "O0", 1000, 1000, 80), prox("B", "O0", 1100, 300, 50),
                     prox("B", "O0", 1600, 300, 50))
    cfg = ScheduleConfig(demand=demand(A=(500, 1.0), B=(500, 1.0)))
    greedy = plan(contacts, cfg, solver="greedy")
    best = plan(contacts, cfg)
    assert greedy.objective_bits == pytest.approx(80e6)
    assert best.objective_bits == pytest.approx(100e6)
    assert best.status == "OPTIMAL" and best.gap == 0.0
    assert best.greedy_objective_bits == pytest.approx(80e6)


def test_lander_radio_and_min_gap_and_max_passes() -> None:
    contacts = table(
        prox("A", "O0", 1000, 600, 30), prox("A", "O1", 1300, 600, 20),  # lander radio
        prox("B", "O0", 2000, 300, 10),  # 400 s after A/O0: inside O0's 900 s gap
        prox("B", "O1", 20000, 300, 10), prox("B", "O1", 30000, 300, 5),  # O1: 1 per sol
    )
    cfg = ScheduleConfig(demand=demand(A=(500, 1.0), B=(500, 1.0)),
                         orbiter_limits=[{"orbiter": "O0", "min_gap_s": 900.0},
                                         {"orbiter": "O1", "max_passes_per_sol": 1}])
    s = plan(contacts, cfg)
    sel = {(str(lan), float(t - T)) for lan, t in
           zip(s.passes.lander[s.passes.selected], s.passes.start_tdb_s[s.passes.selected],
               strict=True)}
    # Best: A/O0 (30) + B/O1 20000 (10); A/O1 loses on the lander radio, B/O0 on O0's gap,
    # B/O1 30000 on O1's one pass per sol.
    assert {(lan, round(t)) for lan, t in sel} == {("A", 1000), ("B", 20000)}
    assert s.passes.reason[row(s, "A", 1300)] == "lander_busy"
    assert s.passes.reason[row(s, "B", 2000)] == "min_gap"
    assert s.passes.reason[row(s, "B", 30000)] == "max_passes"


def test_demand_met_and_partial_pass() -> None:
    contacts = table(prox("A", "O0", 1000, 600, 30), prox("A", "O1", 5000, 600, 30),
                     prox("A", "O0", 9000, 600, 30))
    s = plan(contacts, ScheduleConfig(demand=demand(A=(40, 1.0))), landers=("A",))
    first = np.flatnonzero(s.sols.sol == 55630)[0]
    assert s.sols.delivered_bits[first] == pytest.approx(40e6)
    assert s.sols.binding[first] == ""
    assert int(s.passes.selected.sum()) == 2  # 30 + 10 of 30 Mbit
    assert sorted(s.passes.planned_bits[s.passes.selected]) == pytest.approx([10e6, 30e6])
    dropped = ~s.passes.selected
    assert list(s.passes.reason[dropped]) == ["demand_met"]
    assert any(d.startswith("partly used (10.0 Mbit of 30.0 Mbit)") for d in s.passes.detail)


def test_orbiter_to_earth_capacity_binds() -> None:
    # O0 can carry home only 25 Mbit between the sol's start and its deadline.
    contacts = table(prox("A", "O0", 1000, 600, 60),
                     ("O0", "DSS-43", "orbiter_earth", 20000, 3600, 25.0),
                     ("O0", "DSS-63", "orbiter_earth", 21800, 3600, 25.0),  # overlaps half
                     ("O1", "DSS-43", "orbiter_earth", 30000, 3600, 100.0))
    s = plan(contacts, ScheduleConfig(demand=demand(A=(50, 1.0))), landers=("A",))
    # One downlink at a time: the overlapping half counts once (best rate), so 37.5 Mbit.
    p = row(s, "A", 1000)
    assert s.passes.planned_bits[p] == pytest.approx(37.5e6)
    first = np.flatnonzero(s.sols.sol == 55630)[0]
    assert s.sols.binding[first] == "capacity"
    assert s.sols.shortfall_bits[first] == pytest.approx(12.5e6)
    assert s.passes.reason[p] == "capacity"
    # A station blackout over the overlap leaves the other station's full window.
    black = ScheduleConfig(demand=demand(A=(100, 1.0)))
    s2 = schedule_passes(contacts, [LanderNode("A", 0.0)], [OrbiterNode("O0")], black, T, END,
                         station_blackouts={"DSS-63": ((T + 21000, T + 30000),)})
    assert s2.passes.planned_bits[0] == pytest.approx(25e6)
    # earth_share scales it.
    half = ScheduleConfig(demand=demand(A=(100, 1.0)), earth_share=0.5)
    assert plan(contacts, half, landers=("A",)).passes.planned_bits[p] == pytest.approx(18.75e6)


def test_blackout_binds_and_is_explained() -> None:
    contacts = table(prox("A", "O0", 1000, 600, 60), prox("A", "O1", 4000, 600, 60))
    t0, t1 = T + 3000, T + 8000
    s = plan(contacts, ScheduleConfig(demand=demand(A=(100, 1.0))), landers=("A",),
             orbiter_blackouts={"O1": ((t0, t1),)})
    p = row(s, "A", 4000)
    assert s.passes.reason[p] == "blackout"
    assert f"orbiter O1 unavailable {tdb_to_utc(t0)}" in s.passes.detail[p]
    first = np.flatnonzero(s.sols.sol == 55630)[0]
    assert s.sols.binding[first] == "blackout"
    assert s.sols.delivered_bits[first] == pytest.approx(60e6)


def test_fixed_requests() -> None:
    contacts = table(prox("A", "O0", 1000, 600, 60), prox("B", "O0", 1000, 600, 60),
                     prox("A", "O1", 5000, 600, 60))

    def utc(t: float) -> str:
        return str(tdb_to_utc(T + t))

    # Require the lower-priority lander's pass, forbid another.
    cfg = ScheduleConfig(demand=demand(A=(500, 5.0), B=(500, 1.0)), fixed=[
        {"lander": "B", "orbiter": "O0", "start": utc(1200), "action": "require"},
        {"lander": "A", "orbiter": "O1", "start": utc(4950), "action": "forbid"}])
    s = plan(contacts, cfg)
    assert s.passes.selected[row(s, "B", 1000)]
    assert not s.passes.selected[row(s, "A", 1000)]
    assert s.passes.reason[row(s, "A", 5000)] == "forbidden"
    # Contradictions and unknown names are one-line input errors, not crashes.
    bad = [
        [{"lander": "A", "orbiter": "O0", "start": utc(1000)},
         {"lander": "B", "orbiter": "O0", "start": utc(1000)}],  # same orbiter, same time
        [{"lander": "A", "orbiter": "O1", "start": utc(20000)}],  # no such pass
        [{"lander": "Z", "orbiter": "O1", "start": utc(5000)}],  # no such lander
    ]
    for fixed in bad:
        with pytest.raises(InputError) as err:
            plan(contacts, ScheduleConfig(fixed=fixed))
        assert "\n" not in str(err.value) and "schedule.fixed" in str(err.value)
    with pytest.raises(InputError, match="blackout"):
        plan(contacts, ScheduleConfig(fixed=[{"lander": "A", "orbiter": "O1",
                                              "start": utc(5000)}]),
             orbiter_blackouts={"O1": ((T + 4000, T + 9000),)})


def test_unlinked_contacts_are_an_input_error() -> None:
    contacts = table(prox("A", "O0", 1000, 600, 60)).with_links(np.full(1, np.nan),
                                                               np.full(1, np.nan))
    with pytest.raises(InputError, match="links stage"):
        plan(contacts, ScheduleConfig())


def test_time_limited_search_reports_a_valid_gap() -> None:
    contacts = table(*[prox("AB"[k % 2], f"O{k % 2}", 1000 + 500 * k, 900, 10 + k)
                       for k in range(12)])
    greedy = solve_greedy(build_problem(contacts, [LanderNode("A", 0.0), LanderNode("B", 0.0)],
                                        [OrbiterNode("O0"), OrbiterNode("O1")],
                                        ScheduleConfig(), T, END))
    pb = build_problem(contacts, [LanderNode("A", 0.0), LanderNode("B", 0.0)],
                       [OrbiterNode("O0"), OrbiterNode("O1")], ScheduleConfig(), T, END)
    sel = solve_cpsat(pb, time_limit_s=5.0, workers=2, hint=greedy)
    assert sel.best_bound >= sel.objective >= greedy.objective
    assert 0.0 <= sel.gap <= 1.0


def test_schedule_tables_written_and_printed(tmp_path) -> None:
    contacts = table(prox("A", "O0", 3600, 600, 60), prox("B", "O0", 3600, 600, 60),
                     prox("B", "O1", 7200, 600, 40))
    scenario = SimpleNamespace(
        landers=[SimpleNamespace(name=n, site=SimpleNamespace(lon_east_deg=0.0), blackouts=())
                 for n in ("A", "B")],
        orbiters=[SimpleNamespace(name=n, blackouts=()) for n in ("O0", "O1")],
        station_blackouts={}, start_tdb_s=T, end_tdb_s=END, path=None,
        schedule=ScheduleConfig(demand=demand(A=(100, 2.0), B=(100, 1.0))))
    console = Console(file=io.StringIO(), width=120)
    landers, orbiters = nodes_from_scenario(scenario)
    s = schedule_passes(contacts, landers, orbiters, scenario.schedule, T, END)
    for output in s.tables():
        write_table(tmp_path / "out", output)
    print_schedule(s, console)
    with open(tmp_path / "out" / "schedule.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == SCHEDULE.csv_names
    assert [(r["lander"], r["orbiter"], r["status"], r["reason"]) for r in rows] == [
        ("A", "O0", "selected", ""), ("B", "O0", "dropped", "orbiter_busy"),
        ("B", "O1", "selected", "")]
    assert rows[0]["start_utc"] == str(tdb_to_utc(T + 3600))
    assert float(rows[2]["planned_bits"]) == pytest.approx(40e6)
    with open(tmp_path / "out" / "schedule_sols.csv", encoding="utf-8") as fh:
        sols = list(csv.DictReader(fh))
    assert tuple(sols[0]) == SCHEDULE_SOLS.csv_names and len(sols) == len(s.sols.sol) == 6
    text = console.file.getvalue()
    assert "delivered" in text and "A" in text and "60.0" in text
    assert not list((tmp_path / "out").glob(".*.tmp"))  # atomic writes leave nothing behind


def test_default_demand_is_what_the_lander_generates():
    """Without [[schedule.demand]], a lander's demand is its [traffic] generation per sol,
    so the schedule and the simulation plan for the same data (150 Mbit/sol default:
    Rosalind Franklin budget, ExoMars SWT #7, 2014)."""
    import dataclasses

    from marsrelay.config.traffic import TrafficConfig, TrafficSource
    from marsrelay.scenario import load_scenario
    from marsrelay.schedule import demand_from_traffic

    sc = load_scenario("exomars-2030")
    demand = {d.lander: d.bits_per_sol for d in demand_from_traffic(sc).demand}
    assert demand == {"Rosalind Franklin": 150e6}
    traffic = TrafficConfig(source=[
        TrafficSource(node="Rosalind Franklin", bits_per_sol=100e6),
        TrafficSource(node="Rosalind Franklin", bits_per_sol=20e6),
    ])
    sc2 = dataclasses.replace(sc, traffic=traffic)
    demand2 = {d.lander: d.bits_per_sol for d in demand_from_traffic(sc2).demand}
    assert demand2 == {"Rosalind Franklin": 120e6}
