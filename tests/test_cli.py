"""The command line through typer's CliRunner: exit codes 0 and 2, one-line errors, outputs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import BASE_TOML, error_line
from marsrelay import __version__
from marsrelay.cli.main import app
from marsrelay.scenario import builtin_scenario_names, load_scenario


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"marsrelay {__version__}"


EXPECTED = set(builtin_scenario_names())


def test_scenarios_lists_every_builtin(runner: CliRunner) -> None:
    result = runner.invoke(app, ["scenarios"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.strip().split(" ")[0] in EXPECTED]
    assert [lines[i].split()[0] for i in starts] == builtin_scenario_names()
    for i, j in zip(starts, [*starts[1:], len(lines)], strict=True):
        block = " ".join(" ".join(ln.split()) for ln in lines[i:j])  # a row may span lines
        sc = load_scenario(lines[i].split()[0])
        for node in (*sc.orbiters, *sc.landers, *sc.stations):
            assert node.name in block, (node.name, block)
        assert sc.start_utc[:10] in block and sc.end_utc[:10] in block
    narrow = runner.invoke(app, ["scenarios"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0
    for name in builtin_scenario_names():  # names never wrap, even in 80 columns
        assert name in narrow.stdout


def test_geometry_of_a_builtin(runner: CliRunner) -> None:
    result = runner.invoke(app, ["geometry", "exomars-2030", "--at", "2030-11-05T12:00:00Z"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Geometry at 2030-11-05T12:00:00.000Z" in out
    for word in ("TGO", "MRO", "MAVEN", "Rosalind Franklin", "Sun-Earth-Mars angle"):
        assert word in out


def test_geometry_defaults_to_the_scenario_start(runner: CliRunner, write_scenario) -> None:
    result = runner.invoke(app, ["geometry", str(write_scenario())])
    assert result.exit_code == 0, result.output
    assert "Geometry at 2030-06-01T00:00:00.000Z" in result.stdout


def test_bad_scenario_file_exits_2_with_one_line(runner: CliRunner, write_scenario) -> None:
    path = write_scenario(BASE_TOML.replace("lat_deg = 18.275", "lat_deg = 95.0"))
    result = runner.invoke(app, ["geometry", str(path)])
    assert result.exit_code == 2
    line = error_line(result)
    assert f"{path}: lander[0].lat_deg:" in line and "[-90, 90]" in line
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_unknown_builtin_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "exomars-2031"])
    assert result.exit_code == 2
    assert "did you mean 'exomars-2030'?" in error_line(result)


def test_time_outside_ephemeris_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["geometry", "exomars-2030", "--at", "2060-01-01T00:00:00Z"])
    assert result.exit_code == 2
    assert "DE421 covers" in error_line(result)
    assert "Traceback" not in result.output


def test_unparsable_time_names_the_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["geometry", "exomars-2030", "--at", "next tuesday"])
    assert result.exit_code == 2
    line = error_line(result)
    assert "--at: 'next tuesday' is not a valid UTC time" in line and "allowed:" in line


def test_debug_shows_the_traceback(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--debug", "geometry", "exomars-2031"])
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: ")


def test_trajectory_error_exits_2(runner: CliRunner, write_scenario) -> None:
    path = write_scenario(BASE_TOML.replace(
        '[orbiter.elements]\na_km = 3796.19\ne = 0.0\ni_deg = 74.0\n',
        '[orbiter.oem]\npath = "broken.oem"\n'))
    (path.parent / "broken.oem").write_text("CCSDS_OEM_VERS = 2.0\n")
    result = runner.invoke(app, ["geometry", str(path)])
    assert result.exit_code == 2
    assert "fewer than two state lines" in error_line(result)


def test_run_writes_the_validated_scenario(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "exomars-2030", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "scenario.json").read_text())
    sc = load_scenario("exomars-2030")
    assert data["name"] == "exomars-2030"
    assert data["start_tdb_s"] == sc.start_tdb_s and data["end_tdb_s"] == sc.end_tdb_s
    assert [o["name"] for o in data["orbiters"]] == ["TGO", "MRO", "MAVEN"]
    assert data["landers"][0]["direct_to_earth"] is False
    assert "Sub-orbiter points" in result.stdout
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_run_into_an_unwritable_place_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["run", "exomars-2030", "--out", str(blocker)])
    assert result.exit_code == 2
    line = error_line(result)
    assert "--out: exists and is not a folder" in line


def test_usage_error_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["geometry"])
    assert result.exit_code == 2
