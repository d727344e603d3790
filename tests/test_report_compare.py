"""`marsrelay compare` / `marsrelay report` / `marsrelay czml` on run directories.

Every expected figure is recomputed here from the raw files (csv module, numpy, pyarrow), never
by calling the summary code under test.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from helpers.report_synth import write_run
from marsrelay.cli.main import app
from marsrelay.rundir import schema
from marsrelay.rundir.folder import write_run_record
from marsrelay.rundir.tables import OutputTable, read_table, write_table

SOL_S = 88775.244  # Allison & McEwen 2000 (Mars24): the mean solar day


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("runs")
    a = write_run(base / "a", "synth-a")
    b = write_run(base / "b", "synth-no-tgo", orbiters=("MRO",), seed=2,
                  conjunction=("2030-11-02T12:00:00Z", "2030-11-05T00:00:00Z"))
    c = write_run(base / "c", "contacts-only", simulation=False)
    return a, b, c


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _span(run: Path) -> tuple[float, float]:
    sc = json.loads((run / "scenario.json").read_text())
    return sc["start_tdb_s"], sc["end_tdb_s"]


def _expected(run: Path, lander: str) -> dict[str, float]:
    t0, t1 = _span(run)
    n_sols = (t1 - t0) / SOL_S
    prox = [r for r in _rows(run / "contacts.csv")
            if r["kind"] == "proximity" and lander in (r["source"], r["target"])]
    out = {
        "passes": len(prox) / n_sols,
        "contact time": sum(float(r["duration_s"]) for r in prox) / 60.0 / n_sols,
    }
    if (run / "delivery.csv").exists():
        out["data returned"] = sum(float(r["delivered_bits"]) for r in
                                   _rows(run / "delivery.csv") if r["lander"] == lander)
        out["data returned"] /= 1e6 * n_sols
        tab = pq.read_table(run / "bundles.parquet")
        lat = np.asarray(tab.column("latency_s").to_numpy(), dtype=float)
        who = np.asarray(tab.column("source").to_pylist(), dtype=object)
        ok = np.isfinite(lat) & (who == lander)
        out["latency p50"] = float(np.percentile(lat[ok], 50)) / 3600.0
        out["latency p95"] = float(np.percentile(lat[ok], 95)) / 3600.0
    return out


def _longest_earth_gap_h(run: Path) -> float:
    t0, t1 = _span(run)
    tab = pq.read_table(run / "contacts.parquet").to_pydict()
    wins = sorted(
        (s, e) for k, s, e in zip(tab["kind"], tab["start_tdb_s"], tab["end_tdb_s"], strict=True)
        if k in ("orbiter_earth", "direct_earth")
    )
    gap, covered_to = 0.0, t0
    for s, e in wins:
        gap = max(gap, s - covered_to)
        covered_to = max(covered_to, e)
    return max(gap, t1 - covered_to) / 3600.0


def _compare_csv(tmp_path: Path, *args: str) -> list[dict[str, str]]:
    out = tmp_path / "cmp.csv"
    res = CliRunner().invoke(app, ["compare", *args, "--csv", str(out)])
    assert res.exit_code == 0, res.output
    return _rows(out)


def _value(rows, figure: str, lander: str, column: str) -> float:
    for r in rows:
        if r["figure"] == figure and r["lander"] == lander:
            return float(r[column])
    raise KeyError((figure, lander))


def test_compare_figures_match_the_raw_outputs(runs, tmp_path):
    a, b, _ = runs
    rows = _compare_csv(tmp_path, str(a), str(b))
    for lander in ("Rosalind Franklin", "Curiosity"):
        ea, eb = _expected(a, lander), _expected(b, lander)
        for fig, va in ea.items():
            got_a = _value(rows, fig, lander, "synth-a")
            got_b = _value(rows, fig, lander, "synth-no-tgo")
            delta = _value(rows, fig, lander, "synth-no-tgo - synth-a")
            assert got_a == pytest.approx(va, rel=1e-9), (fig, lander)
            assert got_b == pytest.approx(eb[fig], rel=1e-9), (fig, lander)
            assert delta == pytest.approx(eb[fig] - va, rel=1e-9, abs=1e-12)
    # without TGO there are fewer passes: the comparison must show it
    assert _value(rows, "passes", "Curiosity", "synth-no-tgo - synth-a") < 0
    # all bundles of a lander together: p50 over every delivered bundle
    tab = pq.read_table(a / "bundles.parquet")
    lat = np.asarray(tab.column("latency_s").to_numpy(), dtype=float)
    lat = lat[np.isfinite(lat)]
    assert _value(rows, "latency p50", "", "synth-a") == pytest.approx(
        np.percentile(lat, 50) / 3600.0, rel=1e-9)
    assert _value(rows, "longest gap with no Earth link", "", "synth-a") == pytest.approx(
        _longest_earth_gap_h(a), rel=1e-9)
    # conjunction window 2030-11-02T12:00Z..11-05 overlaps the span's last 12 h (no leap second)
    assert _value(rows, "conjunction outage", "", "synth-no-tgo") == pytest.approx(0.5, abs=1e-6)
    assert not next(r for r in rows if r["figure"] == "conjunction outage")["synth-a"]


def test_sols_without_contact_and_gaps(runs, tmp_path):
    _, _, c = runs
    # drop every contact of Curiosity: its whole span is one gap, every whole sol is empty
    cols = read_table(c, schema.CONTACTS)
    keep = (cols["source"] != "Curiosity") & (cols["target"] != "Curiosity")
    d = tmp_path / "quiet"
    d.mkdir()
    (d / "scenario.json").write_text((c / "scenario.json").read_text())
    write_table(d, OutputTable(schema.CONTACTS, {k: v[keep] for k, v in cols.items()}))
    write_run_record(d, "contacts-only", ("contacts",), {})
    out = _compare_csv(tmp_path, str(c), str(d))
    t0, t1 = _span(c)
    assert _value(out, "longest gap with no contact", "Curiosity", "contacts-only (2)") == \
        pytest.approx((t1 - t0) / 3600.0, rel=1e-12)
    # a 2-day span (1.95 sols) holds exactly one whole local sol at any longitude
    assert _value(out, "sols with no contact", "Curiosity", "contacts-only (2)") == 1
    assert _value(out, "sols with no contact", "Rosalind Franklin", "contacts-only (2)") == 0
    assert _value(out, "passes", "Curiosity", "contacts-only (2)") == 0
    # the contacts-only run has no simulation: those figures stay empty
    empty = [r for r in out if r["figure"] == "data returned" and r["lander"] == "Curiosity"]
    assert empty[0]["contacts-only"] == ""


def test_csv_alone_gives_the_same_figures(runs, tmp_path):
    """A run folder whose Parquet files are gone is read from its CSV files (the TDB columns
    rebuilt from the UTC ones) and gives the same figures."""
    import shutil

    _, _, c = runs
    d = tmp_path / "csv-only"
    shutil.copytree(c, d)
    for f in d.glob("*.parquet"):
        f.unlink()
    write_run_record(d, "contacts-only", ("contacts",), {})
    out = _compare_csv(tmp_path, str(c), str(d))
    for r in out:
        if r["contacts-only"]:
            assert float(r["contacts-only (2)"]) == pytest.approx(float(r["contacts-only"]),
                                                                  rel=1e-6, abs=1e-6), r


def test_bad_inputs_exit_2_with_a_clear_message(runs, tmp_path):
    a, _, _ = runs
    runner = CliRunner()
    missing = tmp_path / "no-such-run"
    res = runner.invoke(app, ["compare", str(a), str(missing)])
    assert res.exit_code == 2
    assert "no such run folder" in res.output and "no-such-run" in res.output
    bad = tmp_path / "broken.toml"
    bad.write_text('[scenario]\nname = "x"\nstart = \n')
    res = runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert "broken.toml" in res.output and "line 3: TOML syntax error" in res.output
    assert not (tmp_path / "r.html").exists()
    typo = tmp_path / "typo.toml"
    typo.write_text('[scenario]\nname = "x"\nstrat = "2030-01-01T00:00:00Z"\n')
    res = runner.invoke(app, ["compare", str(a), str(typo)])
    assert res.exit_code == 2 and "typo.toml" in res.output
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    res = runner.invoke(app, ["report", str(empty), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "not a complete marsrelay run" in res.output
    res = runner.invoke(app, ["compare", str(a)])
    assert res.exit_code == 2 and "at least two" in res.output
    res = runner.invoke(app, ["czml", str(missing), "--out", str(tmp_path / "x.czml")])
    assert res.exit_code == 2


def test_report_degrades_gracefully_without_simulation(runs, tmp_path):
    _, _, c = runs
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", str(c), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.count("not computed in this run") == 2  # latency and buffers
    assert 'data-section="latency"' in text and 'data-section="buffers"' in text
    # plotly.js inlined exactly once, and nothing fetched from the network
    assert len(re.findall(r"\* plotly\.js v\d", text)) == 1
    assert text.count("window.PlotlyConfig") == 1
    assert "<script src=" not in text and "<link " not in text


def test_czml_links_follow_the_contacts(runs, tmp_path):
    a, _, _ = runs
    out = tmp_path / "run.czml"
    res = CliRunner().invoke(app, ["czml", str(a), "--out", str(out), "--step", "120"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc[0]["id"] == "document" and doc[0]["version"] == "1.0"
    tgo = next(p for p in doc if p["id"] == "orbiter/TGO")
    xyz = np.asarray(tgo["position"]["cartesian"], dtype=float).reshape(-1, 4)[:, 1:]
    # a circular orbit (e = 0): |r| stays the semi-major axis, 3796.19 km
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 3796.19e3, rtol=1e-9)
    prox = [r for r in _rows(a / "contacts.csv") if r["kind"] == "proximity"]
    links = [p for p in doc if p["id"].startswith("link/")]
    assert len(links) == len(prox)
    got = sorted(p["availability"] for p in links)
    want = sorted(f"{r['start_utc']}/{r['end_utc']}" for r in prox)
    assert got == want


SCENARIO_TOML = """
[scenario]
name = "two-day-test"
start = "2030-11-01T00:00:00Z"
end = "2030-11-03T00:00:00Z"

