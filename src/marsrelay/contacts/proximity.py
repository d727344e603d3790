"""Proximity windows: a lander and an orbiter can talk (UHF relay).

Open when the orbiter is above the lander's elevation mask *and* within the orbiter's
``max_range_km`` (geometric positions, no light time: under 34 ms at 10,000 km). Elevation is
measured in the lander's topocentric frame (z along the IAU ellipsoid's outward normal), as
:class:`marsrelay.geometry.sites.MarsSite` defines it.

Constraints, for the window finder (all in Mars body-fixed axes, where the lander is fixed):

- ``g0 = U . r - sin(mask) rho`` (km), ``r`` the vector lander -> orbiter, ``rho = |r|`` and
  ``U`` the lander's up vector: ``rho (sin(el) - sin(mask))``, the same sign as the elevation
  margin but without the ``1 / rho`` that makes a unit vector's rates large when the orbiter
  is near and loose when it is far. ``|g0'| <= V (1 + s)`` and ``|g0''| <= A (1 + s) + s V^2 /
  rho`` (``s = |sin(mask)|``, ``|rho''| <= A + V^2 / rho``), with ``V``/``A`` bounds of the
  orbiter's speed/acceleration in the rotating frame (``V <= v_max + w r_max``, ``A <= a_max
  + 2 w v_max + w^2 r_max``, ``w`` Mars' rotation rate) and ``rho`` a lower bound of the range
  on the interval: ``max(r_min - |p_lander|, (rho_a + rho_b) / 2 - V h / 2)``.
- ``g1 = max_range_km - rho``: ``|g1'| <= V``, ``|g1''| <= A + V^2 / rho``.

Worked example (TGO-like orbit over Oxia Planum, one day)::

    >>> from marsrelay.geometry.orbits import J2Orbit, MeanElements
    >>> from marsrelay.geometry.rotation import rotation_model
    >>> from marsrelay.geometry.sites import MarsSite
    >>> from marsrelay.contacts.proximity import find_proximity_windows
    >>> rot = rotation_model("iau2009")
    >>> orbit = J2Orbit(MeanElements(9.6e8, 3796.19, 0.0, 74.0, 30.0, 0.0, 0.0), rot)
    >>> site = MarsSite("Oxia", 18.275, 335.368, -3.0, elevation_mask_deg=10.0)
    >>> p = find_proximity_windows(site, orbit, rot, 9.6e8, 9.6e8 + 86400.0)
    >>> len(p), bool((p.duration_s > 60).all()), bool((p.max_elevation_deg >= 10).all())
    (4, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.kinematics import (
    body_from_icrf,
    mars_rotation_rate_rad_s,
    orbiter_positions,
)
from marsrelay.contacts.motion import MotionBounds, motion_bounds
from marsrelay.contacts.passes import PairCriterion, Passes, search_passes
from marsrelay.geometry.orbits import Trajectory
from marsrelay.geometry.rotation import RotationModel
from marsrelay.geometry.sites import MarsSite

__all__ = ["ProximityCriterion", "find_proximity_windows"]


class ProximityCriterion(PairCriterion):
    """Lander -> orbiter visibility for pairs ``(site_index[k], orbiter_index[k])``."""

    kind = "proximity"
    n_components = 2
    observe_step_s = 60.0

    def __init__(
        self,
        sites: Sequence[MarsSite],
        trajectories: Sequence[Trajectory],
        motion: Sequence[MotionBounds],
        site_index: Sequence[int],
        orbiter_index: Sequence[int],
        max_range_km: Sequence[float],
        rotation: RotationModel,
    ) -> None:
        super().__init__()
        self.trajectories = list(trajectories)
        self.rotation = rotation
        self.site_of = np.asarray(site_index, np.int64)
        self.orb_of = np.asarray(orbiter_index, np.int64)
        self.max_range = np.asarray(max_range_km, float)
        self.site_pos = np.stack([s.position_body_km for s in sites], 1)  # (3, n_sites)
        self.site_up = np.stack([s.normal for s in sites], 1)
        self.sin_mask = np.sin(np.radians([s.elevation_mask_deg for s in sites]))
        w = mars_rotation_rate_rad_s(rotation)
        v = np.array([m.v_max_km_s + w * m.r_max_km for m in motion])
        a = np.array([m.a_max_km_s2 + 2 * w * m.v_max_km_s + w * w * m.r_max_km for m in motion])
        self.v_pair = v[self.orb_of] * (1 + 1e-9)
        self.a_pair = a[self.orb_of] * (1 + 1e-9)
        r_min = np.array([m.r_min_km for m in motion])[self.orb_of]
        site_r = np.linalg.norm(self.site_pos, axis=0)[self.site_of]
        self.rho_floor = np.maximum(r_min - site_r, 1.0)
        self.step = np.array([m.period_s for m in motion])[self.orb_of] / 2.0

    def initial_step(self, series: np.ndarray) -> np.ndarray:
        return self.step[series]

    def _body_positions(self, t: np.ndarray, series: np.ndarray) -> np.ndarray:
        p = orbiter_positions(self.trajectories, self.orb_of[series], t)
        return body_from_icrf(self.rotation, t, p)

    def _geometry(self, t: np.ndarray, series: np.ndarray):
        site = self.site_of[series]
        rel = self._body_positions(t, series) - self.site_pos[:, site]
        rho = np.sqrt((rel * rel).sum(0))
        sin_el = (self.site_up[:, site] * rel).sum(0) / rho
        return sin_el, rho

    def _evaluate(self, t, series):
        site = self.site_of[series]
        rel = self._body_positions(t, series) - self.site_pos[:, site]
        rho = np.sqrt((rel * rel).sum(0))
        g = np.empty((2, t.size))
        g[0] = (self.site_up[:, site] * rel).sum(0) - self.sin_mask[site] * rho
        g[1] = self.max_range[series] - rho
        return g, rho[None, :]

    def bounds(self, h_s, series, aux_a, aux_b):
        v, a = self.v_pair[series], self.a_pair[series]
        s = np.abs(self.sin_mask[self.site_of[series]])
        rho = np.maximum(self.rho_floor[series], 0.5 * (aux_a[0] + aux_b[0]) - 0.5 * v * h_s)
        rho_curv = a + v * v / rho
        lip = np.stack([v * (1.0 + s), v])
        curv = np.stack([a + s * rho_curv, rho_curv])
        return lip, curv

    def observe(self, t_s, series):
        sin_el, rho = self._geometry(np.asarray(t_s, float), np.asarray(series, np.int64))
        el = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
        return np.stack([el, rho, np.zeros_like(rho)])


def find_proximity_windows(
    site: MarsSite,
    trajectory: Trajectory,
    rotation: RotationModel,
    t0_s: float,
    t1_s: float,
    *,
    max_range_km: float = math.inf,
    unavailable: Sequence[tuple[float, float]] = (),
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
) -> Passes:
    """Windows in ``[t0_s, t1_s]`` (TDB s) when ``trajectory``'s orbiter is above ``site``'s
    elevation mask and within ``max_range_km``; ``unavailable`` TDB intervals are removed.

    No window longer than ``min_duration_s`` (s) is missed; edges to ``tol_s`` (s). Returns
    :class:`~marsrelay.contacts.passes.Passes` (series 0).
    """
    crit = ProximityCriterion([site], [trajectory], [motion_bounds(trajectory, t0_s, t1_s)],
                              [0], [0], [max_range_km], rotation)
    domains = Intervals.span([0], t0_s, t1_s)
    if unavailable:
        domains = domains.subtract(Intervals.from_pairs((0, a, b) for a, b in unavailable))
    return search_passes(crit, domains, min_duration_s=min_duration_s, tol_s=tol_s)
