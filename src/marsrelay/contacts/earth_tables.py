"""Slowly varying Earth and Mars geometry, tabulated once per span and interpolated.

Earth-link windows need, at every trial time, the barycentric positions of Earth and Mars, the
light time between them and the Earth's orientation (to place stations). Evaluating DE421 and
the IAU 2006/2000A precession-nutation afresh at each of a million trial times would dominate
the cost, so :class:`EarthMarsTables` tabulates them over the span and interpolates:

- Earth, Mars and Sun barycentric states (DE421) every ``step_s`` (3 h), cubic Hermite from
  positions and velocities. The error bound ``h^4 max|x''''| / 384`` is under 2 cm for Earth
  (dominated by the monthly lunar wobble, 4671 km at 2.66e-6 rad/s) and far less for Mars.
- The celestial intermediate pole ``X``, ``Y`` and the CIO locator ``s`` (``erfa.xys06a``,
  IAU 2006/2000A) every day, 10-point Lagrange interpolation onto a 1 h grid (error under
  5e-12 rad over 2030-31 against ``xys06a`` every hour; 8 points: 2e-11, a 2-day grid:
  1e-9), then linear interpolation (error under 5e-11 rad: the 13.66 d term, 1e-6 rad,
  bends by ``h^2 w^2 / 8`` of it). The matrix is ``C2I = (M(X, Y) R3(s))^T`` (IERS
  Conventions 2010, eq. 5.10, as ``erfa.c2ixys``), checked against ``c2i06a`` in the tests.
- The Earth rotation angle ``ERA`` (``erfa.era00`` with UT1 = UTC) from UTC, where
  ``TDB - UTC`` is tabulated with ``step_s`` and interpolated linearly (its 1.7 ms annual
  term makes that exact to 1e-9 s); a leap second inside a table cell is handled exactly.
- The light time from Mars' centre to Earth's centre (converged), 4-point Lagrange: only a
  starting value for each link's own iteration.
- Mars' pole (the rotation model's ``pole_icrf``), linear: it moves 1e-12 rad/s.

Station positions follow :class:`marsrelay.geometry.sites.EarthStation` (no polar motion, UT1 =
UTC), so ``station(t) = C2I(t)^T R3(-ERA(t)) p_itrs = M(X, Y) R3(-(ERA - s)) p_itrs``.
"""

from __future__ import annotations

import math
import warnings

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


