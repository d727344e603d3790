"""Sweep files, parameter paths, case ids, outputs and the CLI's handling of bad input
(no Dask cluster here: serial runs in this process; see test_sweep_dask.py for the cluster)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from helpers.sweep_cases import prox_case
from marsrelay.cli.main import app
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.scenario import builtin_scenario_path
from marsrelay.sweep import CaseResult, load_sweep, run_sweep
from marsrelay.sweep.case import result_from_contacts
from marsrelay.sweep.paths import apply_params, case_scenario, check_path, parse_path
from marsrelay.sweep.plot import sweep_figure

SOL_S = 88775.244  # Allison & McEwen (2000), Mars24 mean solar day

BASE = """\
[scenario]
name = "sweep-test"
start = "2030-11-01T00:00:00Z"
end = "2030-11-02T00:00:00Z"

[[orbiter]]
name = "TGO"
[orbiter.elements]
a_km = 3796.19
e = 0.0
i_deg = 74.0
raan_deg = 30.0

[[orbiter]]
name = "MRO"
[orbiter.elements]
a_km = 3683.69
e = 0.008823
i_deg = 92.6
raan_deg = 320.5

[[lander]]
name = "Rosalind Franklin"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
elevation_mask_deg = 10.0

[[lander]]
name = "Zhurong"
lat_deg = 25.066
lon_east_deg = 109.925

[[station]]
name = "DSS-43"
lat_deg = -35.4040
lon_east_deg = 148.9801
height_m = 689.0

[[station]]
name = "DSS-63"
lat_deg = 40.4299
lon_east_deg = 355.7523
height_m = 865.0
"""

SWEEP = """\
[sweep]
base = "base.toml"
figures = ["passes_per_sol", "contact_min_per_sol", "max_gap_h"]
case = "helpers.sweep_cases:prox_case"

[[axis]]
path = "lander[0].lat_deg"
start = -30.0
stop = 30.0
num = 3

[[axis]]
path = 'orbiter["TGO"].elements.raan_deg'
values = [0.0, 120.0]
"""


def write(folder: Path, sweep: str = SWEEP, base: str = BASE, name: str = "sweep.toml") -> Path:
    (folder / "base.toml").write_text(base, encoding="utf-8")
    path = folder / name
    path.write_text(sweep, encoding="utf-8")
    return path


def sha_id(params: dict) -> str:
    """Independent case id: SHA-256 of the sorted compact JSON of {path: value}, 16 digits."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------- sweep files


def test_grid_expands_every_combination_with_stable_ids(tmp_path):
    sweep = load_sweep(write(tmp_path))
    assert len(sweep.cases) == 6
    got = [dict(c.params) for c in sweep.cases]
    want = [{"lander[0].lat_deg": lat, 'orbiter["TGO"].elements.raan_deg': raan}
            for lat in (-30.0, 0.0, 30.0) for raan in (0.0, 120.0)]
    assert got == want
    assert [c.case_id for c in sweep.cases] == [sha_id(p) for p in want]
    assert [c.index for c in sweep.cases] == list(range(6))
    # the same values in another order and with ints instead of floats: the same ids
    other = SWEEP.replace("values = [0.0, 120.0]", "values = [120, 0]")
    again = load_sweep(write(tmp_path, other, name="other.toml"))
    assert sorted(c.case_id for c in again.cases) == sorted(c.case_id for c in sweep.cases)


def test_random_sweep_is_seeded_and_in_range(tmp_path):
    text = """\
[sweep]
base = "base.toml"
mode = "random"
samples = 25
seed = 7
case = "helpers.sweep_cases:prox_case"

[[axis]]
path = "lander[*].elevation_mask_deg"
min = 5.0
max = 20.0

[[axis]]
path = "station"
values = [["DSS-63", "DSS-43"], ["DSS-43"]]
"""
    a = load_sweep(write(tmp_path, text))
    b = load_sweep(write(tmp_path, text, name="again.toml"))
    c = load_sweep(write(tmp_path, text.replace("seed = 7", "seed = 8"), name="c.toml"))
    assert [x.params for x in a.cases] == [x.params for x in b.cases]
    assert [x.params for x in a.cases] != [x.params for x in c.cases]
    masks = np.array([x.param("lander[*].elevation_mask_deg") for x in a.cases])
    assert len(a.cases) == 25 and masks.min() >= 5.0 and masks.max() <= 20.0
    # a subset is a set: stored sorted
    assert {tuple(x.param("station")) for x in a.cases} <= {("DSS-43", "DSS-63"), ("DSS-43",)}


