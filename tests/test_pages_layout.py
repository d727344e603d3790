"""The pages' chart geometry without a server: the timeline's bars sit where their times are,
overlapping requests get rows of their own, conflicts span their overlap, the span clips;
the accounting's totals add up and its scale covers the largest bar."""

from __future__ import annotations

import itertools

import pytest

from marsrelay.service.timefmt import format_ms, parse_ms
from marsrelay.service.web.plots import agency_totals, layout_accounting, nice_step
from marsrelay.service.web.timeline import TICK_STEPS_MS, layout_timeline, tick_step_ms

T0 = parse_ms("2030-11-01T10:00:00Z")
MIN = 60_000


def _ov(i: int, lander: str, a_min: float, b_min: float) -> dict:
    return {"id": i, "lander": lander, "start_utc": format_ms(int(T0 + a_min * MIN)),
            "end_utc": format_ms(int(T0 + b_min * MIN)), "max_elevation_deg": 30.0,
            "predicted_bits": 100_000_000}


def _req(i: int, lander: str, agency: str, a_min: float, b_min: float, state: str = "requested",
         asked: tuple[float, float] | None = None) -> dict:
    a, b = asked or (a_min, b_min)
    return {"id": i, "lander": lander, "lander_agency": agency, "state": state,
            "start_utc": format_ms(int(T0 + a_min * MIN)),
            "end_utc": format_ms(int(T0 + b_min * MIN)),
            "requested_start_utc": format_ms(int(T0 + a * MIN)),
            "requested_end_utc": format_ms(int(T0 + b * MIN)),
            "return_bits": 1, "priority": 3}


def _chart(**kw):
    args = {
        "start_ms": T0, "end_ms": T0 + 60 * MIN,
        "landers": [("Rosalind Franklin", "ESA"), ("Sample Lander", "NASA")],
        "overflights": [], "requests": [], "busy": [], "conflicts": [], "my_agency": "NASA",
        "lmst": lambda lander, ms: "12:00",
    }
    return layout_timeline(**{**args, **kw})


def test_bars_sit_at_their_times_and_overlapping_requests_get_rows() -> None:
    reqs = [_req(1, "Rosalind Franklin", "ESA", 10, 20, "acknowledged", asked=(10, 25)),
            _req(2, "Rosalind Franklin", "ESA", 15, 25),
            _req(3, "Rosalind Franklin", "ESA", 20, 30),
            _req(4, "Sample Lander", "NASA", 20, 25, "acknowledged")]
    chart = _chart(overflights=[_ov(7, "Rosalind Franklin", 10, 30)], requests=reqs)
    scale = (chart.plot_x1 - chart.plot_x0) / 60.0  # px per minute
    bars = {b.href: b for b in chart.bars}
    ov = bars["/overflights/7"]
    assert ov.x == pytest.approx(chart.plot_x0 + 10 * scale)
    assert ov.w == pytest.approx(20 * scale)
    for r in reqs:
        bar = bars[f"/requests/{r['id']}"]
        a = (parse_ms(r["start_utc"]) - T0) / MIN
        b = (parse_ms(r["end_utc"]) - T0) / MIN
        assert bar.x == pytest.approx(chart.plot_x0 + a * scale)
        assert bar.w == pytest.approx((b - a) * scale)
    # requests 1 and 2 overlap: different rows; 1 and 3 only touch: the same row
    y = {i: bars[f"/requests/{i}"].y for i in (1, 2, 3)}
    assert y[1] != y[2] and y[1] == y[3]
    # no two request bars of one lane overlap in both time and row
    for p, q in itertools.combinations([bars[f"/requests/{i}"] for i in (1, 2, 3)], 2):
        assert p.y != q.y or p.x + p.w <= q.x + 1e-6 or q.x + q.w <= p.x + 1e-6
    # each bar lies in its lander's lane, below the overflight row
    lanes = {lane.name: lane for lane in chart.lanes}
    for i, lander in ((1, "Rosalind Franklin"), (4, "Sample Lander")):
        bar, lane = bars[f"/requests/{i}"], lanes[lander]
        assert lane.y < bar.y and bar.y + bar.h <= lane.y + lane.h
    assert lanes["Sample Lander"].own and not lanes["Rosalind Franklin"].own
    assert " own" in bars["/requests/4"].css and " own" not in bars["/requests/2"].css
    assert " split" in bars["/requests/1"].css and " split" not in bars["/requests/2"].css
    assert "st-acknowledged" in bars["/requests/1"].css


