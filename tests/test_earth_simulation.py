"""The simulation on allocated Earth passes and split relay passes, and the per-sol outputs.

On the built-in ``curiosity-insight-tgo-2019`` (its first 6 days), run through every stage:

- every bit that reaches an Earth station left its spacecraft inside an allocated Earth pass
  (``earth_passes``), and no pass carries more than its ``volume_bits``;
- a split relay pass gives each lander only its share: the bits a lander sends on it stay
  inside the share's window and within the share's volume (the rest of the overflight is the
  other lander's);
- per-sol tables: ``binding`` is filled for every sol (``demand_met`` when the demand is met),
  ``delivery.delivered_from_earlier_bits`` matches the bundles recounted here, and
  ``mission_sol`` numbers the landers' sols from their landing (checked against a published
  date: Curiosity's sol 2000 was 2018-03-22, NASA/JPL MSL mission updates; University of
  Leicester MSL blog, 2018-03-22);
- the report's schedule keeps split passes, over their lander's share only.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from marsrelay import pipeline
from marsrelay.config.schedule import ScheduleConfig
from marsrelay.config.traffic import TrafficConfig
from marsrelay.geometry.solar_time import local_sol
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.scenario import load_scenario
from marsrelay.simulation.plan import BAND_EARTH, BAND_PROXIMITY


@pytest.fixture(scope="module")
def six_days():
    sc = load_scenario("curiosity-insight-tgo-2019")
    return sc.with_overrides(end_utc="2019-06-07T00:00:00Z")


@pytest.fixture(scope="module")
def run_2019(six_days, tmp_path_factory):
    result = pipeline.run(six_days)
    out = pipeline.write_run_folder(tmp_path_factory.mktemp("run") / "out", result)
    return result, out


def sent_bits(outcome) -> np.ndarray:
    """Bits sent on each contact of the plan (every hop of every bundle)."""
    plan = outcome.plan
    hops = outcome.hops
    bits = np.repeat(outcome.bundles.bits[:, None], hops.shape[1], axis=1)
    m = hops >= 0
    return np.bincount(hops[m], weights=bits[m], minlength=len(plan))


def rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_earth_bits_only_in_allocated_passes_and_within_their_volume(run_2019) -> None:
    result, out = run_2019
    earth = result.schedule.earth
    outcome = result.simulation.outcome
    plan = outcome.plan
    bits = sent_bits(outcome)
    names = np.array(plan.node_names, dtype=object)
    on_earth = np.flatnonzero((plan.band == BAND_EARTH) & (bits > 0))
    assert on_earth.size > 0
    passes = [r for r in rows(out / "earth_passes.csv") if r["status"] != "unmet"]
    start = np.array([float(utc_to_tdb(r["start_utc"])) for r in passes])
    end = np.array([float(utc_to_tdb(r["end_utc"])) for r in passes])
    craft = np.array([r["orbiter"] for r in passes], dtype=object)
    station = np.array([r["station"] for r in passes], dtype=object)
    volume = np.array([float(r["volume_bits"]) for r in passes])
    carried = np.zeros(len(passes))
    for c in on_earth.tolist():
        k = np.flatnonzero((craft == names[plan.from_node[c]])
                           & (station == names[plan.to_node[c]])
                           & (start <= plan.start_tdb_s[c] + 1e-3)
                           & (plan.end_tdb_s[c] <= end + 1e-3))
        assert k.size == 1, "an Earth contact outside every allocated pass"
        carried[k[0]] += bits[c]
    # CSV volumes are rounded to whole bits.
    assert np.all(carried <= volume + 1.0)
    # The bound bites: Curiosity's 15-minute DTE sessions (a few Mbit) are used to the full;
    # the orbiters' 8-hour tracks carry far more than the landers make.
    dte = np.array([r["kind"] == "direct_earth" for r in passes])
    assert dte.any() and np.any(carried[dte] >= 0.9 * volume[dte])
    assert len(earth) == len(passes)
    # Every delivered bundle reached a station through such a pass.
    delivered = outcome.delivered
    last = outcome.hops[delivered, np.maximum(outcome.n_hops[delivered] - 1, 0)]
    assert np.all(plan.band[last] == BAND_EARTH)


def test_split_pass_gives_each_lander_only_its_share(six_days) -> None:
    tgo = six_days.with_overrides(
        orbiters=tuple(o for o in six_days.orbiters if o.name == "TGO"),
        simulation=six_days.simulation.model_copy(update={"use_schedule": True}),
        traffic=TrafficConfig(source=[{"node": x, "bits_per_sol": 500e6}
                                      for x in ("Curiosity", "InSight")]))
    # Demand beyond what TGO gives each lander alone (about 500 Mbit/sol, Curiosity's average
    # via MRO, Bell et al. 2014; the same assumed for InSight), as test_schedule_splits.
    cfg = ScheduleConfig(**{**tgo.schedule.model_dump(), "split_passes": True,
                            "demand": [{"lander": x, "bits_per_sol": 500e6}
                                       for x in ("Curiosity", "InSight")]})
    result = pipeline.run(tgo, schedule=cfg)
    p = result.schedule.passes
    split = np.flatnonzero(p.split)
    assert split.size >= 2
    outcome = result.simulation.outcome
    plan = outcome.plan
    bits = sent_bits(outcome)
    names = np.array(plan.node_names, dtype=object)
    prox = plan.band == BAND_PROXIMITY
    for k in split.tolist():
        a, b = p.share_start_tdb_s[k], p.share_end_tdb_s[k]
        mine = np.flatnonzero(prox & (names[plan.from_node] == p.lander[k])
                              & (names[plan.to_node] == "TGO")
                              & (plan.end_tdb_s > p.start_tdb_s[k])
                              & (plan.start_tdb_s < p.end_tdb_s[k]))
        assert mine.size == 1
        c = mine[0]
        # The plan's contact is the share: its window and its volume, not the whole pass.
        assert plan.start_tdb_s[c] == pytest.approx(a, abs=1e-3)
        assert plan.end_tdb_s[c] == pytest.approx(b, abs=1e-3)
        assert plan.volume_bits[c] == pytest.approx(p.share_volume_bits[k], rel=1e-9)
        assert bits[c] <= p.share_volume_bits[k] + 1.0
        assert p.share_volume_bits[k] < p.volume_bits[k]


def test_binding_filled_for_every_sol(run_2019) -> None:
    _, out = run_2019
    sols = rows(out / "schedule_sols.csv")
    assert sols and all(r["binding"] for r in sols)
    met = [r for r in sols if float(r["shortfall_bits"] or 0) == 0]
    assert met and all(r["binding"] == "demand_met" and r["detail"].startswith("demand met")
                       for r in met)


def test_delivery_says_what_came_from_earlier_sols(run_2019) -> None:
    result, out = run_2019
    delivery = rows(out / "delivery.csv")
    bundles = rows(out / "bundles.csv")
    lon = {la.name: la.site.lon_east_deg for la in result.scenario.landers}
    for r in delivery:
        earlier = 0.0
        for b in bundles:
            if b["source"] != r["lander"] or b["status"] != "delivered":
                continue
            made = int(local_sol(utc_to_tdb(b["created_utc"]), lon[r["lander"]]))
            done = int(local_sol(utc_to_tdb(b["done_utc"]), lon[r["lander"]]))
            if done == int(r["sol"]) and made < done:
                earlier += float(b["size_bits"])
        assert float(r["delivered_from_earlier_bits"]) == pytest.approx(earlier, abs=1.0)
        own = float(r["delivered_bits"]) - float(r["delivered_from_earlier_bits"])
        assert own <= float(r["generated_bits"]) + 1.0
    assert any(float(r["delivered_from_earlier_bits"]) > 0 for r in delivery)


def test_mission_sols_from_landing(run_2019) -> None:
    result, out = run_2019
    curiosity = next(la for la in result.scenario.landers if la.name == "Curiosity")
    # Published: Curiosity's sol 2000 was 2018-03-22 (NASA/JPL mission updates). Sols
    # overlapping that UTC date, counted from the scenario's landing_utc:
    day = [float(utc_to_tdb(t)) for t in ("2018-03-22T00:00:00Z", "2018-03-22T23:59:59Z")]
    sols = {int(local_sol(t, curiosity.site.lon_east_deg)) - curiosity.landing_sol
            for t in day}
    assert 2000 in sols
    landing = {la.name: la.landing_sol for la in result.scenario.landers}
    for name in ("volumes_per_sol.csv", "schedule_sols.csv", "delivery.csv"):
        table = rows(out / name)
        assert table
        for r in table:
            assert int(float(r["mission_sol"])) == int(r["sol"]) - landing[r["lander"]]
    # June 2019: Curiosity in its sols 2420s, InSight (landed 2018-11-26) in its 180s.
    ms = {r["lander"]: int(float(r["mission_sol"])) for r in rows(out / "delivery.csv")}
    assert 2415 <= ms["Curiosity"] <= 2435 and 175 <= ms["InSight"] <= 195


def test_report_schedule_keeps_split_passes_over_their_share(tmp_path) -> None:
    from marsrelay.report.run_data import used_passes
    from marsrelay.rundir.schema import SCHEDULE

    n = 3
    cols = {c.name: np.full(n, np.nan) if c.type == "float" else (
        np.zeros(n, dtype=np.int64) if c.type == "int" else np.full(n, "", dtype=object))
        for c in SCHEDULE.columns}
    cols["status"] = np.array(["selected", "split", "dropped"], dtype=object)
    cols["start_tdb_s"] = np.array([0.0, 100.0, 200.0])
    cols["end_tdb_s"] = np.array([50.0, 700.0, 300.0])
    cols["duration_s"] = cols["end_tdb_s"] - cols["start_tdb_s"]
    cols["volume_bits"] = np.array([5.0, 60.0, 10.0])
    cols["share_start_tdb_s"] = np.array([np.nan, 400.0, np.nan])
    cols["share_end_tdb_s"] = np.array([np.nan, 700.0, np.nan])
    cols["share_volume_bits"] = np.array([np.nan, 30.0, np.nan])
    out = used_passes(cols)
    assert list(out["status"]) == ["selected", "split"]
    assert list(out["start_tdb_s"]) == [0.0, 400.0]
    assert list(out["duration_s"]) == [50.0, 300.0]
    assert list(out["volume_bits"]) == [5.0, 30.0]


def test_report_draws_earth_passes(run_2019) -> None:
    from marsrelay.report.run_data import load_run

    _, out = run_2019
    data = load_run(out)
    assert data.earth_passes is not None and len(data.earth_passes) > 0
    assert set(data.earth_passes["status"]) <= {"allocated", "explicit"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Earth pass" in html and "earth_passes" in html
