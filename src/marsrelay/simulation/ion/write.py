"""marsrelay :class:`ContactPlan` -> ION ``ionadmin`` text (ionrc(5)).

ION counts whole POSIX seconds, bytes per second and whole light seconds; a written plan never
holds more than the plan it comes from (``spec/conventions.md``, "Store-and-forward and ION
contact plans"):

- contact edges are rounded inwards: the start up and the end down to whole UTC (POSIX)
  seconds; a contact left shorter than one second is left out and counted;
- rates are rounded down to whole bytes per second (a contact under 1 byte/s is left out and
  counted), one-way light times up to whole seconds;
- a contact that would overlap or touch the previous one of its pair and direction (ION ignores
  such a contact) starts one second after that one ends (counted as shortened; left out if
  nothing remains);
- times are ``+SS`` after an ``@`` reference at or before the first start (never negative), or
  absolute ``yyyy/mm/dd-hh:mm:ss`` with ``absolute=True``.

Each contact gets an ``a range`` in its own direction over its own interval, so the first range
covering its start is its own, whichever node number is lower. Where a range from the lower
node number would also be imputed to the reverse direction over a reverse contact with another
light time, the earlier of the two ranges ends one second before the later one starts, so that
ION, which refuses or misapplies an asserted range overlapping an imputed one (``rfx.c``,
``rfx_insert_range``), gives every contact its own light time too.

Instants within :data:`ROUNDING_TOLERANCE_S` of a whole second count as on it (float64 TDB
seconds resolve about 0.2 microseconds), so a plan read from ION and written again is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from marsrelay.errors import InputError
from marsrelay.geometry.time import posix_to_tdb, tdb_to_posix
from marsrelay.io import atomic_write_text
from marsrelay.simulation.plan import ContactPlan

__all__ = ["ROUNDING_TOLERANCE_S", "IonExport", "export_ion", "to_ion", "write_ion"]

#: Instants (and light times) this close to a whole second are taken as on it, s.
ROUNDING_TOLERANCE_S: float = 1e-5
#: Rates this close below a whole number of bytes per second are taken as on it, bytes/s.
_RATE_TOLERANCE_BYTES_PER_S = 1e-6
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IonExport:
    """An exported plan: its text and what rounding changed (counts of contacts)."""

    text: str
    contacts_written: int
    left_out_short: int
    left_out_rate: int
    shortened: int
    path: Path | None = None

    def summary(self) -> str:
        """One line: contacts written and left out."""
        parts = [f"{self.contacts_written} contacts written"]
        if self.left_out_short:
            parts.append(f"{self.left_out_short} shorter than a whole second left out")
        if self.left_out_rate:
            parts.append(f"{self.left_out_rate} under 1 byte/s left out")
        if self.shortened:
            parts.append(f"{self.shortened} shortened so as not to touch the previous contact "
                         "of their pair")
        return "; ".join(parts)


def _posix_up(tdb_s: np.ndarray) -> np.ndarray:
    """Smallest whole POSIX second at or after each instant (within the tolerance)."""
    t = np.asarray(tdb_s, dtype=float)
    p = np.ceil(tdb_to_posix(t) - ROUNDING_TOLERANCE_S)
    for _ in range(3):  # posix_to_tdb is strictly increasing: settle on the boundary
        p = np.where(posix_to_tdb(p) < t - ROUNDING_TOLERANCE_S, p + 1, p)
        p = np.where(posix_to_tdb(p - 1) >= t - ROUNDING_TOLERANCE_S, p - 1, p)
    return p.astype(np.int64)


def _posix_down(tdb_s: np.ndarray) -> np.ndarray:
    """Largest whole POSIX second at or before each instant (within the tolerance)."""
    t = np.asarray(tdb_s, dtype=float)
    p = np.floor(tdb_to_posix(t) + ROUNDING_TOLERANCE_S)
    for _ in range(3):
        p = np.where(posix_to_tdb(p) > t + ROUNDING_TOLERANCE_S, p - 1, p)
        p = np.where(posix_to_tdb(p + 1) <= t + ROUNDING_TOLERANCE_S, p + 1, p)
    return p.astype(np.int64)


def _absolute(posix_s: int) -> str:
    return (_EPOCH + timedelta(seconds=int(posix_s))).strftime("%Y/%m/%d-%H:%M:%S")


def _numbers(plan: ContactPlan, given: Mapping[str, int] | None) -> dict[str, int]:
    """ION numbers of every plan node: ``given`` ones, then the smallest free ones."""
    out: dict[str, int] = {}
    for name, number in (given or {}).items():
        if name in plan.node_names:
            if int(number) < 1 or int(number) in out.values():
                raise InputError(f"ION node number {number} for {name!r} is not a free "
                                 "positive integer", field="node_numbers",
                                 allowed="distinct positive integers")
            out[name] = int(number)
    free = 1
    for name in plan.node_names:
        if name not in out:
            while free in out.values():
                free += 1
            out[name] = free
    return out


def _ranges(frm: np.ndarray, to: np.ndarray, start: np.ndarray, stop: np.ndarray,
            owlt: np.ndarray) -> np.ndarray:
    """Range stop per contact: its own stop, cut one second before a later-starting reverse
    contact with another light time that a range from the lower node number would cover."""
    rstop = stop.copy()
    pair = np.minimum(frm, to) * (int(max(frm.max(), to.max())) + 1) + np.maximum(frm, to)
    for key in np.unique(pair):
        idx = np.flatnonzero(pair == key)
        idx = idx[np.argsort(start[idx], kind="stable")]
        starts = start[idx]
        for pos, a in enumerate(idx):
            near = idx[pos + 1:np.searchsorted(starts, rstop[a], side="right")]
            later = near[(start[near] > start[a]) & (frm[near] != frm[a])
                         & (owlt[near] != owlt[a])]
            if later.size:
                rstop[a] = max(int(start[later].min()) - 1, int(start[a]) + 1)
    return rstop


def export_ion(
    plan: ContactPlan,
    *,
    reference_tdb_s: float | None = None,
    absolute: bool = False,
    node_numbers: Mapping[str, int] | None = None,
) -> IonExport:
    """ION ``ionadmin`` text for ``plan`` (see the module docstring for the rounding).

    ``reference_tdb_s`` (rounded down to a whole POSIX second; default: the first written
    start) is the ``@`` reference of the ``+SS`` times and must not be after any of them.
    ``node_numbers`` gives ION numbers to some or all nodes; the others get the smallest free
    ones, in plan order. The header names every node (``# node NUMBER KIND NAME``), which
    :func:`marsrelay.simulation.ion.read_ion` uses when no other mapping names a number.
    """
    nums = _numbers(plan, node_numbers)
    start = _posix_up(plan.start_tdb_s)
    stop = _posix_down(plan.end_tdb_s)
    rate = np.floor(plan.rate_bps / 8.0 + _RATE_TOLERANCE_BYTES_PER_S).astype(np.int64)
    owlt = np.maximum(np.ceil(plan.owlt_s - ROUNDING_TOLERANCE_S), 0).astype(np.int64)
    short = stop <= start
    slow = ~short & (rate < 1)
    keep = ~short & ~slow
    frm = np.array([nums[plan.node_names[i]] for i in plan.from_node], dtype=np.int64)
    to = np.array([nums[plan.node_names[i]] for i in plan.to_node], dtype=np.int64)
    shortened = 0
    last_stop: dict[tuple[int, int], int] = {}
    for i in np.flatnonzero(keep)[np.argsort(start[keep], kind="stable")]:
        key = (int(frm[i]), int(to[i]))
        if key in last_stop and start[i] <= last_stop[key]:
            start[i] = last_stop[key] + 1
            shortened += 1
            if stop[i] <= start[i]:
                keep[i] = False
                continue
        last_stop[key] = int(stop[i])
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((to[idx], frm[idx], start[idx]))]
    rstop = _ranges(frm[idx], to[idx], start[idx], stop[idx], owlt[idx]) if idx.size else idx
    if reference_tdb_s is not None:
        ref = int(_posix_down(np.array([reference_tdb_s]))[0])
    else:
        ref = int(start[idx].min()) if idx.size else 0
    if idx.size and int(start[idx].min()) < ref:
        first = _absolute(int(start[idx].min()))
        raise InputError(f"the reference {_absolute(ref)} is after the first contact ({first})",
                         field="reference", allowed="a reference at or before the first "
                                                    "contact (relative times are never negative)")

    def when(p: int) -> str:
        return _absolute(p) if absolute else f"+{p - ref}"

    lines = [
        "# ION contact plan written by marsrelay (ionadmin commands, ionrc(5)).",
        "# Times UTC (+SS: POSIX seconds after the @ reference); rates bytes/s; OWLT whole s.",
        "# Rounded to what ION can hold: contact edges inwards, rates down, OWLT up.",
    ]
    if short.any() or slow.any() or shortened:
        lines.append(f"# Left out: {int(short.sum())} contacts shorter than a whole second, "
                     f"{int(slow.sum())} under 1 byte/s; {shortened} shortened to keep a gap "
                     "after the previous contact of their pair.")
    for name, kind in sorted(zip(plan.node_names, plan.node_kind, strict=True),
                             key=lambda nk: nums[nk[0]]):
        lines.append(f"# node {nums[name]} {kind} {name}")
    if not absolute:
        lines.append(f"@ {_absolute(ref)}")
    for k, i in enumerate(idx):
        conf = float(plan.confidence[i])
        tail = "" if conf == 1.0 else f" {conf!r}"
        s, e = when(int(start[i])), when(int(stop[i]))
        lines.append(f"a contact {s} {e} {frm[i]} {to[i]} {rate[i]}{tail}")
        lines.append(f"a range {s} {when(int(rstop[k]))} {frm[i]} {to[i]} {owlt[i]}")
    return IonExport("\n".join(lines) + "\n", int(idx.size), int(short.sum()),
                     int(slow.sum()), shortened)


def to_ion(plan: ContactPlan, reference_tdb_s: float | None = None, *, absolute: bool = False,
           node_numbers: Mapping[str, int] | None = None) -> str:
    """The text of :func:`export_ion`."""
    return export_ion(plan, reference_tdb_s=reference_tdb_s, absolute=absolute,
                      node_numbers=node_numbers).text


def write_ion(path: str | Path, plan: ContactPlan, reference_tdb_s: float | None = None, *,
              absolute: bool = False, node_numbers: Mapping[str, int] | None = None
              ) -> IonExport:
    """Write :func:`export_ion` text to ``path`` (atomically); the export, with its path."""
    out = export_ion(plan, reference_tdb_s=reference_tdb_s, absolute=absolute,
                     node_numbers=node_numbers)
    written = atomic_write_text(path, out.text)
    return IonExport(out.text, out.contacts_written, out.left_out_short, out.left_out_rate,
                     out.shortened, Path(written))
