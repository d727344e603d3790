"""Orbiter trajectories: mean elements with J2 secular rates, NAIF SPK kernels, CCSDS OEM files.

Every trajectory answers ``state_km(tdb_s) -> (position_km, velocity_km_s)``: Mars-centred ICRF
states, arrays of shape ``(N, 3)``, at TDB seconds past J2000.

Mean-element propagation follows the project conventions (Vallado 4th ed., section 9.6)::

    n0 = sqrt(GM / a^3),  p = a (1 - e^2),  k = J2 (R / p)^2
    dRAAN/dt = -1.5 n0 k cos i
    dargp/dt = 0.75 n0 k (4 - 5 sin^2 i)
    dM/dt    = n0 (1 + 0.75 k sqrt(1 - e^2) (2 - 3 sin^2 i))

with a, e, i constant; elements are referred to ``MARS_EQ_J2000`` (see
:mod:`marsrelay.geometry.rotation`).
The velocity is the exact time derivative of that position (secular rates included), so an SPK
written from these states reproduces the positions when interpolated.

Worked example (a 400 km circular TGO-like orbit)::

    >>> from marsrelay.geometry.orbits import MeanElements, J2Orbit
    >>> orbit = J2Orbit(MeanElements(epoch_tdb_s=0.0, a_km=3796.19, e=0.0, i_deg=74.0,
    ...                              raan_deg=0.0, argp_deg=0.0, mean_anomaly_deg=0.0))
    >>> round(orbit.period_s / 60.0, 1)
    121.9
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from marsrelay.constants import (
    MARS_EQ_RADIUS_KM,
    MARS_GM_KM3_S2,
    MARS_J2,
    MARS_J2_REF_RADIUS_KM,
)
from marsrelay.errors import TrajectoryError
from marsrelay.geometry.rotation import RotationModel, rotation_model

_DEG = math.pi / 180.0


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

