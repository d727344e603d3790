"""ION contact plans -> marsrelay :class:`ContactPlan`: node numbers mapped to names, ranges
joined to contacts, POSIX seconds turned into TDB.

An ION plan names nodes by number. Names come from, highest priority first: the ``nodes``
mapping (``marsrelay simulate --node NUMBER=NAME``), the scenario's ``[ion.nodes]`` table, and
the ``# node NUMBER KIND NAME`` comments marsrelay writes. With a scenario every name must be
one of its nodes (comments naming other nodes are passed over) and the plan has all the
scenario's nodes, with their kinds; without one the plan has the mapped nodes in number order.
A contact whose node has no name is an error naming the line.

A contact whose start no range covers (:meth:`IonPlan.owlt_s`) cannot be used by ION's CGR
(``libcgr.c``: "Don't know the OWLT ... so can't consider in CGR"); it is left out and counted
in :class:`IonReading`. A plan with no usable contact is an error: simulating it would deliver
nothing without saying why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marsrelay.errors import InputError
from marsrelay.geometry.time import posix_to_tdb
from marsrelay.scenario import Scenario
from marsrelay.simulation.ion.parse import IonPlan, parse_ion
from marsrelay.simulation.plan import BAND_EARTH, BAND_OTHER, BAND_PROXIMITY, ContactPlan

__all__ = [
    "IonReading",
    "from_ion",
    "merge_node_maps",
    "parse_node_options",
    "read_ion",
    "read_ion_text",
    "resolve_ion",
    "scenario_node_map",
]

_TEXT_ALLOWED = "a UTF-8 text file of ionadmin commands (ionrc(5))"


@dataclass(frozen=True)
class IonReading:
    """What reading an ION plan gave: the plan, the numbers its nodes have, and what was left
    out (``contacts_read`` counts the scheduled contacts between two nodes)."""

    plan: ContactPlan
    node_numbers: Mapping[str, int]
    contacts_read: int
    without_range: int
    loopback: int
    unscheduled: int

    def summary(self) -> str:
        """One line: contacts used and left out."""
        parts = [f"{len(self.plan)} of {self.contacts_read} contacts used"]
        if self.without_range:
            parts.append(f"{self.without_range} without a range left out (ION's CGR cannot "
                         "use them)")
        if self.loopback:
            parts.append(f"{self.loopback} loopback skipped")
        if self.unscheduled:
            parts.append(f"{self.unscheduled} registration/hypothetical skipped")
        return "; ".join(parts)


def parse_node_options(values: Iterable[str], option: str = "--node") -> dict[int, str]:
    """``["1=Rosalind Franklin", "2=TGO"]`` -> ``{1: "Rosalind Franklin", 2: "TGO"}``.

    Raises :class:`InputError` (field ``option``) for a malformed value or a number or name
    given twice with different partners.
    """
    out: dict[int, str] = {}
    for value in values:
        number, sep, name = str(value).partition("=")
        number, name = number.strip(), name.strip()
        if not sep or not number.isdigit() or number.startswith("0") or not name:
            raise InputError(f"{value!r} is not NUMBER=NAME", field=option,
                             allowed="an ION node number (positive integer) = a scenario node "
                                     "name, e.g. 1=\"Rosalind Franklin\"")
        n = int(number)
        if out.get(n, name) != name:
            raise InputError(f"ION node {n} is given two names ({out[n]!r}, {name!r})",
                             field=option, allowed="one name per node number")
        if name in out.values() and out.get(n) != name:
            raise InputError(f"{name!r} is given two ION node numbers", field=option,
                             allowed="one number per node name")
        out[n] = name
    return out


def merge_node_maps(*layers: Mapping[int, str]) -> dict[int, str]:
    """Number -> name maps merged, later layers first: an entry of a later layer replaces any
    earlier entry with the same number or the same name."""
    out: dict[int, str] = {}
    for layer in layers:
        for number, name in layer.items():
            out = {n: v for n, v in out.items() if n != number and v != name}
            out[int(number)] = str(name)
    return out


def scenario_node_map(scenario: Scenario,
                      nodes: Mapping[int, str] | None = None) -> dict[int, str]:
    """The scenario's ``[ion.nodes]`` overridden by ``nodes``; every name must be a node of the
    scenario (InputError naming the number otherwise)."""
    ion_cfg = scenario.ion
    merged = merge_node_maps(dict(getattr(ion_cfg, "nodes", {}) or {}), dict(nodes or {}))
    names = scenario.node_names()
    for number, name in merged.items():
        if name not in names:
            raise InputError(f"ION node {number} is mapped to {name!r}, which is not a node of "
                             f"scenario {scenario.name!r}", field="--node",
                             allowed=", ".join(names))
    return merged


def _scenario_nodes(scenario: Scenario) -> tuple[list[str], dict[str, str]]:
    kinds = {o.name: "orbiter" for o in scenario.orbiters}
    kinds.update({la.name: "lander" for la in scenario.landers})
    kinds.update({s.name: "station" for s in scenario.stations})
    return list(kinds), kinds


def _band(kind_from: str, kind_to: str) -> int:
    if kind_to == "station":
        return BAND_EARTH
    return BAND_PROXIMITY if {kind_from, kind_to} == {"lander", "orbiter"} else BAND_OTHER


def resolve_ion(
    ion: IonPlan,
    nodes: Mapping[int, str] | None = None,
    *,
    names: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> IonReading:
    """The :class:`ContactPlan` of ``ion``.

    ``nodes`` maps ION node numbers to names (it overrides ``# node`` comments); ``names``
    fixes the plan's nodes and their order (e.g. a scenario's), ``kinds`` their kinds (default:
    the comments' kinds, else "node"). Raises :class:`InputError` naming the file and line for
    an unmapped node, an empty plan, or one where no contact has a range.
    """
    labels = {n: name for n, (name, _k) in ion.node_labels.items()
              if names is None or name in names}
    mapping = merge_node_maps(labels, dict(nodes or {}))
    if names is not None:
        unknown = sorted(n for n, v in mapping.items() if v not in names)
        if unknown:
            raise InputError(f"ION node {unknown[0]} is mapped to {mapping[unknown[0]]!r}, "
                             "which is not a node here", file=ion.file,
                             allowed=", ".join(names))
    kind_of = dict(kinds or {})
    for _n, (name, kind) in ion.node_labels.items():
        kind_of.setdefault(name, kind)
    order = list(names) if names is not None else [mapping[n] for n in sorted(mapping)]
    where = {name: i for i, name in enumerate(order)}
    if not ion.contacts:
        raise InputError(f"no scheduled contact between two nodes in {ion.lines} lines "
                         "(nothing to simulate)", file=ion.file,
                         field=f"line {max(ion.lines, 1)}",
                         allowed="'a contact START STOP FROM TO RATE' lines (ionrc(5))")
    for c in ion.contacts:
        for number in (c.from_node, c.to_node):
            if number not in mapping:
                raise InputError(
                    f"ION node {number} has no name", file=ion.file, field=f"line {c.line}",
                    allowed=f"--node {number}=NAME or [ion.nodes] {number} = \"NAME\", NAME one"
                            f" of: {', '.join(order) if order else '(no names known)'}")
    rows: list[tuple[int, int, int, int, int, float, int]] = []
    for c in ion.contacts:
        owlt = ion.owlt_s(c)
        if owlt is not None:
            rows.append((where[mapping[c.from_node]], where[mapping[c.to_node]],
                         c.start_posix_s, c.stop_posix_s, c.rate_bytes_per_s, c.confidence,
                         owlt))
    if not rows:
        first = ion.contacts[0]
        raise InputError(f"none of the {len(ion.contacts)} contacts has a range (ION's CGR "
                         "cannot use a contact without one)", file=ion.file,
                         field=f"line {first.line}",
                         allowed="'a range START STOP A B OWLT' lines covering each contact's "
                                 "start")
    cols = list(zip(*rows, strict=True))
    frm = np.asarray(cols[0], dtype=np.int32)
    to = np.asarray(cols[1], dtype=np.int32)
    node_kinds = [kind_of.get(name, "node") for name in order]
    band = np.array([_band(node_kinds[f], node_kinds[t]) for f, t in zip(frm, to, strict=True)])
    plan = ContactPlan(
        tuple(order), tuple(node_kinds), from_node=frm, to_node=to,
        start_tdb_s=posix_to_tdb(np.asarray(cols[2], dtype=float)),
        end_tdb_s=posix_to_tdb(np.asarray(cols[3], dtype=float)),
        rate_bps=8.0 * np.asarray(cols[4], dtype=float),
        owlt_s=np.asarray(cols[6], dtype=float),
        confidence=np.asarray(cols[5], dtype=float), band=band)
    numbers = {name: n for n, name in mapping.items() if name in where}
    return IonReading(plan, numbers, len(ion.contacts), len(ion.contacts) - len(rows),
                      ion.loopback, ion.unscheduled)


def read_ion_text(path: str | Path) -> str:
    """The text of an ION plan file; InputError naming the file and line for a file that is
    missing, binary or not UTF-8 (a UTF-8 byte-order mark is dropped)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=str(p),
                         allowed="an existing, readable ION plan file") from None
    nul = data.find(b"\0")
    try:
        text = data.decode("utf-8-sig")
        bad = nul
    except UnicodeDecodeError as exc:
        bad = exc.start if nul < 0 else min(exc.start, nul)
    if bad >= 0:
        line = data.count(b"\n", 0, bad) + 1
        raise InputError(f"binary data at byte {bad}: not a text file", file=str(p),
                         field=f"line {line}", allowed=_TEXT_ALLOWED)
    return text


