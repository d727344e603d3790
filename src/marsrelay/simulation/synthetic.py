"""A synthetic Mars relay contact plan with realistic pass patterns (for benchmarks and tests).

Not geometry: a quick stand-in when the contacts and links stages are not wanted. Patterns follow
the reference figures (NASA/JPL MSL communications page; ESA TGO pages): a low orbiter passes
over a lander in two groups per sol about half a sol apart (ascending and descending), two or
three consecutive orbits per group, each pass 4 to 15 minutes; an orbiter sees Earth for about
two thirds of each orbit; the three DSN complexes see Mars about 10 hours a day each, 8 hours
apart. Relay rates are 128 kbit/s to 2 Mbit/s, Earth rates 0.5 to 4 Mbit/s, and the one-way
light time drifts between 4 and 22 minutes over a Mars synodic period (780 days).
"""

from __future__ import annotations

import numpy as np

from marsrelay.constants import DAY_S, SOL_S
from marsrelay.simulation.plan import BAND_EARTH, BAND_PROXIMITY, ContactPlan

__all__ = ["synthetic_mars_plan"]

_ORBITERS = (("TGO", 7200.0), ("MRO", 6720.0), ("MAVEN", 12600.0))
_STATIONS = (("DSS-14", 0.0), ("DSS-43", 8.0 * 3600), ("DSS-63", 16.0 * 3600))


def synthetic_mars_plan(
    start_tdb_s: float,
    days: float,
    *,
    lander: str = "Rosalind Franklin",
    seed: int = 0,
) -> ContactPlan:
    """A plan of ``days`` days from ``start_tdb_s``: one lander, three orbiters, three
    stations (see the module docstring for the patterns)."""
    rng = np.random.default_rng(seed)
    end = start_tdb_s + days * DAY_S
    names = [lander, *(o for o, _ in _ORBITERS), *(s for s, _ in _STATIONS)]
    kinds = ["lander", "orbiter", "orbiter", "orbiter", "station", "station", "station"]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "from_node", "to_node", "start_tdb_s", "end_tdb_s", "rate_bps", "owlt_s", "band")}

    def add(f: int, t: int, s: np.ndarray, e: np.ndarray, rate: np.ndarray, owlt: np.ndarray,
            band: int) -> None:
        n = len(s)
        cols["from_node"].append(np.full(n, f))
        cols["to_node"].append(np.full(n, t))
        cols["start_tdb_s"].append(s)
        cols["end_tdb_s"].append(e)
        cols["rate_bps"].append(rate)
        cols["owlt_s"].append(owlt)
        cols["band"].append(np.full(n, band))

    def light_time(t: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * (t - start_tdb_s) / (780.0 * DAY_S)
        return 780.0 - 540.0 * np.cos(phase)  # 4 .. 22 min

    for k, (_, period) in enumerate(_ORBITERS):
        o = 1 + k
        # proximity passes: orbits whose pass time falls in one of two groups per sol
        phase0 = rng.uniform(0, period)
        t = start_tdb_s + phase0 + period * np.arange(int((end - start_tdb_s) / period) + 1)
        group_centre = rng.uniform(0, SOL_S / 2)
        x = np.mod(t - start_tdb_s - group_centre, SOL_S / 2)
        near = np.minimum(x, SOL_S / 2 - x) < 1.3 * period
        tp = t[near]
        dur = rng.uniform(240.0, 900.0, len(tp))
        rate = rng.choice([128e3, 256e3, 512e3, 1024e3, 2048e3], len(tp))
        add(0, o, tp, tp + dur, rate, np.zeros(len(tp)), BAND_PROXIMITY)
        # Earth visibility of the orbiter: 2/3 of each orbit
        arc0 = start_tdb_s + rng.uniform(0, period) + period * np.arange(
            -1, int((end - start_tdb_s) / period) + 2)
        arc1 = arc0 + period * 2.0 / 3.0
        for j, (_, offset) in enumerate(_STATIONS):
            g = 4 + j
            days_idx = np.arange(-1, int(days) + 2)
            v0 = start_tdb_s + days_idx * DAY_S + offset
            v1 = v0 + 10.0 * 3600
            # intersect orbiter arcs with station windows
            lo = np.maximum(arc0[:, None], v0[None, :])
            hi = np.minimum(arc1[:, None], v1[None, :])
            ok = hi - lo > 300.0
            s, e = lo[ok], hi[ok]
            rate = rng.uniform(0.5e6, 4e6, len(s))
            add(o, g, s, e, rate, light_time(s), BAND_EARTH)
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    plan = ContactPlan(tuple(names), tuple(kinds), **arrays)
    return plan.clip(start_tdb_s, end)
