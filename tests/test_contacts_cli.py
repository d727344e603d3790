"""``marsrelay contacts``: files, columns, order and formats; bad input gives exit code 2."""

from __future__ import annotations

import csv
import re

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import BASE_TOML, error_line
from marsrelay.cli.main import app
from marsrelay.contacts import ContactTable, find_contacts
from marsrelay.contacts.stage import contacts_output_table
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.rundir.schema import CONTACTS
from marsrelay.rundir.tables import write_table
from marsrelay.scenario import load_scenario

CSV_COLUMNS = CONTACTS.csv_names

UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


#: The shared small scenario moved to November 2030 (BASE_TOML's June 2030 is a solar
#: conjunction, when Earth links are blocked: see test_solar_conjunction_blocks_earth_links).
NOVEMBER_TOML = BASE_TOML.replace("2030-06-01T00:00:00Z", "2030-11-01T00:00:00Z").replace(
    "2030-06-02T00:00:00Z", "2030-11-02T00:00:00Z")


def test_contacts_command_writes_sorted_csv_and_parquet(runner, write_scenario, tmp_path):
    path = write_scenario(NOVEMBER_TOML)
    out = tmp_path / "out"
    result = runner.invoke(app, ["contacts", str(path), "--out", str(out)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Contact windows" in result.stdout and "per sol" in result.stdout
    with open(out / "contacts.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
        assert tuple(rows[0].keys()) == CSV_COLUMNS
    table = pq.read_table(out / "contacts.parquet").to_pydict()
    assert set(CSV_COLUMNS) | {"start_tdb_s", "end_tdb_s"} <= set(table)
    assert len(rows) == len(table["start_tdb_s"]) > 10
    kinds = {r["kind"] for r in rows}
    assert kinds == {"proximity", "orbiter_earth", "direct_earth"}
    start = np.array(table["start_tdb_s"])
    assert np.all(np.diff(start) >= 0)  # sorted by start
    for r, a, b in zip(rows, table["start_tdb_s"], table["end_tdb_s"], strict=True):
        assert UTC_MS.match(r["start_utc"]) and UTC_MS.match(r["end_utc"])
        assert r["start_utc"] == str(tdb_to_utc(a))  # the same instant, to the millisecond
        assert abs(float(r["duration_s"]) - (b - a)) < 1e-3
        assert abs(utc_to_tdb(r["end_utc"]) - b) < 1e-3
        assert r["rate_bps_mean"] == "" and r["volume_bits"] == ""  # filled by links
        if r["kind"] == "proximity":
            assert r["source"] == "Rosalind Franklin" and float(r["owlt_s"]) == 0.0
            assert float(r["max_elevation_deg"]) >= 10.0
        else:
            assert 150.0 < float(r["owlt_s"]) < 1400.0  # Earth-Mars light time, 3-22 min


def test_write_contacts_round_trip_and_empty_table(tmp_path):
    sc = load_scenario("exomars-2030").with_overrides(
        end_utc="2030-11-01T06:00:00Z")
    table = find_contacts(sc)
    _, parquet_path = write_table(tmp_path, contacts_output_table(table))
    back = pq.read_table(parquet_path).to_pydict()
    np.testing.assert_array_equal(np.sort(back["start_tdb_s"]), np.sort(table.start_tdb_s))
    write_table(tmp_path / "none", contacts_output_table(ContactTable.empty()))
    assert (tmp_path / "none" / "contacts.csv").read_text().strip() == ",".join(CSV_COLUMNS)
    assert list(tmp_path.glob(".*.tmp")) == []  # atomic writes leave no temporaries


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        # empty time span
        ('end = "2030-06-02T00:00:00Z"', 'end = "2030-06-01T00:00:00Z"', "not after"),
        # span past the ephemeris' coverage (DE421 ends 2051-01-01)
        ('end = "2030-06-02T00:00:00Z"', 'end = "2051-06-01T00:00:00Z"', "DE421"),
        # ends inside DE421, but the light time of its last signals falls outside
        ('start = "2030-06-01T00:00:00Z"\nend = "2030-06-02T00:00:00Z"',
         'start = "2050-12-31T00:00:00Z"\nend = "2050-12-31T23:59:00Z"', "light time"),
        # lander mask outside [0, 90)
        ("elevation_mask_deg = 10.0", "elevation_mask_deg = 95.0", "elevation_mask_deg"),
        # station mask outside [0, 90)
        ("dish_m = 70.0", "dish_m = 70.0\nelevation_mask_deg = -5.0", "elevation_mask_deg"),
        # an orbit that hits Mars
        ("a_km = 3796.19", "a_km = 3300.0", "inside Mars"),
    ],
)
def test_bad_input_exits_2_with_one_line(runner, write_scenario, tmp_path, old, new, words):
    assert old in BASE_TOML
    path = write_scenario(BASE_TOML.replace(old, new, 1))
    result = runner.invoke(app, ["contacts", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert words in error_line(result)
    assert not (tmp_path / "o" / "contacts.csv").exists()


def test_unwritable_output_folder_exits_2(runner, write_scenario, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["contacts", str(write_scenario()), "--out",
                                 str(blocker / "sub")])
    assert result.exit_code == 2
    assert "--out" in error_line(result)


def test_solar_conjunction_blocks_earth_links(write_scenario):
    """June 2030 is a solar conjunction: the Sun-Earth-Mars angle is 1.7 deg on 2030-06-01
    (marsrelay.geometry.snapshot's snapshot, computed independently of the contacts stage)."""
    from marsrelay.contacts.earth import conjunction_free
    from marsrelay.contacts.earth_tables import EarthMarsTables

    sc = load_scenario(write_scenario(BASE_TOML))
    assert sc.geometry_at(sc.start_tdb_s).sun_earth_mars_deg < 2.0
    blocked = find_contacts(sc)
    assert set(blocked.kind) == {"proximity"}
    allowed = find_contacts(sc.with_overrides(conjunction_sep_deg=1.0))
    assert {"orbiter_earth", "direct_earth"} <= set(allowed.kind)
    # The conjunction's edges, where the angle crosses 2 deg (up to its 0.01 deg of
    # light-time difference with the geometric snapshot, i.e. well within an hour).
    t0, t1 = float(utc_to_tdb("2030-05-01T00:00:00Z")), float(utc_to_tdb("2030-07-15T00:00:00Z"))
    free = conjunction_free(EarthMarsTables(t0, t1, sc.rotation), t0, t1, 2.0)
    assert len(free) == 2  # before and after the conjunction
    for edge, sign in ((free.end[0], 1.0), (free.start[1], -1.0)):
        before = sc.geometry_at(edge - 3600.0).sun_earth_mars_deg
        after = sc.geometry_at(edge + 3600.0).sun_earth_mars_deg
        assert sign * (before - 2.0) > 0 and sign * (2.0 - after) > 0
