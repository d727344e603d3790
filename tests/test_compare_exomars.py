"""`marsrelay compare` on real pipeline runs of the two ExoMars scenarios.

The built-in ``exomars-2022-roscosmos`` and ``exomars-2030`` scenarios are shortened to a few
days (``Scenario.with_overrides``) and run through every stage (``pipeline.run``, no HTML
report). Every figure of the comparison is then recomputed here from the raw stage outputs
(``contacts.csv`` / ``contacts.parquet``, ``volumes_per_sol.csv``, ``delivery.csv``,
``latency.csv``, ``bundles.parquet``, ``conjunction.csv``, ``scenario.json``) with the csv
module, numpy and pyarrow, never by calling the summary code under test. Local sols follow
Allison & McEwen (2000) / Mars24, typed in below.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from marsrelay import pipeline
from marsrelay.cli.main import app
from marsrelay.report.compare import compare_runs
from marsrelay.rundir.folder import write_run_record
from marsrelay.scenario import load_scenario

# Mars solar time, Allison & McEwen 2000 (Planet. Space Sci. 48, 215) as in NASA GISS Mars24:
# MSD = (JD_TT - 2405522.0028779) / 1.0274912517. Per-sol figures divide by the sol of the
# project conventions, 88775.244 s (the same source, rounded to the millisecond).
MSD_EPOCH_JD_TT = 2405522.0028779
SOL_DAYS = 1.0274912517
SOL_S = 88775.244
J2000_JD = 2451545.0
DAY_S = 86400.0
# TDB - TT stays below 1.7 ms (Fairhead & Bretagnon amplitude 1.657 ms): TT = TDB is used for
# sol edges here, which moves them by less than that.

SPAN_DAYS = 3.0
A, B = "exomars-2022-roscosmos", "exomars-2030"
# NASA paused commanding below 2 deg Sun-Earth-Mars angle from 2023-11-11 to 2023-11-25
# (NASA solar conjunction release, 2023); the 2022 scenario's threshold is 2 deg.
CONJ_START_UTC, CONJ_END_UTC = "2023-11-10T00:00:00Z", "2023-11-13T00:00:00Z"

RUN_FIGURES = (
    "span", "contact windows", "data returned (all landers)", "link capacity (all landers)",
    "latency p50", "latency p95", "conjunction outage", "longest gap with no Earth link",
)
LANDER_FIGURES = (
    "passes", "contact time", "mean pass length", "sols with no contact",
    "longest gap with no contact", "link capacity", "data returned", "latency p50",
    "latency p95",
)


def _shorten(sc, days: float = SPAN_DAYS):
    return sc.with_overrides(end_tdb_s=sc.start_tdb_s + days * DAY_S)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Run directories: the two scenarios' first days; the 2022 plan over the 2023 solar
    conjunction; the 2022 plan moved onto the 2030 run's span with the 2030 orbiters and
    Rosalind Franklin at the 2030 site (Kazachok and the 2022 stations kept)."""
    base = tmp_path_factory.mktemp("exomars_runs")
    sc22, sc30 = load_scenario(A), load_scenario(B)
    short30 = _shorten(sc30)
    rf30 = sc30.landers[0]
    assert rf30.name == "Rosalind Franklin" and sc22.landers[0].name == rf30.name
    cases = {
        A: _shorten(sc22),
        B: short30,
        "conjunction": sc22.with_overrides(start_utc=CONJ_START_UTC, end_utc=CONJ_END_UTC),
        "hybrid": sc22.with_overrides(
            start_tdb_s=short30.start_tdb_s, end_tdb_s=short30.end_tdb_s,
            orbiters=sc30.orbiters,
            landers=(replace(sc22.landers[0], site=rf30.site), *sc22.landers[1:])),
    }
    out = {}
    for key, sc in cases.items():
        out[key] = base / key
        pipeline.write_run_folder(out[key], pipeline.run(sc), report=False)
    return out


# ------------------------------------------------------------------------------ raw readers


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _parquet(path: Path) -> dict[str, np.ndarray]:
    tab = pq.read_table(path)
    return {n: np.asarray(tab.column(n).to_pylist(),
                          dtype=object if tab.schema.field(n).type == "string" else float)
            for n in tab.column_names}


def _scenario(run: Path) -> dict:
    return json.loads((run / "scenario.json").read_text())


def _msd(tdb_s):
    return (np.asarray(tdb_s, float) / DAY_S + (J2000_JD - MSD_EPOCH_JD_TT)) / SOL_DAYS


def _sol_start(sol, lon_east_deg: float):
    msd = np.asarray(sol, float) - lon_east_deg / 360.0
    return (msd * SOL_DAYS - (J2000_JD - MSD_EPOCH_JD_TT)) * DAY_S


