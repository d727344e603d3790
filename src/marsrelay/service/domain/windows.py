"""Half-open time windows ``[start_ms, end_ms)`` in integer UTC milliseconds.

Windows that only touch do not overlap; a window lies inside another when
``outer.start <= start < end <= outer.end``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Window", "overlapping_pairs"]


@dataclass(frozen=True, order=True)
class Window:
    """``[start_ms, end_ms)``; ``end_ms > start_ms``."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if not self.end_ms > self.start_ms:
            raise ValueError(f"window end {self.end_ms} is not after its start {self.start_ms}")

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms

    def overlaps(self, other: Window) -> bool:
        """True if the two share at least one millisecond (touching is no overlap)."""
        return self.start_ms < other.end_ms and other.start_ms < self.end_ms

    def overlap(self, other: Window) -> Window | None:
        """The common part, or None."""
        if not self.overlaps(other):
            return None
        return Window(max(self.start_ms, other.start_ms), min(self.end_ms, other.end_ms))

    def inside(self, outer: Window) -> bool:
        """True if ``outer.start <= start < end <= outer.end``."""
        return outer.start_ms <= self.start_ms and self.end_ms <= outer.end_ms


def overlapping_pairs(
    items: Iterable[tuple[int, str, Window]],
) -> list[tuple[str, int, int, Window]]:
    """Every pair of ``(id, group, window)`` items of one group (an orbiter) whose windows
    overlap, once, as ``(group, id_a, id_b, overlap)`` with ``id_a < id_b``; sorted by
    overlap start, then ids. A sweep over start-sorted windows: O(n log n + pairs)."""
    by_group: dict[str, list[tuple[int, Window]]] = {}
    for ident, group, window in items:
        by_group.setdefault(group, []).append((ident, window))
    out: list[tuple[str, int, int, Window]] = []
    for group, members in by_group.items():
        members.sort(key=lambda m: (m[1].start_ms, m[0]))
        active: list[tuple[int, Window]] = []
        for ident, window in members:
            active = [a for a in active if a[1].end_ms > window.start_ms]
            for other_id, other in active:
                common = window.overlap(other)
                if common is not None:
                    a, b = sorted((ident, other_id))
                    out.append((group, a, b, common))
            active.append((ident, window))
    out.sort(key=lambda c: (c[3].start_ms, c[1], c[2]))
    return out
