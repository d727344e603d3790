"""Sets of time intervals, one set per *series* (a pair of nodes), as flat numpy arrays.

An :class:`Intervals` holds closed intervals ``[start, end]`` (TDB seconds) each tagged with the
integer ``series`` it belongs to. Set operations (union, intersection, difference) work on all
series at once by a sweep over the sorted interval edges, with no Python loop over intervals.

Worked example::

    >>> import numpy as np
    >>> from marsrelay.contacts.intervals import Intervals
    >>> a = Intervals.from_pairs([(0, 10.0, 20.0), (0, 30.0, 40.0), (1, 0.0, 5.0)])
    >>> b = Intervals.from_pairs([(0, 15.0, 35.0), (1, 1.0, 2.0)])
    >>> a.intersect(b).to_pairs()
    [(0, 15.0, 20.0), (0, 30.0, 35.0), (1, 1.0, 2.0)]
    >>> a.subtract(b).to_pairs()
    [(0, 10.0, 15.0), (0, 35.0, 40.0), (1, 0.0, 1.0), (1, 2.0, 5.0)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["Intervals"]


@dataclass(frozen=True)
class Intervals:
    """Closed intervals ``[start, end]`` (TDB s), each belonging to an integer ``series``.

    Normalised sets (the output of every operation here) are sorted by ``(series, start)``,
    disjoint and free of empty intervals.
    """

    series: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "series", np.asarray(self.series, dtype=np.int64).ravel())
        object.__setattr__(self, "start", np.asarray(self.start, dtype=float).ravel())
        object.__setattr__(self, "end", np.asarray(self.end, dtype=float).ravel())
        if not (len(self.series) == len(self.start) == len(self.end)):
            raise ValueError("series, start and end must have the same length")

    def __len__(self) -> int:
        return len(self.start)

    @property
    def duration(self) -> np.ndarray:
        """``end - start`` (s)."""
        return self.end - self.start

    @classmethod
    def empty(cls) -> Intervals:
        return cls(np.empty(0, np.int64), np.empty(0), np.empty(0))

    @classmethod
    def from_pairs(cls, rows: Iterable[tuple[int, float, float]]) -> Intervals:
        """From ``(series, start, end)`` tuples."""
        rows = list(rows)
        if not rows:
            return cls.empty()
        s, a, b = zip(*rows, strict=True)
        return cls(np.array(s), np.array(a, float), np.array(b, float))

    @classmethod
    def span(cls, series: Iterable[int], start: float, end: float) -> Intervals:
        """The same interval ``[start, end]`` for each of ``series``."""
        s = np.fromiter(series, dtype=np.int64)
        return cls(s, np.full(s.size, float(start)), np.full(s.size, float(end)))

    def to_pairs(self) -> list[tuple[int, float, float]]:
        """``(series, start, end)`` tuples (for tests and debugging)."""
        return [(int(s), float(a), float(b))
                for s, a, b in zip(self.series, self.start, self.end, strict=True)]

    def take(self, index: np.ndarray) -> Intervals:
        """The intervals ``index`` (integer or boolean array)."""
        return Intervals(self.series[index], self.start[index], self.end[index])

    def of_series(self, series: int) -> Intervals:
        """The intervals of one series."""
        return self.take(self.series == series)

    def longer_than(self, seconds: float) -> Intervals:
        """The intervals strictly longer than ``seconds``."""
        return self.take(self.duration > seconds)

    def total(self, n_series: int) -> np.ndarray:
        """Total length (s) per series ``0 .. n_series - 1``."""
        return np.bincount(self.series, weights=self.duration, minlength=n_series)

    def normalized(self) -> Intervals:
        """Sorted, merged (overlapping or touching intervals joined), empty ones dropped."""
        return _sweep((self,), lambda c: c[0] > 0)

    def union(self, other: Intervals) -> Intervals:
        """Points in either set."""
        return _sweep((self, other), lambda c: (c[0] > 0) | (c[1] > 0))

    def intersect(self, other: Intervals) -> Intervals:
        """Points in both sets (per series)."""
        return _sweep((self, other), lambda c: (c[0] > 0) & (c[1] > 0))

    def subtract(self, other: Intervals) -> Intervals:
        """Points of this set that are not in ``other`` (per series)."""
        return _sweep((self, other), lambda c: (c[0] > 0) & (c[1] <= 0))

    def clip(self, t0: float, t1: float) -> Intervals:
        """Intersection with ``[t0, t1]`` for every series present."""
        a = np.maximum(self.start, t0)
        b = np.minimum(self.end, t1)
        keep = b > a
        return Intervals(self.series[keep], a[keep], b[keep])


def _sweep(
    sets: tuple[Intervals, ...], keep: Callable[[list[np.ndarray]], np.ndarray]
) -> Intervals:
    """Combine interval sets: sweep all edges in (series, time) order, counting for each set
    how many of its intervals cover each elementary segment, keep the segments ``keep`` accepts
    and merge touching ones. Closed intervals: segments of zero length are dropped."""
    n_sets = len(sets)
    ser = np.concatenate([np.concatenate([s.series, s.series]) for s in sets])
    t = np.concatenate([np.concatenate([s.start, s.end]) for s in sets])
    if ser.size == 0:
        return Intervals.empty()
    deltas = np.zeros((n_sets, ser.size), dtype=np.int64)
    pos = 0
    for k, s in enumerate(sets):
        n = len(s)
        deltas[k, pos:pos + n] = 1
        deltas[k, pos + n:pos + 2 * n] = -1
        pos += 2 * n
    order = np.lexsort((t, ser))
    ser, t, deltas = ser[order], t[order], deltas[:, order]
    counts = np.cumsum(deltas, axis=1)  # each series' deltas sum to 0, so counts restart at 0
    seg_ok = keep([counts[k, :-1] for k in range(n_sets)])
    seg_ok &= (ser[:-1] == ser[1:]) & (t[1:] > t[:-1])
    idx = np.flatnonzero(seg_ok)
    if idx.size == 0:
        return Intervals.empty()
    s_ser, s_a, s_b = ser[idx], t[idx], t[idx + 1]
    new = np.ones(idx.size, dtype=bool)
    new[1:] = (s_ser[1:] != s_ser[:-1]) | (s_a[1:] > s_b[:-1])
    first = np.flatnonzero(new)
    last = np.r_[first[1:], idx.size] - 1
    return Intervals(s_ser[first], s_a[first], s_b[last])
