"""Side-by-side comparison of runs: the figures of :class:`~marsrelay.report.summary.Summary`
per scenario, with each figure's difference from the first scenario.

The comparison summarises stage outputs only; it never computes geometry. Inputs that are
scenarios (not run directories) are run first by :mod:`marsrelay.report.inputs`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from marsrelay.report.run_data import load_run
from marsrelay.report.summary import LanderFigures, Summary, summarise_run

__all__ = [
    "LANDER_METRICS",
    "METRICS",
    "Comparison",
    "ComparisonRow",
    "Metric",
    "compare_runs",
    "compare_summaries",
    "format_delta",
    "format_value",
]


@dataclass(frozen=True)
class Metric:
    """A compared figure: label, unit, decimals, whether more is better (``None``: neutral)."""

    key: str
    label: str
    unit: str
    decimals: int
    higher_is_better: bool | None


#: Figures of the whole run (``Summary`` attributes).
METRICS: tuple[Metric, ...] = (
    Metric("n_sols", "span", "sols", 1, None),
    Metric("n_contacts", "contact windows", "", 0, None),
    Metric("returned_mbit_per_sol", "data returned (all landers)", "Mbit/sol", 1, True),
    Metric("capacity_mbit_per_sol", "link capacity (all landers)", "Mbit/sol", 1, True),
    Metric("latency_p50_h", "latency p50", "h", 2, False),
    Metric("latency_p95_h", "latency p95", "h", 2, False),
    Metric("conjunction_outage_days", "conjunction outage", "days", 1, False),
    Metric("longest_earth_gap_h", "longest gap with no Earth link", "h", 1, False),
)

#: Figures per lander (``LanderFigures`` attributes).
LANDER_METRICS: tuple[Metric, ...] = (
    Metric("passes_per_sol", "passes", "per sol", 2, True),
    Metric("contact_min_per_sol", "contact time", "min/sol", 1, True),
    Metric("mean_pass_min", "mean pass length", "min", 1, None),
    Metric("sols_without_contact", "sols with no contact", "sols", 0, False),
    Metric("longest_gap_h", "longest gap with no contact", "h", 1, False),
    Metric("capacity_mbit_per_sol", "link capacity", "Mbit/sol", 1, True),
    Metric("returned_mbit_per_sol", "data returned", "Mbit/sol", 1, True),
    Metric("latency_p50_h", "latency p50", "h", 2, False),
    Metric("latency_p95_h", "latency p95", "h", 2, False),
)


@dataclass(frozen=True)
class ComparisonRow:
    """One figure across scenarios: ``values[k]`` for scenario k (``None``: not computed),
    ``deltas[k] = values[k] - values[0]`` (``None`` for k = 0 or when either is missing).
    ``lander`` is empty for run-wide figures."""

    metric: Metric
    lander: str
    values: tuple[float | None, ...]
    deltas: tuple[float | None, ...]

    @property
    def label(self) -> str:
        """``"lander: figure"`` or the figure's label."""
        return f"{self.lander}: {self.metric.label}" if self.lander else self.metric.label

    def verdicts(self) -> tuple[str, ...]:
        """Per scenario ``better`` / ``worse`` / ``same`` / ``""`` versus the first."""
        out = []
        for d in self.deltas:
            if d is None or self.metric.higher_is_better is None:
                out.append("")
            elif abs(d) < 0.5 * 10 ** (-self.metric.decimals):
                out.append("same")
            else:
                out.append("better" if (d > 0) == self.metric.higher_is_better else "worse")
        return tuple(out)


@dataclass(frozen=True)
class Comparison:
    """Rows of figures for the scenarios ``names`` (first one is the reference)."""

    names: tuple[str, ...]
    summaries: tuple[Summary, ...]
    rows: tuple[ComparisonRow, ...]

    def to_csv(self) -> str:
        """The comparison as CSV text: figure, lander, unit, then value and delta per run."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        header = ["figure", "lander", "unit"]
        for k, n in enumerate(self.names):
            header += [n] if k == 0 else [n, f"{n} - {self.names[0]}"]
        w.writerow(header)
        for r in self.rows:
            line: list[str] = [r.metric.label, r.lander, r.metric.unit]
            for k, v in enumerate(r.values):
                line.append("" if v is None else repr(float(v)))
                if k:
                    d = r.deltas[k]
                    line.append("" if d is None else repr(float(d)))
            w.writerow(line)
        return buf.getvalue()


def _delta(v: float | None, ref: float | None) -> float | None:
    if v is None or ref is None:
        return None
    return float(v) - float(ref)


def _row(metric: Metric, lander: str, values: Sequence[float | None]) -> ComparisonRow:
    vals = tuple(None if v is None or not math.isfinite(float(v)) else float(v) for v in values)
    deltas = tuple(None if k == 0 else _delta(v, vals[0]) for k, v in enumerate(vals))
    return ComparisonRow(metric, lander, vals, deltas)


def compare_summaries(summaries: Sequence[Summary]) -> Comparison:
    """Compare run summaries; the first is the reference for the differences."""
    if not summaries:
        raise ValueError("nothing to compare")
    rows: list[ComparisonRow] = []
    for m in METRICS:
        rows.append(_row(m, "", [getattr(s, m.key) for s in summaries]))
    landers: dict[str, None] = {}
    for s in summaries:
        for f in s.landers:
            landers.setdefault(f.lander, None)
    for name in landers:
        figures: list[LanderFigures | None] = [s.lander(name) for s in summaries]
        for m in LANDER_METRICS:
            rows.append(_row(m, name, [None if f is None else getattr(f, m.key) for f in figures]))
    names = _unique_names([s.name for s in summaries])
    return Comparison(tuple(names), tuple(summaries), tuple(rows))


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        cand, k = n, 2
        while cand in out:
            cand, k = f"{n} ({k})", k + 1
        out.append(cand)
    return out


def compare_runs(run_dirs: Sequence[str | Path]) -> Comparison:
    """Load and summarise run directories, then compare them (first = reference)."""
    return compare_summaries([summarise_run(load_run(d)) for d in run_dirs])


def format_value(value: float | None, metric: Metric) -> str:
    """A figure as text with its decimals; an em dash when not computed."""
    if value is None:
        return "—"
    return f"{value:,.{metric.decimals}f}"


def format_delta(delta: float | None, metric: Metric) -> str:
    """A difference as signed text (``+1.5``); empty when there is none."""
    if delta is None:
        return ""
    if delta == 0.0:
        return "±0"
    decimals = metric.decimals
    while abs(delta) < 0.5 * 10 ** (-decimals) and decimals < metric.decimals + 3:
        decimals += 1  # a small non-zero difference keeps its sign and first digit
    if abs(delta) < 0.5 * 10 ** (-decimals):
        return "±0"  # below what even the extra digits show: rounding, not a difference
    return f"{delta:+,.{decimals}f}"
