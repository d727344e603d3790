"""Bounds on an orbiter's motion (radius, speed, acceleration) for the window finder's proofs.

For a :class:`~marsrelay.geometry.orbits.J2Orbit` the bounds are exact properties of the model: the
position is a Kepler ellipse traversed at the mean-anomaly rate ``Mdot`` (J2-corrected) whose
periapsis and node turn at ``argp_dot`` and ``raan_dot``, so with ``Omega = |argp_dot| +
|raan_dot|``:

- ``a (1 - e) <= r <= a (1 + e)``;
- ``|v| <= a Mdot sqrt((1 + e) / (1 - e)) + Omega a (1 + e)`` (periapsis speed of the ellipse
  plus the frame rotation);
- ``|acc| <= Mdot^2 a^3 / r_p^2 + 2 Omega v_max + Omega^2 r_max``;
- ``|dr/dt| <= a e Mdot / sqrt(1 - e^2)`` (``r = a (1 - e cos E)`` does not depend on the
  turning angles: ``dr/dt = a e Mdot sin E / (1 - e cos E)``, largest where
  ``cos E = e``).

For tabulated trajectories (SPK, OEM) the radius range comes from the osculating periapsis and
apoapsis of 4001 samples over the span (1% margin) and, for a bound orbit that stays above
``r_min``, ``|v| <= sqrt(2 GM / r_min)`` (the escape speed there, also used for ``|dr/dt|``) and
``|acc| <= 1.05 GM / r_min^2`` (J2 and third bodies add well under 5%).
Those two hold for any such orbit; ``r_min`` comes from osculating elements, which hold the
periapsis even when no sample falls on it (only a manoeuvre between samples could break it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marsrelay.constants import MARS_GM_KM3_S2
from marsrelay.geometry.orbits import J2Orbit, Trajectory

__all__ = ["MotionBounds", "motion_bounds"]


@dataclass(frozen=True)
class MotionBounds:
    """Mars-centred bounds: radius (km), speed (km/s), acceleration (km/s^2), period (s) and
    radial speed ``|dr/dt|`` (km/s)."""

    r_min_km: float
    r_max_km: float
    v_max_km_s: float
    a_max_km_s2: float
    period_s: float
    rdot_max_km_s: float
    #: J2 orbits only: ``(GM', a, e, Omega)`` (km^3/s^2, km, -, rad/s): the motion is a Kepler
    #: ellipse under ``GM' = Mdot^2 a^3`` in axes turning at most at ``Omega``, so the
    #: acceleration is ``-GM' p / |p|^3`` plus at most ``2 Omega v + Omega^2 r`` and the
    #: ellipse's speed obeys ``v^2 = GM' (2 / r - 1 / a)``. ``None``: no such structure known.
    kepler: tuple[float, float, float, float] | None = None


def motion_bounds(trajectory: Trajectory, t0_s: float, t1_s: float) -> MotionBounds:
    """Bounds of ``trajectory``'s radius, speed and acceleration over ``[t0_s, t1_s]`` (TDB s)."""
    if isinstance(trajectory, J2Orbit):
        el, rt = trajectory.elements, trajectory.rates
        a, e, mdot = el.a_km, el.e, rt.mean_anomaly_rad_s
        omega = abs(rt.argp_rad_s) + abs(rt.raan_rad_s)
        r_p, r_a = a * (1.0 - e), a * (1.0 + e)
        v = a * mdot * math.sqrt((1.0 + e) / (1.0 - e)) + omega * r_a
        acc = mdot**2 * a**3 / r_p**2 + 2.0 * omega * v + omega**2 * r_a
        rdot = a * e * mdot / math.sqrt(1.0 - e * e)
        return MotionBounds(r_p, r_a, v * (1.0 + 1e-9), acc * (1.0 + 1e-9), 2.0 * math.pi / mdot,
                            rdot * (1.0 + 1e-9) + 1e-9, (mdot**2 * a**3, a, e, omega))
    t = np.linspace(t0_s, t1_s, 4001)
    p, v = trajectory.state_km(t)
    r = np.linalg.norm(p, axis=1)
    # Osculating periapsis/apoapsis of every sample: they bound the radius between samples
    # (a sampled minimum alone can miss a periapsis), with 1% for J2 and third-body wiggles.
    v2 = np.einsum("ij,ij->i", v, v)
    a_osc = 1.0 / (2.0 / r - v2 / MARS_GM_KM3_S2)
    h = np.cross(p, v)
    e_vec = np.cross(v, h) / MARS_GM_KM3_S2 - p / r[:, None]
    e_osc = np.linalg.norm(e_vec, axis=1)
    bound = (a_osc > 0) & (e_osc < 1.0)
    r_p = np.where(bound, a_osc * (1.0 - e_osc), r)
    r_a = np.where(bound, a_osc * (1.0 + e_osc), r)
    r_min = 0.99 * float(min(r_p.min(), r.min()))
    r_max = 1.01 * float(max(r_a.max(), r.max()))
    speed = float(np.linalg.norm(v, axis=1).max())
    v_max = max(math.sqrt(2.0 * MARS_GM_KM3_S2 / r_min), 1.1 * speed)
    # Period of the orbit with the sampled mean radius (only sets the coarse step).
    a_mean = 0.5 * (float(r.min()) + float(r.max()))
    period = 2.0 * math.pi * math.sqrt(a_mean**3 / MARS_GM_KM3_S2)
    return MotionBounds(r_min, r_max, v_max, 1.05 * MARS_GM_KM3_S2 / r_min**2, period, v_max)
