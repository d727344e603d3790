"""Planetary ephemeris: JPL DE421 from the ``de421`` PyPI package, vectorised over TDB arrays.

The ``de421`` package ships each body's Chebyshev coefficients as ``jpl-<body>.npy`` arrays of
shape ``(n_sets, 3, n_coefficients)`` covering equal granules from JD ``jalpha`` to ``jomega``
(TDB), positions in km relative to the solar-system barycentre, the layout the (legacy)
``jplephem.ephem`` module documents. Earth comes from the Earth-Moon barycentre and the
geocentric Moon: ``earth = emb - moon / (1 + EMRAT)``.

Mars is DE421's Mars system barycentre (NAIF 4); Phobos and Deimos move Mars' centre (NAIF 499)
by under 20 cm from it, far below anything marsrelay resolves.

Worked example::

    >>> from marsrelay.geometry.ephemeris import Ephemeris
    >>> eph = Ephemeris.de421()
    >>> r = eph.position_km("mars", [0.0], centre="earth")
    >>> r.shape
    (1, 3)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from marsrelay.constants import DAY_S, J2000_JD
from marsrelay.errors import EphemerisCoverageError

__all__ = ["BODIES", "Ephemeris"]

#: Bodies this ephemeris answers for, by marsrelay name.
BODIES: tuple[str, ...] = ("sun", "earth", "moon", "mars", "emb", "ssb")


#: Spans the publishers document (the ``de421`` package: "Years: 1900 through 2050"); the
#: arrays themselves run a little longer, but outside this span the ephemeris is not vouched for.
_DOCUMENTED_COVERAGE_UTC: dict[str, tuple[str, str]] = {
    "de421": ("1900-01-01T00:00:00Z", "2051-01-01T00:00:00Z"),
}


@dataclass
class _ChebSeries:
    coefficients: np.ndarray  # (n_sets, 3, n_coef), km
    start_s: float  # TDB s past J2000 of the first granule
    interval_s: float

    def evaluate(self, tdb: np.ndarray, velocity: bool) -> tuple[np.ndarray, np.ndarray | None]:
        n_sets, _, n_coef = self.coefficients.shape
        index = np.floor((tdb - self.start_s) / self.interval_s).astype(np.int64)
        index = np.clip(index, 0, n_sets - 1)  # the very last instant belongs to the last set
        # Offset from the granule's own start (exact: both terms are whole seconds), not from
        # the ephemeris' first epoch: ``tdb - start`` alone rounds to ~5e-7 s at 1e9 s.
        offset = tdb - (self.start_s + index * self.interval_s)
        x = 2.0 * offset / self.interval_s - 1.0  # in [-1, 1]
        coef = self.coefficients[index]  # (N, 3, n_coef)
        t = np.empty((n_coef, tdb.size))
        t[0] = 1.0
        t[1] = x
        two_x = 2.0 * x
        for k in range(2, n_coef):
            t[k] = two_x * t[k - 1] - t[k - 2]
        pos = np.einsum("nak,kn->na", coef, t)
        if not velocity:
            return pos, None
        dt = np.empty_like(t)
        dt[0] = 0.0
        dt[1] = 1.0
        if n_coef > 2:
            dt[2] = 2.0 * two_x
        for k in range(3, n_coef):
            dt[k] = two_x * dt[k - 1] - dt[k - 2] + 2.0 * t[k - 1]
        vel = np.einsum("nak,kn->na", coef, dt) * (2.0 / self.interval_s)
        return pos, vel


class _Queries:
    """``state_km``/``position_km`` for any ephemeris with ``_check(tdb)`` and
    ``_barycentric(body, tdb, velocity) -> (pos (N, 3) km, vel (N, 3) km/s)``."""

    def state_km(
        self, target: str, tdb_s: Sequence[float] | np.ndarray | float, centre: str = "ssb"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Position (km) and velocity (km/s) of ``target`` relative to ``centre``, ICRF.

        ``tdb_s`` is an array of TDB seconds past J2000; returns two ``(N, 3)`` arrays.
        Geometric states (no light time); raises :class:`EphemerisCoverageError` outside
        the ephemeris' span.
        """
        tdb = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        self._check(tdb)
        tp, tv = self._barycentric(target, tdb, True)
        cp, cv = self._barycentric(centre, tdb, True)
        return tp - cp, tv - cv

    def position_km(
        self, target: str, tdb_s: Sequence[float] | np.ndarray | float, centre: str = "ssb"
    ) -> np.ndarray:
        """Position (km) of ``target`` relative to ``centre`` in ICRF, shape ``(N, 3)``."""
        tdb = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        self._check(tdb)
        tp, _ = self._barycentric(target, tdb, False)
        cp, _ = self._barycentric(centre, tdb, False)
        return tp - cp


