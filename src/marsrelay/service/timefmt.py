"""Service times: integer UTC milliseconds since 1970-01-01 (Unix time) inside, UTC ISO 8601
with ``Z`` and milliseconds at the edges.

Windows are half-open ``[start_ms, end_ms)``: storing integers makes the spec's millisecond
comparisons exact on every database. Unix time ignores leap seconds; a ``:60`` second (only
inside a leap second) is read as ``:59.999``.
"""

from __future__ import annotations

import datetime as dt
import re
import time

__all__ = ["TimeFormatError", "format_ms", "now_ms", "parse_ms"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LEAP = re.compile(r"(T\d{2}:\d{2}):60(?:\.\d*)?")


class TimeFormatError(ValueError):
    """Text that is not a UTC ISO 8601 time."""


def now_ms() -> int:
    """The wall-clock time, UTC milliseconds since 1970."""
    return time.time_ns() // 1_000_000


def parse_ms(text: str) -> int:
    """A UTC ISO 8601 time (``2030-11-01T12:00:00.000Z``; an offset is converted, a time
    without zone is read as UTC) -> milliseconds since 1970, rounded to the millisecond."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        raise TimeFormatError(f"{text!r} is not a UTC ISO 8601 time")
    fixed = _LEAP.sub(r"\1:59.999", text.strip())
    try:
        value = dt.datetime.fromisoformat(fixed)
    except ValueError:
        raise TimeFormatError(f"{text!r} is not a UTC ISO 8601 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return (micros + 500) // 1000


def format_ms(ms: int) -> str:
    """Milliseconds since 1970 -> ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    value = _EPOCH + dt.timedelta(milliseconds=int(ms))
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
