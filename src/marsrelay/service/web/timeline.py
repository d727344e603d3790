"""The timeline of one orbiter as plain geometry (the template draws it as SVG; no script).

One lane per lander: its overflights on the first row, the requests the user sees below them
(as many rows as overlapping requests need), coloured by state; the user's own agency's landers
and requests are highlighted. A last lane holds the orbiter's acknowledged windows that the user
cannot see as requests (other agencies' passes, anonymous, from ``/busy``). Conflicts (live
requests whose windows overlap) are bands across the lanes. Every shape carries its accessible
label; the page shows the same content as tables too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from marsrelay.service.web.times import to_ms, utc_short

__all__ = ["Band", "Bar", "Lane", "Tick", "TimelineChart", "layout_timeline", "tick_step_ms"]

WIDTH = 1000.0
LABEL_W = 190.0
RIGHT_PAD = 12.0
AXIS_H = 34.0
ROW_H = 18.0
ROW_GAP = 4.0
LANE_PAD = 8.0
MIN_BAR_W = 2.5

_MINUTE = 60_000
_HOUR = 60 * _MINUTE
#: Tick steps tried, smallest first: the first that gives at most 12 ticks is used.
TICK_STEPS_MS = (
    5 * _MINUTE, 10 * _MINUTE, 15 * _MINUTE, 30 * _MINUTE, _HOUR, 2 * _HOUR, 3 * _HOUR,
    6 * _HOUR, 12 * _HOUR, 24 * _HOUR, 48 * _HOUR,
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    css: str
    href: str | None
    label: str
    text: str = ""


@dataclass(frozen=True)
class Band:
    x: float
    w: float
    y: float
    h: float
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    date: str
    #: ``middle``, or ``end`` for a tick at the right edge (its label stays inside).
    anchor: str = "middle"


@dataclass(frozen=True)
class Lane:
    name: str
    agency: str
    y: float
    h: float
    own: bool
    busy: bool = False


@dataclass(frozen=True)
class TimelineChart:
    width: float
    height: float
    plot_x0: float
    plot_x1: float
    lanes: tuple[Lane, ...]
    bars: tuple[Bar, ...]
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]


def tick_step_ms(span_ms: int) -> int:
    """The tick step for a span: the smallest of :data:`TICK_STEPS_MS` giving <= 12 ticks."""
    for step in TICK_STEPS_MS:
        if span_ms / step <= 12:
            return step
    return TICK_STEPS_MS[-1]


def _rows(items: Sequence[tuple[int, int]]) -> list[int]:
    """Greedy interval partitioning: a row index per (start, end) so that windows in one row
    do not overlap (items in start order)."""
    ends: list[int] = []
    out = []
    for start, end in items:
        for k, last in enumerate(ends):
            if last <= start:
                ends[k] = end
                out.append(k)
                break
        else:
            ends.append(end)
            out.append(len(ends) - 1)
    return out


def _request_text(request_id: int, state: str, split: bool, width: float) -> str:
    """The label inside a request's bar, as much as fits."""
    if width > 130:
        return f"#{request_id} {state}" + (", split" if split else "")
    if width > 64:
        return f"#{request_id}" + (" split" if split else "")
    return f"#{request_id}" if width > 28 else ""


def _mbit(bits: int | None) -> str:
    return "-" if bits is None else f"{bits / 1e6:,.1f} Mbit"