def _merged(starts, ends) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(zip(starts, ends, strict=True)):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _longest_gap_h(starts, ends, t0: float, t1: float) -> float:
    gap, cursor = 0.0, t0
    for s, e in _merged(np.clip(starts, t0, t1), np.clip(ends, t0, t1)):
        gap = max(gap, s - cursor)
        cursor = max(cursor, e)
    return max(gap, t1 - cursor) / 3600.0


def _sols_without_contact(starts, ends, t0: float, t1: float, lon: float) -> tuple[int, int]:
    """Whole local sols in [t0, t1] none of the intervals overlaps, and the whole sols."""
    first = math.ceil(float(_msd(t0)) + lon / 360.0)
    stop = math.floor(float(_msd(t1)) + lon / 360.0)
    empty = 0
    for k in range(first, stop):
        a, b = _sol_start(k, lon), _sol_start(k + 1, lon)
        assert t0 <= a and b <= t1
        empty += not np.any((starts < b) & (ends > a))
    return empty, max(stop - first, 0)


def _contacts(run: Path) -> dict[str, np.ndarray]:
    """contacts.parquet, checked row by row against contacts.csv (same rows, same order)."""
    c = _parquet(run / "contacts.parquet")
    rows = _rows(run / "contacts.csv")
    assert len(rows) == len(c["kind"])
    for col in ("source", "target", "kind", "start_utc", "end_utc"):
        assert [r[col] for r in rows] == list(c[col]), col
    dur = np.array([float(r["duration_s"]) for r in rows])
    np.testing.assert_allclose(dur, c["duration_s"], atol=1e-3)
    np.testing.assert_allclose(c["end_tdb_s"] - c["start_tdb_s"], c["duration_s"], atol=1e-3)
    return c


def _expected(run: Path) -> dict[tuple[str, str], float | None]:
    """Every comparison figure of ``run``, keyed ``(figure, lander)``; None: not computed."""
    sc = _scenario(run)
    t0, t1 = sc["start_tdb_s"], sc["end_tdb_s"]
    n_sols = (t1 - t0) / SOL_S
    c = _contacts(run)
    kind, src, tgt = c["kind"], c["source"], c["target"]
    volumes = _rows(run / "volumes_per_sol.csv")
    delivery = _rows(run / "delivery.csv")
    b = _parquet(run / "bundles.parquet")
    delivered = b["status"] == "delivered"
    assert np.isfinite(b["latency_s"][delivered]).all()
    lat = b["latency_s"]
    conj = _rows(run / "conjunction.csv")

    def pct_h(values, q):
        return float(np.percentile(values, q)) / 3600.0 if len(values) else None

    out: dict[tuple[str, str], float | None] = {}
    total_returned = total_capacity = 0.0
    for lander in sc["landers"]:
        name, lon = lander["name"], lander["lon_east_deg"]
        prox = (kind == "proximity") & ((src == name) | (tgt == name))
        mine = prox | ((kind == "direct_earth") & (src == name))
        dur = c["duration_s"][prox]
        empty, whole = _sols_without_contact(c["start_tdb_s"][mine], c["end_tdb_s"][mine],
                                             t0, t1, lon)
        capacity = sum(float(r["volume_bits"]) for r in volumes if r["lander"] == name)
        returned = sum(float(r["delivered_bits"]) for r in delivery if r["lander"] == name)
        mine_b = delivered & (b["source"] == name)
        # the delivered bundles and delivery.csv count the same bits
        assert b["size_bits"][mine_b].sum() == pytest.approx(returned, rel=1e-12)
        # ... and the contact table's volumes over the same links give the same capacity
        assert c["volume_bits"][mine].sum() == pytest.approx(capacity, rel=1e-6)
        total_returned += returned
        total_capacity += capacity
        out.update({
            ("passes", name): prox.sum() / n_sols,
            ("contact time", name): dur.sum() / 60.0 / n_sols,
            ("mean pass length", name): dur.mean() / 60.0 if dur.size else None,
            ("sols with no contact", name): float(empty),
            ("longest gap with no contact", name): _longest_gap_h(
                c["start_tdb_s"][mine], c["end_tdb_s"][mine], t0, t1),
            ("link capacity", name): capacity / 1e6 / n_sols,
            ("data returned", name): returned / 1e6 / n_sols,
            ("latency p50", name): pct_h(lat[mine_b], 50),
            ("latency p95", name): pct_h(lat[mine_b], 95),
        })
        assert whole >= 1
    earth = np.isin(kind, ["orbiter_earth", "direct_earth"])
    out.update({
        ("span", ""): n_sols,
        ("contact windows", ""): float(len(kind)),
        ("data returned (all landers)", ""): total_returned / 1e6 / n_sols,
        ("link capacity (all landers)", ""): total_capacity / 1e6 / n_sols,
        ("latency p50", ""): pct_h(lat[delivered], 50),
        ("latency p95", ""): pct_h(lat[delivered], 95),
        # the windows the contacts stage wrote lie inside the span and do not overlap
        ("conjunction outage", ""): sum(float(r["duration_s"]) for r in conj) / DAY_S,
        ("longest gap with no Earth link", ""): _longest_gap_h(
            c["start_tdb_s"][earth], c["end_tdb_s"][earth], t0, t1),
    })
    return out


