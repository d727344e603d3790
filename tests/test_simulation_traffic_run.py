"""Traffic generation, the simulation stage on a scenario, and ``marsrelay simulate``."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from marsrelay.cli.main import app
from marsrelay.config.traffic import TrafficConfig, TrafficSource
from marsrelay.constants import SOL_S
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.geometry.solar_time import lmst_hours
from marsrelay.rundir.tables import write_table
from marsrelay.scenario import load_scenario
from marsrelay.simulation import ContactPlan, run_on_plan
from marsrelay.simulation.ion import write_ion
from marsrelay.simulation.traffic import generate_traffic

NAMES = ["TGO", "Rosalind Franklin", "DSS-63"]
KINDS = ["orbiter", "lander", "station"]
LON = 335.368  # Oxia Planum, IAU Gazetteer (reference facts)


def test_uniform_source_makes_bits_per_sol_in_products_of_bundles():
    src = TrafficSource(node="Rosalind Franklin", bits_per_sol=150e6, product_bits=25e6,
                        bundle_bits=10e6, priority=2, lifetime_s=1000.0)
    t0 = 1e9
    b = generate_traffic(TrafficConfig(source=[src]), NAMES, KINDS, t0, t0 + 10 * SOL_S,
                         {"Rosalind Franklin": LON})
    # 10 sols x 150 Mbit = 1.5 Gbit = 60 products of 25 Mbit (give or take one at the edges)
    assert abs(b.total_bits - 1.5e9) <= 25e6
    sizes = b.bits[b.product == b.product[0]]
    assert sizes.tolist() == [10e6, 10e6, 5e6]
    assert (b.priority == 2).all()
    assert np.allclose(b.expiry_tdb_s - b.created_tdb_s, 1000.0)
    gaps = np.diff(np.unique(b.created_tdb_s))
    assert np.allclose(gaps, SOL_S * 25e6 / 150e6, rtol=1e-6)


def test_daytime_source_creates_only_between_06_and_18_lmst():
    src = TrafficSource(node="Rosalind Franklin", bits_per_sol=100e6, bundle_bits=1e6,
                        profile="daytime")
    t0 = 1e9
    b = generate_traffic(TrafficConfig(source=[src]), NAMES, KINDS, t0, t0 + 5 * SOL_S,
                         {"Rosalind Franklin": LON})
    h = lmst_hours(b.created_tdb_s, LON)
    assert h.min() >= 6.0 - 1e-6 and h.max() <= 18.0 + 1e-6
    # half-sine profile: a third of the data by 10:00 LMST, (1 - cos(pi/3)) / 2 = 0.25
    assert np.mean(h <= 10.0) == pytest.approx(0.25, abs=0.02)
    assert abs(b.total_bits - 5 * 100e6) <= 1e6


def test_bad_sources_are_input_errors():
    bad = TrafficConfig(source=[TrafficSource(node="DSS-63")])
    with pytest.raises(InputError, match="station"):
        generate_traffic(bad, NAMES, KINDS, 0.0, 1e5)
    bad = TrafficConfig(source=[TrafficSource(node="TGO", profile="daytime")])
    with pytest.raises(InputError, match="daytime"):
        generate_traffic(bad, NAMES, KINDS, 0.0, 1e5)


def _scenario_and_table():
    sc = load_scenario("exomars-2030")
    sc = sc.with_overrides(end_utc="2030-11-04T00:00:00Z")
    t0 = sc.start_tdb_s
    rows = []
    for k in range(6):  # a TGO pass every half sol, then TGO -> DSS-63 30 min later
        s = t0 + 1000.0 + k * SOL_S / 2
        rows.append(("Rosalind Franklin", "TGO", "proximity", s, s + 600.0, 0.0, 1e6))
        rows.append(("TGO", "DSS-63", "orbiter_earth", s + 1800, s + 5400, 700.0, 2e6))
    n = len(rows)
    cols = list(zip(*rows, strict=True))
    table = ContactTable(np.array(cols[0], dtype=object), np.array(cols[1], dtype=object),
                         np.array(cols[2], dtype=object), np.array(cols[3]), np.array(cols[4]),
                         np.full(n, 45.0), np.array(cols[3]), np.full(n, 500.0),
                         np.full(n, 1500.0), np.array(cols[5]))
    table = table.with_links(np.array(cols[6]), np.array(cols[6]) * (table.duration_s))
    return sc, table


def test_run_simulation_writes_consistent_outputs(tmp_path):
    sc, table = _scenario_and_table()
    res = run_on_plan(sc, ContactPlan.from_contact_table(table, sc, sc.simulation))
    for output in res.tables():
        write_table(tmp_path, output)
    tot = res.totals()
    assert tot["generated_bits"] > 0
    bundles = pq.read_table(tmp_path / "bundles.parquet")
    status = bundles.column("status").to_pylist()
    size = np.array(bundles.column("size_bits").to_pylist())
    delivered = np.array([s == "delivered" for s in status])
    assert size[delivered].sum() == pytest.approx(tot["delivered_bits"])
    paths = set(bundles.column("path").to_pylist())
    assert "Rosalind Franklin>TGO>DSS-63" in paths
    with open(tmp_path / "delivery.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["lander"] for r in rows} == {"Rosalind Franklin"}
    # per-sol delivered bits add up to everything delivered
    assert sum(float(r["delivered_bits"] or 0) for r in rows) == pytest.approx(
        tot["delivered_bits"])
    assert sum(float(r["generated_bits"] or 0) for r in rows) == pytest.approx(
        tot["generated_bits"])
    # every delivery took at least the 700 s light time
    lat = np.array(bundles.column("latency_s").to_pylist(), dtype=float)
    assert np.nanmin(lat) >= 700.0
    assert (tmp_path / "buffers.csv").read_text().startswith("node,time_utc")


def test_cli_simulate_on_an_ion_plan(tmp_path):
    sc, table = _scenario_and_table()
    from marsrelay.simulation.plan import ContactPlan

    plan = ContactPlan.from_contact_table(table, sc, sc.simulation)
    ion = write_ion(tmp_path / "plan.ionrc", plan).path
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", "exomars-2030", "--out", str(out),
                                      "--ion", str(ion), "--export-ion",
                                      str(tmp_path / "again.ionrc")])
    assert result.exit_code == 0, result.output
    assert "delivered" in result.output
    assert (out / "bundles.parquet").exists() and (out / "delivery.csv").exists()
    assert (tmp_path / "again.ionrc").read_text() == ion.read_text()
    bad = CliRunner().invoke(app, ["simulate", "no-such-scenario", "--ion", str(ion)])
    assert bad.exit_code == 2
