"""The shared components of :class:`~marsrelay.contacts.earth.OrbiterEarthCriterion`: the two
proxies (searched once per group, :mod:`marsrelay.contacts.shared`) and the proven margins
that tie every pair to them.

- Mars' occultation of an orbiter, seen from any station: the line of sight from the orbiter
  to Earth's centre (one series per orbiter), within the angle the station's offset from
  the geocentre subtends at the orbiter.
- A station's elevation of any orbiter: its elevation of Mars' centre (one series per
  station), within the angle the orbit subtends at the station.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marsrelay.constants import C_KM_S
from marsrelay.contacts.earth_tables import ERA_RATE_RAD_S
from marsrelay.contacts.finder import Criterion, SharedComponent

__all__ = ["orbiter_earth_shared"]

#: Earth's rotation rate bound (rad/s), as in :mod:`marsrelay.contacts.earth`.
_W_EARTH = ERA_RATE_RAD_S * (1.0 + 1e-6)


def _norm(x: np.ndarray) -> np.ndarray:
    return np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]


def orbiter_earth_shared(crit: Any) -> tuple[SharedComponent, ...]:
    """The shared components of ``crit`` (an
    :class:`~marsrelay.contacts.earth.OrbiterEarthCriterion`): station elevation shared per
    station (proxy: Mars' centre), occultation shared per orbiter (proxy: the line of sight
    to Earth's centre).

    Margins, for the pair of orbiter ``o`` (``|p| <= r_max``) and station ``s``
    (``|s_itrs|`` from the geocentre), with ``D`` the least orbiter-station distance and
    ``u``, ``v`` two vectors from the orbiter, ``|u - v| <= delta`` and ``|v| >= D``,
    making an angle of at most ``asin(delta / D)``:

    - elevation: the sender moves from Mars' centre by ``|p|``, the reception by at most
      ``|p| / c`` (the station moves 31 km/s x that, its up vector turns ``w_E |p| / c``):
      ``|d sin(el)| <= (r_max + 1 km) / D + w_E (r_max + 1 km) / c``;
    - occultation: the receiver moves from the geocentre by ``|s_itrs|`` (plus Earth's
      motion over the light-time difference, under 1 km); the ray turns by
      ``beta <= (|s_itrs| + 1 km) / D``, by at most ``k beta`` in coordinates stretched by
      ``k`` along the pole, and so does ``a . b``; Mars' placement moves with the ray by
      under ``3e-4 beta`` of that (a few 1e-8), ``sqrt(1 - A^2 / r^2)`` with it.

    Each gets 5% and 1e-9 on top.

    Rates of those differences (``margin_rate``):

    - elevation: ``d/dt (up . u - up_c . u_c)`` is at most ``|up' - up_c'| + |up_c'|
      |u - u_c| + |up - up_c| |u'| + |u' - u_c'|``: the up vectors turn at ``w_E (1 +
      tau')`` and differ by ``w_E |p| / c``; ``|tau'| <= (V + v) / c``; ``|u' - u_c'| <=
      (v + 0.1 km/s) / D + V (2 angle + r_max / D) / D`` (``V`` the Earth-Mars relative
      speed bound, ``v`` the orbiter's);
    - occultation: ``d/dt (a . (b - b_c)) <= |a'| |b - b_c| + |b'| + |b_c'| <= w_a k beta
      + 2 w_ray``.

    Each gets 20% and 1e-9 on top."""
    orb = crit.orb_of
    d_min = crit.d_min_o[orb]
    r_max = crit.r_max_o[orb] + 1.0
    angle = np.arcsin(np.minimum(r_max / d_min, 1.0))
    eps_el = 1.05 * (angle + _W_EARTH * r_max / C_KM_S) + 1e-9
    v_rel = crit.tables.max_rel_speed_km_s
    v_o = crit.v_p_o[orb] / crit.stretch
    rate_el = 1.2 * (_W_EARTH * (2.0 * (v_rel + v_o) / C_KM_S + angle
                                 + _W_EARTH * r_max / C_KM_S)
                     + (v_o + 0.1) / d_min + v_rel * (2.0 * angle + r_max / d_min) / d_min
                     ) + 1e-9
    beta = np.arcsin(np.minimum(
        (np.linalg.norm(crit.sta_pos, axis=0)[crit.sta_of] + 1.0) / d_min, 1.0))
    eps_occ = 1.05 * crit.stretch * beta + 1e-9
    w_a = crit.v_p_o[orb] / (crit.r_min_o[orb] - 1.0)
    rate_occ = 1.2 * (w_a * 1.05 * crit.stretch * beta + 2.0 * crit.w_ray_o[orb]) + 1e-9
    return (
        SharedComponent(0, _MarsElevationProxy(crit), crit.sta_of, eps_el, rate_el),
        SharedComponent(1, _GeocentreOccultationProxy(crit), crit.orb_of, eps_occ, rate_occ),
    )


class _GeocentreOccultationProxy(Criterion):
    """Mars' occultation of the line of sight from orbiter ``o`` (series) to Earth's centre:
    :class:`~marsrelay.contacts.earth.OrbiterEarthCriterion`'s occultation with the station
    at the geocentre."""

    n_components = 1

    def __init__(self, parent: Any) -> None:
        super().__init__()
        self.parent = parent

    def initial_step(self, series):
        return self.parent.period_o[series]

    def _evaluate(self, t, series):
        pa = self.parent
        p, vm, x = pa._sender(t, series)
        # Earth's centre at Mars' centre's light time: the orbiter's own differs by at most
        # |p| / c (0.03 s, under 1 km of Earth's motion, inside the margin's 1 km)
        s, _ = pa.tables.earth(t + pa.tables.light_time(t)[0], velocity=False)
        g_occ, r = pa._occultation(t, p, vm, x, s)
        return g_occ[None, :], r[None, :]

    def bounds(self, h_s, series, aux_a, aux_b):
        lip, curv = self.parent._occultation_bounds(h_s, series, aux_a, aux_b)
        return lip[None, :], curv[None, :]


class _MarsElevationProxy(Criterion):
    """Station ``s`` (series) elevation of Mars' centre, as ``sin(el) - sin(mask)``:
    :class:`~marsrelay.contacts.earth.OrbiterEarthCriterion`'s station elevation with the
    orbiter at Mars' centre."""

    n_components = 1

    def __init__(self, parent: Any) -> None:
        super().__init__()
        self.parent = parent
        d_min = parent.tables.min_distance_km - 6400.0
        lip, curv = parent._rates(np.zeros(1), np.zeros(1), np.full(1, d_min))
        self.lip, self.curv = float(lip[0]), float(curv[0])

    def initial_step(self, series):
        return np.full(len(series), 4.0 * 3600.0)

    def _evaluate(self, t, series):
        pa = self.parent
        m, _ = pa.tables.mars(t, velocity=False)
        s, up, _ = pa._receive(t, m, series)
        rel = m - s
        sin_el = _dot(up, rel) / _norm(rel)
        return (sin_el - pa.sta_sin_mask[series])[None, :], np.zeros((0, t.size))

    def bounds(self, h_s, series, aux_a, aux_b):
        return np.full((1, h_s.size), self.lip), np.full((1, h_s.size), self.curv)