def test_conflicts_span_their_overlap_and_the_span_clips() -> None:
    conflict = {"request_ids": [2, 3], "overlap_start_utc": format_ms(T0 + 50 * MIN),
                "overlap_end_utc": format_ms(T0 + 70 * MIN)}
    outside = {"request_ids": [5, 6], "overlap_start_utc": format_ms(T0 + 90 * MIN),
               "overlap_end_utc": format_ms(T0 + 95 * MIN)}
    chart = _chart(conflicts=[conflict, outside],
                   overflights=[_ov(1, "Sample Lander", -10, 5), _ov(2, "Sample Lander", 55, 75)])
    scale = (chart.plot_x1 - chart.plot_x0) / 60.0
    (band,) = chart.bands  # the one outside the span is not drawn
    assert band.x == pytest.approx(chart.plot_x0 + 50 * scale)
    assert band.x + band.w == pytest.approx(chart.plot_x1)  # clipped at the span's end
    assert "#2 and #3" in band.label
    first, second = (b for b in chart.bars if b.href and b.href.startswith("/overflights/"))
    assert first.x == pytest.approx(chart.plot_x0) and first.w == pytest.approx(5 * scale)
    assert second.x + second.w == pytest.approx(chart.plot_x1)


def test_busy_windows_of_others_only() -> None:
    mine = _req(1, "Sample Lander", "NASA", 10, 20, "acknowledged")
    busy = [{"start_utc": mine["start_utc"], "end_utc": mine["end_utc"]},
            {"start_utc": format_ms(T0 + 30 * MIN), "end_utc": format_ms(T0 + 40 * MIN)}]
    chart = _chart(requests=[mine], busy=busy)
    anon = [b for b in chart.bars if b.css == "busy"]
    assert len(anon) == 1 and "10:30:00Z" in anon[0].label  # the visible one is not repeated


@pytest.mark.parametrize("span_min", [30, 60, 180, 360, 720, 1440, 2880, 10080])
def test_ticks_are_few_and_on_whole_steps(span_min: int) -> None:
    step = tick_step_ms(span_min * MIN)
    assert step in TICK_STEPS_MS and span_min * MIN / step <= 12
    smaller = [s for s in TICK_STEPS_MS if s < step]
    assert not smaller or span_min * MIN / smaller[-1] > 12  # the finest that fits
    chart = _chart(end_ms=T0 + span_min * MIN)
    assert 2 <= len(chart.ticks) <= 13
    assert all(chart.plot_x0 - 1e-6 <= t.x <= chart.plot_x1 + 1e-6 for t in chart.ticks)


def test_accounting_totals_and_scale() -> None:
    rows = [
        {"provider_agency": "NASA", "user_agency": "ESA", "passes": 3, "relay_s": 1200.0,
         "predicted_bits": 900_000_000, "returned_bits": 700_000_000},
        {"provider_agency": "ESA", "user_agency": "NASA", "passes": 1, "relay_s": 300.0,
         "predicted_bits": 200_000_000, "returned_bits": 210_000_000},
        {"provider_agency": "ESA", "user_agency": "ESA", "passes": 2, "relay_s": 500.0,
         "predicted_bits": 100_000_000, "returned_bits": 90_000_000},
    ]
    totals = {t["agency"]: t for t in agency_totals(rows)}
    assert totals["ESA"]["given_passes"] == 3 and totals["ESA"]["received_passes"] == 5
    assert totals["NASA"]["given_returned_bits"] == 700_000_000
    assert totals["NASA"]["received_relay_s"] == 300.0
    assert sum(t["given_passes"] for t in totals.values()) == sum(r["passes"] for r in rows)
    plot = layout_accounting(rows)
    longest = max(plot.bars, key=lambda b: b.w)
    assert longest.value == "900.0 Mbit" and longest.x + longest.w <= plot.x1 + 1e-6
    top = float(plot.ticks[-1][1].replace(",", ""))
    assert top >= 900 and plot.ticks[-1][0] == pytest.approx(plot.x1)
    # widths are proportional to the volumes
    by_label = {b.label.split(":")[0] + b.css: b for b in plot.bars}
    assert by_label["NASA to ESApred"].w / by_label["ESA to NASApred"].w == pytest.approx(4.5)
    assert [nice_step(x) for x in (0.0, 7.0, 95.0, 1000.0)] == [1.0, 2.0, 20.0, 200.0]
