"""`marsrelay run` with a partner's assets removed: the side-by-side of issue 7 / the README.

Invariant checked: removing nodes cannot change the windows between the nodes that remain
(geometry does not depend on who else is in the scenario), so the variant's contact table must
equal the base table minus every row that touches a removed node.
"""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from marsrelay.cli.main import app
from marsrelay.errors import InputError
from marsrelay.scenario import load_scenario


def test_without_removes_the_partners_nodes_and_their_config_entries():
    sc = load_scenario("exomars-2030")
    w = sc.without("nasa")  # case-insensitive agency
    assert w.name == "exomars-2030-without-nasa"
    assert [o.name for o in w.orbiters] == [o.name for o in sc.orbiters if o.agency != "NASA"]
    assert all(s.agency != "NASA" for s in w.stations) and w.stations
    assert [la.name for la in w.landers] == [la.name for la in sc.landers]
    assert w.compare_without == ()
    # A node name works too.
    assert [o.name for o in sc.without("MRO").orbiters] == ["TGO", "MAVEN"]


def test_without_an_unknown_partner_or_every_lander_is_an_input_error():
    sc = load_scenario("exomars-2030")
    with pytest.raises(InputError, match=r"--without: .*'CNSA'.*allowed: an agency \(ESA, NASA\)"):
        sc.without("CNSA")
    with pytest.raises(InputError, match="leaves no lander"):
        sc.without("Rosalind Franklin")


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_shows_the_mission_with_and_without_nasa(tmp_path):
    sc = load_scenario("exomars-2030")
    short = sc.with_overrides(end_utc="2030-11-04T00:00:00Z")
    scen = tmp_path / "short.toml"
    text = sc.path.read_text().replace(
        'end = "2030-12-01T00:00:00Z"', 'end = "2030-11-04T00:00:00Z"'
    )
    scen.write_text(text)
    assert load_scenario(scen).end_tdb_s == pytest.approx(short.end_tdb_s)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(scen), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Without NASA" in res.output and "side-by-side" in res.output
    nasa = {o.name for o in sc.orbiters if o.agency == "NASA"} | {
        s.name for s in sc.stations if s.agency == "NASA"}
    base = _rows(out / "contacts.csv")
    variant = _rows(out / "without-nasa" / "contacts.csv")
    key = ("source", "target", "kind", "start_utc", "end_utc")
    expected = sorted(tuple(r[k] for k in key) for r in base
                      if r["source"] not in nasa and r["target"] not in nasa)
    got = sorted(tuple(r[k] for k in key) for r in variant)
    assert got == expected and 0 < len(got) < len(base)
    html = (out / "report.html").read_text()
    assert "exomars-2030-without-nasa" in html


def test_run_with_a_bad_partner_exits_2_before_any_work(tmp_path):
    res = CliRunner().invoke(app, ["run", "exomars-2030", "--out", str(tmp_path / "o"),
                                   "--without", "CNSA"])
    assert res.exit_code == 2
    assert "CNSA" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