def layout_timeline(
    *,
    start_ms: int,
    end_ms: int,
    landers: Sequence[tuple[str, str]],
    overflights: Sequence[dict[str, Any]],
    requests: Sequence[dict[str, Any]],
    busy: Sequence[dict[str, Any]],
    conflicts: Sequence[dict[str, Any]],
    my_agency: str,
    lmst: Callable[[str, int], str],
) -> TimelineChart:
    """The chart of ``[start_ms, end_ms)``: ``landers`` as ``(name, agency)``; the other
    lists as the REST shapes (overflights, visible requests, ``/busy`` items, conflicts);
    ``lmst(lander, ms)`` gives a lander's local time for the labels."""
    span = max(1, end_ms - start_ms)
    x0, x1 = LABEL_W, WIDTH - RIGHT_PAD

    def xs(a: int, b: int) -> tuple[float, float]:
        a, b = max(a, start_ms), min(b, end_ms)
        left = x0 + (x1 - x0) * (a - start_ms) / span
        w = max(MIN_BAR_W, (x1 - x0) * (b - a) / span)
        return left, min(w, x1 - left) if left < x1 else MIN_BAR_W

    lanes: list[Lane] = []
    bars: list[Bar] = []
    y = AXIS_H
    shown_windows = set()
    for name, agency in landers:
        mine = [r for r in requests if r["lander"] == name]
        mine.sort(key=lambda r: (to_ms(r["start_utc"]), r["id"]))
        rows = _rows([(to_ms(r["start_utc"]), to_ms(r["end_utc"])) for r in mine])
        n_rows = 1 + max(1, (max(rows) + 1) if rows else 1)
        h = n_rows * ROW_H + (n_rows - 1) * ROW_GAP + 2 * LANE_PAD
        own = agency == my_agency
        lanes.append(Lane(name, agency, y, h, own))
        top = y + LANE_PAD
        for ov in overflights:
            if ov["lander"] != name:
                continue
            a, b = to_ms(ov["start_utc"]), to_ms(ov["end_utc"])
            left, w = xs(a, b)
            label = (
                f"Overflight {ov['id']} of {name}: {utc_short(a)} (LMST {lmst(name, a)}) to "
                f"{utc_short(b)} (LMST {lmst(name, b)}), max elevation "
                f"{ov['max_elevation_deg']:.1f} deg, predicted {_mbit(ov['predicted_bits'])}"
            )
            bars.append(
                Bar(left, top, w, ROW_H, "ov" + (" own" if own else ""),
                    f"/overflights/{ov['id']}", label,
                    _mbit(ov["predicted_bits"]) if w > 80 else "")
            )
        for r, row in zip(mine, rows, strict=True):
            a, b = to_ms(r["start_utc"]), to_ms(r["end_utc"])
            if r["state"] in ("acknowledged", "implemented"):
                shown_windows.add((a, b))
            left, w = xs(a, b)
            own_req = r["lander_agency"] == my_agency
            split = (a, b) != (to_ms(r["requested_start_utc"]), to_ms(r["requested_end_utc"]))
            label = (
                f"Request {r['id']} ({r['state']}{', split' if split else ''}) of "
                f"{r['lander_agency']} for {name}: {utc_short(a)} (LMST {lmst(name, a)}) to "
                f"{utc_short(b)} (LMST {lmst(name, b)}), return {_mbit(r['return_bits'])}, "
                f"priority {r['priority']}"
            )
            css = f"req st-{r['state']}" + (" own" if own_req else "") + (" split" if split else "")
            text = _request_text(r["id"], r["state"], split, w)
            bars.append(
                Bar(left, top + (1 + row) * (ROW_H + ROW_GAP), w, ROW_H, css,
                    f"/requests/{r['id']}", label, text)
            )
        y += h
    # acknowledged windows the user cannot see as requests
    h = ROW_H + 2 * LANE_PAD
    lanes.append(Lane("Busy (other agencies)", "", y, h, False, busy=True))
    for item in busy:
        a, b = to_ms(item["start_utc"]), to_ms(item["end_utc"])
        if (a, b) in shown_windows or b <= start_ms or a >= end_ms:
            continue
        left, w = xs(a, b)
        bars.append(
            Bar(left, y + LANE_PAD, w, ROW_H, "busy", None,
                f"Acknowledged for another agency: {utc_short(a)} to {utc_short(b)}")
        )
    y += h
    bands = []
    for c in conflicts:
        a, b = to_ms(c["overlap_start_utc"]), to_ms(c["overlap_end_utc"])
        if b <= start_ms or a >= end_ms:
            continue
        left, w = xs(a, b)
        ids = " and ".join(f"#{i}" for i in c["request_ids"])
        bands.append(
            Band(left, w, AXIS_H - 6, y - AXIS_H + 6,
                 f"Conflict: requests {ids} overlap from {utc_short(a)} to {utc_short(b)}")
        )
    step = tick_step_ms(span)
    ticks = []
    t = -(-start_ms // step) * step
    while t <= end_ms:
        x = x0 + (x1 - x0) * (t - start_ms) / span
        text = utc_short(t)
        ticks.append(Tick(x, text[11:16] + "Z", text[:10], "end" if x > x1 - 20 else "middle"))
        t += step
    return TimelineChart(WIDTH, y + 4, x0, x1, tuple(lanes), tuple(bars), tuple(bands),
                         tuple(ticks))
