"""Orbiter trajectories: mean elements with J2 secular rates, NAIF SPK kernels, CCSDS OEM files.

Every trajectory answers ``state_km(tdb_s) -> (position_km, velocity_km_s)``: Mars-centred ICRF
states, arrays of shape ``(N, 3)``, at TDB seconds past J2000.

Mean-element propagation follows the project conventions (Vallado 4th ed., section 9.6)::

    n0 = sqrt(GM / a^3),  p = a (1 - e^2),  k = J2 (R / p)^2
    dRAAN/dt = -1.5 n0 k cos i
    dargp/dt = 0.75 n0 k (4 - 5 sin^2 i)
    dM/dt    = n0 (1 + 0.75 k sqrt(1 - e^2) (2 - 3 sin^2 i))

with a, e, i constant; elements are referred to ``MARS_EQ_J2000`` (see :mod:`marsrelay.rotation`).
The velocity is the exact time derivative of that position (secular rates included), so an SPK
written from these states reproduces the positions when interpolated.

Worked example (a 400 km circular TGO-like orbit)::

    >>> from marsrelay.orbits import MeanElements, J2Orbit
    >>> orbit = J2Orbit(MeanElements(epoch_tdb_s=0.0, a_km=3796.19, e=0.0, i_deg=74.0,
    ...                              raan_deg=0.0, argp_deg=0.0, mean_anomaly_deg=0.0))
    >>> round(orbit.period_s / 60.0, 1)
    121.9
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from marsrelay.constants import (
    MARS_EQ_RADIUS_KM,
    MARS_GM_KM3_S2,
    MARS_J2,
    MARS_J2_REF_RADIUS_KM,
)
from marsrelay.rotation import RotationModel, rotation_model

__all__ = [
    "J2Orbit",
    "J2Rates",
    "MeanElements",
    "OemTrajectory",
    "SpkTrajectory",
    "Trajectory",
    "TrajectoryError",
    "j2_secular_rates",
    "kepler_eccentric_anomaly",
    "solve_kepler",
    "two_body_derivative_norm",
    "write_oem",
]

_DEG = math.pi / 180.0


class TrajectoryError(ValueError):
    """A trajectory that cannot be built or evaluated (says what and how to fix it)."""


@runtime_checkable
class Trajectory(Protocol):
    """Anything that gives Mars-centred ICRF states at TDB seconds past J2000."""

    def state_km(self, tdb_s: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(position_km (N, 3), velocity_km_s (N, 3))``."""
        ...

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        """``(first, last)`` TDB seconds with valid states (infinite for analytic orbits)."""
        ...


@dataclass(frozen=True)
class MeanElements:
    """Mean classical elements at an epoch, in ``MARS_EQ_J2000``; km and degrees."""

    epoch_tdb_s: float
    a_km: float
    e: float
    i_deg: float
    raan_deg: float
    argp_deg: float
    mean_anomaly_deg: float

    def validate(self) -> None:
        """Raise :class:`TrajectoryError` if the orbit is not bound or hits Mars."""
        if not (0.0 <= self.e < 1.0):
            raise TrajectoryError(f"eccentricity e = {self.e} must satisfy 0 <= e < 1")
        if not (0.0 <= self.i_deg <= 180.0):
            raise TrajectoryError(f"inclination i_deg = {self.i_deg} must be in [0, 180]")
        periapsis_km = self.a_km * (1.0 - self.e)
        if periapsis_km <= MARS_EQ_RADIUS_KM:
            raise TrajectoryError(
                f"periapsis radius {periapsis_km:.1f} km (a_km * (1 - e)) is inside Mars "
                f"(equatorial radius {MARS_EQ_RADIUS_KM} km): raise a_km or lower e"
            )


@dataclass(frozen=True)
class J2Rates:
    """Secular rates of a mean orbit: rad/s."""

    raan_rad_s: float
    argp_rad_s: float
    mean_anomaly_rad_s: float
    mean_motion_rad_s: float


def j2_secular_rates(
    a_km: float,
    e: float,
    i_deg: float,
    gm_km3_s2: float = MARS_GM_KM3_S2,
    j2: float = MARS_J2,
    r_ref_km: float = MARS_J2_REF_RADIUS_KM,
) -> J2Rates:
    """J2 secular rates of RAAN, argument of periapsis and mean anomaly (Vallado 9.6)."""
    n0 = math.sqrt(gm_km3_s2 / a_km**3)
    p = a_km * (1.0 - e * e)
    k = j2 * (r_ref_km / p) ** 2
    si2 = math.sin(i_deg * _DEG) ** 2
    return J2Rates(
        raan_rad_s=-1.5 * n0 * k * math.cos(i_deg * _DEG),
        argp_rad_s=0.75 * n0 * k * (4.0 - 5.0 * si2),
        mean_anomaly_rad_s=n0 * (1.0 + 0.75 * k * math.sqrt(1.0 - e * e) * (2.0 - 3.0 * si2)),
        mean_motion_rad_s=n0,
    )