@dataclass
class Ephemeris(_Queries):
    """A JPL planetary ephemeris read from a package of ``.npy`` Chebyshev arrays.

    Use :meth:`de421` for the default. Positions are km, velocities km/s, in ICRF, at TDB
    seconds past J2000.
    """

    name: str
    dirpath: str
    constants: dict[str, float]
    coverage_tdb_s: tuple[float, float]
    _series: dict[str, _ChebSeries] = field(default_factory=dict, repr=False)

    @classmethod
    @functools.cache
    def de421(cls) -> Ephemeris:
        """DE421 (1900-2050) from the ``de421`` package (loaded on first use, then cached)."""
        import de421

        return cls._from_package_dir("de421", os.path.dirname(de421.__file__ or ""))

    @classmethod
    def _from_package_dir(cls, module_name: str, dirpath: str) -> Ephemeris:
        """An ephemeris stored as the ``jplephem``-style arrays of a PyPI package."""
        raw = np.load(os.path.join(dirpath, "constants.npy"))
        constants = {k.decode("ascii").strip(): float(v) for k, v in raw}
        start = (constants["jalpha"] - J2000_JD) * DAY_S if "jalpha" in constants else None
        if start is None:
            raise EphemerisCoverageError(f"{module_name}: no coverage (jalpha) in constants.npy")
        end = (constants["jomega"] - J2000_JD) * DAY_S
        documented = _DOCUMENTED_COVERAGE_UTC.get(module_name)
        if documented is not None:  # honour the span the publisher vouches for
            from marsrelay.geometry.time import utc_to_tdb

            start = max(start, float(utc_to_tdb(documented[0])))
            end = min(end, float(utc_to_tdb(documented[1])))
        return cls(module_name.upper(), dirpath, constants, (start, end))

    def _load(self, body: str) -> _ChebSeries:
        series = self._series.get(body)
        if series is None:
            coef = np.load(os.path.join(self.dirpath, f"jpl-{body}.npy"))
            start = (self.constants["jalpha"] - J2000_JD) * DAY_S
            end = (self.constants["jomega"] - J2000_JD) * DAY_S
            series = _ChebSeries(np.ascontiguousarray(coef), start, (end - start) / coef.shape[0])
            self._series[body] = series
        return series

    def _check(self, tdb: np.ndarray) -> None:
        start, end = self.coverage_tdb_s
        if tdb.size and (np.nanmin(tdb) < start or np.nanmax(tdb) > end or np.isnan(tdb).any()):
            from marsrelay.geometry.time import tdb_to_utc

            bad = tdb[(tdb < start) | (tdb > end) | np.isnan(tdb)][0]
            bad_txt = "NaN" if np.isnan(bad) else str(tdb_to_utc(bad))
            raise EphemerisCoverageError(
                f"{self.name} covers {tdb_to_utc(start)} to {tdb_to_utc(end)}; "
                f"asked for {bad_txt}. Choose times inside that span or another ephemeris."
            )

    def _barycentric(self, body: str, tdb: np.ndarray, velocity: bool):
        zeros = np.zeros((tdb.size, 3))
        if body == "ssb":
            return zeros, (zeros if velocity else None)
        if body in ("sun", "mars", "emb"):
            return self._load("earthmoon" if body == "emb" else body).evaluate(tdb, velocity)
        if body in ("earth", "moon"):
            emb_p, emb_v = self._load("earthmoon").evaluate(tdb, velocity)
            moon_p, moon_v = self._load("moon").evaluate(tdb, velocity)  # geocentric Moon
            share = 1.0 / (1.0 + self.constants["EMRAT"])
            if body == "earth":
                return emb_p - share * moon_p, (emb_v - share * moon_v if velocity else None)
            earth_p = emb_p - share * moon_p
            earth_v = emb_v - share * moon_v if velocity else None
            return earth_p + moon_p, (earth_v + moon_v if velocity else None)
        raise ValueError(f"unknown body {body!r}: choose one of {', '.join(BODIES)}")

    def coefficients(self, body: str) -> tuple[np.ndarray, float, float]:
        """Raw Chebyshev coefficients of a stored body (``sun``, ``mars``, ``earthmoon``,
        ``moon``): ``(coef[n_sets, 3, n_coef] km, first TDB s, granule length s)``."""
        s = self._load(body)
        return s.coefficients, s.start_s, s.interval_s


