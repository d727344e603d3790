"""Times on the pages: UTC ISO 8601 with ``Z`` always, and a lander's local mean solar time
(LMST, Allison & McEwen 2000 as in :mod:`marsrelay.geometry.solar_time`) beside it where that
lander is in view.

Service times are integer UTC milliseconds since 1970 without leap seconds (POSIX), so the
conversion to TDB is :func:`marsrelay.geometry.time.posix_to_tdb`.
"""

from __future__ import annotations

import numpy as np

from marsrelay.geometry.solar_time import lmst_hours
from marsrelay.geometry.time import posix_to_tdb
from marsrelay.service.timefmt import format_ms, parse_ms

__all__ = ["lmst_text", "lmst_texts", "to_ms", "utc_short", "utc_text"]


def to_ms(value: int | str) -> int:
    """UTC milliseconds from milliseconds or UTC ISO text."""
    return value if isinstance(value, int) else parse_ms(value)


def utc_text(value: int | str) -> str:
    """``2030-11-01T10:14:14.238Z``: the whole UTC time, with milliseconds."""
    return format_ms(to_ms(value))


def utc_short(value: int | str) -> str:
    """``2030-11-01T10:14:14Z``: UTC to the second (milliseconds dropped, not rounded, so a
    window's start never shows later than it is)."""
    text = format_ms(to_ms(value))
    return text[:19] + "Z"


def lmst_texts(values_ms: list[int], lon_east_deg: float) -> list[str]:
    """``HH:MM`` local mean solar time at east longitude ``lon_east_deg`` for each UTC time."""
    if not values_ms:
        return []
    tdb = np.atleast_1d(posix_to_tdb(np.asarray(values_ms, dtype=float) / 1000.0))
    hours = np.atleast_1d(lmst_hours(tdb, lon_east_deg))
    minutes = np.floor(hours * 60.0).astype(int) % (24 * 60)
    return [f"{m // 60:02d}:{m % 60:02d}" for m in minutes]


def lmst_text(value: int | str, lon_east_deg: float) -> str:
    """``HH:MM`` LMST at one UTC time (see :func:`lmst_texts`)."""
    return lmst_texts([to_ms(value)], lon_east_deg)[0]
