"""Pair criteria (one series per pair of nodes) and the per-window figures of a pass.

A :class:`PairCriterion` is a :class:`~marsrelay.contacts.finder.Criterion` whose series are
pairs of nodes of one kind, and which can also *observe* a pair: the far end's elevation seen
from the surface end, the range and the one-way light time. :func:`measure_passes` turns the
windows the finder found into :class:`Passes`: edges, duration, maximum elevation (value and
time, refined to ``tol_s``), minimum and maximum range, and the light time at mid-window.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, fields

import numpy as np

from marsrelay.contacts.finder import Criterion, extrema, find_windows
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.shared import find_windows_shared

__all__ = ["PairCriterion", "Passes", "measure_passes", "search_passes"]


class PairCriterion(Criterion):
    """A criterion over pairs of nodes that can also report what a pair sees."""

    #: ``kind`` of the contacts it finds (see :data:`marsrelay.contacts.table.CONTACT_KINDS`).
    kind: str = ""
    #: Sampling step (s) for the per-window figures (refined afterwards, so only a cost).
    observe_step_s: float = 30.0

    def observe_steps(self, windows: Intervals) -> np.ndarray:
        """Sampling step (s) of each window's figures (at most one turning point of each
        observable per step is assumed): :attr:`observe_step_s` unless a criterion knows
        better."""
        return np.full(len(windows), self.observe_step_s)

    @abstractmethod
    def observe(self, t_s: np.ndarray, series: np.ndarray) -> np.ndarray:
        """Rows ``(3, N)``: elevation of the far end from the surface end (deg), range (km),
        one-way light time (s; 0 for proximity) at TDB ``t_s`` for pairs ``series``."""


@dataclass(frozen=True)
class Passes:
    """Windows of one or more pairs with their figures; all arrays ``(n,)``, TDB seconds."""

    series: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    max_elevation_deg: np.ndarray
    max_elevation_tdb_s: np.ndarray
    min_range_km: np.ndarray
    max_range_km: np.ndarray
    owlt_s: np.ndarray

    def __len__(self) -> int:
        return len(self.start_tdb_s)

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_tdb_s - self.start_tdb_s

    def take(self, index: np.ndarray) -> Passes:
        return Passes(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def measure_passes(
    criterion: PairCriterion, windows: Intervals, *, tol_s: float = 0.05
) -> Passes:
    """The figures of each window: maximum elevation (and when, to ``tol_s`` s), range
    extremes (km) and the light time at the window's midpoint (s)."""
    if len(windows) == 0:
        e = np.empty(0)
        return Passes(np.empty(0, np.int64), e, e, e, e, e, e, e)
    chunk = criterion.chunk

    def observe(t: np.ndarray, series: np.ndarray) -> np.ndarray:
        # in slices, as Criterion.evaluate: temporaries stay in the caches (~30% faster)
        if t.size <= chunk:
            return criterion.observe(t, series)
        return np.concatenate([criterion.observe(t[i:i + chunk], series[i:i + chunk])
                               for i in range(0, t.size, chunk)], axis=1)

    ((t_el, el), (_, rmin), (_, rmax)), mid = extrema(
        observe, windows.series, windows.start, windows.end,
        [(0, 1), (1, -1), (1, 1)], step_s=criterion.observe_steps(windows), tol_s=tol_s,
    )
    return Passes(windows.series, windows.start, windows.end, el, t_el, rmin, rmax, mid[2])


def search_passes(
    criterion: PairCriterion,
    domains: Intervals,
    *,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
) -> Passes:
    """Find the windows of ``criterion`` inside ``domains`` (through its shared components
    where it has them, :mod:`marsrelay.contacts.shared`) and measure them."""
    find = find_windows_shared if criterion.shared_components() else find_windows
    found = find(criterion, domains, min_duration_s=min_duration_s, tol_s=tol_s)
    return measure_passes(criterion, found.windows)