def kepler_eccentric_anomaly(
    mean_anomaly_rad: np.ndarray, e: float, tol_rad: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(E, sin E, cos E)`` with ``E - e sin E = M`` to ``tol_rad`` (vectorised Halley
    iteration from a second-order series start). ``E`` is reduced to ``[-pi, pi)`` for
    ``e > 0`` (near 1e4 rad a float cannot resolve 1e-12 rad); the sine and cosine are those
    of the last iterate."""
    m = np.asarray(mean_anomaly_rad, dtype=float)
    if e != 0.0:
        m = m - (2.0 * math.pi) * np.floor(m / (2.0 * math.pi) + 0.5)
    sm, cm = np.sin(m), np.cos(m)
    if e == 0.0:
        return m, sm, cm
    ecc = m + e * sm * (1.0 + e * cm) if e < 0.8 else m + e * np.sign(sm)
    s, c = sm, cm
    for _ in range(30):
        s, c = np.sin(ecc), np.cos(ecc)
        f = ecc - e * s - m
        fp = 1.0 - e * c
        step = f / (fp - 0.5 * f * e * s / fp)
        ecc = ecc - step
        if np.abs(step).max(initial=0.0) < tol_rad:
            break
    return ecc, s, c


def solve_kepler(mean_anomaly_rad: np.ndarray, e: float, tol_rad: float = 1e-12) -> np.ndarray:
    """Eccentric anomaly E in ``[-pi, pi)`` with ``E - e sin E = M`` to ``tol_rad``."""
    return kepler_eccentric_anomaly(mean_anomaly_rad, e, tol_rad)[0]


@dataclass
class J2Orbit:
    """Two-body motion plus J2 secular drift of RAAN, argp and mean anomaly."""

    elements: MeanElements
    rotation: RotationModel = field(default_factory=lambda: rotation_model("iau2009"))
    gm_km3_s2: float = MARS_GM_KM3_S2

    def __post_init__(self) -> None:
        self.elements.validate()
        el = self.elements
        self.rates = j2_secular_rates(el.a_km, el.e, el.i_deg, self.gm_km3_s2)
        self._eq_to_icrf = self.rotation.mars_eq_j2000().T

    @property
    def period_s(self) -> float:
        """Anomalistic period with the J2 mean-motion correction, s."""
        return 2.0 * math.pi / self.rates.mean_anomaly_rad_s

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mars-centred ICRF position (km) and velocity (km/s), each ``(N, 3)``."""
        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        r, v = self.state_rows_km(t, velocity=True)
        assert v is not None
        # C-contiguous (N, 3): SpiceyPy and other C interfaces reject strided rows
        return np.ascontiguousarray(r.T), np.ascontiguousarray(v.T)

    def state_rows_km(
        self, tdb_s: np.ndarray, velocity: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Position (km) and velocity (km/s; ``None`` unless ``velocity``) as ``(3, N)`` rows.

        The layout the contact finder's hot path wants (component rows are several times
        faster than ``(N, 3)`` at a million times); :meth:`state_km` is its transpose.
        """
        el, rt = self.elements, self.rates
        dt = np.asarray(tdb_s, dtype=float) - el.epoch_tdb_s
        raan = el.raan_deg * _DEG + rt.raan_rad_s * dt
        argp = el.argp_deg * _DEG + rt.argp_rad_s * dt
        e, a = el.e, el.a_km
        m = el.mean_anomaly_deg * _DEG + rt.mean_anomaly_rad_s * dt
        cn, sn = np.cos(raan), np.sin(raan)
        ci, si = math.cos(el.i_deg * _DEG), math.sin(el.i_deg * _DEG)
        mat = self._eq_to_icrf
        if e == 0.0 and not velocity:
            # Circular: the argument of latitude argp + M gives the position directly.
            cu, su = np.cos(argp + m), np.sin(argp + m)
            r = np.stack([a * (cn * cu - sn * su * ci), a * (sn * cu + cn * su * ci), a * su * si])
            return mat @ r, None
        _, sin_e, cos_e = kepler_eccentric_anomaly(m, e)
        sq = math.sqrt(1.0 - e * e)
        # Perifocal position, and its time derivative through M only.
        xp = a * (cos_e - e)
        yp = (a * sq) * sin_e
        co, so = np.cos(argp), np.sin(argp)
        # Columns P (periapsis) and Q of R3(-raan) R1(-i) R3(-argp).
        px, py, pz = cn * co - sn * so * ci, sn * co + cn * so * ci, so * si
        qx, qy, qz = -cn * so - sn * co * ci, -sn * so + cn * co * ci, co * si
        r = np.stack([px * xp + qx * yp, py * xp + qy * yp, pz * xp + qz * yp])
        if not velocity:
            return mat @ r, None
        edot = rt.mean_anomaly_rad_s / (1.0 - e * cos_e)
        vxp = -a * sin_e * edot
        vyp = (a * sq) * cos_e * edot
        v = np.stack([px * vxp + qx * vyp, py * vxp + qy * vyp, pz * vxp + qz * vyp])
        # Rotation of the apsides about the orbit normal h, and of the node about z.
        hx, hy = sn * si, -cn * si
        wa, wn = rt.argp_rad_s, rt.raan_rad_s
        v[0] += wa * (hy * r[2] - ci * r[1]) - wn * r[1]
        v[1] += wa * (ci * r[0] - hx * r[2]) + wn * r[0]
        v[2] += wa * (hx * r[1] - hy * r[0])
        return mat @ r, mat @ v


# ---------------------------------------------------------------------------------------------
# SPK trajectories: SPICE states sampled on a grid, interpolated by piecewise Hermite polynomials


@functools.cache
def _two_body_series(order: int) -> tuple[tuple[dict, dict], ...]:
    """``(F_n, G_n)`` for n = 0..order with ``d^n r / dt^n = F_n r + G_n v`` on a Kepler orbit.

    Polynomials in ``u = GM / r^3``, ``p = (r . v) / r^2``, ``q = v^2 / r^2 - u`` as
    ``{(i, j, k): coefficient}`` of ``u^i p^j q^k`` (the f and g series; Danby, "Fundamentals
    of Celestial Mechanics", 2nd ed., section 6.9). Along the orbit ``u' = -3 u p``,
    ``p' = q - 2 p^2`` and ``q' = -p (u + 2 q)``; differentiating ``F r + G v`` with
    ``r'' = -u r`` gives ``F_{n+1} = F_n' - u G_n`` and ``G_{n+1} = F_n + G_n'`` from
    ``F_0 = 1, G_0 = 0``. For instance the fourth derivative is
    ``u (u + 3 q - 15 p^2) r + 6 u p v``.
    """

    def deriv(poly: dict) -> dict:
        out: dict = {}

        def put(m: tuple[int, int, int], c: float) -> None:
            out[m] = out.get(m, 0.0) + c

        for (i, j, k), c in poly.items():
            if i:
                put((i, j + 1, k), -3.0 * i * c)
            if j:
                put((i, j - 1, k + 1), j * c)
                put((i, j + 1, k), -2.0 * j * c)
            if k:
                put((i + 1, j + 1, k - 1), -k * c)
                put((i, j + 1, k), -2.0 * k * c)
        return out

    def combine(a: dict, b: dict, scale: float) -> dict:
        out = dict(a)
        for m, c in b.items():
            out[m] = out.get(m, 0.0) + scale * c
        return {m: c for m, c in out.items() if c != 0.0}

    series: list[tuple[dict, dict]] = [({(0, 0, 0): 1.0}, {})]
    for _ in range(order):
        f, g = series[-1]
        g_times_u = {(i + 1, j, k): c for (i, j, k), c in g.items()}
        series.append((combine(deriv(f), g_times_u, -1.0), combine(f, deriv(g), 1.0)))
    return tuple(series)


def two_body_derivative_norm(
    order: int,
    position_km: np.ndarray,
    velocity_km_s: np.ndarray,
    gm_km3_s2: float = MARS_GM_KM3_S2,
) -> np.ndarray:
    """``|d^n r / dt^n|`` (km/s^n, n = ``order``) of the Kepler orbit through each state;
    positions (km) and velocities (km/s) as ``(3, N)`` rows.

    Exact for two-body motion (the f and g series); for a real orbiter the other forces (J2,
    third bodies) change it by about a percent. :class:`SpkTrajectory` chooses its sampling
    step from it.
    """
    r, v = np.asarray(position_km, float), np.asarray(velocity_km_s, float)
    r2 = np.einsum("i...,i...->...", r, r)
    rv = np.einsum("i...,i...->...", r, v)
    v2 = np.einsum("i...,i...->...", v, v)
    u = gm_km3_s2 / (r2 * np.sqrt(r2))
    p = rv / r2
    q = v2 / r2 - u
    f_poly, g_poly = _two_body_series(order)[order]

    def value(poly: dict) -> np.ndarray:
        out = np.zeros_like(u)
        for (i, j, k), c in poly.items():
            out = out + c * u**i * p**j * q**k
        return out

    f, g = value(f_poly), value(g_poly)
    # |F r + G v|^2 = r^2 (F^2 + 2 F G p + G^2 (q + u))
    return np.sqrt(np.maximum(r2 * (f * f + 2.0 * f * g * p + g * g * (q + u)), 0.0))


def _window_nodes(shift: int) -> np.ndarray:
    """Grid nodes of an interpolation window, in steps from the interval's start: the window
    starts ``shift`` nodes before the interval (1: centred; 0 or 2 at the ends of coverage)."""
    return np.arange(4.0) - shift


@functools.cache
def _hermite_matrix(shift: int) -> np.ndarray:
    """``(8, 8)`` matrix from the window's data (values at its four nodes, then slopes per
    step) to the monomial coefficients (s^0..s^7) of the Hermite polynomial of degree 7, with
    ``s`` the time from the interval's start in steps."""
    x = _window_nodes(shift)
    k = np.arange(8)
    values = x[:, None] ** k[None, :]
    slopes = k[None, :] * x[:, None] ** np.maximum(k[None, :] - 1, 0)
    return np.linalg.inv(np.vstack([values, slopes]))


@functools.cache
def _hermite_error_constant(shift: int) -> float:
    """``max prod (s - s_i)^2 / 8!`` over the interval ``0 <= s <= 1``: 0.3164 / 8! = 7.85e-6
    for a centred window, 0.879 / 8! = 2.18e-5 for the window at an end of coverage."""
    s = np.linspace(0.0, 1.0, 20001)
    return float(np.prod((s[:, None] - _window_nodes(shift)[None, :]) ** 2, axis=1).max()
                 / 40320.0)


class SpkTrajectory:
    """States of one body from a NAIF SPK kernel, relative to Mars (NAIF 499).

    The kernel is loaded into SPICE's kernel pool when the object is made and unloaded by
    :meth:`close` (SPICE's pool is process-global; this class keeps its own file loaded
    only while it lives). Any SPK type SPICE reads is accepted. If the segment is relative to
    another centre, the kernels needed to chain to Mars must be loaded too (``extra_kernels``).

    **Fast path.** :meth:`state_km` does not call SPICE per time. The first time a block of
    the coverage is asked for (blocks of :attr:`BLOCK_S`, one day, from the start of each
    coverage window) SPICE (``spkgeo``) is sampled on a uniform grid over that block; any
    number of times are then interpolated, vectorised, with piecewise Hermite polynomials of
    degree 7 matching position and velocity at the four grid nodes around each time (the
    scheme of SPK type 13 with a window of four). Blocks stay sampled until :meth:`close`.
    Degree 7 rather than cubic: a SPICE call costs 10-20 us, and a cubic Hermite (error
    ``h^4 max|r^(4)| / 384``) would need steps of about a 250th of an orbit, as many calls as
    the contact finder makes at its own times; degree 7 needs about a 40th.

    **Error bound.** A Hermite polynomial of degree 7 through four nodes ``t_i`` errs in
    position by at most ``max|r^(8)| / 8! * max prod (t - t_i)^2``: ``7.85e-6 h^8 max|r^(8)|``
    on the centre interval of a grid of step ``h`` (``2.18e-5 h^8 max|r^(8)|`` in the first
    and last step of a coverage window). Each block's step keeps this below
    :attr:`POSITION_TOLERANCE_KM` (0.1 mm, ten thousand times below the metre the project
    needs), with ``max|r^(8)|`` the exact two-body value (:func:`two_body_derivative_norm`)
    at the window's four nodes times :attr:`DERIVATIVE_MARGIN` (1.5; the maximum between
    nodes and the other forces, J2 and third bodies, add a few percent); rounding adds at
    most 0.1 mm (sampled times are first moved onto the exact grid). That gives a step of
    about 170 s on a 255 x 320 km orbit and 100 s on a 150 x 4500 km one (500 to 900 SPICE
    calls per day); velocities come out within about 1e-8 km/s.
    :meth:`interpolation_bound_km` gives the bound at any time and :meth:`spice_state_km`
    SPICE's own states.

    The bound assumes a smooth trajectory within a block: a kernel that stores an impulsive
    manoeuvre as a velocity step is smoothed over about one grid step there.
    """

    #: Length of the blocks sampled on first use, s.
    BLOCK_S: float = 86400.0
    #: Interpolation error bound for positions, km.
    POSITION_TOLERANCE_KM: float = 1e-7
    #: Factor on the largest two-body 8th derivative at a window's nodes.
    DERIVATIVE_MARGIN: float = 1.5

    def __init__(
        self, path: str | Path, naif_id: int, extra_kernels: Sequence[str | Path] = ()
    ) -> None:
        import spiceypy as sp

        self.path = Path(path)
        if not self.path.is_file():
            raise TrajectoryError(f"SPK file not found: {self.path}")
        self.naif_id = int(naif_id)
        self._files = [str(p) for p in (*extra_kernels, self.path)]
        for f in self._files:
            sp.furnsh(f)
        cover = sp.stypes.SPICEDOUBLE_CELL(2000)
        try:
            sp.spkcov(str(self.path), self.naif_id, cover)
        except sp.stypes.SpiceyError as exc:
            self.close()
            raise TrajectoryError(f"{self.path}: cannot read SPK coverage: {exc}") from exc
        n = sp.wncard(cover)
        if n == 0:
            self.close()
            raise TrajectoryError(f"{self.path}: no data for NAIF id {self.naif_id}")
        self._windows = np.array([sp.wnfetd(cover, i) for i in range(n)], float).reshape(n, 2)
        self._coverage = (float(self._windows[0, 0]), float(self._windows[-1, 1]))
        spans = self._windows[:, 1] - self._windows[:, 0]
        self._n_blocks = np.maximum(np.ceil(spans / self.BLOCK_S), 1).astype(np.int64)
        self._block_base = np.concatenate([[0], np.cumsum(self._n_blocks)[:-1]])
        self._blocks: dict[int, _SampledBlock] = {}
        self._merged: _SampledBlock | None = None

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return self._coverage

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mars-centred ICRF position (km) and velocity (km/s), each ``(N, 3)``, interpolated
        from SPICE's states within :attr:`POSITION_TOLERANCE_KM` (see the class docstring)."""
        r, v = self.state_rows_km(np.asarray(tdb_s, dtype=float))
        assert v is not None
        return np.ascontiguousarray(r.T), np.ascontiguousarray(v.T)

    def state_rows_km(
        self, tdb_s: np.ndarray, velocity: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`state_km` as ``(3, N)`` rows (velocity ``None`` unless ``velocity``)."""
        t = self._checked_times(tdb_s)
        if t.size == 0:
            return np.empty((3, 0)), (np.empty((3, 0)) if velocity else None)
        grid = self._sampled(self._block_ids(t))
        k = np.clip(np.searchsorted(grid.starts, t, side="right") - 1, 0, grid.starts.size - 1)
        h = grid.step[k]
        x = ((t - grid.starts[k]) + grid.start_offset_s[k]) / h  # t - starts[k] is exact
        coef = [np.take(grid.coef[i], k, axis=1) for i in range(8)]  # (3, N) each
        pos = coef[7].copy()
        for i in range(6, -1, -1):
            pos *= x
            pos += coef[i]
        if not velocity:
            return pos, None
        vel = 7.0 * coef[7]
        for i in range(6, 0, -1):
            vel *= x
            vel += i * coef[i]
        vel /= h
        return pos, vel

    def interpolation_bound_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> np.ndarray:
        """Position error bound (km) of the interpolation at each time (see the class
        docstring): at most :attr:`POSITION_TOLERANCE_KM` plus 1e-7 km of rounding."""
        t = self._checked_times(tdb_s)
        grid = self._sampled(self._block_ids(t))
        k = np.clip(np.searchsorted(grid.starts, t, side="right") - 1, 0, grid.starts.size - 1)
        return grid.bound_km[k]

    def spice_state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """SPICE's own states (``spkgeo``, one call per time, so slow), ``(N, 3)`` km, km/s."""
        rows = self._spice_rows(self._checked_times(tdb_s))
        return rows[:3].T, rows[3:].T

    def close(self) -> None:
        """Unload this trajectory's kernels and forget the sampled blocks."""
        import spiceypy as sp

        self._blocks = {}
        self._merged = None
        for f in self._files:
            with contextlib.suppress(Exception):  # unloading an already unloaded file
                sp.unload(f)

    # ------------------------------------------------------------------ internals

    def _spice_rows(self, t: np.ndarray) -> np.ndarray:
        """SPICE states at ``t`` as ``(6, N)`` rows: one call per grid node."""
        import spiceypy as sp

        out = np.empty((t.size, 6))
        try:
            for k, tk in enumerate(t.tolist()):
                out[k] = sp.spkgeo(self.naif_id, tk, "J2000", 499)[0]
        except sp.stypes.SpiceyError as exc:
            raise TrajectoryError(
                f"{self.path}: SPICE cannot give NAIF id {self.naif_id} relative to Mars "
                f"({exc.short or exc})"
            ) from exc
        return np.ascontiguousarray(out.T)

    def _checked_times(self, tdb_s: Sequence[float] | np.ndarray | float) -> np.ndarray:
        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        lo, hi = self._coverage
        if t.size and not (t.min() >= lo and t.max() <= hi):
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} covers TDB {lo:.3f}..{hi:.3f} s past J2000; "
                f"asked for {t.min():.3f}..{t.max():.3f}"
            )
        return t

    def _block_ids(self, t: np.ndarray) -> np.ndarray:
        """Index of the block holding each time (windows' blocks numbered in time order)."""
        w = np.clip(np.searchsorted(self._windows[:, 0], t, side="right") - 1, 0,
                    len(self._windows) - 1)
        gap = t > self._windows[w, 1]
        if gap.any():
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} has no data at TDB "
                f"{float(t[gap][0]):.3f} s past J2000 (between the kernel's coverage windows)"
            )
        j = np.floor((t - self._windows[w, 0]) / self.BLOCK_S).astype(np.int64)
        return self._block_base[w] + np.clip(j, 0, self._n_blocks[w] - 1)

    def _sampled(self, block_ids: np.ndarray) -> _SampledBlock:
        """All sampled blocks merged in time order, after sampling those ``block_ids`` need."""
        need = np.zeros(int(self._n_blocks.sum()), dtype=bool)
        need[block_ids] = True
        missing = [g for g in np.flatnonzero(need).tolist() if g not in self._blocks]
        for g in missing:
            self._blocks[g] = self._sample_block(g)
        if self._merged is None or missing:
            self._merged = _SampledBlock.concat([self._blocks[g] for g in sorted(self._blocks)])
        return self._merged

    def _block_span(self, gid: int) -> tuple[float, float, float, float]:
        """``(start, end)`` of block ``gid`` and of its coverage window, TDB s."""
        w = int(np.searchsorted(self._block_base, gid, side="right") - 1)
        lo, hi = (float(x) for x in self._windows[w])
        j = gid - int(self._block_base[w])
        a = lo + j * self.BLOCK_S
        b = hi if j == self._n_blocks[w] - 1 else min(a + self.BLOCK_S, hi)
        return a, b, lo, hi

    def _initial_step_s(self, t: float) -> float:
        """A first step: the bound over the whole osculating Kepler orbit at ``t``."""
        rows = self._spice_rows(np.array([t]))
        r, v = rows[:3, 0], rows[3:, 0]
        rn = float(np.linalg.norm(r))
        energy = 0.5 * float(v @ v) - MARS_GM_KM3_S2 / rn
        if energy >= 0.0:
            return 60.0
        a = -MARS_GM_KM3_S2 / (2.0 * energy)
        e_vec = np.cross(v, np.cross(r, v)) / MARS_GM_KM3_S2 - r / rn
        e = min(float(np.linalg.norm(e_vec)), 0.999)
        ecc_anomaly = np.linspace(0.0, 2.0 * math.pi, 721)
        radius = a * (1.0 - e * np.cos(ecc_anomaly))
        # Only |r|, r . v and |v| matter: states written in the orbit's own plane.
        rdot = math.sqrt(MARS_GM_KM3_S2 * a) * e * np.sin(ecc_anomaly) / radius
        speed2 = MARS_GM_KM3_S2 * (2.0 / radius - 1.0 / a)
        zero = np.zeros_like(radius)
        pos = np.stack([radius, zero, zero])
        vel = np.stack([rdot, np.sqrt(np.maximum(speed2 - rdot * rdot, 0.0)), zero])
        m8 = float(two_body_derivative_norm(8, pos, vel).max()) * self.DERIVATIVE_MARGIN
        c_mid = _hermite_error_constant(1)
        return float((self.POSITION_TOLERANCE_KM / (c_mid * max(m8, 1e-300))) ** 0.125)

    def _sample_block(self, gid: int) -> _SampledBlock:
        """Sample block ``gid`` with a step that meets the error bound (refined if not)."""
        a, b, lo, hi = self._block_span(gid)
        span = b - a
        h = self._initial_step_s(a)
        for _ in range(8):
            n = max(3, math.ceil(span / max(h, 1e-3)))
            h = span / n
            # one node beyond each end of the block where the coverage allows, so that windows
            # stay centred across blocks
            j = np.arange(-1 if a - h >= lo else 0, (n + 1 if b + h <= hi else n) + 1)
            node_t = a + j * h
            node_t[j == 0], node_t[j == n] = a, b
            rows = self._spice_rows(node_t)
            first = np.arange(n) - j[0]  # node index of each interval's start
            window = np.clip(first - 1, 0, node_t.size - 4)
            shift = first - window
            m8 = two_body_derivative_norm(8, rows[:3], rows[3:])
            m8_window = np.max(np.stack([m8[window + i] for i in range(4)]), axis=0)
            const = np.array([_hermite_error_constant(k) for k in range(3)])[shift]
            bound = const * h**8 * m8_window * self.DERIVATIVE_MARGIN
            worst = float(bound.max())
            if worst <= self.POSITION_TOLERANCE_KM:
                break
            h *= min(0.9, 0.98 * (self.POSITION_TOLERANCE_KM / worst) ** 0.125)
        else:
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} moves too irregularly near TDB {a:.0f} s "
                "to interpolate within the bound"
            )
        # The polynomials place the nodes at exact multiples of h from a; the sampled times
        # a + j h are rounded to 1.2e-7 s (near 1e9 s), 0.4 mm of flight: move each state
        # to its exact grid time, r(t - d) = r(t) - v d (the next term, a d^2 / 2, is 1e-17 km).
        offset = (node_t - a) - j * h  # node time minus grid time; node_t - a is exact
        pos = rows[:3] - rows[3:] * offset
        data = np.concatenate([np.stack([pos[:, window + i] for i in range(4)]),
                               np.stack([h * rows[3:, window + i] for i in range(4)])])
        coef = np.empty((8, 3, n))
        for k in np.unique(shift).tolist():
            m = shift == k
            coef[:, :, m] = np.einsum("ij,jcn->icn", _hermite_matrix(k), data[:, :, m])
        return _SampledBlock(node_t[first], offset[first], np.full(n, h), coef,
                             bound + _ROUNDING_KM)


