"""Time scales: UTC ISO 8601 strings at the edges, TDB seconds past J2000 inside.

Leap seconds and the TAI/TT/UTC bookkeeping come from ERFA (``pyerfa``), never from a table
written here. TDB - TT follows the model NAIF SPICE uses (``DELTET`` in a leapseconds kernel):

    TDB - TT = K sin(E),  E = M + EB sin(M),  M = M0 + M1 * (TT seconds past J2000)

with K = 1.657e-3 s, EB = 1.671e-2, M0 = 6.239996 rad, M1 = 1.99096871e-7 rad/s. This makes
marsrelay's times identical to SPICE's ``str2et``/``et2utc`` (below a microsecond). The full
Fairhead & Bretagnon series (``erfa.dtdb``) differs from it by at most about 35 microseconds;
pass ``tdb_model="erfa"`` to use that instead.

Worked example::

    >>> from marsrelay.geometry.time import utc_to_tdb, tdb_to_utc
    >>> round(float(utc_to_tdb("2000-01-01T12:00:00Z")), 6)  # UTC noon is 64.184 s TDB past J2000
    64.183927
    >>> str(tdb_to_utc(0.0))
    '2000-01-01T11:58:55.816Z'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Literal

import erfa
import numpy as np

from marsrelay.constants import DAY_S, J2000_JD
from marsrelay.errors import TimeError

__all__ = [
    "TdbModel",
    "posix_to_tdb",
    "tdb_to_posix",
    "tdb_to_tt",
    "tdb_to_tt_jd",
    "tdb_to_utc",
    "tdb_to_utc_jd",
    "tt_to_tdb",
    "utc_to_tdb",
]

TdbModel = Literal["spice", "erfa"]

# SPICE leapseconds-kernel DELTET constants (naif0012.tls).
_DELTET_K_S = 1.657e-3
_DELTET_EB = 1.671e-2
_DELTET_M0_RAD = 6.239996
_DELTET_M1_RAD_S = 1.99096871e-7

_TT_MINUS_TAI_S = 32.184

#: Julian date of the POSIX epoch, 1970-01-01T00:00:00 UTC.
_POSIX_EPOCH_JD = 2440587.5

_ISO_RE = re.compile(
    r"^\s*(?P<y>[+-]?\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}(?:\.\d*)?))?)?"
    r"\s*(?P<z>Z|[+-]00:?00|UTC)?\s*$",
    re.IGNORECASE,
)


def _tdb_minus_tt_s(tt_s: np.ndarray, model: TdbModel) -> np.ndarray:
    if model == "spice":
        m = _DELTET_M0_RAD + _DELTET_M1_RAD_S * tt_s
        return _DELTET_K_S * np.sin(m + _DELTET_EB * np.sin(m))
    if model == "erfa":
        d1 = np.full_like(tt_s, J2000_JD)
        d2 = tt_s / DAY_S
        # Geocentric TDB (u = v = 0); UT approximated by TT's day fraction (effect < 1 ns).
        return erfa.dtdb(d1, d2, np.mod(d2 + 0.5, 1.0), 0.0, 0.0, 0.0)
    raise TimeError(f"unknown tdb_model {model!r}: use 'spice' or 'erfa'")


def tt_to_tdb(tt_s: np.ndarray | float, model: TdbModel = "spice") -> np.ndarray:
    """TT seconds past J2000 -> TDB seconds past J2000."""
    tt = np.asarray(tt_s, dtype=float)
    return tt + _tdb_minus_tt_s(tt, model)


def tdb_to_tt(tdb_s: np.ndarray | float, model: TdbModel = "spice") -> np.ndarray:
    """TDB seconds past J2000 -> TT seconds past J2000 (fixed-point iteration, < 1 ps)."""
    tdb = np.asarray(tdb_s, dtype=float)
    tt = tdb.copy()
    for _ in range(3):
        tt = tdb - _tdb_minus_tt_s(tt, model)
    return tt


def _parse_utc(strings: Sequence[str] | np.ndarray | str) -> tuple[np.ndarray, ...]:
    arr0 = np.asarray(strings, dtype=object)
    arr = np.atleast_1d(arr0)
    n = arr.size
    y = np.empty(n, dtype=np.int64)
    mo = np.empty(n, dtype=np.int64)
    d = np.empty(n, dtype=np.int64)
    h = np.zeros(n, dtype=np.int64)
    mi = np.zeros(n, dtype=np.int64)
    s = np.zeros(n, dtype=float)
    for k, text in enumerate(arr.ravel()):
        m = _ISO_RE.match(str(text))
        if m is None:
            raise TimeError(
                f"not a UTC ISO 8601 time: {text!r} (expected e.g. '2030-06-01T12:00:00Z')"
            )
        y[k], mo[k], d[k] = int(m["y"]), int(m["mo"]), int(m["d"])
        if m["h"] is not None:
            h[k], mi[k] = int(m["h"]), int(m["mi"])
            s[k] = float(m["s"]) if m["s"] else 0.0
        if not (1 <= mo[k] <= 12 and 1 <= d[k] <= 31 and h[k] <= 23 and mi[k] <= 59 and s[k] < 61):
            raise TimeError(f"UTC time out of range: {text!r}")
        if d[k] > _days_in_month(int(y[k]), int(mo[k])):
            raise TimeError(
                f"no such date: {text!r} ({int(y[k]):04d}-{int(mo[k]):02d} has "
                f"{_days_in_month(int(y[k]), int(mo[k]))} days)"
            )
        if s[k] >= 60.0 and not (h[k] == 23 and mi[k] == 59):
            raise TimeError(
                f"seconds must be below 60 except in a leap second (23:59:60): {text!r}"
            )
    return arr0.shape, y, mo, d, h, mi, s


def _days_in_month(year: int, month: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


def _check_leap_seconds(y, mo, d, s, strings) -> None:
    """Raise if a ``23:59:60`` second falls on a day that ends without a leap second."""
    sel = np.flatnonzero(s >= 60.0)
    if sel.size == 0:
        return
    j1, j2 = erfa.cal2jd(y[sel], mo[sel], d[sel])
    ny, nm, nd, _ = erfa.jd2cal(j1, j2 + 1.0)
    leap_s = erfa.dat(ny, nm, nd, 0.0) - erfa.dat(y[sel], mo[sel], d[sel], 0.0)
    bad = s[sel] >= 60.0 + leap_s
    if np.any(bad):
        text = np.ravel(np.asarray(strings, dtype=object))[sel[np.argmax(bad)]]
        raise TimeError(f"no leap second at the end of that UTC day: {text!r}")


def utc_to_tdb(utc: str | Sequence[str] | np.ndarray, model: TdbModel = "spice") -> np.ndarray:
    """UTC ISO 8601 string(s) -> TDB seconds past J2000 (float64, same shape as the input).

    Leap seconds (including ``23:59:60``) come from ERFA. Accepts ``Z``, ``UTC`` or no suffix
    (always read as UTC) and dates with or without a time of day.
    """
    shape, y, mo, d, h, mi, s = _parse_utc(utc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        try:
            _check_leap_seconds(y, mo, d, s, utc)
            u1, u2 = erfa.dtf2d("UTC", y, mo, d, h, mi, s)
            a1, a2 = erfa.utctai(u1, u2)
        except erfa.ErfaError as exc:  # invalid calendar date (e.g. a year before -4799)
            first = list(np.ravel(np.asarray(utc, dtype=object))[:3])
            raise TimeError(f"invalid UTC date among {first}: {exc}") from exc
    tt_s = ((a1 - J2000_JD) + a2) * DAY_S + _TT_MINUS_TAI_S
    tdb = tt_to_tdb(tt_s, model)
    out = tdb.reshape(shape)
    return float(out) if out.ndim == 0 else out


def tdb_to_tt_jd(
    tdb_s: np.ndarray | float, model: TdbModel = "spice"
) -> tuple[np.ndarray, np.ndarray]:
    """TDB seconds past J2000 -> TT as a two-part Julian date (jd1, jd2) for ERFA."""
    tt = tdb_to_tt(tdb_s, model)
    return np.full_like(tt, J2000_JD), tt / DAY_S


def tdb_to_utc_jd(
    tdb_s: np.ndarray | float, model: TdbModel = "spice"
) -> tuple[np.ndarray, np.ndarray]:
    """TDB seconds past J2000 -> UTC as an ERFA two-part quasi-Julian date (jd1, jd2)."""
    tt = tdb_to_tt(tdb_s, model)
    tai_s = tt - _TT_MINUS_TAI_S
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        return erfa.taiutc(np.full_like(tai_s, J2000_JD), tai_s / DAY_S)


def tdb_to_utc(tdb_s: np.ndarray | float, digits: int = 3, model: TdbModel = "spice") -> np.ndarray:
    """TDB seconds past J2000 -> UTC ISO 8601 strings with ``Z`` (milliseconds by default).

    Rounds to ``digits`` decimals of a second, carrying into minutes/days (and printing
    ``:60`` inside a leap second) the way ERFA's ``d2dtf`` does.
    """
    tdb = np.asarray(tdb_s, dtype=float)
    u1, u2 = tdb_to_utc_jd(tdb.ravel(), model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        iy, im, iday, ihmsf = erfa.d2dtf("UTC", digits, u1, u2)
    hms = ihmsf.view(np.int32).reshape(-1, 4) if ihmsf.dtype.names else np.asarray(ihmsf)
    out = np.empty(tdb.size, dtype=object)
    for k in range(tdb.size):
        hh, mm, ss, ff = (int(v) for v in hms[k])
        frac = f".{ff:0{digits}d}" if digits > 0 else ""
        out[k] = (
            f"{int(iy[k]):04d}-{int(im[k]):02d}-{int(iday[k]):02d}T{hh:02d}:{mm:02d}:{ss:02d}{frac}Z"
        )
    out = out.reshape(tdb.shape)
    return out[()] if tdb.ndim == 0 else out.astype(str)


def posix_to_tdb(posix_s: np.ndarray | float, model: TdbModel = "spice") -> np.ndarray:
    """POSIX seconds (``time_t``: UTC without leap seconds, from 1970-01-01T00:00:00Z) -> TDB
    seconds past J2000.

    A POSIX count names a UTC calendar second: day ``floor(p / 86400)`` after 1970-01-01,
    second of day ``p mod 86400``. Across a leap second two consecutive counts are two SI
    seconds apart (``2016-12-31T23:59:59`` and ``2017-01-01T00:00:00``); no count names
    ``23:59:60``. This is how ION (``readTimestampUTC``: ``mktime`` and ``+ss`` offsets) and
    other DTN tools count time.
    """
    p = np.asarray(posix_s, dtype=float)
    flat = p.ravel()
    day = np.floor(flat / DAY_S)
    sod = flat - day * DAY_S
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        iy, im, iday, _ = erfa.jd2cal(_POSIX_EPOCH_JD + day, np.zeros_like(day))
        hour = np.floor(sod / 3600.0)
        minute = np.floor((sod - 3600.0 * hour) / 60.0)
        sec = sod - 3600.0 * hour - 60.0 * minute
        try:
            u1, u2 = erfa.dtf2d("UTC", iy, im, iday, hour.astype(int), minute.astype(int), sec)
            a1, a2 = erfa.utctai(u1, u2)
        except erfa.ErfaError as exc:
            raise TimeError(f"POSIX time outside ERFA's calendar: {exc}") from exc
    tt_s = ((a1 - J2000_JD) + a2) * DAY_S + _TT_MINUS_TAI_S
    out = tt_to_tdb(tt_s, model).reshape(p.shape)
    return float(out) if out.ndim == 0 else out


def tdb_to_posix(tdb_s: np.ndarray | float, model: TdbModel = "spice") -> np.ndarray:
    """TDB seconds past J2000 -> POSIX seconds (float; see :func:`posix_to_tdb`).

    Inside a leap second (``23:59:60.x``) the result is the next day's ``00:00:00`` plus the
    fraction, as POSIX clocks repeat that second: the inverse of :func:`posix_to_tdb` holds
    everywhere else. For whole-second rounding that must stay on one side of an instant, check
    the candidate with :func:`posix_to_tdb` (it is strictly increasing).
    """
    tdb = np.asarray(tdb_s, dtype=float)
    u1, u2 = tdb_to_utc_jd(tdb.ravel(), model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        iy, im, iday, ihmsf = erfa.d2dtf("UTC", 9, u1, u2)
        j1, j2 = erfa.cal2jd(iy, im, iday)
    hms = ihmsf.view(np.int32).reshape(-1, 4) if ihmsf.dtype.names else np.asarray(ihmsf)
    day = (j1 - _POSIX_EPOCH_JD) + j2
    out = (day * DAY_S + hms[:, 0] * 3600.0 + hms[:, 1] * 60.0 + hms[:, 2]
           + hms[:, 3] * 1e-9).reshape(tdb.shape)
    return float(out) if out.ndim == 0 else out
