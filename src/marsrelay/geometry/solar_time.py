"""Mars solar time: Mars Sol Date, local mean solar time (LMST) and sol numbering.

Follows Allison & McEwen (2000, Planet. Space Sci. 48, 215) as implemented in NASA GISS Mars24
(algorithm step C-2):

    MSD  = (JD_TT - 2405522.0028779) / 1.0274912517
    MST  = 24 h * frac(MSD)                      (mean solar time at the prime meridian)
    LMST = MST + lon_east_deg / 15 h             (mod 24 h)

The sol is 1.0274912517 d = 88775.244 s. Per-sol figures in marsrelay use each lander's LMST
midnight as the boundary: a lander at east longitude ``lon`` is in local sol
``floor(MSD + lon / 360)``.

Worked example (Mars24 worked example, 2000-01-06T00:00:00 UTC: MSD 44795.9998, MST 23:59:39)::

    >>> from marsrelay.geometry.time import utc_to_tdb
    >>> round(float(mars_sol_date(utc_to_tdb("2000-01-06T00:00:00Z"))), 4)
    44795.9998
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from marsrelay.constants import DAY_S, J2000_JD
from marsrelay.geometry.time import tdb_to_tt

__all__ = [
    "MSD_EPOCH_JD_TT",
    "SOL_DAYS",
    "lmst_hours",
    "local_sol",
    "mars_sol_date",
    "sol_start_tdb_s",
]

#: Julian date (TT) of MSD 0 (Allison & McEwen 2000; Mars24).
MSD_EPOCH_JD_TT: float = 2405522.0028779
#: Length of the mean solar day in Earth days (Mars24); times 86400 s it is the conventions'
#: sol of 88775.244 s (``marsrelay.constants.SOL_S``).
SOL_DAYS: float = 1.0274912517


def mars_sol_date(tdb_s: Sequence[float] | np.ndarray | float) -> np.ndarray:
    """Mars Sol Date (days of 88775.244 s since the Mars24 epoch) at TDB seconds past J2000."""
    tt_s = tdb_to_tt(np.asarray(tdb_s, dtype=float))
    return ((J2000_JD - MSD_EPOCH_JD_TT) + tt_s / DAY_S) / SOL_DAYS


def lmst_hours(tdb_s: Sequence[float] | np.ndarray | float, lon_east_deg: float) -> np.ndarray:
    """Local mean solar time in hours [0, 24) at east longitude ``lon_east_deg``."""
    msd = mars_sol_date(tdb_s)
    return np.mod(24.0 * (msd + lon_east_deg / 360.0), 24.0)


def local_sol(tdb_s: Sequence[float] | np.ndarray | float, lon_east_deg: float) -> np.ndarray:
    """Integer local sol number (LMST midnight boundaries) at east longitude ``lon_east_deg``."""
    return np.floor(mars_sol_date(tdb_s) + lon_east_deg / 360.0).astype(np.int64)


def sol_start_tdb_s(sol: Sequence[int] | np.ndarray | int, lon_east_deg: float) -> np.ndarray:
    """TDB seconds past J2000 of the LMST midnight that starts local sol ``sol``."""
    msd = np.asarray(sol, dtype=float) - lon_east_deg / 360.0
    tt_s = (msd * SOL_DAYS - (J2000_JD - MSD_EPOCH_JD_TT)) * DAY_S
    from marsrelay.geometry.time import tt_to_tdb

    return tt_to_tdb(tt_s)