def test_paths_apply_to_the_scenario_data():
    base = tomllib.loads(BASE)
    params = (
        ('lander["Zhurong"].elevation_mask_deg', 15.0),
        ("orbiter[1].elements.i_deg", 90.0),
        ("span_days", 3.5),
        ("station", ["DSS-63"]),
        ("lander[*].height_km", 1.0),
        ("scenario.conjunction_sep_deg", 3.0),
    )
    data = apply_params(tomllib.loads(BASE), params)
    assert data["lander"][1]["elevation_mask_deg"] == 15.0
    assert data["lander"][0]["elevation_mask_deg"] == 10.0
    assert data["orbiter"][1]["elements"]["i_deg"] == 90.0
    assert [la["height_km"] for la in data["lander"]] == [1.0, 1.0]
    assert [s["name"] for s in data["station"]] == ["DSS-63"]
    assert data["scenario"]["conjunction_sep_deg"] == 3.0
    start = dt.datetime(2030, 11, 1)
    assert data["scenario"]["end"] == (start + dt.timedelta(hours=84)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert tomllib.loads(BASE) == base  # the base is not modified by parsing
    # the case's scenario validates straight from the data (TOML date-times included)
    data["scenario"]["start"] = dt.datetime(2030, 11, 1, 0, 0, tzinfo=dt.UTC)
    sc = case_scenario(data)
    assert sc.start_utc == "2030-11-01T00:00:00Z"
    assert [la.site.elevation_mask_deg for la in sc.landers] == [10.0, 15.0]
    assert [s.name for s in sc.stations] == ["DSS-63"]


def test_path_checks_name_what_is_allowed():
    base = tomllib.loads(BASE)
    assert parse_path('lander["Rosalind Franklin"].lon_east_deg').selector == "Rosalind Franklin"
    assert parse_path("lander[*].elevation_mask_deg").selector is None
    assert parse_path("station").kind == "subset"
    bad = {
        "lander[0].latitude": "lat_deg",
        'lander["Nobody"].lat_deg': "Zhurong",
        "lander[5].lat_deg": "2 lander entries",
        "orbiter[0].elements.raan": "raan_deg",
        "scenario.ending": "end",
        "planet.radius": "span_days",
        "lander.lat_deg": "[*]",
        "lander[0]": "name a key",
        "span_days.x": "takes no keys",
        "lander[0].lat_deg extra": "malformed",
    }
    for text, hint in bad.items():
        with pytest.raises(ValueError, match=None) as info:
            check_path(text, base)
        assert hint in str(info.value), (text, str(info.value))


# ---------------------------------------------------------------------------- figures


def test_contact_figures_from_a_hand_made_table():
    t0 = 1000.0
    sols = 2.0
    t1 = t0 + sols * SOL_S
    # lander "A": two proximity windows (600 s and 900 s; 1e6 and 2e6 bits), one DTE (1200 s);
    # lander "B": nothing. The longest gap of A is from the end of the first window to the
    # start of the second one (the windows overlap nothing else).
    w = [("A", "TGO", "proximity", t0 + 100.0, t0 + 700.0, 1e6),
         ("MRO", "A", "proximity", t0 + 50000.0, t0 + 50900.0, 2e6),
         ("A", "DSS-43", "direct_earth", t0 + 3000.0, t0 + 4200.0, 5e5)]
    n = len(w)
    table = ContactTable(
        source=np.array([x[0] for x in w]), target=np.array([x[1] for x in w]),
        kind=np.array([x[2] for x in w]), start_tdb_s=np.array([x[3] for x in w]),
        end_tdb_s=np.array([x[4] for x in w]), max_elevation_deg=np.full(n, 30.0),
        max_elevation_tdb_s=np.zeros(n), min_range_km=np.zeros(n), max_range_km=np.zeros(n),
        owlt_s=np.zeros(n), rate_bps_mean=np.zeros(n), volume_bits=np.array([x[5] for x in w]))
    r = result_from_contacts(["A", "B"], [1.0, 2.0], [3.0, 4.0], table, t0, t1)
    assert r.lander == ("A", "B")
    assert r.passes_per_sol == pytest.approx((2 / sols, 0.0))
    assert r.contact_min_per_sol == pytest.approx((1500.0 / 60.0 / sols, 0.0))
    assert r.dte_min_per_sol == pytest.approx((1200.0 / 60.0 / sols, 0.0))
    assert r.capacity_mbit_per_sol == pytest.approx((3.0 / sols, 0.0))
    last_gap = t1 - (t0 + 50900.0)
    assert r.max_gap_h == pytest.approx((max(50000.0 - 700.0, last_gap) / 3600.0,
                                         sols * SOL_S / 3600.0))
    assert math.isnan(r.latency_p50_s[0]) and math.isnan(r.delivered_mbit_per_sol[0])
    with pytest.raises(ValueError, match="2 landers"):
        CaseResult(lander=("A", "B"), lat_deg=(1.0,), lon_east_deg=(1.0, 2.0))


# ---------------------------------------------------------------------------- runs and outputs


def test_serial_run_writes_partitions_results_summary_and_plot(tmp_path):
    sweep = load_sweep(write(tmp_path))
    out = tmp_path / "out"
    outcome = run_sweep(sweep, out, workers=0, allow_code=True)
    assert (outcome.n_cases, outcome.n_computed, outcome.n_failed) == (6, 6, 0)
    parts = sorted(p.name for p in (out / "results").iterdir())
    assert parts == sorted(f"part-{c.case_id}.parquet" for c in sweep.cases)
    res = pq.read_table(out / "results.parquet")
    assert res.num_rows == 12  # 6 cases x 2 landers
    # each row is the case function's value for that case (computed here independently)
    for case in sweep.cases[::5]:
        direct = prox_case(case)
        rows = [r for r in res.to_pylist() if r["case_id"] == case.case_id]
        assert [r["lander"] for r in rows] == list(direct.lander)
        assert [r["passes_per_sol"] for r in rows] == list(direct.passes_per_sol)
        assert [r["lander_lat_deg"] for r in rows] == list(direct.lat_deg)
        assert rows[0]["lander[0].lat_deg"] == case.param("lander[0].lat_deg")
    # a TGO pass over a lander lasts minutes; 2 orbiters give a few passes per sol
    assert float(np.min(res["passes_per_sol"])) > 0.5 and float(np.max(
        res["passes_per_sol"])) < 20
    summary = (out / "sweep_summary.csv").read_text().splitlines()
    assert summary[0].startswith("figure,unit,rows,mean")
    row = dict(zip(summary[0].split(","), summary[1].split(","), strict=True))
    vals = np.asarray(res["passes_per_sol"])
    assert row["figure"] == "passes_per_sol"
    assert float(row["mean"]) == pytest.approx(vals.mean())
    assert float(row["max"]) == pytest.approx(vals.max())
    assert row["case_id_max"] == res["case_id"][int(np.argmax(vals))].as_py()
    # a second run computes nothing
    again = run_sweep(sweep, out, workers=0, allow_code=True)
    assert (again.n_skipped, again.n_computed) == (6, 0)
    assert pq.read_table(out / "results.parquet").equals(res)
    # the plot: one trace per lander, colours = mean per site over the other parameter
    fig = sweep_figure(out, figure="contact_min_per_sol")
    rf = next(tr for tr in fig.data if tr.name == "Rosalind Franklin")
    lat = np.asarray(res["lander_lat_deg"])
    vals = np.asarray(res["contact_min_per_sol"])
    names = np.asarray(res["lander"].to_pylist())
    for y, c in zip(rf.y, rf.marker.color, strict=True):
        sel = (names == "Rosalind Franklin") & np.isclose(lat, y)
        assert c == pytest.approx(vals[sel].mean())
    assert len(rf.y) == 3


def test_failures_are_reported_and_retried_on_the_next_run(tmp_path):
    from functools import partial

    from helpers.sweep_cases import fail_one

    sweep = load_sweep(write(tmp_path))
    out = tmp_path / "out"
    fn = partial(fail_one, index=2, attempts_dir=str(tmp_path / "attempts"))
    outcome = run_sweep(sweep, out, workers=0, case_function=fn)
    assert outcome.n_failed == 1 and outcome.errors[0].case_id == sweep.cases[2].case_id
    assert outcome.errors[0].error_type == "DeliberateError"
    errors = pq.read_table(out / "errors.parquet").to_pylist()
    assert [e["case_id"] for e in errors] == [sweep.cases[2].case_id]
    assert "fails on purpose" in errors[0]["message"]
    assert "fails on purpose" in (out / "errors.csv").read_text()
    assert pq.read_table(out / "results.parquet").num_rows == 10
    # fixed: the re-run computes only that case, and the error tables disappear
    fixed = run_sweep(sweep, out, workers=0, case_function=prox_case)
    assert (fixed.n_skipped, fixed.n_computed, fixed.n_failed) == (5, 1, 0)
    assert not (out / "errors.csv").exists() and not (out / "errors.parquet").exists()
    ids = pq.read_table(out / "results.parquet")["case_id"].to_pylist()
    assert ids == [c.case_id for c in sweep.cases for _ in range(2)]


# ---------------------------------------------------------------------------- CLI


runner = CliRunner()


def test_cli_serial_sweep(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    path = write(tmp_path)
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o"),
                                 "--workers", "0", "--allow-code"])
    assert result.exit_code == 0, result.output
    assert "Sweep summary" in result.stdout
    assert pq.read_table(tmp_path / "o" / "results.parquet").num_rows == 12


