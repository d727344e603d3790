"""Orbiter states and Mars rotations as ``(3, N)`` rows: the window finder's hot path.

The geometry core (:mod:`marsrelay.orbits`, :mod:`marsrelay.rotation`) returns ``(N, 3)``
arrays and ``(N, 3, 3)`` matrices. The window finder evaluates its constraints at around a
million trial times per scenario-year, where those layouts cost several times more than
component rows. These helpers compute the *same* quantities as rows:

- :func:`orbiter_state` uses the J2 mean-element formulas of :class:`~marsrelay.orbits.J2Orbit`
  (same expressions, Kepler's equation solved to the same 1e-12 rad by Halley's method; the
  tests check agreement to 1e-8 km) and falls back to ``trajectory.state_km`` for any other
  trajectory;
- :func:`body_from_icrf` / :func:`icrf_from_body` apply ``R3(W) R1(90 - d0) R3(90 + a0)`` (or
  its transpose) from the model's own angles (``RotationModel.angles_deg``), three plane
  rotations instead of a matrix product per time.
"""

from __future__ import annotations

import math

import numpy as np

from marsrelay.orbits import J2Orbit, Trajectory
from marsrelay.rotation import RotationModel

__all__ = [
    "body_from_icrf",
    "icrf_from_body",
    "kepler_eccentric_anomaly",
    "mars_rotation_rate_rad_s",
    "orbiter_state",
    "unit_vector_curvature",
]

_DEG = math.pi / 180.0