#: Allowance for rounding in the interpolated positions, km (SPICE's own polynomials, the
#: Hermite sums with coefficients up to ~1e4 km), with the sampled times on the exact grid.
_ROUNDING_KM = 1e-7


@dataclass(frozen=True)
class _SampledBlock:
    """Piecewise polynomials of a sampled grid: per interval its start (TDB s, as sampled)
    and how far that is from the exact grid time (s), step (s), monomial coefficients
    ``coef[i]`` (3, n) of ``s^i`` (``s`` the time from the exact grid time in steps;
    positions in km) and position error bound (km)."""

    starts: np.ndarray
    start_offset_s: np.ndarray
    step: np.ndarray
    coef: np.ndarray
    bound_km: np.ndarray

    @staticmethod
    def concat(blocks: list[_SampledBlock]) -> _SampledBlock:
        """Blocks in time order as one piecewise polynomial."""
        return _SampledBlock(
            np.concatenate([b.starts for b in blocks]),
            np.concatenate([b.start_offset_s for b in blocks]),
            np.concatenate([b.step for b in blocks]),
            np.concatenate([b.coef for b in blocks], axis=2),
            np.concatenate([b.bound_km for b in blocks]),
        )


_OEM_TIME_SYSTEMS = ("UTC", "TDB", "TT")
_OEM_FRAMES = ("ICRF", "EME2000", "J2000")


