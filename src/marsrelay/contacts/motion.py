"""Bounds on an orbiter's motion (radius, speed, acceleration) for the window finder's proofs.

For a :class:`~marsrelay.orbits.J2Orbit` the bounds are exact properties of the model: the
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

For tabulated trajectories (SPK, OEM) the radius range comes from 4001 samples over the span
(5% margin) and, for a bound orbit that stays above ``r_min``, ``|v| <= sqrt(2 GM / r_min)`` (the
escape speed there, also used for ``|dr/dt|``) and ``|acc| <= 1.05 GM / r_min^2`` (J2 and third
bodies add well under 5%).
Those two hold for any such orbit; only ``r_min`` is sampled, so an SPK whose periapsis falls
between samples far below them would break the proof (samples every few minutes for a year
make that impossible for a real orbiter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marsrelay.constants import MARS_GM_KM3_S2
from marsrelay.orbits import J2Orbit, Trajectory

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
                            rdot * (1.0 + 1e-9) + 1e-9)
    t = np.linspace(t0_s, t1_s, 4001)
    p, v = trajectory.state_km(t)
    r = np.linalg.norm(p, axis=1)
    r_min = 0.95 * float(r.min())
    r_max = 1.05 * float(r.max())
    speed = float(np.linalg.norm(v, axis=1).max())
    v_max = max(math.sqrt(2.0 * MARS_GM_KM3_S2 / r_min), 1.1 * speed)
    # Period of the orbit with the sampled mean radius (only sets the coarse step).
    a_mean = 0.5 * (float(r.min()) + float(r.max()))
    period = 2.0 * math.pi * math.sqrt(a_mean**3 / MARS_GM_KM3_S2)
    return MotionBounds(r_min, r_max, v_max, 1.05 * MARS_GM_KM3_S2 / r_min**2, period, v_max)