def _compare_cli(tmp_path: Path, *runs: Path) -> list[dict[str, str]]:
    out = tmp_path / "comparison.csv"
    res = CliRunner().invoke(app, ["compare", *map(str, runs), "--csv", str(out)])
    assert res.exit_code == 0, res.output
    assert "not read" not in res.output
    return _rows(out)


def _cell(rows, figure: str, lander: str, column: str) -> float | None:
    hits = [r for r in rows if r["figure"] == figure and r["lander"] == lander]
    assert len(hits) == 1, (figure, lander)
    return None if hits[0][column] == "" else float(hits[0][column])


def _close(got: float | None, want: float | None, figure: str) -> bool:
    if want is None or got is None:
        return got is want
    # times went through UTC strings with milliseconds somewhere: 1 ms in a span of days
    abs_tol = 1e-6 if figure in ("conjunction outage", "span") else 1e-9
    if "gap" in figure:
        abs_tol = 2e-6  # hours
    return got == pytest.approx(want, rel=1e-9, abs=abs_tol)


# ------------------------------------------------------------------------------ the tests


def test_sol_numbers_agree_with_the_simulation(runs):
    """The Mars24 sol numbering typed in here gives the sols delivery.csv is split into."""
    for key in (A, B):
        sc = _scenario(runs[key])
        for lander in sc["landers"]:
            sols = [int(r["sol"]) for r in _rows(runs[key] / "delivery.csv")
                    if r["lander"] == lander["name"]]
            first = math.floor(float(_msd(sc["start_tdb_s"])) + lander["lon_east_deg"] / 360.0)
            last = math.floor(float(_msd(sc["end_tdb_s"])) + lander["lon_east_deg"] / 360.0)
            assert sols == list(range(first, last + 1)), lander["name"]


def test_every_figure_matches_the_stage_outputs(runs, tmp_path):
    rows = _compare_cli(tmp_path, runs[A], runs[B])
    assert [k for k in rows[0] if k not in ("figure", "lander", "unit")] == [A, B, f"{B} - {A}"]
    want_a, want_b = _expected(runs[A]), _expected(runs[B])
    landers = ("Rosalind Franklin", "Kazachok")
    keys = [(f, "") for f in RUN_FIGURES] + [(f, ln) for ln in landers for f in LANDER_FIGURES]
    assert {(r["figure"], r["lander"]) for r in rows} == set(keys)
    for fig, lander in keys:
        va, vb = want_a[(fig, lander)], want_b.get((fig, lander))
        got_a, got_b = _cell(rows, fig, lander, A), _cell(rows, fig, lander, B)
        delta = _cell(rows, fig, lander, f"{B} - {A}")
        assert _close(got_a, va, fig), (fig, lander, got_a, va)
        assert _close(got_b, vb, fig), (fig, lander, got_b, vb)
        if va is None or vb is None:
            assert delta is None, (fig, lander)  # Kazachok is not in the 2030 plan
        else:
            assert delta == pytest.approx(vb - va, rel=1e-9, abs=1e-6), (fig, lander)
    # a few days after landing, far from conjunction: nothing blocked, both relay every sol
    assert _cell(rows, "conjunction outage", "", A) == 0.0
    assert _cell(rows, "conjunction outage", "", f"{B} - {A}") == 0.0
    assert _cell(rows, "sols with no contact", "Rosalind Franklin", A) == 0.0
    assert _cell(rows, "passes", "Rosalind Franklin", A) > 2.0  # NASA Mars 2020: >= 2 per sol


def test_latency_agrees_with_latency_csv(runs):
    """bundles.parquet and the simulation's own latency.csv give the same percentiles."""
    for key in (A, B):
        want = _expected(runs[key])
        for r in _rows(runs[key] / "latency.csv"):
            lander = "" if r["source"] == "all" else r["source"]
            assert float(r["p50_s"]) / 3600.0 == pytest.approx(want[("latency p50", lander)],
                                                               rel=1e-9)
            assert float(r["p95_s"]) / 3600.0 == pytest.approx(want[("latency p95", lander)],
                                                               rel=1e-9)