@pytest.mark.parametrize("case", ["os:system", "helpers.sweep_cases:prox_case", "no-such-case"])
def test_case_functions_outside_the_registry_need_allow_code(tmp_path, case):
    """A sweep file may name only registered case functions; any other 'module:function'
    (e.g. os:system) runs only with --allow-code, and is refused before any work."""
    path = write(tmp_path, SWEEP.replace('case = "helpers.sweep_cases:prox_case"',
                                         f'case = "{case}"'))
    out = tmp_path / "o"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "0"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert "sweep.case" in message and "--allow-code" in message and "pipeline" in message
    assert not out.exists()


BAD = [
    # (what to change in SWEEP, words the one-line message must hold)
    (("[sweep]\n", "[sweep]\nsede = 3\n"), ["sweep.toml", "sweep.sede", "unknown key",
                                          "allowed", "seed"]),
    (("lander[0].lat_deg", "lander[0].latitude"), ["axis[0].path", "latitude", "lat_deg"]),
    (('"lander[0].lat_deg"', """'lander["Nobody"].lat_deg'"""), ["axis[0].path", "Nobody",
                                                         "Rosalind Franklin"]),
    (("stop = 30.0", "stop = 95.0"), ["axis[0]", "95.0", "lat_deg", "[-90, 90]"]),
    (('"contact_min_per_sol"', '"contacts_per_sol"'), ["sweep.figures", "contacts_per_sol",
                                                      "passes_per_sol"]),
    (('base = "base.toml"', 'base = "no-such-builtin"'), ["sweep.base", "exomars-2030"]),
    (("num = 3", "num = 0"), ["axis[0].num", "greater than or equal to 1"]),
    (("values = [0.0, 120.0]", "values = [0.0, 'x']"), ["axis[1].values", "mix kinds"]),
    (("values = [0.0, 120.0]", "values = [0.0, 120.0]\nmin = 1"), ["axis[1]",
                                                                    "random sweeps"]),
    (("[[axis]]", "[[axes]]"), ["axes", "unknown key", "axis"]),
    (("num = 3", "num = 3 3"), ["sweep.toml", "not valid TOML"]),
]


