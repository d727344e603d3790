"""Overflights are the contacts stage's proximity windows, with the links stage's volumes:
checked against ``marsrelay contacts`` (its CSV) and ``marsrelay links``' per-contact volumes
(``compute_links`` on the whole scenario, stations included), for the same scenario. The
shared-pass optimiser is checked against exhaustive search on small cases."""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from marsrelay.cli.main import app
from marsrelay.contacts import find_contacts
from marsrelay.links import compute_links
from marsrelay.scenario import load_scenario
from marsrelay.schedule.shared_passes import (
    PRIORITY_WEIGHT,
    PassRequest,
    plan_shared_passes,
)
from marsrelay.service.db.engine import Database
from marsrelay.service.ops import RelayService


@pytest.fixture(scope="module")
def overflights(sqlite_template) -> list[dict]:
    db = Database.open(sqlite_template.url)
    try:
        return RelayService(db).overflights(include_superseded=True)
    finally:
        db.dispose()


def test_overflights_equal_the_contacts_command_windows(overflights, service_scenario,
                                                        tmp_path) -> None:
    result = CliRunner().invoke(app, ["contacts", str(service_scenario), "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "contacts.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "proximity"]
    assert len(rows) == len(overflights) > 10
    want = sorted((r["start_utc"], r["end_utc"], r["source"], r["target"],
                   float(r["max_elevation_deg"])) for r in rows)
    got = sorted((o["start_utc"], o["end_utc"], o["lander"], o["orbiter"],
                  o["max_elevation_deg"]) for o in overflights)
    assert [g[:4] for g in got] == [w[:4] for w in want]
    # the CSV prints 4 decimals
    assert all(abs(g[4] - w[4]) <= 6e-5 for g, w in zip(got, want, strict=True))


def test_predicted_bits_equal_the_links_stage_volumes(overflights, service_scenario) -> None:
    scenario = load_scenario(service_scenario)
    linked = compute_links(scenario, find_contacts(scenario)).contacts
    prox = np.nonzero(linked.kind == "proximity")[0]
    want = sorted((str(linked.source[k]), str(linked.target[k]),
                   round(float(linked.start_tdb_s[k]), 3), float(linked.volume_bits[k]))
                  for k in prox)
    by_window = sorted(overflights, key=lambda o: (o["lander"], o["orbiter"], o["start_utc"]))
    want.sort()
    assert len(want) == len(by_window)
    for (lander, orbiter, _, volume), o in zip(want, by_window, strict=True):
        assert (o["lander"], o["orbiter"]) == (lander, orbiter)
        assert o["predicted_bits"] == round(volume)
        assert o["predicted_bits"] > 0


# -- the shared-pass optimiser against exhaustive search ---------------------------------------


def _flat(start: int, end: int, bits_per_ms: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    times = tuple(range(start, end + 1, 1000))
    return times, tuple(round((t - start) * bits_per_ms) for t in times)


def _brute(requests: list[PassRequest], step: int) -> float:
    """Best weighted served volume over every choice of grid sub-windows (step ms)."""
    options = []
    for r in requests:
        opts = [None]
        grid = range(r.start_ms, r.end_ms + 1, step)
        opts += [(a, b) for a, b in itertools.combinations(grid, 2)]
        options.append(opts)
    best = 0.0
    for choice in itertools.product(*options):
        wins = [(c, r) for c, r in zip(choice, requests, strict=True) if c is not None]
        ok = all(a[0][1] <= b[0][0] or b[0][1] <= a[0][0]
                 for a, b in itertools.combinations(wins, 2))
        if not ok:
            continue
        value = sum(PRIORITY_WEIGHT[r.priority] * min(r.return_bits, r.predicted_bits(*c))
                    for c, r in wins)
        best = max(best, value)
    return best


@pytest.mark.parametrize("case", range(6))
def test_shared_passes_match_exhaustive_search(case: int) -> None:
    rng = np.random.default_rng(case)
    reqs = []
    for k in range(3):
        start = int(rng.integers(0, 4)) * 10_000
        end = start + int(rng.integers(2, 5)) * 10_000
        times, bits = _flat(start, end, float(rng.uniform(0.5, 2.0)))
        reqs.append(PassRequest(k + 1, start, end, int(rng.integers(1, 6)),
                                int(rng.integers(5, 40)) * 1000, times, bits))
    plan = plan_shared_passes(reqs, resolution_ms=10_000, max_cells=10)
    assert plan.status == "optimal"
    assert math.isclose(plan.weighted_bits, _brute(reqs, 10_000), rel_tol=1e-6, abs_tol=64)
    granted = [g for g in plan.grants if g.granted]
    for a, b in itertools.combinations(granted, 2):
        assert a.end_ms <= b.start_ms or b.end_ms <= a.start_ms
    for g, r in zip(plan.grants, reqs, strict=True):
        if g.granted:
            assert r.start_ms <= g.start_ms < g.end_ms <= r.end_ms
            assert g.planned_bits == min(r.return_bits, g.predicted_bits)


def test_two_requests_on_one_pass_are_split_to_serve_both() -> None:
    times, bits = _flat(0, 600_000, 1.0)  # 600 s at 1000 bit/s
    a = PassRequest(1, 0, 600_000, 3, 200_000, times, bits)
    b = PassRequest(2, 0, 600_000, 3, 300_000, times, bits)
    plan = plan_shared_passes([a, b])
    ga, gb = plan.grants
    assert ga.granted and gb.granted
    assert (ga.planned_bits, gb.planned_bits) == (200_000, 300_000)
    assert ga.end_ms <= gb.start_ms or gb.end_ms <= ga.start_ms


def test_acknowledged_windows_are_kept_and_priority_wins() -> None:
    times, bits = _flat(0, 600_000, 1.0)
    fixed = PassRequest(1, 0, 300_000, 5, 300_000, times, bits, fixed=True)
    low = PassRequest(2, 0, 600_000, 5, 600_000, times, bits)
    high = PassRequest(3, 200_000, 600_000, 1, 400_000, times, bits)
    plan = plan_shared_passes([fixed, low, high])
    g_fixed, g_low, g_high = plan.grants
    assert (g_fixed.start_ms, g_fixed.end_ms) == (0, 300_000)
    assert g_high.granted and (g_high.start_ms, g_high.end_ms) == (300_000, 600_000)
    assert not g_low.granted