def test_conjunction_outage(runs):
    run = runs["conjunction"]
    conj = _rows(run / "conjunction.csv")
    # one window, opening on 2023-11-11 as NASA's 2 deg pause did, lasting past the span
    assert len(conj) == 1 and conj[0]["start_utc"].startswith("2023-11-11")
    assert conj[0]["end_utc"] == "2023-11-13T00:00:00.000Z"
    # no Earth link inside it (ISO strings of one format sort as times)
    for r in _rows(run / "contacts.csv"):
        if r["kind"] != "proximity":
            assert r["end_utc"] <= conj[0]["start_utc"] or r["start_utc"] >= conj[0]["end_utc"]
    comp = compare_runs([runs[A], run])
    row = next(r for r in comp.rows if r.metric.label == "conjunction outage")
    outage = float(conj[0]["duration_s"]) / DAY_S
    assert 1.0 < outage < 1.5
    assert row.values[1] == pytest.approx(outage, abs=1e-6)
    assert row.deltas[1] == pytest.approx(outage, abs=1e-6)
    gap = next(r for r in comp.rows if r.metric.label == "longest gap with no Earth link")
    assert gap.values[1] == pytest.approx(_expected(run)[("longest gap with no Earth link", "")],
                                          abs=2e-6)
    assert gap.values[1] >= outage * 24.0


def test_station_sets_shape_the_earth_contacts(runs):
    def earth(run: Path) -> dict[str, set[str]]:
        rows = _rows(run / "contacts.csv")
        return {k: {r["target"] for r in rows if r["kind"] == k}
                for k in ("orbiter_earth", "direct_earth")} | {
            "dte senders": {r["source"] for r in rows if r["kind"] == "direct_earth"}}

    ea, eb = earth(runs[A]), earth(runs[B])
    stations_a = {s["name"] for s in _scenario(runs[A])["stations"]}
    stations_b = {s["name"] for s in _scenario(runs[B])["stations"]}
    # Mars is high in every station's sky at some point of 3 days: all of them get windows
    assert ea["orbiter_earth"] == stations_a and eb["orbiter_earth"] == stations_b
    assert {"Kalyazin", "Bear Lakes"} <= ea["orbiter_earth"] - eb["orbiter_earth"]
    assert eb["orbiter_earth"] - ea["orbiter_earth"] == {"DSS-26", "DSS-36", "DSS-56"}
    # only Kazachok talks to Earth directly (Rosalind Franklin relays only; 2030 has no DTE)
    assert ea["dte senders"] == {"Kazachok"} and ea["direct_earth"] <= stations_a
    assert eb["dte senders"] == set() and eb["direct_earth"] == set()


def _pairs(run: Path, kind: str, keep=lambda r: True) -> list[tuple]:
    c = _parquet(run / "contacts.parquet")
    return sorted(
        (s, t, a, e) for s, t, k, a, e in zip(c["source"], c["target"], c["kind"],
                                               c["start_tdb_s"], c["end_tdb_s"], strict=True)
        if k == kind and keep((s, t)))


def test_same_site_orbiters_and_span_give_the_same_passes(runs):
    """The 2022 plan moved onto the 2030 span with the 2030 orbiters and site: Rosalind
    Franklin's passes, and the orbiters' windows to the stations both plans share, are those
    of the 2030 run; Kazachok and the Roscosmos stations change nothing of them.

    (The built-in files differ in Rosalind Franklin's site by about 2.3 km, in MRO's RAAN and in
    the element epochs, so the scenarios as shipped do not share passes.)"""
    hybrid, b = runs["hybrid"], runs[B]
    rf = "Rosalind Franklin"
    got = _pairs(hybrid, "proximity", lambda p: p[0] == rf)
    want = _pairs(b, "proximity", lambda p: p[0] == rf)
    assert len(got) == len(want) > 0
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2]
        assert g[2] == pytest.approx(w[2], abs=1e-4) and g[3] == pytest.approx(w[3], abs=1e-4)
    shared = {s["name"] for s in _scenario(hybrid)["stations"]} & {
        s["name"] for s in _scenario(b)["stations"]}
    assert shared == {"DSA-1", "DSA-2", "DSA-3", "DSS-14", "DSS-43", "DSS-63"}
    got = _pairs(hybrid, "orbiter_earth", lambda p: p[1] in shared)
    want = _pairs(b, "orbiter_earth", lambda p: p[1] in shared)
    assert len(got) == len(want) > 0
    np.testing.assert_allclose([g[2:] for g in got], [w[2:] for w in want], atol=1e-4)
    assert [g[:2] for g in got] == [w[:2] for w in want]
    # ... and the comparison says so: no difference in passes or contact time
    comp = compare_runs([b, hybrid])
    for label in ("passes", "contact time", "mean pass length", "longest gap with no contact"):
        row = next(r for r in comp.rows if r.lander == rf and r.metric.label == label)
        assert row.deltas[1] == pytest.approx(0.0, abs=1e-6), label


