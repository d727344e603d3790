"""The accounting plot as plain geometry (drawn as SVG by the template) and the per-agency
totals: relay given (as the orbiter's agency) and received (as the lander's agency)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AccountingPlot", "HBar", "agency_totals", "layout_accounting", "nice_step"]

WIDTH = 1000.0
LABEL_W = 220.0
RIGHT_PAD = 90.0
TOP = 30.0
BAR_H = 16.0
GROUP_GAP = 14.0


@dataclass(frozen=True)
class HBar:
    x: float
    y: float
    w: float
    h: float
    css: str
    label: str
    value: str


@dataclass(frozen=True)
class AccountingPlot:
    width: float
    height: float
    x0: float
    x1: float
    groups: tuple[tuple[str, float], ...]
    bars: tuple[HBar, ...]
    ticks: tuple[tuple[float, str], ...]


def nice_step(top: float, most: int = 6) -> float:
    """A 1-2-5 step giving at most ``most`` intervals up to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / most
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def layout_accounting(rows: Sequence[dict[str, Any]]) -> AccountingPlot:
    """Two bars per (provider, user) row of ``/accounting``: predicted and returned, Mbit."""
    top_mbit = max([0.0] + [max(r["predicted_bits"], r["returned_bits"]) / 1e6 for r in rows])
    step = nice_step(top_mbit)
    scale_top = max(step, math.ceil(top_mbit / step) * step)
    x0, x1 = LABEL_W, WIDTH - RIGHT_PAD
    bars, groups = [], []
    y = TOP
    for r in rows:
        name = f"{r['provider_agency']} to {r['user_agency']}"
        groups.append((name, y + BAR_H))
        for k, (key, css, what) in enumerate(
            (("predicted_bits", "pred", "predicted"), ("returned_bits", "ret", "returned"))
        ):
            mbit = r[key] / 1e6
            w = (x1 - x0) * mbit / scale_top
            value = f"{mbit:,.1f} Mbit"
            bars.append(
                HBar(x0, y + k * BAR_H, w, BAR_H - 2, css,
                     f"{name}: {what} {value} over {r['passes']} passes", value)
            )
        y += 2 * BAR_H + GROUP_GAP
    ticks = []
    v = 0.0
    while v <= scale_top + 1e-9:
        ticks.append((x0 + (x1 - x0) * v / scale_top, f"{v:,.0f}" if step >= 1 else f"{v:g}"))
        v += step
    return AccountingPlot(WIDTH, y + 24, x0, x1, tuple(groups), tuple(bars), tuple(ticks))


def agency_totals(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per agency: passes, relay time (s) and returned bits given to others (as provider) and
    received from others (as user); a pass an agency gives itself counts on both sides."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        for agency, side in ((r["provider_agency"], "given"), (r["user_agency"], "received")):
            t = out.setdefault(agency, {"agency": agency, **{
                f"{s}_{k}": 0 for s in ("given", "received")
                for k in ("passes", "relay_s", "predicted_bits", "returned_bits")}})
            t[f"{side}_passes"] += r["passes"]
            t[f"{side}_relay_s"] += r["relay_s"]
            t[f"{side}_predicted_bits"] += r["predicted_bits"]
            t[f"{side}_returned_bits"] += r["returned_bits"]
    return [out[k] for k in sorted(out)]