#: NAIF ids of the bodies marsrelay asks for.
_NAIF_IDS: dict[str, int] = {"ssb": 0, "sun": 10, "emb": 3, "earth": 399, "moon": 301, "mars": 4}


class SpkEphemeris(_Queries):
    """A planetary ephemeris from a JPL SPK file (e.g. ``de440s.bsp``), read with ``jplephem``.

    Same interface as :class:`Ephemeris` (``state_km``, ``position_km``, ``coverage_tdb_s``,
    ``name``) for a scenario that names its own planetary kernel (``[scenario] ephemeris``).
    Each body is chained to the solar-system barycentre through the file's segments (type 2
    and 3 Chebyshev, the JPL DE layout); "mars" is the Mars barycentre (NAIF 4), as with DE421.
    """

    def __init__(self, path: str | Path) -> None:
        from jplephem.spk import SPK

        self.path = Path(path)
        if not self.path.is_file():
            raise EphemerisCoverageError(f"planetary SPK file not found: {self.path}")
        try:
            self._kernel = SPK.open(str(self.path))
        except Exception as exc:  # not a DAF/SPK file
            raise EphemerisCoverageError(f"{self.path}: not a readable SPK file ({exc})") from None
        self.name = self.path.name
        self._chains: dict[str, list] = {}
        lo, hi = -np.inf, np.inf
        for body in ("sun", "earth", "mars"):
            for seg in self._chain(body):
                lo = max(lo, (seg.start_jd - J2000_JD) * DAY_S)
                hi = min(hi, (seg.end_jd - J2000_JD) * DAY_S)
        self.coverage_tdb_s = (float(lo), float(hi))

    def _chain(self, body: str) -> list:
        if body not in self._chains:
            target = _NAIF_IDS[body]
            by_target = {seg.target: seg for seg in self._kernel.segments}
            chain = []
            while target != 0:
                seg = by_target.get(target)
                if seg is None:
                    raise EphemerisCoverageError(
                        f"{self.path}: no segment for NAIF body {target} (needed for {body}); "
                        "use a JPL DE planetary kernel (e.g. de440s.bsp)"
                    )
                chain.append(seg)
                target = seg.center
            self._chains[body] = chain
        return self._chains[body]

    def _check(self, tdb: np.ndarray) -> None:
        lo, hi = self.coverage_tdb_s
        if tdb.size and (tdb.min() < lo or tdb.max() > hi or np.isnan(tdb).any()):
            from marsrelay.geometry.time import tdb_to_utc

            raise EphemerisCoverageError(
                f"{self.name} covers {tdb_to_utc(lo)} to {tdb_to_utc(hi)}; asked for "
                f"{tdb_to_utc(float(np.nanmin(tdb)))} to {tdb_to_utc(float(np.nanmax(tdb)))}. "
                "Choose times inside that span or another ephemeris."
            )

    def _barycentric(self, body: str, tdb: np.ndarray, velocity: bool):
        pos = np.zeros((tdb.size, 3))
        vel = np.zeros((tdb.size, 3))
        if body == "ssb":
            return pos, vel
        whole = np.floor(tdb / DAY_S)
        jd1, jd2 = J2000_JD + whole, (tdb - whole * DAY_S) / DAY_S  # two-part JD, full precision
        for seg in self._chain(body):
            if velocity:
                p, v = seg.compute_and_differentiate(jd1, jd2)
                vel += np.asarray(v).T / DAY_S
            else:
                p = seg.compute(jd1, jd2)
            pos += np.asarray(p).T
        return pos, vel


@functools.cache
def load_ephemeris(path: str | None = None) -> Ephemeris | SpkEphemeris:
    """The planetary ephemeris to use: DE421 (``path`` None) or the SPK file at ``path``
    (opened once per process, then shared)."""
    return Ephemeris.de421() if path is None else SpkEphemeris(path)
