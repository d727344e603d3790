"""Orbiter states and Mars rotations as ``(3, N)`` rows: the window finder's hot path.

The geometry core (:mod:`marsrelay.orbits`, :mod:`marsrelay.rotation`) returns ``(N, 3)``
arrays and ``(N, 3, 3)`` matrices. The window finder evaluates its constraints at around a
million trial times per scenario-year, where those layouts cost several times more than
component rows. These helpers compute the *same* quantities as rows:

- :func:`orbiter_state` uses the J2 mean-element formulas of :class:`~marsrelay.orbits.J2Orbit`
  (identical expressions; the tests check agreement to 1e-9 km) and falls back to
  ``trajectory.state_km`` for any other trajectory;
- :func:`body_from_icrf` / :func:`icrf_from_body` apply ``R3(W) R1(90 - d0) R3(90 + a0)`` (or
  its transpose) from the model's own angles (``RotationModel.angles_deg``), three plane
  rotations instead of a matrix product per time.
"""

from __future__ import annotations

import math

import numpy as np

from marsrelay.orbits import J2Orbit, Trajectory, solve_kepler
from marsrelay.rotation import RotationModel

__all__ = ["orbiter_state", "body_from_icrf", "icrf_from_body", "mars_rotation_rate_rad_s"]

_DEG = math.pi / 180.0


def orbiter_state(trajectory: Trajectory, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mars-centred ICRF position (km) and velocity (km/s) rows ``(3, N)`` at TDB ``t_s``."""
    t = np.asarray(t_s, dtype=float)
    if not isinstance(trajectory, J2Orbit):
        p, v = trajectory.state_km(t)
        return np.ascontiguousarray(p.T), np.ascontiguousarray(v.T)
    el, rt = trajectory.elements, trajectory.rates
    dt = t - el.epoch_tdb_s
    raan = el.raan_deg * _DEG + rt.raan_rad_s * dt
    argp = el.argp_deg * _DEG + rt.argp_rad_s * dt
    e, a = el.e, el.a_km
    ecc = solve_kepler(el.mean_anomaly_deg * _DEG + rt.mean_anomaly_rad_s * dt, e)
    cos_e, sin_e = np.cos(ecc), np.sin(ecc)
    sq = math.sqrt(1.0 - e * e)
    xp = a * (cos_e - e)
    yp = (a * sq) * sin_e
    edot = rt.mean_anomaly_rad_s / (1.0 - e * cos_e)
    vxp = -a * sin_e * edot
    vyp = (a * sq) * cos_e * edot
    co, so = np.cos(argp), np.sin(argp)
    cn, sn = np.cos(raan), np.sin(raan)
    ci, si = math.cos(el.i_deg * _DEG), math.sin(el.i_deg * _DEG)
    px, py, pz = cn * co - sn * so * ci, sn * co + cn * so * ci, so * si
    qx, qy, qz = -cn * so - sn * co * ci, -sn * so + cn * co * ci, co * si
    r = np.stack([px * xp + qx * yp, py * xp + qy * yp, pz * xp + qz * yp])
    v = np.stack([px * vxp + qx * vyp, py * vxp + qy * vyp, pz * vxp + qz * vyp])
    # Apsidal rotation about the orbit normal h and nodal rotation about z (as J2Orbit).
    h = (sn * si, -cn * si, ci)
    wa, wn = rt.argp_rad_s, rt.raan_rad_s
    v[0] += wa * (h[1] * r[2] - ci * r[1]) - wn * r[1]
    v[1] += wa * (ci * r[0] - h[0] * r[2]) + wn * r[0]
    v[2] += wa * (h[0] * r[1] - h[1] * r[0])
    m = trajectory._eq_to_icrf
    return m @ r, m @ v


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
