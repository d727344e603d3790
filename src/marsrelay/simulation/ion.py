"""ION contact plans: export a :class:`ContactPlan` for ``ionadmin`` and import ION plans.

ION's node management commands (``ionrc(5)``, NASA JPL ION-DTN manual) describe a plan with

    a contact <start> <stop> <from node> <to node> <rate bytes/s> [<confidence>]
    a range   <start> <stop> <node A> <node B> <distance light s>

where a time is either absolute UTC ``yyyy/mm/dd-hh:mm:ss`` or ``+ss``, seconds after the
reference time (set with ``@ yyyy/mm/dd-hh:mm:ss``). Rates are integer bytes per second and
distances (one-way light times) integer seconds. A range asserted from A to B also serves B to A
unless the file asserts one from B to A; for a contact ION uses the first range of the pair (by
start) that has not ended before the contact starts (``getApplicableRange`` in ION's
``libcgr.c``), and a contact with no range is not used by CGR: :func:`from_ion` drops it.

marsrelay writes a comment header naming every node (``# node 3 lander Rosalind Franklin``) and
the reference epoch, so that :func:`from_ion` restores names and kinds (stations are the Earth
sinks). Times are rounded to whole seconds, rates to whole bytes per second and light times to
whole seconds (ION's resolution): a plan already on that grid survives a round trip (to within
the few milliseconds by which TDB seconds and UTC seconds differ over a plan), and an ION file
read and written again is unchanged. Relative times are taken as TDB seconds after the
reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.simulation.plan import BAND_EARTH, BAND_OTHER, BAND_PROXIMITY, ContactPlan

__all__ = ["from_ion", "read_ion", "to_ion", "write_ion"]

_NODE_RE = re.compile(r"^#\s*node\s+(\d+)\s+(lander|orbiter|station|node)\s+(.+?)\s*$")
_ABS_RE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})-(\d{2}):(\d{2}):(\d{2})$")


def _ion_time_to_iso(text: str) -> str:
    m = _ABS_RE.match(text)
    if not m:
        raise ValueError(text)
    y, mo, d, h, mi, s = m.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"


def _iso_to_ion(iso: str) -> str:
    """``2030-11-01T00:00:59.999Z`` -> ``2030/11/01-00:01:00`` (nearest whole second)."""
    stamp = datetime.strptime(iso.rstrip("Z")[:19], "%Y-%m-%dT%H:%M:%S")
    if float("0" + iso.rstrip("Z")[19:]) >= 0.5:
        stamp += timedelta(seconds=1)
    return stamp.strftime("%Y/%m/%d-%H:%M:%S")


def _utc_ion(tdb_s: float) -> str:
    from marsrelay.geometry.time import tdb_to_utc

    return _iso_to_ion(str(tdb_to_utc(float(tdb_s))))


def _tdb_of_ion(text: str) -> float:
    from marsrelay.geometry.time import utc_to_tdb

    return float(utc_to_tdb(_ion_time_to_iso(text)))


def to_ion(
    plan: ContactPlan,
    reference_tdb_s: float | None = None,
    *,
    absolute: bool = False,
    node_numbers: Mapping[str, int] | None = None,
) -> str:
    """ION ``ionadmin`` text for ``plan``: a header, ``@ <reference>``, then one ``a contact``
    and one ``a range`` line per contact.

    ``reference_tdb_s`` (default: the first contact's start, rounded down to a whole UTC second)
    is the epoch of the ``+ss`` relative times; ``absolute=True`` writes UTC times instead.
    ``node_numbers`` maps node names to ION node numbers (default 1, 2, ... in plan order).
    """
    nums = dict(node_numbers) if node_numbers is not None else {
        n: i + 1 for i, n in enumerate(plan.node_names)}
    missing = [n for n in plan.node_names if n not in nums]
    if missing:
        raise InputError(f"no ION node number for {missing[0]!r}", field="node_numbers")
    if reference_tdb_s is None:
        t0 = float(plan.start_tdb_s.min()) if len(plan) else 0.0
        ref_text = _utc_ion(t0)
        reference_tdb_s = _tdb_of_ion(ref_text)
        if reference_tdb_s > t0:
            reference_tdb_s -= 1.0
            ref_text = _utc_ion(reference_tdb_s)
            reference_tdb_s = _tdb_of_ion(ref_text)
    else:
        ref_text = _utc_ion(reference_tdb_s)
    from marsrelay.geometry.time import tdb_to_utc

    lines = [
        "# ION contact plan written by marsrelay (ionadmin commands, see ionrc(5)).",
        "# Rates in bytes/s, ranges (one-way light time) in s; times relative to the @ epoch.",
        f"# reference {tdb_to_utc(reference_tdb_s)} = TDB {reference_tdb_s:.6f} s past J2000",
    ]
    for name, kind in zip(plan.node_names, plan.node_kind, strict=True):
        lines.append(f"# node {nums[name]} {kind} {name}")
    lines.append(f"@ {ref_text}")

    def when(t: np.ndarray) -> list[str]:
        if absolute:
            from marsrelay.geometry.time import tdb_to_utc as conv

            iso = np.atleast_1d(conv(np.asarray(t, dtype=float)))
            return [_iso_to_ion(str(s)) for s in iso]
        rel = np.rint(np.asarray(t) - reference_tdb_s).astype(np.int64)
        return [f"+{v}" if v >= 0 else str(v) for v in rel]

    starts, stops = when(plan.start_tdb_s), when(plan.end_tdb_s)
    rates = np.rint(plan.rate_bps / 8.0).astype(np.int64)
    owlt = np.rint(plan.owlt_s).astype(np.int64)
    names = plan.node_names
    contact_lines, range_lines = [], []
    for i in range(len(plan)):
        a, b = nums[names[plan.from_node[i]]], nums[names[plan.to_node[i]]]
        conf = float(plan.confidence[i])
        tail = "" if conf == 1.0 else f" {conf:g}"
        contact_lines.append(f"a contact {starts[i]} {stops[i]} {a} {b} {rates[i]}{tail}")
        range_lines.append(f"a range {starts[i]} {stops[i]} {a} {b} {owlt[i]}")
    return "\n".join([*lines, *contact_lines, *range_lines]) + "\n"


def write_ion(path: str | Path, plan: ContactPlan, reference_tdb_s: float | None = None,
              **kwargs: object) -> Path:
    """Write :func:`to_ion` text to ``path`` (atomically)."""
    return atomic_write_text(path, to_ion(plan, reference_tdb_s, **kwargs))  # type: ignore[arg-type]


def from_ion(
    text: str,
    *,
    reference_tdb_s: float | None = None,
    earth_nodes: Iterable[int] = (),
    file: str | None = None,
) -> ContactPlan:
    """Parse ION ``a contact`` / ``a range`` / ``@`` lines into a :class:`ContactPlan`.

    Node names and kinds come from marsrelay's ``# node`` header lines; other nodes are named
    ``ipn:<number>`` and get kind "station" if listed in ``earth_nodes``, else "node". Relative
    times need the ``@`` command or ``reference_tdb_s``. Other commands are ignored. Raises
    :class:`~marsrelay.errors.InputError` naming the line for a malformed one.
    """
    where = file or "ION contact plan"
    names: dict[int, tuple[str, str]] = {}
    contacts: list[tuple[float, float, int, int, float, float]] = []
    ranges: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
    ref = reference_tdb_s
    earth = {int(n) for n in earth_nodes}

    def t_of(tok: str, lineno: int) -> float:
        if tok.startswith("+") or tok.lstrip("-").isdigit():
            if ref is None:
                raise InputError("relative time without a reference (no @ line)",
                                 file=where, field=f"line {lineno}",
                                 allowed="an @ yyyy/mm/dd-hh:mm:ss line or reference_tdb_s")
            return ref + float(int(tok))
        try:
            return _tdb_of_ion(tok)
        except ValueError:
            raise InputError(f"bad time {tok!r}", file=where, field=f"line {lineno}",
                             allowed="+seconds or yyyy/mm/dd-hh:mm:ss") from None

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _NODE_RE.match(line)
            if m:
                names[int(m.group(1))] = (m.group(3), m.group(2))
            continue
        tok = line.split()
        try:
            if tok[0] == "@" and len(tok) == 2:
                ref = _tdb_of_ion(tok[1])
            elif tok[:2] == ["a", "contact"]:
                if len(tok) not in (7, 8):
                    raise ValueError
                conf = float(tok[7]) if len(tok) == 8 else 1.0
                contacts.append((t_of(tok[2], lineno), t_of(tok[3], lineno), int(tok[4]),
                                 int(tok[5]), 8.0 * float(int(tok[6])), conf))
            elif tok[:2] == ["a", "range"]:
                if len(tok) != 7:
                    raise ValueError
                key = (int(tok[4]), int(tok[5]))
                ranges.setdefault(key, []).append(
                    (t_of(tok[2], lineno), t_of(tok[3], lineno), float(int(tok[6]))))
        except InputError:
            raise
        except (ValueError, IndexError):
            raise InputError(f"cannot read {line!r}", file=where, field=f"line {lineno}",
                             allowed="a contact START STOP FROM TO RATE [CONF] | "
                                     "a range START STOP A B OWLT | @ TIME") from None
    for v in ranges.values():
        v.sort()

    def applicable(f: int, t: int, start: float) -> float | None:
        for key in ((f, t), (t, f)):
            if key == (t, f) and (t, f) in ranges and (f, t) in ranges:
                break
            for r0, r1, d in ranges.get(key, ()):
                if r1 < start:
                    continue
                if r0 > start:
                    break
                return d
        return None

    node_nums = sorted({c[2] for c in contacts} | {c[3] for c in contacts} | set(names))
    info = {n: names.get(n, (f"ipn:{n}", "station" if n in earth else "node"))
            for n in node_nums}
    index = {n: i for i, n in enumerate(node_nums)}
    kinds = [info[n][1] for n in node_nums]
    rows: dict[str, list[float]] = {k: [] for k in (
        "from_node", "to_node", "start_tdb_s", "end_tdb_s", "rate_bps", "owlt_s",
        "confidence", "band")}
    for s, e, f, t, rate, conf in contacts:
        d = applicable(f, t, s)
        if d is None:
            continue  # ION's CGR ignores a contact with no applicable range
        kf, kt = info[f][1], info[t][1]
        band = BAND_EARTH if kt == "station" else (
            BAND_PROXIMITY if {kf, kt} == {"lander", "orbiter"} else BAND_OTHER)
        for k, v in zip(rows, (index[f], index[t], s, e, rate, d, conf, band), strict=True):
            rows[k].append(v)
    return ContactPlan(tuple(info[n][0] for n in node_nums), tuple(kinds),
                       **{k: np.asarray(v) for k, v in rows.items()})


def read_ion(path: str | Path, **kwargs: object) -> ContactPlan:
    """:func:`from_ion` on the text of ``path``."""
    p = Path(path)
    return from_ion(p.read_text(encoding="utf-8"), file=str(p), **kwargs)  # type: ignore[arg-type]