class OemTrajectory:
    """States from a CCSDS Orbit Ephemeris Message (KVN, CCSDS 502.0-B), Lagrange-interpolated.

    Accepts ``CENTER_NAME = MARS``, ``REF_FRAME`` ICRF or EME2000 (taken as ICRF, as SPICE's
    ``J2000``), ``TIME_SYSTEM`` UTC, TDB or TT; units km and km/s. Several segments are
    concatenated in time order. Interpolation uses ``INTERPOLATION_DEGREE`` (default 7)
    Lagrange polynomials over the nearest points, for position and velocity separately.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise TrajectoryError(f"OEM file not found: {self.path}")
        times: list[float] = []
        rows: list[list[float]] = []
        meta: dict[str, str] = {}
        in_meta = in_cov = False
        degree = 7
        epochs_txt: list[str] = []
        systems: list[str] = []
        for lineno, raw in enumerate(self.path.read_text().splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("COMMENT"):
                continue
            if line == "META_START":
                in_meta, meta = True, {}
                continue
            if line == "META_STOP":
                in_meta = False
                self._check_meta(meta, lineno)
                degree = int(meta.get("INTERPOLATION_DEGREE", degree))
                continue
            if line == "COVARIANCE_START":
                in_cov = True
                continue
            if line == "COVARIANCE_STOP":
                in_cov = False
                continue
            if in_cov:
                continue
            if in_meta or "=" in line:
                key, _, value = line.partition("=")
                meta[key.strip()] = value.strip()
                continue
            parts = line.split()
            if len(parts) not in (7, 10):
                raise TrajectoryError(
                    f"{self.path}:{lineno}: expected 'EPOCH X Y Z X_DOT Y_DOT Z_DOT', got {line!r}"
                )
            epochs_txt.append(parts[0])
            systems.append(meta.get("TIME_SYSTEM", "UTC").upper())
            rows.append([float(v) for v in parts[1:7]])
        if len(rows) < 2:
            raise TrajectoryError(f"{self.path}: fewer than two state lines")
        times = _oem_epochs_to_tdb(epochs_txt, systems)
        order = np.argsort(times, kind="stable")
        self.tdb_s = np.asarray(times)[order]
        keep = np.concatenate([[True], np.diff(self.tdb_s) > 0])  # drop repeated segment edges
        self.tdb_s = self.tdb_s[keep]
        self.states = np.asarray(rows)[order][keep]
        self.degree = max(1, min(degree, len(self.tdb_s) - 1))
        self.object_name = meta.get("OBJECT_NAME", "")

    def _check_meta(self, meta: dict[str, str], lineno: int) -> None:
        center = meta.get("CENTER_NAME", "").upper()
        if center not in ("MARS", "MARS BARYCENTER"):
            raise TrajectoryError(
                f"{self.path}:{lineno}: CENTER_NAME is {center!r}; marsrelay needs MARS"
            )
        frame = meta.get("REF_FRAME", "").upper()
        if frame not in _OEM_FRAMES:
            raise TrajectoryError(
                f"{self.path}:{lineno}: REF_FRAME {frame!r} not supported; use one of "
                f"{', '.join(_OEM_FRAMES)}"
            )
        ts = meta.get("TIME_SYSTEM", "").upper()
        if ts not in _OEM_TIME_SYSTEMS:
            raise TrajectoryError(
                f"{self.path}:{lineno}: TIME_SYSTEM {ts!r} not supported; use one of "
                f"{', '.join(_OEM_TIME_SYSTEMS)}"
            )

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return float(self.tdb_s[0]), float(self.tdb_s[-1])

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        lo, hi = self.coverage_tdb_s
        if t.size and (t.min() < lo - 1e-6 or t.max() > hi + 1e-6):
            raise TrajectoryError(
                f"{self.path}: covers TDB {lo:.3f}..{hi:.3f} s past J2000; asked for "
                f"{t.min():.3f}..{t.max():.3f}"
            )
        n_pts = self.degree + 1
        idx = np.searchsorted(self.tdb_s, t) - n_pts // 2
        idx = np.clip(idx, 0, len(self.tdb_s) - n_pts)
        window = idx[:, None] + np.arange(n_pts)[None, :]
        tw = self.tdb_s[window]  # (N, n)
        # Lagrange basis weights, scaled for conditioning.
        scale = np.maximum(tw[:, -1] - tw[:, 0], 1e-9)[:, None]
        x = (t[:, None] - tw) / scale
        xw = tw / scale
        weights = np.ones_like(tw)
        for j in range(n_pts):
            for m in range(n_pts):
                if m != j:
                    weights[:, j] *= x[:, m] / (xw[:, j] - xw[:, m])
        states = np.einsum("nk,nkc->nc", weights, self.states[window])
        return states[:, :3], states[:, 3:]


def _oem_epochs_to_tdb(epochs: list[str], systems: list[str]) -> list[float]:
    from marsrelay.time import tt_to_tdb, utc_to_tdb

    out = np.empty(len(epochs))
    sys_arr = np.asarray(systems)
    ep = np.asarray(epochs, dtype=object)
    utc = sys_arr == "UTC"
    if utc.any():
        out[utc] = utc_to_tdb(ep[utc])
    for scale in ("TDB", "TT"):
        sel = sys_arr == scale
        if sel.any():
            # Read the calendar string as if it were UTC-free: parse with TT-like arithmetic.
            secs = _calendar_to_seconds_past_j2000(ep[sel])
            out[sel] = secs if scale == "TDB" else tt_to_tdb(secs)
    return out.tolist()


_CAL_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)Z?$")


def _calendar_to_seconds_past_j2000(strings: np.ndarray) -> np.ndarray:
    """Calendar strings in a uniform scale (TDB, TT) -> seconds past J2000 noon of that scale."""
    import erfa

    out = np.empty(len(strings))
    for k, s in enumerate(strings):
        m = _CAL_RE.match(str(s).strip())
        if m is None:
            raise TrajectoryError(f"OEM epoch {s!r} is not YYYY-MM-DDThh:mm:ss[.fff]")
        y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
        sec = float(m.group(6))
        jd1, jd2 = erfa.cal2jd(y, mo, d)
        out[k] = ((jd1 - 2451545.0) + jd2) * 86400.0 + h * 3600.0 + mi * 60.0 + sec
    return out


def write_oem(
    path: str | Path,
    object_name: str,
    tdb_s: np.ndarray,
    position_km: np.ndarray,
    velocity_km_s: np.ndarray,
    interpolation_degree: int = 7,
) -> None:
    """Write Mars-centred ICRF states as a CCSDS OEM 2.0 (KVN, TDB epochs), atomically."""
    import erfa

    from marsrelay.io import atomic_write_text

    tdb = np.asarray(tdb_s, dtype=float)
    lines = [
        "CCSDS_OEM_VERS = 2.0",
        "CREATION_DATE = 2000-01-01T00:00:00",
        "ORIGINATOR = marsrelay",
        "",
        "META_START",
        f"OBJECT_NAME = {object_name}",
        f"OBJECT_ID = {object_name}",
        "CENTER_NAME = MARS",
        "REF_FRAME = ICRF",
        "TIME_SYSTEM = TDB",
        f"START_TIME = {_tdb_calendar(tdb[0], erfa)}",
        f"STOP_TIME = {_tdb_calendar(tdb[-1], erfa)}",
        "INTERPOLATION = LAGRANGE",
        f"INTERPOLATION_DEGREE = {interpolation_degree}",
        "META_STOP",
        "",
    ]
    for t, r, v in zip(tdb, position_km, velocity_km_s, strict=True):
        lines.append(
            f"{_tdb_calendar(t, erfa)} {r[0]:.6f} {r[1]:.6f} {r[2]:.6f} "
            f"{v[0]:.9f} {v[1]:.9f} {v[2]:.9f}"
        )
    atomic_write_text(path, "\n".join(lines) + "\n")


def _tdb_calendar(t: float, erfa_mod) -> str:
    # Whole microseconds of the day, so rounding carries into the next day instead of
    # printing hour 24 (which CCSDS OEM readers reject).
    days, rem = divmod(float(t) + 43200.0, 86400.0)
    us = round(rem * 1e6)
    if us >= 86_400_000_000:
        days, us = days + 1.0, us - 86_400_000_000
    iy, im, iday, _ = erfa_mod.jd2cal(2451544.5 + days, 0.0)
    h, us = divmod(us, 3_600_000_000)
    mi, us = divmod(us, 60_000_000)
    s, us = divmod(us, 1_000_000)
    return f"{int(iy):04d}-{int(im):02d}-{int(iday):02d}T{h:02d}:{mi:02d}:{s:02d}.{us:06d}"