@pytest.mark.parametrize(("edit", "words"), BAD, ids=[b[0][1][:20] for b in BAD])
def test_cli_bad_sweep_files_exit_2_with_one_clear_line(tmp_path, edit, words):
    old, new = edit
    assert old in SWEEP
    path = write(tmp_path, SWEEP.replace(old, new, 1))
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o"),
                                 "--workers", "0", "--allow-code"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert message.startswith("error: ")
    for w in words:
        assert w in message, (w, message)
    assert not (tmp_path / "o").exists()


def test_random_ranges_and_subsets_are_checked(tmp_path):
    text = SWEEP.replace('mode', 'x').replace(
        "[sweep]\n", '[sweep]\nmode = "random"\nsamples = 4\n').replace(
        "start = -30.0\nstop = 30.0\nnum = 3", "min = 10.0\nmax = -10.0")
    with pytest.raises(InputError, match=r"axis\[0\].*min 10.0 is above max -10.0"):
        load_sweep(write(tmp_path, text))
    subset = SWEEP + '\n[[axis]]\npath = "station"\nvalues = [["DSS-43", "DSS-99"]]\n'
    with pytest.raises(InputError, match=r"axis\[2\].values\[0\].*DSS-99.*allowed: DSS-43"):
        load_sweep(write(tmp_path, subset))
    span = SWEEP + '\n[[axis]]\npath = "span_days"\nvalues = [1, -2]\n'
    with pytest.raises(InputError, match=r"span_days must be a number > 0, got -2"):
        load_sweep(write(tmp_path, span))
    twice = SWEEP + '\n[[axis]]\npath = "lander[0].lat_deg"\nvalues = [1.0]\n'
    with pytest.raises(InputError, match="swept by two axes"):
        load_sweep(write(tmp_path, twice))
    both = SWEEP + ('\n[[axis]]\npath = "span_days"\nvalues = [1]\n'
                    '\n[[axis]]\npath = "scenario.end"\nvalues = ["2030-11-03T00:00:00Z"]\n')
    with pytest.raises(InputError, match=r"span_days and scenario\.end"):
        load_sweep(write(tmp_path, both))


