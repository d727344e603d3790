"""Bad input across every command, as a new user would type it: each case must exit with code 2,
print plain ``error:`` lines that name the file, field or option, never a traceback, and write
nothing (the workspace is compared file by file before and after).

Cases are (id, argv, words): ``{ws}`` in an argument is the workspace folder, ``{out}`` a fresh
output path that must not exist afterwards; every word must appear in the error message."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import BASE_TOML
from helpers.report_synth import write_run
from marsrelay.cli.main import app

#: A valid one-day scenario in November 2030 (no solar conjunction).
GOOD = BASE_TOML.replace("2030-06-01T00:00:00Z", "2030-11-01T00:00:00Z").replace(
    "2030-06-02T00:00:00Z", "2030-11-02T00:00:00Z")

#: One problem each: (id, (text to replace in GOOD, replacement), words of the message).
SCENARIO_PROBLEMS: list[tuple[str, tuple[str, str], list[str]]] = [
    ("no-scenario-table", ("[scenario]", "[scenery]"), ["scenery", "unknown key"]),
    ("name-capitals", ('name = "test-case"', 'name = "Test Case"'), ["scenario.name", "[a-z0-9-]"]),
    ("name-missing", ('name = "test-case"\n', ""), ["scenario.name", "missing"]),
    ("start-missing", ('start = "2030-11-01T00:00:00Z"\n', ""), ["scenario.start", "missing"]),
    ("start-garbage", ('start = "2030-11-01T00:00:00Z"', 'start = "yesterday"'),
     ["scenario.start", "not a valid UTC time"]),
    ("start-number", ('start = "2030-11-01T00:00:00Z"', "start = 2030"), ["scenario.start"]),
    ("end-before-start", ('end = "2030-11-02T00:00:00Z"', 'end = "2030-10-02T00:00:00Z"'),
     ["scenario.end", "not after start"]),
    ("end-after-de421", ('end = "2030-11-02T00:00:00Z"', 'end = "2061-01-02T00:00:00Z"'),
     ["scenario.end", "outside the DE421 ephemeris", "1900"]),
    ("start-before-de421", ('start = "2030-11-01T00:00:00Z"', 'start = "1850-11-01T00:00:00Z"'),
     ["scenario.start", "outside"]),
    ("bad-month", ('start = "2030-11-01T00:00:00Z"', 'start = "2030-13-01T00:00:00Z"'),
     ["scenario.start"]),
    ("rotation-model", ('[scenario]\n', '[scenario]\nrotation_model = "iau1999"\n'),
     ["scenario.rotation_model", "iau2009"]),
    ("sep-negative", ('[scenario]\n', '[scenario]\nconjunction_sep_deg = -1.0\n'),
     ["scenario.conjunction_sep_deg", "[0, 180)"]),
    ("grazing-huge", ('[scenario]\n', '[scenario]\ngrazing_height_km = 5000.0\n'),
     ["scenario.grazing_height_km", "[0, 1000]"]),
    ("unknown-top-key", ("[[orbiter]]", "[extras]\nx = 1\n\n[[orbiter]]"),
     ["extras", "unknown key"]),
    ("unknown-scenario-key", ('[scenario]\n', '[scenario]\nstrat = "x"\n'),
     ["scenario.strat", "did you mean 'start'"]),
    ("orbiter-no-name", ('name = "TGO"\n', ""), ["orbiter[0].name", "missing"]),
    ("orbiter-a-negative", ("a_km = 3796.19", "a_km = -3796.19"), ["orbiter[0].elements.a_km"]),
    ("orbiter-inside-mars", ("a_km = 3796.19", "a_km = 3300.0"),
     ["orbiter[0].elements", "inside Mars"]),
    ("orbiter-e-hyperbolic", ("e = 0.0088", "e = 1.5"), ["orbiter[1].elements.e", "0 <= e < 1"]),
    ("orbiter-i-200", ("i_deg = 74.0", "i_deg = 200.0"), ["orbiter[0].elements.i_deg"]),
    ("orbiter-i-text", ("i_deg = 74.0", 'i_deg = "polar"'), ["orbiter[0].elements.i_deg"]),
    ("orbiter-two-sources", ("i_deg = 74.0", 'i_deg = 74.0\n[orbiter.oem]\npath = "x.oem"'),
     ["orbiter[0]", "exactly one of"]),
    ("orbiter-no-source", ("[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n", ""),
     ["orbiter[0]", "exactly one of"]),
    ("spk-missing", ("[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n",
                     '[orbiter.spk]\npath = "nope.bsp"\nnaif_id = -143\n'),
     ["orbiter[0].spk.path", "not found"]),
    ("oem-missing", ("[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n",
                     '[orbiter.oem]\npath = "nope.oem"\n'), ["orbiter[0].oem.path", "not found"]),
    ("spk-garbage", ("[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n",
                     '[orbiter.spk]\npath = "junk.bsp"\nnaif_id = -143\n'),
     ["orbiter[0].spk", "junk.bsp", "not a readable SPK file"]),
    ("oem-garbage", ("[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n",
                     '[orbiter.oem]\npath = "junk.oem"\n'), ["orbiter[0].oem.path", "junk.oem:1"]),
    ("max-range-zero", ('agency = "ESA"\n', 'agency = "ESA"\nmax_range_km = 0.0\n'),
     ["orbiter[0].max_range_km"]),
    ("lander-lat-95", ("lat_deg = 18.275", "lat_deg = 95.0"), ["lander[0].lat_deg", "[-90, 90]"]),
    ("lander-lon-400", ("lon_east_deg = 335.368", "lon_east_deg = 400.0"),
     ["lander[0].lon_east_deg"]),
    ("lander-height", ("height_km = -3.0", "height_km = 100.0"), ["lander[0].height_km"]),
    ("lander-mask-90", ("elevation_mask_deg = 10.0", "elevation_mask_deg = 90.0"),
     ["lander[0].elevation_mask_deg", "[0, 90)"]),
    ("duplicate-names", ('name = "MRO"', 'name = "tgo"'), ["orbiter[1].name", "already used"]),
    ("station-height", ("height_m = 689.0", "height_m = 20000.0"), ["station[0].height_m"]),
    ("station-dish", ("dish_m = 70.0", "dish_m = -70.0"), ["station[0].dish_m"]),
    ("blackout-reversed", ("height_km = -3.0", 'height_km = -3.0\nblackouts = [['
                           '"2030-11-01T06:00:00Z", "2030-11-01T05:00:00Z"]]'),
     ["lander[0].blackouts[0]", "not after its start"]),
    ("blackout-garbage", ("height_km = -3.0", 'height_km = -3.0\nblackouts = [["noon", '
                          '"2030-11-01T05:00:00Z"]]'), ["lander[0].blackouts[0][0]"]),
    ("blackout-one-time", ("height_km = -3.0", 'height_km = -3.0\nblackouts = [['
                           '"2030-11-01T06:00:00Z"]]'), ["lander[0].blackouts[0]"]),
    ("links-unknown-key", ("[[station]]", "[links]\nadrr = true\n\n[[station]]"),
     ["links.adrr", "did you mean 'adr'"]),
    ("links-spacecraft-typo", ("[[station]]", "[links.spacecraft.TGO]\ntx_powr_w = 1.0\n\n"
                                              "[[station]]"),
     ["links.spacecraft.TGO.tx_powr_w", "did you mean 'tx_power_w'"]),
    ("links-unknown-node", ("[[station]]", "[links.spacecraft.XYZ]\ntx_power_w = 1.0\n\n"
                                           "[[station]]"),
     ["links.spacecraft.XYZ", "not a lander or orbiter"]),
    ("schedule-solver", ("[[station]]", '[schedule]\nsolver = "magic"\n\n[[station]]'),
     ["schedule.solver"]),
    ("schedule-demand-lander", ("[[station]]", '[[schedule.demand]]\nlander = "Curiosity"\n\n'
                                               "[[station]]"),
     ["schedule.demand[0].lander", "not a lander"]),
    ("traffic-negative", ("[[station]]", '[[traffic.source]]\nnode = "Rosalind Franklin"\n'
                                         "bits_per_sol = -1.0\n\n[[station]]"),
     ["traffic.source[0].bits_per_sol"]),
    ("traffic-unknown-node", ("[[station]]", '[[traffic.source]]\nnode = "Rover"\n\n'
                                             "[[station]]"),
     ["traffic.source[0].node", "Rover"]),
    ("simulation-storage", ("[[station]]", "[simulation]\nstorage_bits = -5.0\n\n[[station]]"),
     ["simulation.storage_bits"]),
    ("simulation-seed", ("[[station]]", "[simulation]\nseed = -1\n\n[[station]]"),
     ["simulation.seed"]),
    ("ion-node-name", ("[[station]]", '[ion.nodes]\n1 = "Rover"\n\n[[station]]'),
     ["ion.nodes.1", "Rover"]),
    ("compare-without", ('[scenario]\n', '[scenario]\ncompare_without = ["JAXA"]\n'),
     ["scenario.compare_without[0]", "JAXA"]),
    ("toml-syntax", ('name = "test-case"', 'name = "test-case'), ["line 2", "TOML"]),
]

#: Commands that take a scenario, with their extra arguments.
SCENARIO_COMMANDS: list[tuple[str, list[str]]] = [
    ("geometry", []),
    ("contacts", ["--out", "{out}"]),
    ("links", []),
    ("schedule", ["--out", "{out}"]),
    ("simulate", ["--out", "{out}"]),
    ("run", ["--out", "{out}"]),
]

#: Option and file cases: (id, argv, words).
OTHER_CASES: list[tuple[str, list[str], list[str]]] = [
    # scenario arguments that are not scenarios
    ("run-missing-file", ["run", "{ws}/nope.toml", "--out", "{out}"],
     ["nope.toml", "no such scenario file"]),
    ("run-unknown-builtin", ["run", "exomars-2031", "--out", "{out}"],
     ["exomars-2031", "did you mean"]),
    ("run-directory", ["run", "{ws}/plain-dir", "--out", "{out}"], ["plain-dir", "not a file"]),
    ("run-binary", ["run", "{ws}/garbage.toml", "--out", "{out}"], ["garbage.toml", "UTF-8"]),
    ("run-empty", ["run", "{ws}/empty.toml", "--out", "{out}"],
     ["empty.toml", "scenario", "missing"]),
    ("geometry-binary", ["geometry", "{ws}/garbage.toml"], ["garbage.toml", "UTF-8"]),
    ("geometry-empty-name", ["geometry", ""], ["SCENARIO", "empty string", "exomars-2030"]),
    ("geometry-at-garbage", ["geometry", "{ws}/good.toml", "--at", "noon"],
     ["--at", "not a valid UTC time"]),
    ("geometry-at-2070", ["geometry", "{ws}/good.toml", "--at", "2070-01-01T00:00:00Z"],
     ["2070", "ephemeris"]),
    ("geometry-at-empty", ["geometry", "{ws}/good.toml", "--at", ""], ["--at"]),
    # output folders
    ("run-out-empty", ["run", "{ws}/good.toml", "--out", ""], ["--out", "empty string"]),
    ("contacts-out-empty", ["contacts", "{ws}/good.toml", "--out", ""], ["--out", "empty"]),
    ("run-out-is-file", ["run", "{ws}/good.toml", "--out", "{ws}/a-file.txt"],
     ["a-file.txt", "not a folder"]),
    ("schedule-out-is-file", ["schedule", "{ws}/good.toml", "--out", "{ws}/a-file.txt"],
     ["a-file.txt", "not a folder"]),
    ("simulate-out-is-file", ["simulate", "{ws}/good.toml", "--out", "{ws}/a-file.txt"],
     ["a-file.txt", "not a folder"]),
    ("contacts-out-is-file", ["contacts", "{ws}/good.toml", "--out", "{ws}/a-file.txt"],
     ["a-file.txt", "not a folder"]),
    ("run-out-foreign-folder", ["run", "{ws}/good.toml", "--out", "{ws}/notes"],
     ["notes", "not a marsrelay run"]),
    ("schedule-out-foreign", ["schedule", "{ws}/good.toml", "--out", "{ws}/notes"],
     ["notes", "not a marsrelay run"]),
    ("run-out-under-file", ["run", "{ws}/good.toml", "--out", "{ws}/a-file.txt/sub"],
     ["a-file.txt"]),
    ("contacts-out-under-file", ["contacts", "{ws}/good.toml", "--out", "{ws}/a-file.txt/x"],
     ["a-file.txt"]),
    # stage options
    ("schedule-solver", ["schedule", "{ws}/good.toml", "--out", "{out}", "--solver", "magic"],
     ["--solver", "cpsat, greedy"]),
    ("schedule-time-limit-0", ["schedule", "{ws}/good.toml", "--out", "{out}", "--time-limit",
                               "0"], ["--time-limit"]),
    ("schedule-time-limit-text", ["schedule", "{ws}/good.toml", "--out", "{out}",
                                  "--time-limit", "soon"], ["--time-limit"]),
    ("simulate-seed-negative", ["simulate", "{ws}/good.toml", "--out", "{out}", "--seed", "-1"],
     ["--seed"]),
    ("simulate-ion-missing", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                              "{ws}/nope.ionrc"], ["nope.ionrc"]),
    ("simulate-ion-binary", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                             "{ws}/garbage.toml"], ["garbage.toml"]),
    ("simulate-ion-empty", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                            "{ws}/empty.toml"], ["empty.toml"]),
    ("simulate-ion-garbage", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                              "{ws}/good.toml"], ["good.toml", "line"]),
    ("simulate-ion-directory", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                                "{ws}/plain-dir"], ["plain-dir"]),
    ("simulate-node-format", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                              "{ws}/plan.ionrc", "--node", "one"], ["--node"]),
    ("simulate-node-unknown", ["simulate", "{ws}/good.toml", "--out", "{out}", "--ion",
                               "{ws}/plan.ionrc", "--node", "1=Rover"], ["--node", "Rover"]),
    ("run-without-unknown", ["run", "{ws}/good.toml", "--out", "{out}", "--without", "JAXA"],
     ["--without", "JAXA"]),
    ("run-unknown-option", ["run", "{ws}/good.toml", "--out", "{out}", "--fast"], ["--fast"]),
    # readers of run folders
    ("report-missing", ["report", "{ws}/no-run", "--out", "{out}.html"], ["no-run"]),
    ("report-plain-dir", ["report", "{ws}/plain-dir", "--out", "{out}.html"],
     ["plain-dir", "no run.json"]),
    ("report-notes-dir", ["report", "{ws}/notes", "--out", "{out}.html"],
     ["notes", "no run.json"]),
    ("report-incomplete", ["report", "{ws}/incomplete-run", "--out", "{out}.html"],
     ["incomplete-run", "missing"]),
    ("report-out-dir", ["report", "{ws}/run", "--out", "{ws}/plain-dir"],
     ["--out", "is a folder"]),
    ("report-out-empty", ["report", "{ws}/run", "--out", ""], ["--out", "empty"]),
    ("report-out-under-file", ["report", "{ws}/run", "--out", "{ws}/a-file.txt/r.html"],
     ["--out"]),
    ("report-map-sol", ["report", "{ws}/run", "--out", "{out}.html", "--map-sol", "-1"],
     ["--map-sol"]),
    ("report-bad-toml", ["report", "{ws}/bad-toml-syntax.toml", "--out", "{out}.html"],
     ["bad-toml-syntax.toml", "TOML"]),
    ("report-unknown-name", ["report", "exomars-2099", "--out", "{out}.html"],
     ["exomars-2099"]),
    ("compare-one", ["compare", "{ws}/run"], ["at least two"]),
    ("compare-missing", ["compare", "{ws}/run", "{ws}/no-run"], ["no-run"]),
    ("compare-incomplete", ["compare", "{ws}/run", "{ws}/incomplete-run"],
     ["incomplete-run"]),
    ("compare-csv-dir", ["compare", "{ws}/run", "{ws}/run", "--csv", "{ws}/plain-dir"],
     ["--csv", "is a folder"]),
    ("compare-csv-empty", ["compare", "{ws}/run", "{ws}/run", "--csv", ""], ["--csv"]),
    ("compare-bad-scenario", ["compare", "{ws}/run", "{ws}/bad-lander-lat-95.toml"],
     ["lander[0].lat_deg"]),
    ("czml-missing", ["czml", "{ws}/no-run", "--out", "{out}.czml"], ["no-run"]),
    ("czml-step-0", ["czml", "{ws}/run", "--out", "{out}.czml", "--step", "0"], ["--step"]),
    ("czml-out-dir", ["czml", "{ws}/run", "--out", "{ws}/plain-dir"], ["is a folder"]),
    ("czml-incomplete", ["czml", "{ws}/incomplete-run", "--out", "{out}.czml"],
     ["incomplete-run"]),
    # sweeps
    ("sweep-missing", ["sweep", "{ws}/nope-sweep.toml", "--out", "{out}"], ["nope-sweep.toml"]),
    ("sweep-binary", ["sweep", "{ws}/garbage.toml", "--out", "{out}"], ["garbage.toml"]),
    ("sweep-empty", ["sweep", "{ws}/empty.toml", "--out", "{out}"], ["empty.toml", "sweep"]),
    ("sweep-unknown-key", ["sweep", "{ws}/sweep-unknown-key.toml", "--out", "{out}"],
     ["sweep-unknown-key.toml", "speed"]),
    ("sweep-bad-figure", ["sweep", "{ws}/sweep-bad-figure.toml", "--out", "{out}"],
     ["sweep.figures", "happiness"]),
    ("sweep-bad-path", ["sweep", "{ws}/sweep-bad-path.toml", "--out", "{out}"],
     ["axis[0]", "rover"]),
    ("sweep-bad-value", ["sweep", "{ws}/sweep-bad-value.toml", "--out", "{out}"],
     ["axis[0]", "lat_deg"]),
    ("sweep-code", ["sweep", "{ws}/sweep-code.toml", "--out", "{out}"],
     ["sweep.case", "--allow-code"]),
    ("sweep-workers", ["sweep", "{ws}/sweep-good.toml", "--out", "{out}", "--workers", "-1"],
     ["--workers"]),
    ("sweep-scheduler-garbage", ["sweep", "{ws}/sweep-good.toml", "--out", "{out}",
                                 "--scheduler", "not an address"], ["--scheduler"]),
    ("sweep-out-empty", ["sweep", "{ws}/sweep-good.toml", "--out", ""], ["--out"]),
    ("sweep-out-is-file", ["sweep", "{ws}/sweep-good.toml", "--out", "{ws}/a-file.txt"],
     ["a-file.txt"]),
    # runs far too large for the machine (a memory limit of 8 GB is set for these tests)
    ("run-huge-span", ["run", "{ws}/huge.toml", "--out", "{out}"],
     ["huge.toml", "scenario.end", "GB of memory", "49.9 years", "--max-memory-gb"]),
    ("contacts-huge-span", ["contacts", "{ws}/huge.toml", "--out", "{out}"], ["GB of memory"]),
    ("links-huge-span", ["links", "{ws}/huge.toml"], ["GB of memory"]),
    ("schedule-huge-span", ["schedule", "{ws}/huge.toml", "--out", "{out}"], ["GB of memory"]),
    ("simulate-huge-span", ["simulate", "{ws}/huge.toml", "--out", "{out}"], ["GB of memory"]),
    ("report-huge-span", ["report", "{ws}/huge.toml", "--out", "{out}.html"], ["GB of memory"]),
    ("compare-huge-span", ["compare", "{ws}/run", "{ws}/huge.toml"], ["GB of memory"]),
    ("run-too-long", ["--max-minutes", "0.001", "run", "{ws}/good.toml", "--out", "{out}"],
     ["min", "--max-minutes"]),
    ("max-memory-zero", ["--max-memory-gb", "0", "run", "{ws}/good.toml", "--out", "{out}"],
     ["--max-memory-gb"]),
    # the command line itself
    ("unknown-command", ["launch"], ["launch"]),
    ("scenarios-extra-argument", ["scenarios", "extra"], ["extra"]),
    ("run-no-scenario", ["run"], ["Missing argument", "SCENARIO"]),
]

SWEEP = """\
[sweep]
base = "good.toml"
figures = ["passes_per_sol"]

