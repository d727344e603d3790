"""Candidate passes: which proximity contacts the scheduler chooses among, and which it excludes.

Three steps of :func:`~marsrelay.schedule.build.build_problem`:

1. :func:`candidate_passes`: the ``proximity`` rows between a scheduled lander and a scheduled
   orbiter that start inside the horizon, oriented (lander, orbiter) and sorted by start time.
2. :func:`exclude_unusable`: passes carrying too little (``no_volume``) or touching a lander's or
   orbiter's blackout (``blackout``) are excluded, each with a readable detail.
3. :func:`apply_fixed_requests`: ``[[schedule.fixed]]`` entries mark a pass required (+1) or
   forbidden (-1, excluded as ``forbidden``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.schedule.problem import KBIT, LanderNode, OrbiterNode, Windows, node_index

__all__ = [
    "CandidatePasses",
    "Exclusions",
    "apply_fixed_requests",
    "candidate_passes",
    "exclude_unusable",
    "optimiser_kbit",
]


@dataclass(frozen=True)
class CandidatePasses:
    """Candidate passes (columnar, sorted by start, then lander, then orbiter): ``lander`` and
    ``orbiter`` (indices into the scheduled nodes), ``start_tdb_s``/``end_tdb_s`` (TDB s),
    ``volume_bits`` (what the links stage says the pass can carry, bits) and ``contact_row``
    (the pass's row in the contact table it was taken from)."""

    lander: np.ndarray
    orbiter: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    volume_bits: np.ndarray
    contact_row: np.ndarray

    def __len__(self) -> int:
        return len(self.lander)


@dataclass(frozen=True)
class Exclusions:
    """Why each candidate pass is excluded before the choice (``reason``: a code of
    :data:`marsrelay.schedule.result.REASONS` or ``""`` when it is a candidate) and a readable
    ``detail``; object arrays, one entry per pass."""

    reason: np.ndarray
    detail: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        """True where the pass is not excluded."""
        return self.reason == ""


def candidate_passes(
    contacts: ContactTable,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    start_tdb_s: float,
    end_tdb_s: float,
) -> CandidatePasses:
    """Proximity passes between ``landers`` and ``orbiters`` starting in ``[start_tdb_s,
    end_tdb_s)`` (TDB s). :class:`~marsrelay.errors.InputError` when they carry no link
    volume (the links stage has not run)."""
    lnames = [n.name for n in landers]
    onames = [n.name for n in orbiters]
    prox_rows = np.flatnonzero(contacts.kind == "proximity")
    prox = contacts.take(prox_rows)
    src_l = np.isin(prox.source, lnames) & np.isin(prox.target, onames)
    tgt_l = np.isin(prox.target, lnames) & np.isin(prox.source, onames)
    keep = (src_l | tgt_l) & (prox.start_tdb_s >= start_tdb_s) & (prox.start_tdb_s < end_tdb_s)
    prox = prox.take(keep)
    prox_rows = prox_rows[keep]
    src_l = src_l[keep]
    if np.isnan(prox.volume_bits).any():
        raise InputError("proximity contacts have no link volumes (volume_bits is NaN): "
                         "run the links stage first", field="contacts.volume_bits")
    lname = np.where(src_l, prox.source, prox.target)
    oname = np.where(src_l, prox.target, prox.source)
    lidx = np.array([lnames.index(x) for x in lname], dtype=np.int64)
    oidx = np.array([onames.index(x) for x in oname], dtype=np.int64)
    start, end = prox.start_tdb_s.copy(), prox.end_tdb_s.copy()
    order = np.lexsort((oidx, lidx, start))
    return CandidatePasses(lander=lidx[order], orbiter=oidx[order], start_tdb_s=start[order],
                           end_tdb_s=end[order], volume_bits=prox.volume_bits[order],
                           contact_row=prox_rows[order])


def optimiser_kbit(volume_bits: np.ndarray) -> np.ndarray:
    """Pass volumes in the optimiser's unit: whole kbit, ``floor(bits / 1000)``, never < 0."""
    return np.floor(np.maximum(volume_bits, 0.0) / KBIT).astype(np.int64)


def _first_overlap(start: np.ndarray, end: np.ndarray, windows: Windows) -> np.ndarray:
    """Index of the first window overlapping each ``[start, end)``, or -1."""
    hit = np.full(len(start), -1, dtype=np.int64)
    for k, (t0, t1) in enumerate(windows):
        m = (hit < 0) & (start < t1) & (end > t0)
        hit[m] = k
    return hit


def exclude_unusable(
    passes: CandidatePasses,
    volume_kbit: np.ndarray,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    config: ScheduleConfig,
) -> Exclusions:
    """Passes carrying no whole kbit or less than ``config.min_pass_bits`` (``no_volume``), then
    passes overlapping a blackout of their lander or orbiter (``blackout``, the first such
    window named in the detail)."""
    n = len(passes)
    excluded = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    vol_bits = passes.volume_bits
    low = (volume_kbit <= 0) | (vol_bits < config.min_pass_bits)
    excluded[low] = "no_volume"
    detail[low] = [f"pass carries {v / 1e6:.3f} Mbit" for v in vol_bits[low]]
    start, end = passes.start_tdb_s, passes.end_tdb_s
    for kind, nodes, idx in (("lander", landers, passes.lander),
                             ("orbiter", orbiters, passes.orbiter)):
        for j, node in enumerate(nodes):
            if not node.blackouts:
                continue
            mine = np.flatnonzero((idx == j) & (excluded == ""))
            hit = _first_overlap(start[mine], end[mine], node.blackouts)
            for p, k in zip(mine[hit >= 0].tolist(), hit[hit >= 0].tolist(), strict=True):
                t0, t1 = node.blackouts[k]
                excluded[p] = "blackout"
                detail[p] = (f"{kind} {node.name} unavailable "
                             f"{tdb_to_utc(t0)} to {tdb_to_utc(t1)}")
    return Exclusions(excluded, detail)


def apply_fixed_requests(
    passes: CandidatePasses,
    exclusions: Exclusions,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    config: ScheduleConfig,
) -> tuple[np.ndarray, Exclusions]:
    """``[[schedule.fixed]]`` requests: per pass +1 (required), -1 (forbidden) or 0 (int8), and
    the exclusions with forbidden passes added. A request matches the first pass of its lander
    and orbiter whose window contains its instant (allowing ``fixed_match_tolerance_s`` s before
    the start). :class:`~marsrelay.errors.InputError` for unknown names, a request matching no
    pass, a pass both required and forbidden, or a required pass that is excluded."""
    lnames = [n.name for n in landers]
    onames = [n.name for n in orbiters]
    excluded, detail = exclusions.reason.copy(), exclusions.detail.copy()
    lidx, oidx = passes.lander, passes.orbiter
    start, end = passes.start_tdb_s, passes.end_tdb_s
    fixed = np.zeros(len(passes), dtype=np.int8)
    for k, fx in enumerate(config.fixed):
        where = f"schedule.fixed[{k}]"
        i = node_index(fx.lander, lnames, where + ".lander")
        j = node_index(fx.orbiter, onames, where + ".orbiter")
        t = float(utc_to_tdb(fx.start))
        hit = np.flatnonzero((lidx == i) & (oidx == j)
                             & (start - config.fixed_match_tolerance_s <= t) & (t <= end))
        if hit.size == 0:
            raise InputError(f"no {fx.lander}-{fx.orbiter} pass at {fx.start}",
                             field=where + ".start")
        p = int(hit[0])
        want = 1 if fx.action == "require" else -1
        if fixed[p] == -want:
            raise InputError(f"pass at {fx.start} is both required and forbidden", field=where)
        fixed[p] = want
        if want < 0 and excluded[p] == "":
            excluded[p], detail[p] = "forbidden", f"forbidden by {where}"
        if want > 0 and excluded[p] != "":
            raise InputError(f"required pass at {fx.start} cannot be taken: {excluded[p]} "
                             f"({detail[p]})", field=where)
    return fixed, Exclusions(excluded, detail)