def test_a_different_sweep_cannot_resume_into_the_same_folder(tmp_path):
    out = tmp_path / "o"
    run_sweep(load_sweep(write(tmp_path)), out, workers=0, allow_code=True)
    other = write(tmp_path, SWEEP.replace("num = 3", "num = 4"), name="other.toml")
    result = runner.invoke(app, ["sweep", str(other), "--out", str(out), "--workers", "0",
                                 "--allow-code"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert "sweep_manifest.json" in message and "different sweep" in message
    assert len(list((out / "results").iterdir())) == 6  # nothing touched


def test_builtin_base_and_zipped_axes():

    builtin = builtin_scenario_path("exomars-2030")
    text = """\
[sweep]
base = "exomars-2030"

[[axis]]
paths = ['lander["Rosalind Franklin"].lat_deg', 'lander["Rosalind Franklin"].lon_east_deg']
values = [[18.275, 335.368], [-4.5895, 137.4417]]

[[axis]]
path = "station"
values = [["DSA-1", "DSA-2", "DSA-3"], ["DSS-14", "DSS-43", "DSS-63"]]
"""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text(text)
        sweep = load_sweep(path)
    assert sweep.base_data == tomllib.loads(builtin.read_text())
    assert len(sweep.cases) == 4
    sc = sweep.cases[3].scenario()
    assert (sc.landers[0].site.lat_deg, sc.landers[0].site.lon_east_deg) == (-4.5895, 137.4417)
    assert [s.name for s in sc.stations] == ["DSS-14", "DSS-43", "DSS-63"]
    assert sweep.case_function == "pipeline"


def test_default_case_function_agrees_with_an_independent_sampler(tmp_path):
    """The pipeline's contact figures (find_contacts edges to 1e-5 s) against a plain 10 s
    sampler over the same geometry: the same passes; each sampled window is shorter by less
    than two steps; gaps longer by less than two steps."""
    import dataclasses

    from marsrelay.sweep import evaluate_case

    text = """\
[sweep]
base = "exomars-2030"
figures = ["passes_per_sol", "contact_min_per_sol", "max_gap_h"]

[[axis]]
path = 'lander["Rosalind Franklin"].lat_deg'
values = [-50.0, 18.275, 70.0]

[[axis]]
path = "span_days"
values = [2]
"""
    path = tmp_path / "s.toml"
    path.write_text(text)
    sweep = load_sweep(path)
    step_s = 10.0
    sols = 2 * 86400.0 / SOL_S
    for case in sweep.cases:
        got, ref = evaluate_case(case), prox_case(case)
        assert got.lat_deg == ref.lat_deg
        assert got.passes_per_sol == pytest.approx(ref.passes_per_sol, abs=1e-12)
        n_windows = ref.passes_per_sol[0] * sols
        short_s = (got.contact_min_per_sol[0] - ref.contact_min_per_sol[0]) * 60.0 * sols
        assert 0.0 <= short_s <= 2 * step_s * n_windows
        assert 0.0 <= (got.max_gap_h[0] - ref.max_gap_h[0]) * 3600.0 <= 2 * step_s
        # with an Earth figure the stations are searched too: proximity figures unchanged
        with_earth = evaluate_case(dataclasses.replace(
            case, figures=("passes_per_sol", "contact_min_per_sol", "dte_min_per_sol")))
        assert with_earth.passes_per_sol == got.passes_per_sol
        assert with_earth.contact_min_per_sol == pytest.approx(got.contact_min_per_sol)
        assert with_earth.dte_min_per_sol == (0.0,)  # direct_to_earth = false in this base


def test_simulation_figures_are_bounded_by_physics(tmp_path):
    """Data delivered to Earth cannot exceed what the proximity links carried (the rover has
    no direct-to-Earth link in this base), and no bundle beats the light time: the closest
    Earth-Mars distance, 55.7 million km (2003-08-27; NASA Mars fact sheet), is 185.8 s."""
    from marsrelay.sweep import evaluate_case

    path = tmp_path / "s.toml"
    path.write_text("""\
[sweep]
base = "exomars-2030"
figures = ["capacity_mbit_per_sol", "delivered_mbit_per_sol", "latency_p50_s"]

[[axis]]
path = "span_days"
values = [1]
""")
    (case,) = load_sweep(path).cases
    r = evaluate_case(case)
    assert 0.0 < r.delivered_mbit_per_sol[0] <= r.capacity_mbit_per_sol[0]
    assert r.latency_p50_s[0] >= 55.7e6 / 299792.458