def kepler_eccentric_anomaly(
    mean_anomaly_rad: np.ndarray, e: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(E, sin E, cos E)`` with ``E - e sin E = M`` to 1e-12 rad (as
    :func:`marsrelay.orbits.solve_kepler`): Halley's method from the second-order series start.
    ``E`` is reduced to ``[-pi, pi)`` (for ``e > 0``); the sine and cosine are those of the last
    iterate (within 1e-12 of ``E``)."""
    m = np.asarray(mean_anomaly_rad, dtype=float)
    if e != 0.0:  # reduce to [-pi, pi): near 1e4 rad a float cannot resolve 1e-12 rad
        m = m - (2.0 * math.pi) * np.floor(m / (2.0 * math.pi) + 0.5)
    sm, cm = np.sin(m), np.cos(m)
    if e == 0.0:
        return m, sm, cm
    ecc = m + e * sm * (1.0 + e * cm) if e < 0.8 else m + e * np.sign(sm)
    for _ in range(30):
        s, c = np.sin(ecc), np.cos(ecc)
        f = ecc - e * s - m
        fp = 1.0 - e * c
        step = f / (fp - 0.5 * f * e * s / fp)
        ecc = ecc - step
        if np.abs(step).max(initial=0.0) < 1e-12:
            break
    return ecc, s, c


def orbiter_state(
    trajectory: Trajectory, t_s: np.ndarray, velocity: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mars-centred ICRF position (km) and velocity (km/s; ``None`` unless ``velocity``) rows
    ``(3, N)`` at TDB ``t_s``."""
    t = np.asarray(t_s, dtype=float)
    if not isinstance(trajectory, J2Orbit):
        p, v = trajectory.state_km(t)
        return np.ascontiguousarray(p.T), (np.ascontiguousarray(v.T) if velocity else None)
    el, rt = trajectory.elements, trajectory.rates
    dt = t - el.epoch_tdb_s
    raan = el.raan_deg * _DEG + rt.raan_rad_s * dt
    argp = el.argp_deg * _DEG + rt.argp_rad_s * dt
    e, a = el.e, el.a_km
    m = el.mean_anomaly_deg * _DEG + rt.mean_anomaly_rad_s * dt
    cn, sn = np.cos(raan), np.sin(raan)
    ci, si = math.cos(el.i_deg * _DEG), math.sin(el.i_deg * _DEG)
    mat = trajectory._eq_to_icrf
    if e == 0.0 and not velocity:
        # Circular: the argument of latitude argp + M gives the position directly.
        cu, su = np.cos(argp + m), np.sin(argp + m)
        r = np.stack([a * (cn * cu - sn * su * ci), a * (sn * cu + cn * su * ci), a * (su * si)])
        return mat @ r, None
    _, sin_e, cos_e = kepler_eccentric_anomaly(m, e)
    sq = math.sqrt(1.0 - e * e)
    xp = a * (cos_e - e)
    yp = (a * sq) * sin_e
    co, so = np.cos(argp), np.sin(argp)
    px, py, pz = cn * co - sn * so * ci, sn * co + cn * so * ci, so * si
    qx, qy, qz = -cn * so - sn * co * ci, -sn * so + cn * co * ci, co * si
    r = np.stack([px * xp + qx * yp, py * xp + qy * yp, pz * xp + qz * yp])
    if not velocity:
        return mat @ r, None
    edot = rt.mean_anomaly_rad_s / (1.0 - e * cos_e)
    vxp = -a * sin_e * edot
    vyp = (a * sq) * cos_e * edot
    v = np.stack([px * vxp + qx * vyp, py * vxp + qy * vyp, pz * vxp + qz * vyp])
    # Apsidal rotation about the orbit normal h and nodal rotation about z (as J2Orbit).
    h = (sn * si, -cn * si, ci)
    wa, wn = rt.argp_rad_s, rt.raan_rad_s
    v[0] += wa * (h[1] * r[2] - ci * r[1]) - wn * r[1]
    v[1] += wa * (ci * r[0] - h[0] * r[2]) + wn * r[0]
    v[2] += wa * (h[0] * r[1] - h[1] * r[0])
    return mat @ r, mat @ v


def _angles_rad(rotation: RotationModel, t: np.ndarray):
    ra, dec, pm, *_ = rotation.angles_deg(t)
    return (90.0 + ra) * _DEG, (90.0 - dec) * _DEG, pm * _DEG


def body_from_icrf(rotation: RotationModel, t_s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """ICRF vectors ``x`` ``(3, N)`` -> Mars body-fixed at TDB ``t_s``: ``R3(W) R1(90 - d0)
    R3(90 + a0) x`` (frame rotations, as :meth:`RotationModel.icrf_to_body`)."""
    a1, a2, w = _angles_rad(rotation, np.asarray(t_s, float))
    c, s = np.cos(a1), np.sin(a1)
    y0, y1 = c * x[0] + s * x[1], c * x[1] - s * x[0]
    c, s = np.cos(a2), np.sin(a2)
    z1, z2 = c * y1 + s * x[2], c * x[2] - s * y1
    c, s = np.cos(w), np.sin(w)
    return np.stack([c * y0 + s * z1, c * z1 - s * y0, z2])


def icrf_from_body(rotation: RotationModel, t_s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mars body-fixed vectors ``x`` (``(3, N)`` or ``(3,)``) -> ICRF at TDB ``t_s``, rows."""
    t = np.asarray(t_s, float)
    a1, a2, w = _angles_rad(rotation, t)
    x = np.broadcast_to(np.asarray(x, float).reshape(3, -1), (3, t.size))
    c, s = np.cos(w), np.sin(w)
    y0, y1 = c * x[0] - s * x[1], c * x[1] + s * x[0]
    c, s = np.cos(a2), np.sin(a2)
    z1, z2 = c * y1 - s * x[2], c * x[2] + s * y1
    c, s = np.cos(a1), np.sin(a1)
    return np.stack([c * y0 - s * z1, c * z1 + s * y0, z2])


def mars_rotation_rate_rad_s(rotation: RotationModel) -> float:
    """A bound of Mars' rotation rate (rad/s) under ``rotation`` (prime meridian rate plus its
    periodic terms' rates, pole motion included with margin)."""
    pm_rate = rotation.pm_deg[1] / 86400.0 * _DEG
    periodic = sum(abs(a * r) for a, _, r in rotation.pm_terms) * _DEG / (36525.0 * 86400.0)
    return (pm_rate + periodic) * (1.0 + 1e-6) + 1e-12


#: 2 / sqrt(3), rounded up: max of ``x sqrt(4 - 3 x^2)`` over ``0 <= x <= 1`` (see below).
_UNIT_CURV = 1.1547005384


def unit_vector_curvature(v_km_s, a_km_s2, rho_km):
    """Bound of ``|u''|`` (1/s^2) for ``u = r / |r|`` when ``|r'| <= v``, ``|r''| <= a`` and
    ``|r| >= rho``.

    With ``v_r = r' . u`` and ``v_t = r' - v_r u``: ``u' = v_t / rho`` and
    ``u'' = a_t / rho - 2 v_r v_t / rho^2 - (|v_t|^2 / rho^2) u`` (``a_t`` the part of ``r''``
    orthogonal to ``u``). The last term is orthogonal to the others, so
    ``|u''| <= a / rho + |v_t| sqrt(4 v_r^2 + |v_t|^2) / rho^2``; with ``|v_t| = x v`` and
    ``v_r^2 <= (1 - x^2) v^2`` the product is at most ``x sqrt(4 - 3 x^2) v^2 <= (2 / sqrt 3)
    v^2``.
    """
    return a_km_s2 / rho_km + _UNIT_CURV * v_km_s * v_km_s / (rho_km * rho_km)
