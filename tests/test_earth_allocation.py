"""Earth resource allocation (``marsrelay.schedule.earth``): antennas, tracks, DTE sessions.

Checked against independent references:

- every plan, from the written ``earth_passes.csv``, against the rules restated here with this
  file's own code: an antenna receives at most its capacity at once (DSN MSPA: "downlink from
  up to four spacecraft simultaneously", NASA/JPL MSL "Preventing Busy Signals" page; one
  spacecraft when the scenario gives no ``mspa``); a spacecraft has one Earth link at a time;
  an orbiter gets at most its tracks per UTC day, a lander its sessions per local sol;
- the exact solver against a brute force that enumerates every subset of candidates of small
  random instances (lexicographic: most passes, then most volume); the greedy baseline never
  beats it, and on the contended case below the exact plan beats greedy;
- direct-to-Earth is never counted per antenna: a lander's DTE volume per sol is at most one
  session's, against the sum of all its antennas' windows.
"""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marsrelay.config.earth import EarthConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError, ScenarioError
from marsrelay.geometry.sites import EarthStation
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.rundir.schema import EARTH_PASSES
from marsrelay.rundir.tables import write_table
from marsrelay.schedule.earth import (
    EarthProblem,
    allocate_earth,
    earth_problem_of,
    solve_cpsat,
    solve_greedy,
)
from marsrelay.schedule.earth.candidates import EarthCraft, earth_problem
from marsrelay.schedule.earth.problem import VOLUME_UNIT_BITS
from marsrelay.schedule.earth.solve import request_bounds

SOL_S = 88775.244  # Allison & McEwen 2000 (Mars24)
T0 = float(utc_to_tdb("2030-06-26T00:00:00Z"))  # a UTC midnight
HOUR = 3600.0


# ----------------------------------------------------------------------------- rule checker

