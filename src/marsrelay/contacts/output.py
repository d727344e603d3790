"""Writing contact tables (CSV for people, Parquet for programs) and summarising them per pair.

``contacts.csv`` has the columns :data:`~marsrelay.contacts.table.CSV_COLUMNS`, times as UTC
ISO 8601 with milliseconds and ``Z``; ``contacts.parquet`` has the same columns plus
``start_tdb_s``, ``end_tdb_s`` and ``max_elevation_tdb_s`` (TDB seconds past J2000, full
precision). Rows are sorted by start. Both files are written atomically.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marsrelay.constants import SOL_S
from marsrelay.contacts.table import CSV_COLUMNS, ContactTable
from marsrelay.geometry.time import tdb_to_utc
from marsrelay.io import atomic_write_text, atomic_write_with

__all__ = ["PairSummary", "contact_columns", "summarize_contacts", "write_contacts"]

#: Decimal places in the CSV (the Parquet file keeps full precision).
_CSV_DECIMALS = {
    "duration_s": 3,
    "max_elevation_deg": 4,
    "min_range_km": 3,
    "max_range_km": 3,
    "owlt_s": 6,
    "rate_bps_mean": 1,
    "volume_bits": 0,
}


def _utc(tdb_s: np.ndarray) -> np.ndarray:
    if len(tdb_s) == 0:
        return np.empty(0, dtype=object)
    out = np.full(len(tdb_s), "", dtype=object)
    ok = np.isfinite(tdb_s)
    if ok.any():
        out[ok] = tdb_to_utc(tdb_s[ok], digits=3)
    return out


def contact_columns(table: ContactTable, *, with_tdb: bool = False) -> dict[str, np.ndarray]:
    """The file columns of ``table`` (rows sorted by start), UTC strings included; with
    ``with_tdb`` also the TDB-second columns."""
    order = np.lexsort((table.target.astype(str), table.source.astype(str), table.start_tdb_s))
    t = table.take(order)
    cols: dict[str, np.ndarray] = {
        "source": t.source.astype(str),
        "target": t.target.astype(str),
        "kind": t.kind.astype(str),
        "start_utc": _utc(t.start_tdb_s).astype(str),
        "end_utc": _utc(t.end_tdb_s).astype(str),
        "duration_s": t.duration_s,
        "max_elevation_deg": t.max_elevation_deg,
        "max_elevation_utc": _utc(t.max_elevation_tdb_s).astype(str),
        "min_range_km": t.min_range_km,
        "max_range_km": t.max_range_km,
        "owlt_s": t.owlt_s,
        "rate_bps_mean": t.rate_bps_mean,
        "volume_bits": t.volume_bits,
    }
    assert tuple(cols) == CSV_COLUMNS
    if with_tdb:
        cols["start_tdb_s"] = t.start_tdb_s
        cols["end_tdb_s"] = t.end_tdb_s
        cols["max_elevation_tdb_s"] = t.max_elevation_tdb_s
    return cols


def _csv_text(cols: dict[str, np.ndarray]) -> str:
    buf = io.StringIO()
    buf.write(",".join(cols) + "\n")
    n = len(next(iter(cols.values())))
    text_cols = []
    for name, v in cols.items():
        if name in _CSV_DECIMALS:
            fmt = f"{{:.{_CSV_DECIMALS[name]}f}}"
            text_cols.append([("" if not np.isfinite(x) else fmt.format(x)) for x in v])
        else:
            text_cols.append([_quote(str(x)) for x in v])
    for row in zip(*text_cols, strict=True) if n else ():
        buf.write(",".join(row) + "\n")
    return buf.getvalue()


def _quote(text: str) -> str:
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_contacts(table: ContactTable, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``out_dir/contacts.csv`` and ``out_dir/contacts.parquet`` (atomically); returns
    their paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    csv_path = atomic_write_text(out / "contacts.csv", _csv_text(contact_columns(table)))
    cols = contact_columns(table, with_tdb=True)
    arrow = pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in
                      cols.items()})
    parquet_path = atomic_write_with(out / "contacts.parquet",
                                     lambda tmp: pq.write_table(arrow, tmp))
    return csv_path, parquet_path


@dataclass(frozen=True)
class PairSummary:
    """One pair's contacts over a span: count, passes per sol, mean and total duration (s)."""

    source: str
    target: str
    kind: str
    n_windows: int
    passes_per_sol: float
    mean_duration_s: float
    total_s: float


def summarize_contacts(table: ContactTable, span_s: float) -> list[PairSummary]:
    """Per pair (in order of kind, source, target): windows, windows per sol (88775.244 s) over
    ``span_s`` (s), mean and total window length (s)."""
    keys = sorted({(str(k), str(s), str(t)) for k, s, t in
                   zip(table.kind, table.source, table.target, strict=True)})
    out = []
    dur = table.duration_s
    for kind, src, tgt in keys:
        sel = (table.kind == kind) & (table.source == src) & (table.target == tgt)
        n = int(sel.sum())
        total = float(dur[sel].sum())
        out.append(PairSummary(src, tgt, kind, n, n * SOL_S / span_s, total / n, total))
    return out
