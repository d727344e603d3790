"""The one table writer and reader of run folders: CSV (for people) and Parquet (for programs),
same columns, written atomically, read back through the same :mod:`~marsrelay.rundir.schema`.

A table is handed over as an :class:`OutputTable`: its spec and one numpy array per column
(every column of the spec, no other). CSV cells are quoted by Python's ``csv`` module where
needed (commas, quotes, newlines in names); numbers use the column's ``decimals`` or up to 15
significant digits; NaN and empty texts are empty cells. Parquet keeps full precision, with
NaN for missing numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from marsrelay.io import atomic_write_text, atomic_write_with
from marsrelay.rundir.schema import Column, TableSpec

__all__ = ["OutputTable", "read_table", "utc_column", "write_table"]

_ARROW_TYPES = {"text": pa.string(), "utc": pa.string(), "int": pa.int64(),
                "float": pa.float64()}


@dataclass(frozen=True)
class OutputTable:
    """One table of a run folder: its spec and its columns (numpy arrays of equal length)."""

    spec: TableSpec
    columns: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        names = tuple(self.columns)
        if set(names) != set(self.spec.names):
            missing = sorted(set(self.spec.names) - set(names))
            extra = sorted(set(names) - set(self.spec.names))
            raise ValueError(f"{self.spec.name}: columns do not match the schema "
                             f"(missing {missing}, not in the schema {extra})")
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"{self.spec.name}: columns of different lengths {sorted(lengths)}")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def utc_column(tdb_s: np.ndarray) -> np.ndarray:
    """UTC ISO 8601 strings with milliseconds and ``Z`` for TDB seconds (empty where NaN)."""
    from marsrelay.geometry.time import tdb_to_utc

    t = np.asarray(tdb_s, dtype=float)
    out = np.full(len(t), "", dtype=object)
    ok = np.isfinite(t)
    if ok.any():
        out[ok] = np.atleast_1d(tdb_to_utc(t[ok], digits=3))
    return out


def _cell_texts(col: Column, values: np.ndarray) -> list[str]:
    if col.type in ("text", "utc"):
        return ["" if v is None else str(v) for v in values]
    if col.type == "int":
        return [str(int(v)) for v in values]
    fmt = f"{{:.{col.decimals}f}}" if col.decimals is not None else None
    out = []
    for v in np.asarray(values, dtype=float):
        if not np.isfinite(v):
            out.append("")
        elif fmt is not None:
            out.append(fmt.format(v))
        else:
            out.append(f"{v:.15g}" if abs(v) < 1e15 else f"{v:.0f}")
    return out


def csv_text(table: OutputTable) -> str:
    """The table's CSV text (header, then rows; ``\\n`` line ends)."""
    cols = [c for c in table.spec.columns if not c.parquet_only]
    cells = [_cell_texts(c, np.asarray(table.columns[c.name])) for c in cols]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in cols])
    writer.writerows(zip(*cells, strict=True))
    return buf.getvalue()


def arrow_table(table: OutputTable) -> pa.Table:
    """The table as a pyarrow Table with the schema's column order and types."""
    arrays = {}
    for c in table.spec.columns:
        values = np.asarray(table.columns[c.name])
        if c.type in ("text", "utc"):
            arrays[c.name] = pa.array(["" if v is None else str(v) for v in values],
                                      type=pa.string())
        elif c.type == "int":
            arrays[c.name] = pa.array(values.astype(np.int64), type=pa.int64())
        else:
            arrays[c.name] = pa.array(values.astype(np.float64), type=pa.float64())
    return pa.table(arrays)


def write_table(out_dir: str | Path, table: OutputTable) -> tuple[Path, Path]:
    """Write ``<name>.csv`` and ``<name>.parquet`` into ``out_dir`` (atomically each);
    returns their paths."""
    out = Path(out_dir)
    csv_path = atomic_write_text(out / table.spec.csv_file, csv_text(table))
    arrow = arrow_table(table)
    parquet_path = atomic_write_with(out / table.spec.parquet_file,
                                     lambda tmp: pq.write_table(arrow, tmp))
    return csv_path, parquet_path


def read_table(run_dir: str | Path, spec: TableSpec) -> dict[str, np.ndarray] | None:
    """The table ``spec`` of ``run_dir`` as typed numpy columns (texts as object arrays), or
    None when the run has neither file. Prefers the Parquet file; from the CSV alone, the
    Parquet-only TDB columns are rebuilt from their UTC partners.

    Raises ``ValueError`` naming the file and column when a column of the schema is missing.
    """
    folder = Path(run_dir)
    parquet, csv_path = folder / spec.parquet_file, folder / spec.csv_file
    if parquet.is_file():
        arrow = pq.read_table(parquet)
        missing = [n for n in spec.names if n not in arrow.column_names]
        if missing:
            raise ValueError(f"{parquet.name}: no column {missing[0]!r} (a file from another "
                             "version of marsrelay? re-run it)")
        return {c.name: _typed(c, np.asarray(arrow.column(c.name).to_numpy(
            zero_copy_only=False))) for c in spec.columns}
    if not csv_path.is_file():
        return None
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0] if rows else []
    body = [r for r in rows[1:] if r]
    raw = {h: np.array([r[k] if k < len(r) else "" for r in body], dtype=object)
           for k, h in enumerate(header)}
    out: dict[str, np.ndarray] = {}
    for c in spec.columns:
        if c.name in raw:
            out[c.name] = _typed(c, raw[c.name])
        elif c.parquet_only and c.utc_partner in raw:
            continue  # rebuilt below
        else:
            raise ValueError(f"{csv_path.name}: no column {c.name!r} (a file from another "
                             "version of marsrelay? re-run it)")
    for c in spec.columns:
        if c.name not in out:
            out[c.name] = _tdb_of(raw[str(c.utc_partner)])
    return out


def _typed(col: Column, values: np.ndarray) -> np.ndarray:
    if col.type in ("text", "utc"):
        return np.array(["" if v is None else str(v) for v in values], dtype=object)
    if col.type == "int":
        return np.array([int(v) for v in values], dtype=np.int64)
    out = np.full(len(values), np.nan)
    for k, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        out[k] = float(v)
    return out


def _tdb_of(utc: np.ndarray) -> np.ndarray:
    from marsrelay.geometry.time import utc_to_tdb

    out = np.full(len(utc), np.nan)
    ok = np.array([bool(str(v).strip()) for v in utc], dtype=bool)
    if ok.any():
        out[ok] = utc_to_tdb(np.asarray(utc[ok], dtype=str))
    return out