def _cell(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Grid cells ``int(x)`` kept within ``[lo, hi]`` (``np.clip`` without its overhead)."""
    i = x.astype(np.int64)
    np.maximum(i, lo, out=i)
    np.minimum(i, hi, out=i)
    return i


class _Hermite:
    """Cubic Hermite interpolation on a uniform grid from positions ``p`` and velocities ``v``
    ``(3, G)``, kept as per-cell polynomial coefficients in ``u`` (the fraction of the cell):
    ``x(u) = c0 + u (c1 + u (c2 + u c3))``; results come as ``(3, N)`` rows."""

    def __init__(self, t0: float, h: float, p: np.ndarray, v: np.ndarray) -> None:
        self.t0, self.h = t0, h
        d = p[:, 1:] - p[:, :-1]
        hv0, hv1 = h * v[:, :-1], h * v[:, 1:]
        # rows 0-2: c0, 3-5: c1, 6-8: c2, 9-11: c3
        self.coef = np.concatenate([p[:, :-1], hv0, 3.0 * d - 2.0 * hv0 - hv1,
                                    hv0 + hv1 - 2.0 * d])

    def __call__(self, t: np.ndarray, velocity: bool = True):
        x = (t - self.t0) / self.h
        i = _cell(x, 0, self.coef.shape[1] - 1)
        u = x - i
        c = self.coef.take(i, axis=1)
        c0, c1, c2, c3 = c[0:3], c[3:6], c[6:9], c[9:12]
        pos = c0 + u * (c1 + u * (c2 + u * c3))
        if not velocity:
            return pos, None
        vel = (c1 + u * (2.0 * c2 + (3.0 * u) * c3)) * (1.0 / self.h)
        return pos, vel


class _Linear:
    """Linear interpolation on a uniform grid: values ``y`` ``(c, G)`` -> ``(c, N)``."""

    def __init__(self, t0: float, h: float, y: np.ndarray) -> None:
        self.t0, self.h = t0, h
        self.y0, self.dy = y[:, :-1].copy(), np.diff(y, axis=1)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        x = (t - self.t0) / self.h
        i = _cell(x, 0, self.dy.shape[1] - 1)
        return self.y0.take(i, axis=1) + (x - i) * self.dy.take(i, axis=1)


class _Lagrange4:
    """4-point Lagrange interpolation on a uniform grid: values ``y`` ``(c, G)`` -> ``(c, N)``."""

    def __init__(self, t0: float, h: float, y: np.ndarray) -> None:
        self.t0, self.h, self.y = t0, h, y

    def __call__(self, t: np.ndarray) -> np.ndarray:
        x = (t - self.t0) / self.h
        i = _cell(x, 1, self.y.shape[1] - 3)
        u = x - i
        um, u1, u2 = u + 1.0, u - 1.0, u - 2.0
        a = u * u1
        b = um * u2
        out = (-a * u2 / 6.0) * self.y.take(i - 1, axis=1)
        out += (b * u1 / 2.0) * self.y.take(i, axis=1)
        out += (-b * u / 2.0) * self.y.take(i + 1, axis=1)
        out += (a * um / 6.0) * self.y.take(i + 2, axis=1)
        return out


def _lagrange(t0: float, h: float, y: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    """``n``-point Lagrange interpolation of ``y`` ``(c, G)`` (uniform grid from ``t0``, step
    ``h``) at ``t``; for tables built once (not the fast path)."""
    x = (t - t0) / h
    i0 = np.clip(np.floor(x).astype(np.int64) - (n // 2 - 1), 0, y.shape[1] - n)
    out = np.zeros((y.shape[0], t.size))
    for j in range(n):
        w = np.ones(t.size)
        for m in range(n):
            if m != j:
                w *= (x - (i0 + m)) / (j - m)
        out += w * y[:, i0 + j]
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
    ) -> None:
        eph = ephemeris or Ephemeris.de421()
        self.ephemeris = eph
        self.rotation = rotation
        lo = t0_s - 3 * step_s
        hi = t1_s + MAX_LIGHT_TIME_S + 3 * step_s
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
        self.pole = _Linear(lo, step_s, rotation.pole_icrf(grid).T.copy())
        # Earth orientation: X, Y, s daily, 10-point Lagrange onto 1 h, linear in between.
        day = 86400.0
        d0 = lo - 5 * day
        dgrid = d0 + day * np.arange(math.ceil((hi - d0) / day) + 6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", erfa.ErfaWarning)
            tt1, tt2 = tdb_to_tt_jd(dgrid)
            xys = np.stack(erfa.xys06a(tt1, tt2))
        n_fine = math.ceil((hi - lo) / 3600.0) + 1
        self._xys_fine = _lagrange(d0, day, xys, lo + 3600.0 * np.arange(n_fine), 10)
        self._xys_slope = np.diff(self._xys_fine, axis=1)
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
        i = _cell(x, 0, len(self._off_grid) - 2)
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

    def _pole_xys(self, t_s: np.ndarray):
        """CIP ``X``, ``Y`` (rad), CIO locator ``s`` (rad) at TDB ``t_s``, with ``Z = sqrt(1 -
        X^2 - Y^2)`` and ``a = 1 / (1 + Z)``."""
        x = (t_s - self._grid_t0) / 3600.0
        i = _cell(x, 0, self._xys_slope.shape[1] - 1)
        u = x - i
        f, d = self._xys_fine, self._xys_slope
        cx = f[0].take(i) + u * d[0].take(i)
        cy = f[1].take(i) + u * d[1].take(i)
        cs = f[2].take(i) + u * d[2].take(i)
        z = np.sqrt(1.0 - (cx * cx + cy * cy))
        return cx, cy, cs, z, 1.0 / (1.0 + z)

    def c2i(self, t_s: np.ndarray) -> np.ndarray:
        """Celestial-to-intermediate matrices at TDB ``t_s`` as ``(9, N)`` row-major rows:
        ``(M R3(s))^T``, ``M = [[1 - a X^2, -a X Y, X], [-a X Y, 1 - a Y^2, Y], [-X, -Y,
        Z]]``."""
        cx, cy, cs, z, a = self._pole_xys(np.asarray(t_s, float))
        c, sn = np.cos(cs), np.sin(cs)
        m00, m01, m11 = 1.0 - a * cx * cx, -a * cx * cy, 1.0 - a * cy * cy
        # Q = M R3(s): its columns are C2I's rows
        return np.stack([c * m00 - sn * m01, c * m01 - sn * m11, sn * cy - c * cx,
                         sn * m00 + c * m01, sn * m01 + c * m11, -sn * cx - c * cy,
                         cx, cy, z])

    def station(
        self, t_s: np.ndarray, p_itrs_km: np.ndarray, up_itrs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Geocentric ICRF position (km), velocity (km/s), up unit vector and its rate (1/s) of
        stations at TDB ``t_s`` ``(N,)``, as ``(3, N)`` rows. ``p_itrs_km``/``up_itrs`` are the
        stations' Earth-fixed position and up vector, ``(3, N)`` or ``(3,)``.

        ``C2I^T R3(-ERA) v = M R3(-(ERA - s)) v``: with ``q = R3(-(ERA - s)) v`` and ``w = X q0
        + Y q1``, ``M q = (q0 + X (q2 - a w), q1 + Y (q2 - a w), Z q2 - w)``. The rotation is
        about the CIP, ``k = (X, Y, Z)`` in the GCRS, so ``d/dt (M q) = w_E k x (M q)`` (the
        pole's own drift, 1e-11 rad/s, is left out)."""
        t_s = np.asarray(t_s, float)
        cx, cy, cs, z, a = self._pole_xys(t_s)
        th = self.era(t_s) - cs
        c, sn = np.cos(th), np.sin(th)
        p = np.broadcast_to(np.asarray(p_itrs_km, float).reshape(3, -1), (3, t_s.size))
        u = np.broadcast_to(np.asarray(up_itrs, float).reshape(3, -1), (3, t_s.size))
        w_e = ERA_RATE_RAD_S
        kx, ky, kz = w_e * cx, w_e * cy, w_e * z

        def to_gcrs(v):
            q0 = c * v[0] - sn * v[1]
            q1 = sn * v[0] + c * v[1]
            w = cx * q0 + cy * q1
            k = v[2] - a * w
            out = np.empty((3, t_s.size))
            out[0] = q0 + cx * k
            out[1] = q1 + cy * k
            out[2] = z * v[2] - w
            return out

        def spin(x):
            out = np.empty_like(x)
            out[0] = ky * x[2] - kz * x[1]
            out[1] = kz * x[0] - kx * x[2]
            out[2] = kx * x[1] - ky * x[0]
            return out

        pos, up = to_gcrs(p), to_gcrs(u)
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
