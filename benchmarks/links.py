"""Benchmark of the links stage: prints ONE JSON line.

Keys: scenario, days, passes, finder ('contacts' or 'standin-1s'), links_s (wall time of
compute_links), adr_vs_best_fixed_volume_ratio (sum of ADR volumes / sum of best-single-rate
volumes over passes that run ADR), volume_per_sol_bits (mean relay + direct-to-Earth volume per
complete local sol, per lander), peak_rate_bps.

Contacts come from the contacts stage's ``find_contacts`` when it exists, else from the 1 s
stand-in finder in tests/links_standin.py (proximity windows only, first ``--days`` days).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from marsrelay.contacts import find_contacts
from marsrelay.links import compute_links
from marsrelay.scenario import load_scenario


def _contacts(sc, days: float):
    return find_contacts(sc), "contacts"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="curiosity-insight-tgo-2019")
    ap.add_argument("--days", type=float, default=10.0, help="span for the stand-in finder")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    contacts, finder = _contacts(sc, args.days)
    t = time.perf_counter()
    linked = compute_links(sc, contacts)
    links_s = time.perf_counter() - t
    r = linked.result
    adr = r.adr & (linked.contacts.kind == "proximity")
    ps = linked.per_sol
    per_sol: dict[str, float] = {}
    for lander in sorted(set(ps.lander.tolist())):
        m = ps.lander == lander
        sols = np.unique(ps.sol[m])
        complete = sols[1:-1] if len(sols) > 2 else sols
        vol = sum(float(ps.volume_bits[m & (ps.sol == s)].sum()) for s in complete)
        per_sol[lander] = round(vol / max(len(complete), 1))
    print(json.dumps({
        "scenario": sc.name,
        "days": args.days if finder == "standin-1s" else (sc.end_tdb_s - sc.start_tdb_s) / 86400,
        "finder": finder,
        "passes": len(linked.contacts),
        "links_s": round(links_s, 4),
        "adr_vs_best_fixed_volume_ratio": round(
            float(r.volume_adr_bits[adr].sum() / max(r.volume_fixed_bits[adr].sum(), 1.0)), 4),
        "volume_per_sol_bits": per_sol,
        "peak_rate_bps": float(r.peak_rate_bps.max()) if len(r.peak_rate_bps) else 0.0,
    }))


if __name__ == "__main__":
    main()
