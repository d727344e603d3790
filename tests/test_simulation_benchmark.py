"""The simulation benchmark's like-for-like comparison is fair: on its plan (exomars-2030's own
contacts and links, stations merged into one sink, one contact per sender at a time, light time
0, ms grid) pydtnsim, an independent CGR simulator, delivers exactly the bundles marsrelay does,
at the same times. Runs ``benchmarks/simulation.py --compare-only`` (its own code, not a copy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "simulation.py"


def test_like_for_like_plan_gives_the_same_deliveries_in_both_simulators() -> None:
    # four days: the first span where a transmitter holds bundles for two passes over one
    # orbiter (the backlog of the earlier pass must not shorten the later one)
    done = subprocess.run([sys.executable, str(BENCHMARK), "--compare-only", "4"],
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bundles"] > 10000  # four days of the lander's 150 Mbit/sol in 50 kbit bundles
    assert result["delivered_marsrelay"] > 0.9 * result["bundles"]
    assert result["delivered_marsrelay"] == result["delivered_pydtnsim"]
    assert result["delivered_by_one_only"] == 0
    # pydtnsim counts in ms and marsrelay in s: the same instants, to float rounding
    assert result["max_delivery_time_diff_ms"] < 1e-3