def read_passes(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and tuple(rows[0]) == EARTH_PASSES.csv_names
    return rows


def peak_overlap(windows: list[tuple[float, float]]) -> int:
    """Most windows open at one instant (touching windows do not overlap)."""
    events = sorted([(a, 1) for a, _ in windows] + [(b, -1) for _, b in windows],
                    key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, d in events:
        level += d
        peak = max(peak, level)
    return peak


def check_rules(rows: list[dict[str, str]], mspa: dict[str, int]) -> None:
    """The allocation's rules, from the CSV: antenna capacity and mode, one link per
    spacecraft. ``mspa``: each station's capacity as the scenario states it."""
    used = [r for r in rows if r["status"] != "unmet"]
    t = {id(r): (float(utc_to_tdb(r["start_utc"])), float(utc_to_tdb(r["end_utc"])))
         for r in used}
    for station in {r["station"] for r in used}:
        mine = [r for r in used if r["station"] == station]
        cap = mspa.get(station, 1)
        assert peak_overlap([t[id(r)] for r in mine]) <= cap, station
        for r in mine:
            a, b = t[id(r)]
            others = [o for o in mine if o is not r and t[id(o)][0] < b and t[id(o)][1] > a]
            assert r["mode"] == ("mspa" if others else "single")
            assert int(float(r["max_downlinks"])) == cap
            if r["mode"] == "single":  # the antenna serves this spacecraft alone
                assert not others
    for craft in {r["orbiter"] for r in used}:
        mine = [t[id(r)] for r in used if r["orbiter"] == craft]
        assert peak_overlap(mine) <= 1, craft


# ----------------------------------------------------------------------------- synthetic

STATIONS = (EarthStation("DSS-14", 35.4259, 243.1113, 1002.0, 10.0, 70.0, "NASA"),
            EarthStation("DSS-26", 35.3357, 243.1268, 969.0, 10.0, 34.0, "NASA"))


def earth_rows(rows: list[tuple[str, str, float, float, float]], kind: str = "orbiter_earth"
               ) -> ContactTable:
    """Earth windows (spacecraft, station, start h, end h after T0, rate bps)."""
    src, tgt, s, e, r = zip(*rows, strict=True)
    s = T0 + HOUR * np.array(s, dtype=float)
    e = T0 + HOUR * np.array(e, dtype=float)
    rate = np.array(r, dtype=float)
    z = np.zeros(len(rows))
    return ContactTable(np.array(src), np.array(tgt), np.array([kind] * len(rows)), s, e, z,
                        z, z, z, z + 600.0, rate, rate * (e - s))


def synthetic(rows, crafts, mspa=None, step_h=1.0, days=1.0) -> EarthProblem:
    cfg = EarthConfig(candidate_step_s=step_h * HOUR,
                      stations={k: {"mspa": v} for k, v in (mspa or {}).items()})
    return earth_problem(crafts, STATIONS, earth_rows(rows), cfg, T0, T0 + days * 86400.0)


def test_greedy_falls_short_and_the_exact_plan_does_not() -> None:
    # One 70 m antenna alone (DSS-26 serves nobody here). A's 4-hour track is best placed
    # early (its rate is higher there), which greedy takes first; it then blocks both of B's
    # only windows. The exact plan gives A its later window and B its early one.
    rows = [("A", "DSS-14", 0, 4, 3e6), ("A", "DSS-14", 4, 8, 1e6),
            ("B", "DSS-14", 0, 4, 2e6)]
    crafts = [EarthCraft("A", "orbiter_earth", per_period=1, length_s=4 * HOUR),
              EarthCraft("B", "orbiter_earth", per_period=1, length_s=4 * HOUR)]
    pb = synthetic(rows, crafts, step_h=2.0)
    greedy = solve_greedy(pb)
    exact = solve_cpsat(pb, 10.0, 1, hint=greedy)
    assert greedy.selected.sum() == 1
    assert exact.selected.sum() == 2 and exact.status == "OPTIMAL" and exact.gap == 0.0
    assert exact.objective > greedy.objective


@st.composite
def instances(draw):
    crafts = [EarthCraft(f"S{k}", "orbiter_earth", per_period=draw(st.integers(1, 2)),
                         length_s=HOUR * draw(st.sampled_from([2.0, 3.0, 4.0])))
              for k in range(draw(st.integers(2, 3)))]
    rows = []
    for c in crafts:
        for _ in range(draw(st.integers(1, 2))):
            station = draw(st.sampled_from(["DSS-14", "DSS-26"]))
            a = draw(st.integers(0, 16))
            b = a + draw(st.integers(1, 8))
            if any(r[0] == c.name and r[1] == station and r[2] < b and a < r[3] for r in rows):
                continue  # one spacecraft's windows at one antenna never overlap
            rows.append((c.name, station, float(a), float(b),
                         draw(st.sampled_from([1e5, 5e5, 2e6]))))
    mspa = {"DSS-14": draw(st.integers(1, 2)), "DSS-26": 1}
    return rows, crafts, mspa


def brute_force(pb: EarthProblem) -> tuple[tuple[int, int], int]:
    """The best (passes, volume units) over every feasible subset of candidates, checked
    against the rules with this file's own code, and the most volume units of any."""
    n = len(pb)
    vol = np.floor(pb.volume_bits / VOLUME_UNIT_BITS).astype(np.int64)
    best, most = (0, 0), 0
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            if feasible(pb, subset):
                carried = int(vol[list(subset)].sum())
                best = max(best, (size, carried))
                most = max(most, carried)
    return best, most


def feasible(pb: EarthProblem, subset) -> bool:
    w = [(float(pb.start_tdb_s[c]), float(pb.end_tdb_s[c])) for c in subset]
    for k in range(len(pb.craft)):
        if peak_overlap([w[i] for i, c in enumerate(subset) if pb.cand_craft[c] == k]) > 1:
            return False
    for s in range(len(pb.stations)):
        on = [w[i] for i, c in enumerate(subset) if pb.cand_station[c] == s]
        if peak_overlap(on) > pb.station_mspa[s]:
            return False
    for r in range(len(pb.req_limit)):
        if sum(1 for c in subset if pb.request[c] == r) > pb.req_limit[r]:
            return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_exact_plan_matches_brute_force_and_never_loses_to_greedy(inst) -> None:
    rows, crafts, mspa = inst
    pb = synthetic(rows, crafts, mspa, step_h=2.0)
    if len(pb) > 13:
        return  # too many to enumerate
    greedy = solve_greedy(pb)
    exact = solve_cpsat(pb, 10.0, 1, hint=greedy)
    vol = np.floor(pb.volume_bits / VOLUME_UNIT_BITS).astype(np.int64)
    for plan in (greedy, exact):
        assert feasible(pb, np.flatnonzero(plan.selected).tolist())
    best, most = brute_force(pb)
    assert (int(exact.selected.sum()), int(vol[exact.selected].sum())) == best
    # The per-request bounds that let a plan be declared optimal without a search hold.
    n_max, v_at_n, v_any = request_bounds(pb)
    assert n_max >= best[0] and v_any >= most
    assert n_max > best[0] or v_at_n >= best[1]
    assert exact.status == "OPTIMAL"
    assert exact.objective >= greedy.objective
    assert (int(greedy.selected.sum()), int(vol[greedy.selected].sum())) <= best


def test_blackouts_keep_passes_away() -> None:
    # A station in maintenance from 2 h to 5 h and a spacecraft blacked out from 12 h to 13 h:
    # no candidate pass overlaps either (Earth windows 0-24 h, 4-hour tracks every hour).
    rows = [("A", "DSS-14", 0, 24, 1e6), ("B", "DSS-26", 0, 24, 1e6)]
    crafts = [EarthCraft("A", "orbiter_earth", per_period=2, length_s=4 * HOUR),
              EarthCraft("B", "orbiter_earth", ((T0 + 12 * HOUR, T0 + 13 * HOUR),),
                         per_period=2, length_s=4 * HOUR)]
    cfg = EarthConfig(candidate_step_s=HOUR)
    pb = earth_problem(crafts, STATIONS, earth_rows(rows), cfg, T0, T0 + 86400.0,
                       {"DSS-14": ((T0 + 2 * HOUR, T0 + 5 * HOUR),)})
    a = pb.cand_craft == 0
    assert a.any() and (pb.cand_craft == 1).any()
    assert np.all((pb.start_tdb_s[a] >= T0 + 5 * HOUR) | (pb.end_tdb_s[a] <= T0 + 2 * HOUR))
    b = ~a
    assert np.all((pb.start_tdb_s[b] >= T0 + 13 * HOUR) | (pb.end_tdb_s[b] <= T0 + 12 * HOUR))


def test_explicit_tracks_are_taken_as_given_and_must_fit() -> None:
    rows = [("A", "DSS-14", 0, 10, 1e6), ("B", "DSS-14", 0, 10, 1e6)]
    a, b = T0 + 1 * HOUR, T0 + 5 * HOUR
    crafts = [EarthCraft("A", "orbiter_earth", tracks=(("DSS-14", a, b),)),
              EarthCraft("B", "orbiter_earth", per_period=1, length_s=4 * HOUR)]
    pb = synthetic(rows, crafts)
    sel = solve_cpsat(pb, 5.0, 1, hint=solve_greedy(pb))
    fixed = np.flatnonzero(pb.fixed)
    assert len(fixed) == 1 and sel.selected[fixed].all()
    assert pb.start_tdb_s[fixed[0]] == a and pb.end_tdb_s[fixed[0]] == b
    # B's track avoids A's on the single antenna.
    (c,) = np.flatnonzero(sel.selected & ~pb.fixed)
    assert pb.start_tdb_s[c] >= b or pb.end_tdb_s[c] <= a
    from marsrelay.schedule.earth.solve import check_explicit

    both = [EarthCraft("A", "orbiter_earth", tracks=(("DSS-14", a, b),)),
            EarthCraft("B", "orbiter_earth", tracks=(("DSS-14", a + HOUR, b + HOUR),))]
    with pytest.raises(InputError, match="capacity"):
        check_explicit(synthetic(rows, both))


# ----------------------------------------------------------------------------- built-in

@pytest.fixture(scope="module")
def linked_2019():
    """The built-in 2019 scenario over its first 6 days, with contacts and link volumes."""
    from marsrelay.contacts import find_contacts
    from marsrelay.links import compute_links
    from marsrelay.scenario import load_scenario

    sc = load_scenario("curiosity-insight-tgo-2019")
    sc = sc.with_overrides(end_utc="2019-06-07T00:00:00Z")
    return sc, compute_links(sc, find_contacts(sc))


def written(tmp_path, allocation) -> list[dict[str, str]]:
    for table in allocation.tables():
        write_table(tmp_path, table)
    return read_passes(tmp_path / "earth_passes.csv")


def test_builtin_2019_allocation_keeps_every_antenna_within_its_mode(linked_2019, tmp_path):
    sc, linked = linked_2019
    earth = allocate_earth(sc, linked.contacts)
    rows = written(tmp_path, earth)
    mspa = {name: spec.mspa for name, spec in sc.earth.stations.items()}
    assert set(mspa.values()) == {4}  # DSN MSPA in the built-in (MSL "Busy Signals" page)
    check_rules(rows, mspa)
    used = [r for r in rows if r["status"] != "unmet"]
    assert any(r["mode"] == "mspa" for r in used)  # several orbiters share a 70 m antenna
    # Tracking allocations: MRO two 8-hour tracks a UTC day (NASA MRO page: 16 h a day), the
    # others one; Curiosity one 15-minute session a sol (MSL page), InSight none.
    per_day: dict[tuple[str, str], int] = {}
    for r in used:
        per_day[(r["orbiter"], r["period"])] = per_day.get((r["orbiter"], r["period"]), 0) + 1
        if r["kind"] == "orbiter_earth":
            assert float(r["duration_s"]) <= 8 * HOUR + 1e-3
        else:
            assert r["orbiter"] == "Curiosity"
            assert float(r["duration_s"]) == pytest.approx(15 * 60.0)
    for (craft, _), count in per_day.items():
        assert count <= (2 if craft == "MRO" else 1)
    assert sum(1 for (c, _) in per_day if c == "MRO") == 6
    assert {c for c, _ in per_day} == {"MRO", "TGO", "Odyssey", "MAVEN", "Curiosity"}


def test_contended_antennas_single_mode_and_exact_beats_greedy(linked_2019, tmp_path):
    # No MSPA and every orbiter asking for two 8-hour tracks a day: six antennas, one
    # spacecraft each, cannot give all of them. The plan keeps every rule; the exact solver
    # grants at least what greedy does.
    sc, linked = linked_2019
    cfg = EarthConfig(orbiters={o.name: {"hours_per_day": 16.0, "passes_per_day": 2}
                                for o in sc.orbiters},
                      landers={"Curiosity": {"sessions_per_sol": 1}})
    earth = allocate_earth(sc, linked.contacts, cfg, time_limit_s=20.0)
    rows = written(tmp_path, earth)
    check_rules(rows, {})
    used = [r for r in rows if r["status"] != "unmet"]
    assert all(r["mode"] == "single" for r in used)
    unmet = [r for r in rows if r["status"] == "unmet"]
    assert unmet and {r["reason"] for r in unmet} <= {"antenna_busy", "spacecraft_busy",
                                                        "no_view", "not_chosen"}
    assert earth.objective >= earth.greedy_objective
    assert earth.granted == len(used) and earth.granted + len(unmet) == earth.requested
    assert 0.0 <= earth.gap < 0.2


def test_dte_never_counted_per_antenna(linked_2019):
    sc, linked = linked_2019
    earth = allocate_earth(sc, linked.contacts)
    c = linked.contacts
    dte = (c.kind == "direct_earth") & (c.source == "Curiosity")
    windows_bits = float(np.sum(c.volume_bits[dte]))  # every antenna's windows summed
    mine = earth.kind == "direct_earth"
    sessions_bits = float(np.sum(earth.volume_bits[mine]))
    rate = np.max(c.rate_bps_mean[dte])  # the best link any antenna offers
    n_sols = (sc.end_tdb_s - sc.start_tdb_s) / SOL_S
    assert sessions_bits <= math.ceil(n_sols) * 15 * 60.0 * rate
    assert sessions_bits < 0.05 * windows_bits
    assert set(earth.craft[mine]) == {"Curiosity"}  # InSight: sessions_per_sol = 0


def test_allocate_false_keeps_every_earth_window(linked_2019):
    sc, linked = linked_2019
    off = sc.earth.model_copy(update={"allocate": False})
    assert allocate_earth(sc, linked.contacts, off) is None


def test_earth_problem_needs_link_volumes(linked_2019):
    sc, linked = linked_2019
    raw = linked.contacts.with_links(linked.contacts.rate_bps_mean,
                                     np.full(len(linked.contacts), np.nan))
    with pytest.raises(InputError, match="links stage"):
        earth_problem_of(sc, raw)


# ----------------------------------------------------------------------------- scenario keys

BASE = """
[scenario]
name = "keys"
start = "2030-11-01T00:00:00Z"
end = "2030-11-02T00:00:00Z"
[[orbiter]]
name = "TGO"
[orbiter.elements]
a_km = 3796.19
i_deg = 74.0
{orbiter}
[[lander]]
name = "RF"
lat_deg = 18.275
lon_east_deg = 335.368
{lander}
[[station]]
name = "DSS-63"
lat_deg = 40.4299
lon_east_deg = 355.7523
{station}
"""


def load_text(tmp_path, lander: str = "", tail: str = "", orbiter: str = "",
              station: str = ""):
    from marsrelay.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text(BASE.format(lander=lander, orbiter=orbiter, station=station) + tail,
                    encoding="utf-8")
    return load_scenario(path)


TRACK = ('tracks = [{{station = "{station}", start = "2030-11-01T{a}:00:00Z", '
         'end = "2030-11-01T{b}:00:00Z"}}]\n')


@pytest.mark.parametrize(("where", "text", "needle"), [
    ("orbiter", "[orbiter.tracking]\nhours_per_dya = 8.0\n", "did you mean 'hours_per_day'"),
    ("station", "mspaa = 4\n", "did you mean 'mspa'"),
    ("lander", "[lander.dte]\nsession_minute = 15.0\n", "did you mean 'session_minutes'"),
    ("tail", "[earth]\nalocate = false\n", "did you mean 'allocate'"),
    ("tail", "[earth.stations.DSS-63]\nmspa = 2\n", "unknown key 'stations'"),
    ("station", "serves = [\"MRO\"]\n", "'MRO' is not a lander or orbiter"),
    ("station", "mspa = 0\n", "station[0].mspa"),
    ("orbiter", "[orbiter.tracking]\nhours_per_day = 8.0\n"
     + TRACK.format(station="DSS-63", a="01", b="02"), "not both"),
    ("orbiter", "[orbiter.tracking]\n" + TRACK.format(station="DSS-63", a="03", b="02"),
     "not after its start"),
    ("orbiter", "[orbiter.tracking]\n" + TRACK.format(station="DSS-99", a="01", b="02"),
     "'DSS-99' is not a station"),
])
def test_bad_earth_keys_name_the_key(tmp_path, where, text, needle) -> None:
    with pytest.raises(ScenarioError) as err:
        load_text(tmp_path, **{where: text})
    assert needle in str(err.value)
    assert "s.toml" in str(err.value)


def test_earth_keys_on_the_nodes(tmp_path) -> None:
    sc = load_text(tmp_path, station="mspa = 4\ncomplex = \"Madrid\"\n",
                   orbiter="[orbiter.tracking]\nhours_per_day = 12.0\npasses_per_day = 3\n",
                   lander="[lander.dte]\nsessions_per_sol = 2\nsession_minutes = 30.0\n",
                   tail="[earth]\nsolver = \"greedy\"\n")
    e = sc.earth
    assert (e.stations["DSS-63"].mspa, e.stations["DSS-63"].complex) == (4, "Madrid")
    assert (e.orbiters["TGO"].hours_per_day, e.orbiters["TGO"].passes_per_day) == (12.0, 3)
    assert (e.landers["RF"].sessions_per_sol, e.landers["RF"].session_minutes) == (2, 30.0)
    assert e.solver == "greedy" and e.allocate


def test_lander_keys_demand_and_landing(tmp_path) -> None:
    from marsrelay.schedule import demand_from_traffic

    sc = load_text(tmp_path, lander='landing_utc = "2030-10-01T12:00:00Z"\n'
                                    "demand_mbit_per_sol = 220.0\ndemand_priority = 3.0\n")
    (rf,) = sc.landers
    assert rf.demand_bits_per_sol == 220e6 and rf.demand_priority == 3.0
    assert rf.landing_sol is not None
    (d,) = demand_from_traffic(sc).demand
    assert (d.lander, d.bits_per_sol, d.priority) == ("RF", 220e6, 3.0)
    with pytest.raises(ScenarioError, match="did you mean 'landing_utc'"):
        load_text(tmp_path, lander='landing = "2030-10-01T12:00:00Z"\n')
    with pytest.raises(ScenarioError, match=r"lander.*landing_utc"):
        load_text(tmp_path, lander='landing_utc = "soon"\n')


def test_without_a_partner_drops_its_earth_entries(tmp_path) -> None:
    sc = load_text(tmp_path, station="mspa = 4\nserves = [\"TGO\", \"RF\"]\n",
                   orbiter="[orbiter.tracking]\npasses_per_day = 2\n")
    other = sc.without("TGO")
    assert "TGO" not in other.earth.orbiters
    assert other.earth.stations["DSS-63"].serves == ["RF"]
