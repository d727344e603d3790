"""Assemble a sweep's outputs: ``results.parquet``, the errors table and ``sweep_summary.csv``."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from marsrelay.io import atomic_write_text, atomic_write_with
from marsrelay.sweep.case import FIGURES
from marsrelay.sweep.spec import Sweep

__all__ = ["SUMMARY_COLUMNS", "FigureSummary", "read_results", "summarise", "write_outputs"]

_UNITS = {f.name: f.unit for f in FIGURES}


@dataclass(frozen=True)
class FigureSummary:
    """Statistics of one figure over every result row (case x lander); NaN rows ignored."""

    figure: str
    unit: str
    rows: int
    mean: float
    std: float
    min: float
    p10: float
    median: float
    p90: float
    max: float
    case_id_min: str
    case_id_max: str


SUMMARY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(FigureSummary))


def summarise(results: pa.Table, figures: tuple[str, ...] | list[str]) -> list[FigureSummary]:
    """One :class:`FigureSummary` per figure column of ``results``."""
    out = []
    ids = np.asarray(results.column("case_id").to_pylist(), dtype=object) if len(
        results) else np.empty(0, dtype=object)
    for name in figures:
        v = results.column(name).to_numpy(zero_copy_only=False).astype(float) if len(
            results) else np.empty(0)
        ok = np.isfinite(v)
        if not ok.any():
            nan = float("nan")
            out.append(FigureSummary(name, _UNITS.get(name, ""), 0, nan, nan, nan, nan, nan,
                                     nan, nan, "", ""))
            continue
        w = v[ok]
        p10, p50, p90 = np.percentile(w, [10, 50, 90])
        out.append(FigureSummary(
            figure=name, unit=_UNITS.get(name, ""), rows=int(ok.sum()), mean=float(w.mean()),
            std=float(w.std(ddof=0)), min=float(w.min()), p10=float(p10), median=float(p50),
            p90=float(p90), max=float(w.max()),
            case_id_min=str(ids[ok][int(np.argmin(w))]),
            case_id_max=str(ids[ok][int(np.argmax(w))]),
        ))
    return out


def read_results(out_dir: str | Path) -> pa.Table:
    """The sweep's ``results.parquet`` as a pyarrow table."""
    return pq.read_table(Path(out_dir) / "results.parquet")


def _csv_text(header: tuple[str, ...], rows: list[tuple]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if isinstance(x, float) and x != x else x for x in row])
    return buf.getvalue()


def write_outputs(sweep: Sweep, out_dir: Path, schema: pa.Schema
                  ) -> tuple[Path, Path, Path | None]:
    """Write ``results.parquet`` (every finished case's partition, in case order),
    ``sweep_summary.csv`` and, when cases failed, ``errors.parquet``/``errors.csv``.

    Returns the results, summary and errors paths (``None`` when no case failed; stale error
    tables of an earlier run are then removed)."""
    parts = []
    failed = []
    for case in sweep.cases:
        part = out_dir / "results" / f"part-{case.case_id}.parquet"
        if part.exists():
            parts.append(pq.read_table(part))
        else:
            err = out_dir / "errors" / f"{case.case_id}.json"
            if err.exists():
                failed.append(json.loads(err.read_text(encoding="utf-8")))
    results = pa.concat_tables(parts) if parts else schema.empty_table()
    results_path = out_dir / "results.parquet"
    atomic_write_with(results_path, lambda tmp: pq.write_table(results, tmp))

    summary = summarise(results, sweep.figures)
    summary_path = atomic_write_text(out_dir / "sweep_summary.csv",
                                     _csv_text(SUMMARY_COLUMNS, [astuple(s) for s in summary]))
    errors_path = None
    columns = ("case_id", "index", "params_json", "error_type", "message", "traceback")
    if failed:
        table = pa.table({c: [f[c] for f in failed] for c in columns})
        atomic_write_with(out_dir / "errors.parquet", lambda tmp: pq.write_table(table, tmp))
        errors_path = atomic_write_text(
            out_dir / "errors.csv", _csv_text(columns, [tuple(f[c] for c in columns)
                                                        for f in failed]))
    else:
        for name in ("errors.parquet", "errors.csv"):
            with contextlib.suppress(FileNotFoundError):
                (out_dir / name).unlink()
    return results_path, summary_path, errors_path