[[orbiter]]
name = "TGO"
[orbiter.elements]
epoch = "2030-11-01T00:00:00Z"
a_km = 3796.19
e = 0.0
i_deg = 74.0
raan_deg = 30.0
argp_deg = 0.0
mean_anomaly_deg = 0.0

[[lander]]
name = "Rosalind Franklin"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
elevation_mask_deg = 10.0

[[station]]
name = "DSA-2"
lat_deg = 40.4527
lon_east_deg = 355.6324
height_m = 794.0
elevation_mask_deg = 10.0
"""


def test_report_from_a_scenario_file_runs_the_pipeline(tmp_path):
    path = tmp_path / "two-day.toml"
    path.write_text(SCENARIO_TOML)
    out = tmp_path / "report.html"
    runs_dir = tmp_path / "runs"
    res = CliRunner().invoke(app, ["report", str(path), "--out", str(out),
                                   "--runs-dir", str(runs_dir)])
    assert res.exit_code == 0, res.output
    assert (runs_dir / "two-day-test" / "scenario.json").is_file()
    text = out.read_text()
    # whatever stages exist, the map and the Earth-Mars geometry are drawn from the scenario
    assert 'id="two-day-test-map-plot"' in text
    assert 'id="two-day-test-earth-mars-plot"' in text
    assert "TGO ground track" in text
