"""Per-pair figures of a contact table: windows, windows per sol, mean and total duration."""

from __future__ import annotations

from dataclasses import dataclass

from marsrelay.constants import SOL_S
from marsrelay.contacts.table import ContactTable

__all__ = ["PairSummary", "summarise_contacts"]


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


def summarise_contacts(table: ContactTable, span_s: float) -> list[PairSummary]:
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