[[axis]]
path = "lander[0].lat_deg"
values = [10.0, 20.0]
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("workspace")
    (ws / "good.toml").write_text(GOOD)
    builtin = (Path(__file__).parents[1] / "src" / "marsrelay" / "scenario" / "builtin"
               / "exomars-2030.toml").read_text()
    (ws / "huge.toml").write_text(builtin.replace('start = "2030-11-01T00:00:00Z"',
                                                  'start = "2000-01-02T00:00:00Z"').replace(
        'end = "2030-12-01T00:00:00Z"', 'end = "2049-12-01T00:00:00Z"'))
    for key, (old, new), _ in SCENARIO_PROBLEMS:
        assert old in GOOD, key
        (ws / f"bad-{key}.toml").write_text(GOOD.replace(old, new, 1))
    (ws / "garbage.toml").write_bytes(bytes(range(256)) * 4)
    (ws / "empty.toml").write_text("")
    (ws / "junk.bsp").write_bytes(bytes(range(256)) * 12)
    (ws / "junk.oem").write_text("this is not an OEM\n")
    (ws / "a-file.txt").write_text("a file")
    (ws / "plain-dir").mkdir()
    (ws / "notes").mkdir()
    (ws / "notes" / "thesis.txt").write_text("keep me")
    write_run(ws / "run", "synth-a")
    shutil.copytree(ws / "run", ws / "incomplete-run")
    (ws / "incomplete-run" / "delivery.csv").unlink()
    (ws / "plan.ionrc").write_text(
        "a contact 2030/11/01-01:00:00 2030/11/01-01:10:00 1 2 1000\n"
        "a range 2030/11/01-01:00:00 2030/11/01-01:10:00 1 2 1\n")
    (ws / "sweep-good.toml").write_text(SWEEP)
    (ws / "sweep-unknown-key.toml").write_text(SWEEP.replace("[sweep]\n", "[sweep]\nspeed = 1\n"))
    (ws / "sweep-bad-figure.toml").write_text(SWEEP.replace('"passes_per_sol"', '"happiness"'))
    (ws / "sweep-bad-path.toml").write_text(SWEEP.replace("lander[0].lat_deg", "rover[0].x"))
    (ws / "sweep-bad-value.toml").write_text(SWEEP.replace("[10.0, 20.0]", "[10.0, 200.0]"))
    (ws / "sweep-code.toml").write_text(SWEEP.replace("[sweep]\n", '[sweep]\ncase = "os:system"\n'))
    return ws


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


CASES: list[tuple[str, list[str], list[str]]] = [
    (f"{cmd}-{key}", [cmd, "{ws}/bad-" + key + ".toml", *extra], words)
    for key, _, words in SCENARIO_PROBLEMS for cmd, extra in SCENARIO_COMMANDS
] + OTHER_CASES


def test_there_are_at_least_150_cases() -> None:
    assert len(CASES) >= 150, len(CASES)


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_naming_the_problem(workspace, tmp_path, monkeypatch, argv,
                                              words) -> None:
    monkeypatch.chdir(tmp_path)  # a stray write into the current folder shows up below
    before = _snapshot(workspace)
    out = tmp_path / "out"
    args = [a.replace("{ws}", str(workspace)).replace("{out}", str(out)) for a in argv]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200",
                                                "MARSRELAY_MAX_MEMORY_GB": "8"})
    text = " ".join((result.stderr + result.stdout).split())
    assert result.exit_code == 2, text
    assert "Traceback" not in result.stderr + result.stdout, text
    assert "internal error" not in text, text
    for word in words:
        assert word in text, (word, text)
    assert _snapshot(workspace) == before  # nothing written, nothing changed
    assert list(tmp_path.iterdir()) == []  # no output, no temporary left
