"""The contacts benchmark's agreement check, in its quick mode (2 days, 2 orbiters x (1 lander
+ 2 stations)): SPICE's geometry finder and marsrelay must find the same windows, one to one,
edges within 1 ms (what ``tests/test_contacts_spice.py`` requires), and every GF step must be
shorter than the shortest event it has to catch. The full-year run (GF ~10 min) is not a test:
``python benchmarks/contacts.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "contacts.py"


def test_quick_benchmark_finds_the_same_windows_as_spice_gf():
    done = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--repeat", "1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pairs"] == 6
    assert result["windows"] >= 20  # 2 days: proximity passes and Earth windows
    assert result["identical"], result["unmatched"]
    assert result["windows"] == result["gf_windows"] == result["matched"]
    assert result["max_edge_diff_ms"] < 1.0
    for name, step in result["gf_steps"].items():  # None: no such event in the span
        assert step["shortest_event_s"] is None or step["step_s"] < step["shortest_event_s"], name
    assert result["spice_gf_s"] > 0 and result["marsrelay_s"] > 0