def test_kazachok_and_rosalind_franklin_share_passes(runs):
    """2.3 km apart at Oxia Planum, the two see the same passes a few seconds apart."""
    c = _parquet(runs[A] / "contacts.parquet")
    prox = c["kind"] == "proximity"
    for orbiter in ("TGO", "MRO", "MAVEN"):
        starts = {ln: np.sort(c["start_tdb_s"][prox & (c["source"] == ln)
                                              & (c["target"] == orbiter)])
                  for ln in ("Rosalind Franklin", "Kazachok")}
        assert starts["Kazachok"].size == starts["Rosalind Franklin"].size > 0, orbiter
        assert np.abs(starts["Kazachok"] - starts["Rosalind Franklin"]).max() < 120.0, orbiter


def test_capacity_without_volumes_file(runs, tmp_path):
    """Without volumes_per_sol.csv the capacity comes from the contact table over the same
    links (proximity and direct-to-Earth): Kazachok's includes its direct link to Earth."""
    d = tmp_path / "no-volumes"
    shutil.copytree(runs[A], d)
    (d / "volumes_per_sol.csv").unlink()
    (d / "volumes_per_sol.parquet").unlink()
    write_run_record(d, "no-volumes", ("contacts",), {})  # a folder without that table
    want = _expected(runs[A])
    comp = compare_runs([runs[A], d])
    for row in comp.rows:
        if row.metric.label.startswith("link capacity"):
            assert row.values[1] == pytest.approx(row.values[0], rel=1e-6), row.label
            assert row.values[0] == pytest.approx(want[(row.metric.label, row.lander)],
                                                  rel=1e-9)
    c = _parquet(runs[A] / "contacts.parquet")
    dte = c["volume_bits"][(c["kind"] == "direct_earth") & (c["source"] == "Kazachok")].sum()
    assert dte > 0


def test_sols_without_contact_counts_a_silent_sol(runs, tmp_path):
    """Drop Rosalind Franklin's contacts over one whole local sol: that sol, and only it,
    counts as a sol with no contact, and its longest gap is at least a sol long."""
    src = runs[B]
    sc = _scenario(src)
    t0, t1 = sc["start_tdb_s"], sc["end_tdb_s"]
    lon = sc["landers"][0]["lon_east_deg"]
    k = math.ceil(float(_msd(t0)) + lon / 360.0)  # the first whole local sol
    a, b = _sol_start(k, lon), _sol_start(k + 1, lon)
    assert t0 <= a and b <= t1
    d = tmp_path / "silent-sol"
    d.mkdir()
    shutil.copy(src / "scenario.json", d / "scenario.json")
    c = _parquet(src / "contacts.parquet")
    keep = ~((c["start_tdb_s"] < b) & (c["end_tdb_s"] > a)
             & ((c["source"] == "Rosalind Franklin") | (c["target"] == "Rosalind Franklin")))
    assert (~keep).sum() >= 2
    tab = pq.read_table(src / "contacts.parquet").filter(keep)
    pq.write_table(tab, d / "contacts.parquet")
    write_run_record(d, sc["name"], ("contacts",), {})
    rows = _compare_cli(tmp_path, src, d)
    other = f"{B} (2)"
    rf = "Rosalind Franklin"
    assert _cell(rows, "sols with no contact", rf, B) == 0
    assert _cell(rows, "sols with no contact", rf, other) == 1
    kept = {n: v[keep] for n, v in c.items()}
    mine = (kept["source"] == rf) | (kept["target"] == rf)
    assert _cell(rows, "longest gap with no contact", rf, other) == pytest.approx(
        _longest_gap_h(kept["start_tdb_s"][mine], kept["end_tdb_s"][mine], t0, t1), abs=2e-6)
    assert _cell(rows, "longest gap with no contact", rf, other) >= SOL_S / 3600.0
    prox = (kept["kind"] == "proximity") & mine
    assert _cell(rows, "passes", rf, other) == pytest.approx(
        prox.sum() / ((t1 - t0) / SOL_S), rel=1e-12)
