"""Slowly varying Earth and Mars geometry, tabulated once per span and interpolated.

Earth-link windows need, at every trial time, the barycentric positions of Earth and Mars, the
light time between them and the Earth's orientation (to place stations). Evaluating DE421 and
the IAU 2006/2000A precession-nutation afresh at each of a million trial times would dominate
the cost, so :class:`EarthMarsTables` tabulates them over the span and interpolates:

- Earth, Mars and Sun barycentric states (DE421) every ``step_s`` (3 h), cubic Hermite from
  positions and velocities. The error bound ``h^4 max|x''''| / 384`` is under 2 cm for Earth
  (dominated by the monthly lunar wobble, 4671 km at 2.66e-6 rad/s) and far less for Mars.
- The celestial-to-intermediate matrix ``C2I`` (``erfa.c2i06a``, IAU 2006/2000A) every 6 h,
  4-point Lagrange interpolation of its elements onto a 1 h grid, then linear interpolation:
  error under 5e-11 rad (largest short nutation term: 1e-6 rad at 13.66 d), checked against
  ``c2i06a`` in the tests.
- The Earth rotation angle ``ERA`` (``erfa.era00`` with UT1 = UTC) from UTC, where
  ``TDB - UTC`` is tabulated with ``step_s`` and interpolated linearly (its 1.7 ms annual
  term makes that exact to 1e-9 s); a leap second inside a table cell is handled exactly.
- The light time from Mars' centre to Earth's centre (converged), 4-point Lagrange: only a
  starting value for each link's own iteration.
- Mars' pole (the rotation model's ``pole_icrf``), linear: it moves 1e-12 rad/s.

Station positions follow :class:`marsrelay.geometry.sites.EarthStation` (no polar motion, UT1 =
UTC), so
``station(t) = C2I(t)^T R3(-ERA(t)) p_itrs``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import erfa
import numpy as np

from marsrelay.constants import C_KM_S
from marsrelay.errors import EphemerisCoverageError, InputError
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.rotation import RotationModel
from marsrelay.geometry.time import tdb_to_tt_jd, tdb_to_utc, tdb_to_utc_jd

__all__ = ["ERA_RATE_RAD_S", "MAX_LIGHT_TIME_S", "EarthMarsTables"]

#: Earth rotation angle rate, rad per UT1 second (IERS 2010 / ``erfa.era00``).
ERA_RATE_RAD_S: float = 2.0 * math.pi * 1.00273781191135448 / 86400.0

#: Upper bound of the Earth-Mars one-way light time, s (401e6 km / c = 1338 s, rounded up).
MAX_LIGHT_TIME_S: float = 1400.0

_DJ00 = 2451545.0


@dataclass(frozen=True)
class _Hermite:
    """Cubic Hermite interpolation on a uniform grid; positions ``p`` and velocities ``v`` are
    stored as ``(3, G)`` rows, results come as ``(3, N)`` rows."""

    t0: float
    h: float
    p: np.ndarray
    v: np.ndarray

    def __call__(self, t: np.ndarray, velocity: bool = True):
        x = (t - self.t0) / self.h
        i = np.clip(x.astype(np.int64), 0, self.p.shape[1] - 2)
        u = x - i
        p0, p1 = self.p.take(i, axis=1), self.p.take(i + 1, axis=1)
        v0, v1 = self.v.take(i, axis=1), self.v.take(i + 1, axis=1)
        u2 = u * u
        u3 = u2 * u
        c = u3 - u2
        b1 = 3.0 * u2 - 2.0 * u3  # weight of p1 (p0 gets 1 - b1)
        pos = p0 + b1 * (p1 - p0) + (self.h * (c - u2 + u)) * v0 + (self.h * c) * v1
        if not velocity:
            return pos, None
        db1 = (6.0 * u - 6.0 * u2) / self.h
        vel = db1 * (p1 - p0) + (3.0 * u2 - 4.0 * u + 1.0) * v0 + (3.0 * u2 - 2.0 * u) * v1
        return pos, vel


@dataclass(frozen=True)
class _Lagrange4:
    """4-point Lagrange interpolation on a uniform grid: values ``y`` ``(c, G)`` -> ``(c, N)``."""

    t0: float
    h: float
    y: np.ndarray

    def __call__(self, t: np.ndarray) -> np.ndarray:
        x = (t - self.t0) / self.h
        i = np.clip(x.astype(np.int64), 1, self.y.shape[1] - 3)
        u = x - i
        um, u1, u2 = u + 1.0, u - 1.0, u - 2.0
        a = u * u1
        b = um * u2
        out = (-a * u2 / 6.0) * self.y.take(i - 1, axis=1)
        out += (b * u1 / 2.0) * self.y.take(i, axis=1)
        out += (-b * u / 2.0) * self.y.take(i + 1, axis=1)
        out += (a * um / 6.0) * self.y.take(i + 2, axis=1)
        return out


class EarthMarsTables:
    """Tabulated Earth/Mars/Sun states, Earth orientation and light time over a TDB span.

    ``t0_s``/``t1_s`` bound the *send* times that will be asked for; the tables reach
    ``MAX_LIGHT_TIME_S`` plus two grid steps beyond, and raise
    :class:`~marsrelay.errors.InputError` if the ephemeris does not cover that.
    """

    def __init__(
        self,
        t0_s: float,
        t1_s: float,
        rotation: RotationModel,
        ephemeris: Ephemeris | None = None,
        step_s: float = 10800.0,
        c2i_step_s: float = 21600.0,
    ) -> None:
        eph = ephemeris or Ephemeris.de421()
        self.ephemeris = eph
        self.rotation = rotation
        lo = t0_s - 3 * max(step_s, c2i_step_s)
        hi = t1_s + MAX_LIGHT_TIME_S + 3 * max(step_s, c2i_step_s)
        cov_lo, cov_hi = eph.coverage_tdb_s
        if t0_s < cov_lo or t1_s + MAX_LIGHT_TIME_S > cov_hi:
            raise InputError(
                f"the span {tdb_to_utc(t0_s)} .. {tdb_to_utc(t1_s)} plus the Earth-Mars light "
                f"time is not inside the {eph.name} ephemeris ({tdb_to_utc(cov_lo)} .. "
                f"{tdb_to_utc(cov_hi)})",
                field="scenario.start/end",
                allowed=f"a span ending {MAX_LIGHT_TIME_S:.0f} s before {tdb_to_utc(cov_hi)}",
            )
        lo, hi = max(lo, cov_lo), min(hi, cov_hi)
        self.span_tdb_s = (lo, hi)
        n = math.ceil((hi - lo) / step_s) + 1
        grid = lo + step_s * np.arange(n)
        grid[-1] = min(grid[-1], cov_hi)
        try:
            e_p, e_v = eph.state_km("earth", grid)
            m_p, m_v = eph.state_km("mars", grid)
            s_p, s_v = eph.state_km("sun", grid)
        except EphemerisCoverageError as exc:  # pragma: no cover - guarded above
            raise InputError(str(exc)) from None
        self.earth = _Hermite(lo, step_s, e_p.T.copy(), e_v.T.copy())
        self.mars = _Hermite(lo, step_s, m_p.T.copy(), m_v.T.copy())
        self.sun = _Hermite(lo, step_s, s_p.T.copy(), s_v.T.copy())
        # Light time Mars centre (at t) -> Earth centre (at t + tau), converged.
        tau = np.linalg.norm(e_p - m_p, axis=1) / C_KM_S
        for _ in range(4):
            ep = eph.position_km("earth", grid + tau)  # inside coverage: hi has the margin
            tau = np.linalg.norm(ep - m_p, axis=1) / C_KM_S
        self.light_time = _Lagrange4(lo, step_s, tau[None, :])
        self.pole = _Lagrange4(lo, step_s, rotation.pole_icrf(grid).T.copy())
        # Earth orientation.
        nc = math.ceil((hi - lo) / c2i_step_s) + 1
        cgrid = lo + c2i_step_s * np.arange(nc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", erfa.ErfaWarning)
            tt1, tt2 = tdb_to_tt_jd(cgrid)
            c2i = erfa.c2i06a(tt1, tt2).reshape(-1, 9)
        # 4-point Lagrange from the 6 h grid onto a 1 h grid, then linear interpolation (the
        # fast path: linear error on 1 h < 5e-11 rad, as in marsrelay.geometry.sites).
        fine = _Lagrange4(lo, c2i_step_s, c2i.T.copy())
        n_fine = math.ceil((hi - lo) / 3600.0) + 1
        self._c2i_fine = fine(lo + 3600.0 * np.arange(n_fine))
        u1, u2 = tdb_to_utc_jd(grid)
        self._off_grid = grid - ((u1 - _DJ00) + u2) * 86400.0  # TDB - UTC, s
        self._grid_t0, self._grid_h = lo, step_s
        self._leap_cells = np.flatnonzero(np.abs(np.diff(self._off_grid)) > 0.5)
        dist = np.linalg.norm(e_p - m_p, axis=1)
        #: Smallest Earth-Mars distance over the span (km, 1000 km margin for interpolation).
        self.min_distance_km = float(dist.min()) - 1000.0
        rel_speed = np.linalg.norm(e_v - m_v, axis=1)
        #: Bound of |v_earth - v_mars| plus a station's rotation speed (km/s, 1 km/s margin).
        self.max_rel_speed_km_s = float(rel_speed.max()) + 0.5 + 1.0

    def era(self, t_s: np.ndarray) -> np.ndarray:
        """Earth rotation angle (rad, not reduced to [0, 2 pi)) at TDB ``t_s``, UT1 = UTC."""
        x = (t_s - self._grid_t0) / self._grid_h
        i = np.clip(x.astype(np.int64), 0, len(self._off_grid) - 2)
        o0, o1 = self._off_grid.take(i), self._off_grid.take(i + 1)
        ut_days = (t_s - (o0 + (x - i) * (o1 - o0))) / 86400.0
        if self._leap_cells.size:
            bad = np.isin(i, self._leap_cells)
            if bad.any():
                u1, u2 = tdb_to_utc_jd(t_s[bad])
                ut_days = ut_days.copy()
                ut_days[bad] = (u1 - _DJ00) + u2
        # erfa.era00: 2 pi (frac(d) + 0.7790572732640 + 0.00273781191135448 d), d = UT1 - J2000.
        return (2.0 * math.pi) * ((ut_days - np.floor(ut_days)) + 0.7790572732640
                                  + 0.00273781191135448 * ut_days)

    def c2i(self, t_s: np.ndarray) -> np.ndarray:
        """Celestial-to-intermediate matrices at TDB ``t_s`` as ``(9, N)`` row-major rows."""
        x = (t_s - self._grid_t0) / 3600.0
        i = np.clip(x.astype(np.int64), 0, self._c2i_fine.shape[1] - 2)
        a = self._c2i_fine.take(i, axis=1)
        return a + (x - i) * (self._c2i_fine.take(i + 1, axis=1) - a)

    def station(
        self, t_s: np.ndarray, p_itrs_km: np.ndarray, up_itrs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Geocentric ICRF position (km), velocity (km/s), up unit vector and its rate (1/s) of
        stations at TDB ``t_s`` ``(N,)``, as ``(3, N)`` rows. ``p_itrs_km``/``up_itrs`` are the
        stations' Earth-fixed position and up vector, ``(3, N)`` or ``(3,)``."""
        era = self.era(t_s)
        c, s = np.cos(era), np.sin(era)
        m = self.c2i(t_s)  # (9, N): C2I row-major
        p = np.broadcast_to(np.asarray(p_itrs_km, float).reshape(3, -1), (3, t_s.size))
        u = np.broadcast_to(np.asarray(up_itrs, float).reshape(3, -1), (3, t_s.size))
        w = ERA_RATE_RAD_S

        def to_icrf(x0, x1, x2):  # C2I^T x
            return np.stack([m[0] * x0 + m[3] * x1 + m[6] * x2,
                             m[1] * x0 + m[4] * x1 + m[7] * x2,
                             m[2] * x0 + m[5] * x1 + m[8] * x2])

        # R3(-era) x = (c x0 - s x1, s x0 + c x1, x2). The rotation is about the CIP, whose
        # GCRS direction is C2I's third row: d/dt (C2I^T R3(-era) x) = w k x (C2I^T R3(-era) x)
        # (C2I's own drift, 1e-11 rad/s, is left out).
        pos = to_icrf(c * p[0] - s * p[1], s * p[0] + c * p[1], p[2])
        up = to_icrf(c * u[0] - s * u[1], s * u[0] + c * u[1], u[2])
        k0, k1, k2 = w * m[6], w * m[7], w * m[8]

        def spin(x):
            return np.stack([k1 * x[2] - k2 * x[1], k2 * x[0] - k0 * x[2], k0 * x[1] - k1 * x[0]])

        return pos, spin(pos), up, spin(up)

    def sun_earth_mars_rad(self, t_s: np.ndarray) -> np.ndarray:
        """Sun-Earth-Mars angle (rad) for a signal leaving Mars' centre at TDB ``t_s``: seen
        from Earth's centre at reception, Mars where it was at ``t_s``, the Sun light-time
        corrected (SPICE 'CN' from Earth)."""
        tr = t_s + self.light_time(t_s)[0]
        e, _ = self.earth(tr, velocity=False)
        m, _ = self.mars(t_s, velocity=False)
        sun, _ = self.sun(tr, velocity=False)
        lt_sun = np.sqrt(((sun - e) ** 2).sum(0)) / C_KM_S
        sun, _ = self.sun(tr - lt_sun, velocity=False)
        a, b = sun - e, m - e
        cross = np.cross(a, b, axis=0)
        return np.arctan2(np.sqrt((cross**2).sum(0)), (a * b).sum(0))
