"""``marsrelay schedule`` through typer's CliRunner (contacts and links stages stubbed with a
hand-made linked table, so the test does not depend on their speed or availability)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from typer.testing import CliRunner

import marsrelay.contacts
import marsrelay.links
from marsrelay.cli.main import app
from marsrelay.contacts import ContactsResult
from marsrelay.contacts.table import ContactTable
from marsrelay.links import LinkedContacts, LinkResult, PerDayVolumes, PerSolVolumes
from marsrelay.scenario import load_scenario

SCENARIO = "exomars-2030"


@pytest.fixture
def stub_stages(monkeypatch):
    sc = load_scenario(SCENARIO)
    t0 = sc.start_tdb_s + 100000.0  # past the first (partial) sol
    rows = [("Rosalind Franklin", "TGO", 7200.0, 600.0, 80e6),
            ("Rosalind Franklin", "MRO", 7500.0, 480.0, 120e6),  # overlaps TGO: one radio
            ("Rosalind Franklin", "MAVEN", 40000.0, 900.0, 60e6)]
    src, tgt, s, d, v = (np.array(c) for c in zip(*rows, strict=True))
    s = t0 + s.astype(float)
    z = np.zeros(len(rows))
    table = ContactTable(src, tgt, np.array(["proximity"] * len(rows)), s, s + d.astype(float),
                         z, z, z, z, z, v.astype(float) / d.astype(float), v.astype(float))
    n, e = len(rows), np.empty(0)
    linked = LinkedContacts(
        table, LinkResult(table.volume_bits, table.rate_bps_mean, table.volume_bits,
                          table.volume_bits, z, z, np.ones(n, bool)),
        PerSolVolumes(e.astype(object), e.astype(object), e.astype(object), e.astype(int), e,
                      e.astype(int), e, e, e, e),
        PerDayVolumes(e.astype(object), e.astype(object), e.astype(int), e, e), (),
        lambda index, step: None)
    monkeypatch.setattr(marsrelay.contacts, "run",
                        lambda scenario, config=None, progress=None: ContactsResult(
                            table, (), 2.0))
    monkeypatch.setattr(marsrelay.links, "run",
                        lambda scenario, contacts, config=None, progress=None: linked)
    return table


def test_schedule_command_writes_the_plan(stub_stages, tmp_path) -> None:
    out = tmp_path / "plan"
    result = CliRunner().invoke(app, ["schedule", SCENARIO, "--out", str(out), "--time-limit",
                                      "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Rosalind Franklin" in result.stdout and "delivered" in result.stdout
    with open(out / "schedule.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    chosen = {(r["orbiter"], r["status"], r["reason"]) for r in rows}
    assert chosen == {("TGO", "dropped", "lander_busy"), ("MRO", "selected", ""),
                      ("MAVEN", "selected", "")}
    assert (out / "schedule_sols.csv").exists()


def test_schedule_command_greedy_and_bad_solver(stub_stages, tmp_path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["schedule", SCENARIO, "--out", str(tmp_path), "--solver", "greedy"])
    assert ok.exit_code == 0, ok.output
    assert "greedy" in ok.stdout
    bad = runner.invoke(app, ["schedule", SCENARIO, "--out", str(tmp_path), "--solver", "milp"])
    assert bad.exit_code == 2
    lines = [ln for ln in bad.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--solver" in lines[0] and "cpsat, greedy" in lines[0]
