"""Orbiter states and Mars rotations as ``(3, N)`` rows: the window finder's hot path.

The geometry core (:mod:`marsrelay.geometry.orbits`, :mod:`marsrelay.geometry.rotation`)
returns ``(N, 3)``
arrays and ``(N, 3, 3)`` matrices. The window finder evaluates its constraints at around a
million trial times per scenario-year, where those layouts cost several times more than
component rows. These helpers compute the *same* quantities as rows:

- :func:`orbiter_state` takes :meth:`~marsrelay.geometry.orbits.J2Orbit.state_rows_km` (the same
  propagation as ``state_km``, in rows) and falls back to ``trajectory.state_km`` for any
  other trajectory; :func:`orbiter_positions` gathers several orbiters' positions, one
  orbiter per trial time;
- :func:`body_from_icrf` / :func:`icrf_from_body` apply ``R3(W) R1(90 - d0) R3(90 + a0)`` (or
  its transpose) from the model's own angles (``RotationModel.angles_deg``), three plane
  rotations instead of a matrix product per time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from marsrelay.geometry.orbits import Trajectory, kepler_eccentric_anomaly
from marsrelay.geometry.rotation import RotationModel

__all__ = [
    "body_from_icrf",
    "icrf_from_body",
    "kepler_eccentric_anomaly",
    "mars_rotation_rate_rad_s",
    "orbiter_positions",
    "orbiter_state",
    "unit_vector_curvature",
]

_DEG = math.pi / 180.0


def orbiter_state(
    trajectory: Trajectory, t_s: np.ndarray, velocity: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mars-centred ICRF position (km) and velocity (km/s; ``None`` unless ``velocity``) rows
    ``(3, N)`` at TDB ``t_s``: the trajectory's own ``state_rows_km`` where it has one
    (:class:`J2Orbit`, :class:`~marsrelay.geometry.orbits.SpkTrajectory`), else the transposed
    ``trajectory.state_km``."""
    t = np.asarray(t_s, dtype=float)
    rows = getattr(trajectory, "state_rows_km", None)  # J2Orbit and SpkTrajectory have it
    if rows is not None:
        return rows(t, velocity)
    p, v = trajectory.state_km(t)
    return np.ascontiguousarray(p.T), (np.ascontiguousarray(v.T) if velocity else None)


def orbiter_positions(
    trajectories: Sequence[Trajectory], which: np.ndarray, t_s: np.ndarray
) -> np.ndarray:
    """Mars-centred ICRF position rows ``(3, N)`` (km) of orbiter ``trajectories[which[k]]``
    at TDB ``t_s[k]`` (s), each orbiter propagated once for all of its times."""
    p = np.empty((3, t_s.size))
    if t_s.size and (which.size < 2 or bool((which[1:] >= which[:-1]).all())):
        # sorted by orbiter (the usual case): contiguous blocks, no gathering
        edges = np.searchsorted(which, np.arange(len(trajectories) + 1))
        for o, traj in enumerate(trajectories):
            i, j = edges[o], edges[o + 1]
            if j > i:
                p[:, i:j] = orbiter_state(traj, t_s[i:j], velocity=False)[0]
        return p
    for o, traj in enumerate(trajectories):
        sel = np.flatnonzero(which == o)
        if sel.size:
            p[:, sel] = orbiter_state(traj, t_s[sel], velocity=False)[0]
    return p


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