def read_ion(
    path: str | Path,
    *,
    scenario: Scenario | None = None,
    nodes: Mapping[int, str] | None = None,
    reference_posix_s: int | None = None,
) -> IonReading:
    """Read the ION plan file ``path`` (see :func:`resolve_ion`).

    With ``scenario`` the plan has the scenario's nodes and kinds, and numbers are named by
    ``nodes`` (e.g. ``--node`` options), then the scenario's ``[ion.nodes]``, then the file's
    ``# node`` comments.
    """
    ion = parse_ion(read_ion_text(path), file=str(path), reference_posix_s=reference_posix_s)
    if scenario is None:
        return resolve_ion(ion, nodes)
    names, kinds = _scenario_nodes(scenario)
    return resolve_ion(ion, scenario_node_map(scenario, nodes), names=names, kinds=kinds)


def from_ion(
    text: str,
    *,
    nodes: Mapping[int, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    file: str | None = None,
    reference_posix_s: int | None = None,
) -> ContactPlan:
    """The :class:`ContactPlan` of ION plan text (nodes named by ``nodes`` or ``# node``
    comments; see :func:`resolve_ion`)."""
    ion = parse_ion(text, file=file, reference_posix_s=reference_posix_s)
    return resolve_ion(ion, nodes, kinds=kinds).plan
