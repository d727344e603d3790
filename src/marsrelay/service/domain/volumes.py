"""The predicted volume of part of an overflight, from its cumulative volume profile.

A profile is ``(offsets_ms, cumulative_bits)`` from the overflight's start; between samples the
cumulative volume is linear (the rate is taken as constant over a sampling step). The share of
``[start, end)`` is ``C(end) - C(start)``; the whole pass gives the overflight's prediction.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence

__all__ = ["Profile", "parse_profile", "window_share_bits"]

Profile = tuple[Sequence[int], Sequence[int]]


def parse_profile(text: str) -> Profile:
    """The JSON ``[[offset_ms, ...], [bits, ...]]`` kept with an overflight."""
    if not text:
        return (0,), (0,)
    offsets, bits = json.loads(text)
    return offsets, bits


def _cumulative_at(profile: Profile, offset_ms: float) -> float:
    offsets, bits = profile
    if offset_ms <= offsets[0]:
        return float(bits[0])
    if offset_ms >= offsets[-1]:
        return float(bits[-1])
    k = bisect.bisect_right(offsets, offset_ms)
    t0, t1 = offsets[k - 1], offsets[k]
    b0, b1 = bits[k - 1], bits[k]
    return b0 + (b1 - b0) * (offset_ms - t0) / (t1 - t0)


def window_share_bits(
    profile: Profile, overflight_start_ms: int, start_ms: int, end_ms: int
) -> int:
    """Predicted bits of ``[start_ms, end_ms)`` inside an overflight starting at
    ``overflight_start_ms`` with cumulative ``profile``."""
    a = _cumulative_at(profile, start_ms - overflight_start_ms)
    b = _cumulative_at(profile, end_ms - overflight_start_ms)
    return max(0, round(b - a))
