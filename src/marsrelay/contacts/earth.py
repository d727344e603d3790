"""Earth windows: an orbiter or a lander can send to an Earth station.

Conventions (project ``conventions.md``, "Geometry"; SPICE ``CN`` aberration correction on the
receiver side, no stellar aberration). A window is stated in the *sender's* time ``t`` (TDB at
transmission); the station receives at ``t + OWLT``, where the one-way light time solves
``c OWLT = |S(t + OWLT) - X(t)|`` with ``X`` the sender's and ``S`` the station's barycentric
positions. At ``t`` the link is open when:

- **station elevation**: the sender's position at ``t``, seen from the station at
  ``t + OWLT``, is above the station's mask (geodetic up, as
  :class:`marsrelay.geometry.sites.EarthStation`);
- **orbiter -> station, Mars occultation**: the line of sight from the orbiter (at ``t``) to the
  station (at ``t + OWLT``) clears Mars' ellipsoid enlarged by ``grazing_height_km``. The
  ellipsoid is placed where Mars is when the signal passes the ray's point nearest to it
  (at grazing: the limb point), ``t + lambda / c`` with ``lambda`` that point's distance from
  the orbiter along the ray. This is how SPICE's ``gfoclt`` with ``CN`` decides a point
  occultation (``sincpt`` light-time corrects the target to the intercept point). Mars at
  ``t`` instead would move the limb by up to 0.6 km (0.2-1 s of window edge); at the light
  time of Mars' centre, by up to 1.3 m (0.2 ms): on an oblate Mars the limb point lies up to
  ``R f`` (20 km) nearer or farther than the centre. Mars' ellipsoid is symmetric about its
  pole, so its rotation during those milliseconds does not matter;
- **lander -> station, lander elevation**: the station's position at ``t + OWLT``, seen from the
  lander at ``t``, is above the lander's mask. The mask (>= 0 deg, from the lander's local
  horizontal plane) stands for its horizon: no ellipsoid test, which a lander below the
  reference ellipsoid (negative height, e.g. Oxia Planum at -3 km) would always fail;
- **solar conjunction**: the Sun-Earth-Mars angle is at least ``conjunction_sep_deg`` (see
  :class:`ConjunctionCriterion`; the same for every Earth link).

Light time: each evaluation starts from the tabulated Mars-centre light time, takes one
fixed-point step with the station's position and velocity at the trial reception time and
moves the station along its velocity to the converged time (error below 1e-9 s and 1 mm).

Constraint functions and derivative bounds (``D`` the least sender-station distance over the
span, ``V`` a bound of the relative speed, ``w`` Earth's rotation rate, ``k = A / C`` the
ellipsoid's pole stretch, ``A``/``C`` its enlarged equatorial/polar radii):

- elevation as ``sin(el) - sin(mask)``: ``|g'| <= w (1 + tau') + V / D``, ``|g''| <= w^2
  (1 + tau')^2 + w |tau''| + 2 w (1 + tau') V / D + |u''|`` (``u`` the line-of-sight unit
  vector, see :func:`~marsrelay.contacts.kinematics.unit_vector_curvature`);
- occultation as ``cos(alpha) - cos(theta)``, in coordinates stretched by ``k = A / C``
  along Mars' pole (where the ellipsoid is a sphere of radius ``A``): ``theta`` the angle
  between the line of sight and the orbiter's nadir, ``alpha = asin(A / r)`` Mars' angular
  radius from the orbiter at distance ``r``; the ray meets the sphere exactly when ``theta <
  alpha``. With ``a`` the unit vector from Mars' centre to the orbiter and ``b`` the line of
  sight, ``cos(theta) = -a . b``, so the function is ``sqrt(1 - A^2 / r^2) + a . b``: no
  angle, no division by ``sin(theta)``. (The ray's distance from Mars' centre has the same
  sign, but a low orbiter in front of Mars stays within ~400 km of it while the event is half
  an orbit away: its bounds would force ~20 samples per orbit.) ``|g'| <= |a'| + |b'| + c1
  |r'|`` and ``|g''| <= |a''| + 2 |a'||b'| + |b''| + c1 |r''| + c2 r'^2``, with ``c1``,
  ``c2`` the derivatives of ``sqrt(1 - A^2 / r^2)`` at the interval's least ``r``, ``|a'| <=
  v / r``, ``|a''|`` from the orbit's acceleration (for J2 orbits: central up to the
  turning of the node and apsides), ``|r'|`` the orbit's radial speed bound plus the
  stretch's ``(k^2 - 1) v``. Where ``r`` may reach ``A`` (an orbiter below the grazing
  height) no bound is claimed and the finder halves down to its minimum duration.

The orbiter -> station components are shared between pairs (one search per orbiter and per
station, :mod:`marsrelay.contacts.earth_shared`). This module is a little over 500 lines: the
three Earth-link criteria share their light-time and station code, and each keeps its bounds
next to the geometry they bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from marsrelay.constants import C_KM_S, MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM
from marsrelay.contacts.earth_shared import orbiter_earth_shared
from marsrelay.contacts.earth_tables import ERA_RATE_RAD_S, EarthMarsTables
from marsrelay.contacts.finder import Criterion, SharedComponent, find_windows
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.kinematics import (
    icrf_from_body,
    mars_rotation_rate_rad_s,
    orbiter_positions,
    unit_vector_curvature,
)
from marsrelay.contacts.motion import MotionBounds, motion_bounds
from marsrelay.contacts.passes import PairCriterion, Passes, search_passes
from marsrelay.geometry.orbits import Trajectory
from marsrelay.geometry.rotation import RotationModel
from marsrelay.geometry.sites import EarthStation, MarsSite

__all__ = [
    "ConjunctionCriterion",
    "DirectEarthCriterion",
    "OrbiterEarthCriterion",
    "conjunction_free",
    "find_direct_earth_windows",
    "find_orbiter_earth_windows",
]

#: Earth's rotation rate bound (rad/s): ERA rate plus precession-nutation (< 1e-11 rad/s).
_W_EARTH = ERA_RATE_RAD_S * (1.0 + 1e-6)
#: Bound of a station's barycentric acceleration less Mars' (km/s^2): centripetal 3.4e-5 ...
_A_STATION = 1e-4


def _norm(x: np.ndarray) -> np.ndarray:
    return np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]


class _StationLink(PairCriterion):
    """Shared machinery: stations, light time, station elevation and its bounds."""

    observe_step_s = 3600.0

    def __init__(self, tables: EarthMarsTables, stations: Sequence[EarthStation],
                 station_index: Sequence[int]) -> None:
        super().__init__()
        self.tables = tables
        self.sta_of = np.asarray(station_index, np.int64)
        self.sta_pos = np.stack([s.position_itrs_km for s in stations], 1)  # (3, n)
        self.sta_up = np.stack([s.topocentric_itrs[2] for s in stations], 1)
        self.sta_sin_mask = np.sin(np.radians([s.elevation_mask_deg for s in stations]))

    def _receive(self, t: np.ndarray, x: np.ndarray, sta: np.ndarray | None):
        """Station barycentric position ``S`` and up vector at reception, and the light time,
        for a signal leaving barycentric ``x`` ``(3, N)`` at TDB ``t``. ``sta=None``: Earth's
        centre (the same formulas with a station at the geocentre; no up vector)."""
        tb = self.tables
        tau0 = tb.light_time(t)[0]
        tr = t + tau0
        s0, vs = tb.earth(tr)
        if sta is not None:
            s, sv, up, up_dot = tb.station(tr, self.sta_pos[:, sta], self.sta_up[:, sta])
            s0 = s0 + s
            vs = vs + sv
        tau1 = _norm(s0 - x) / C_KM_S
        s1 = s0 + vs * (tau1 - tau0)
        tau = _norm(s1 - x) / C_KM_S
        dt = tau - tau0
        if sta is None:
            return s0 + vs * dt, None, tau
        return s0 + vs * dt, up + up_dot * dt, tau

    def _rates(self, v_sender: np.ndarray, a_sender: np.ndarray, d_min: np.ndarray):
        """Bounds for the station-elevation constraint: (L, M) per pair."""
        v = v_sender + self.tables.max_rel_speed_km_s
        td = v / C_KM_S * 1.001  # |d tau / dt|
        tdd = (a_sender + _A_STATION + v * v / d_min) / C_KM_S * 1.01
        uv = v * (1.0 + td) / d_min
        lip = _W_EARTH * (1.0 + td) + uv
        curv = (_W_EARTH**2 * (1.0 + td) ** 2 + _W_EARTH * tdd + 2.0 * _W_EARTH * (1.0 + td) * uv
                + unit_vector_curvature(v * (1.0 + td), a_sender + _A_STATION, d_min))
        return lip, curv * 1.01


class OrbiterEarthCriterion(_StationLink):
    """Orbiter -> station windows for pairs ``(orbiter_index[k], station_index[k])``.

    Components: station elevation (``sin``), Mars occultation (``cos(alpha) - cos(theta)``).
    ``aux`` holds the orbiter's (stretched) distance from Mars' centre (km) for the local
    bounds. Both components are *shared* (:mod:`marsrelay.contacts.shared`): every station
    sees Mars' occultation of an orbiter as the geocentre does, within the angle its offset
    from the geocentre subtends; every orbiter's elevation from a station is Mars' centre's,
    within the angle the orbit subtends.
    """

    kind = "orbiter_earth"
    n_components = 2

    def __init__(
        self,
        tables: EarthMarsTables,
        trajectories: Sequence[Trajectory],
        motion: Sequence[MotionBounds],
        stations: Sequence[EarthStation],
        orbiter_index: Sequence[int],
        station_index: Sequence[int],
        grazing_height_km: float = 0.0,
    ) -> None:
        super().__init__(tables, stations, station_index)
        self.trajectories = list(trajectories)
        self.orb_of = np.asarray(orbiter_index, np.int64)
        big_a = MARS_EQ_RADIUS_KM + grazing_height_km
        self.radius = big_a
        self.stretch = big_a / (MARS_POLAR_RADIUS_KM + grazing_height_km)
        k = self.stretch
        # Per orbiter (index o); pairs take them through orb_of.
        v_o = np.array([m.v_max_km_s for m in motion])
        a_o = np.array([m.a_max_km_s2 for m in motion])
        self.r_max_o = np.array([m.r_max_km for m in motion])
        self.r_min_o = np.array([m.r_min_km for m in motion])
        self.d_min_o = tables.min_distance_km - self.r_max_o - 6400.0
        self.el_lip_o, self.el_curv_o = self._rates(v_o, a_o, self.d_min_o)
        v_all = v_o + tables.max_rel_speed_km_s * 1.01
        # The stretched line of sight b turns slowly: |b'| and |b''| (1/s, 1/s^2).
        self.w_ray_o = k * v_all / self.d_min_o
        self.a_ray_o = unit_vector_curvature(k * v_all, k * (a_o + _A_STATION),
                                             self.d_min_o) * 1.01
        # Orbiter relative to Mars (placed at the ray's passage), stretched: speed, accel.,
        # and the rate of its distance r' = |P'| from Mars' centre: with P' = S P,
        # |P'|' = (r r' + (k^2 - 1)(P.n)(P'.n)) / |P'| <= |r'| + (k^2 - 1) |P'|.
        self.v_p_o = k * (v_o + 1e-3)
        self.a_p_o = k * (a_o + 1e-5)
        rdot = np.array([m.rdot_max_km_s for m in motion])
        self.r_rate_o = rdot + (k * k - 1.0) * self.v_p_o + 1e-3
        self.period_o = np.array([m.period_s for m in motion])
        self._kepler_bounds(motion)
        self._shared: tuple[SharedComponent, ...] | None = None

    def initial_step(self, series: np.ndarray) -> np.ndarray:
        return self.period_o[self.orb_of[series]]

    def _sender(self, t: np.ndarray, orb: np.ndarray):
        """Orbiter positions relative to Mars ``p``, Mars' barycentric velocity ``vm`` and the
        orbiter's barycentric position ``x`` at TDB ``t``."""
        p = orbiter_positions(self.trajectories, orb, t)
        m, vm = self.tables.mars(t)
        return p, vm, m + p

    def _occultation(self, t: np.ndarray, p: np.ndarray, vm: np.ndarray, x: np.ndarray,
                     s: np.ndarray):
        """``cos(alpha) - cos(theta)`` and the stretched distance ``r`` (km) for the ray from
        ``x`` (orbiter at ``t``) to ``s`` (the receiver at reception).

        Mars is placed where it is when the signal passes the ray's point nearest to it (in
        stretched coordinates: the tangent point at grazing), t + lambda / c, as SPICE's
        sincpt places a CN target at the intercept's light time: lambda from Mars at ``t``,
        then Mars moved by ``v lambda / c`` (a second pass would move lambda by v/c of that:
        well under a millimetre)."""
        d = s - x
        d = d / _norm(d)  # ray direction (orbiter -> receiver)
        n = self.tables.pole(t)
        k1 = self.stretch - 1.0
        ds = d + (k1 * _dot(d, n)) * n
        dd = _dot(ds, ds)
        pm = p + (k1 * _dot(p, n)) * n
        lam = np.maximum(-_dot(pm, ds) / dd, 0.0)
        pm = p - vm * (lam / C_KM_S)  # orbiter relative to Mars' centre at t + lambda / c
        pm = pm + (k1 * _dot(pm, n)) * n
        r = _norm(pm)
        big_a = self.radius
        with np.errstate(invalid="ignore"):
            cos_alpha = np.sqrt(1.0 - (big_a / r) ** 2)
        g_occ = np.where(r > big_a, cos_alpha + _dot(pm, ds) / (r * np.sqrt(dd)), -2.0)
        return g_occ, r

    def _geometry(self, t: np.ndarray, series: np.ndarray):
        sta = self.sta_of[series]
        p, vm, x = self._sender(t, self.orb_of[series])
        s, up, tau = self._receive(t, x, sta)
        rel = x - s
        rho = _norm(rel)
        sin_el = _dot(up, rel) / rho
        return sin_el, p, vm, x, s, rho, tau

    def _evaluate(self, t, series):
        sin_el, p, vm, x, s, _, _ = self._geometry(t, series)
        g_occ, r = self._occultation(t, p, vm, x, s)
        g = np.stack([sin_el - self.sta_sin_mask[self.sta_of[series]], g_occ])
        return g, r[None, :]

    def _kepler_bounds(self, motion: Sequence[MotionBounds]) -> None:
        """Per orbiter: the non-central acceleration of the stretched position ``P`` (km/s^2)
        and ``B >= ||P'|^2 - GM' |P|^2 / |p|^3|`` (km^2/s^2), which bound ``|P_hat''|`` and
        ``|r''|`` tightly for J2 orbits (``inf`` without a Kepler structure: the generic
        bounds apply).

        With ``p'' = -GM' p / |p|^3 + delta`` (``|delta| <= 2 Omega v + Omega^2 r``, see
        :class:`~marsrelay.contacts.motion.MotionBounds`) and ``P = S p_m`` (``S`` the
        stretch, ``p_m = p - v_mars lambda / c`` with Mars placed at the ray's passage: an
        offset under 0.5 km moving under 1e-3 km/s, accelerating under 1e-6 km/s^2), ``P''``
        is ``-GM' / |p|^3 P`` plus at most ``k (|delta| + 1e-6) + GM' / r_p^2 k 0.5 km /
        r_p``. And ``|P'|^2`` lies in ``[v^2, k^2 v^2]``, ``|P|^2 / |p|^2`` in ``[1, k^2]``, so
        ``|P'|^2 - GM' |P|^2 / |p|^3`` lies in ``GM' [(2 - k^2) x - 1 / a, (2 k^2 - 1) x -
        k^2 / a]`` with ``x = 1 / |p|`` in ``[1 / r_a, 1 / r_p]`` (vis-viva), widened by the
        frame rotation's ``2 v Omega r + (Omega r)^2`` and the placement's ``2 v 1e-3``."""
        k2 = self.stretch**2
        self.nc_acc_o = np.full(len(motion), np.inf)
        self.b_o = np.full(len(motion), np.inf)
        for o, m in enumerate(motion):
            if m.kepler is None:
                continue
            gm, a, e, om = m.kepler
            r_p, r_a = a * (1.0 - e), a * (1.0 + e)
            v = m.v_max_km_s
            self.nc_acc_o[o] = (self.stretch * (2.0 * om * v + om * om * r_a + 1e-6)
                                + gm / r_p**3 * self.stretch * 0.5)
            ends = [gm * ((2.0 - k2) * x - 1.0 / a) for x in (1.0 / r_a, 1.0 / r_p)]
            ends += [gm * ((2.0 * k2 - 1.0) * x - k2 / a) for x in (1.0 / r_a, 1.0 / r_p)]
            self.b_o[o] = (max(abs(x) for x in ends) + k2 * (2.0 * v * om * r_a + (om * r_a)**2)
                           + 2.0 * k2 * v * 1e-3 + 2.0 * gm * k2 / r_p**2 * 0.5)
        self._all_kepler = bool(np.isfinite(self.nc_acc_o).all())

    def _occultation_bounds(self, h_s, orb, aux_a, aux_b):
        """(L, M) of the occultation component ``c(r) + a . b`` on intervals of orbiter
        ``orb`` (``c(r) = sqrt(1 - A^2 / r^2)``, ``a`` the unit vector Mars -> orbiter, ``b``
        the ray; see the module docstring).

        ``|(a . b)''| <= |a''| + 2 |a'||b'| + |b''|``. ``|a''|``: for ``a = P / r``, ``a'' =
        a_perp / r - 2 r' v_perp / r^2 - (|v_perp| / r)^2 a`` (the last term orthogonal to
        the others); for J2 orbits ``a_perp`` is the non-central acceleration
        (:meth:`_kepler_bounds`), else :func:`unit_vector_curvature`. ``|c''| <= c1 |r''| +
        c2 r'^2`` with ``c1 = A^2 / (r^3 c)`` and ``c2 = 3 A^2 / (r^4 c) + A^4 / (r^6 c^3)``
        (both decreasing in ``r``: taken at the interval's least ``r``) and ``r r'' = |P'|^2
        + P . P'' - r'^2``."""
        big_a = self.radius
        vp, vr = self.v_p_o.take(orb), self.r_rate_o.take(orb)
        w_ray = self.w_ray_o.take(orb)
        r_lo = 0.5 * (aux_a[0] + aux_b[0]) - 0.5 * vr * h_s
        ok = r_lo > big_a * (1.0 + 1e-9)
        r_lo = np.where(ok, r_lo, 2.0 * big_a)  # placeholder where the bounds are inf anyway
        inv_r = 1.0 / r_lo
        x = (big_a * inv_r) ** 2  # A^2 / r^2
        c = np.sqrt(1.0 - x)
        c1 = x * inv_r / c
        c2 = (3.0 * x + x * x / (c * c)) * (inv_r * inv_r) / c
        w_a = vp * inv_r  # turning rate of the orbiter's direction from Mars
        lip_o = w_a + w_ray + c1 * vr
        if self._all_kepler:
            nc = self.nc_acc_o.take(orb)
            a1 = nc * inv_r + 2.0 * vr * w_a * inv_r
            u_curv = np.sqrt(a1 * a1 + (w_a * w_a) * (w_a * w_a))
            r_curv = (self.b_o.take(orb) + vr * vr) * inv_r + nc
        else:
            ap = self.a_p_o.take(orb)
            nc, b_kep = self.nc_acc_o.take(orb), self.b_o.take(orb)
            kep = np.isfinite(nc)
            with np.errstate(invalid="ignore", over="ignore"):
                u_curv = np.where(kep, np.sqrt((nc * inv_r + 2.0 * vr * w_a * inv_r) ** 2
                                               + w_a**4), unit_vector_curvature(vp, ap, r_lo))
                r_curv = np.where(kep, (b_kep + vr * vr) * inv_r + nc, ap + vp * vp * inv_r)
        curv_o = (u_curv + 2.0 * w_a * w_ray + self.a_ray_o.take(orb) + c1 * r_curv
                  + c2 * vr * vr) * 1.01
        return np.where(ok, lip_o * 1.001, np.inf), np.where(ok, curv_o, np.inf)

    def bounds(self, h_s, series, aux_a, aux_b):
        orb = self.orb_of[series]
        lip_o, curv_o = self._occultation_bounds(h_s, orb, aux_a, aux_b)
        return (np.stack([self.el_lip_o[orb], lip_o]),
                np.stack([self.el_curv_o[orb], curv_o]))

    def observe_steps(self, windows: Intervals) -> np.ndarray:
        """:attr:`observe_step_s` (1 h: the range turns twice an orbit while the Earth-Mars
        range rate is small), or 6 h where the range is monotone over the window, which leaves
        only the elevation's daily turning point.

        The range rate is ``u . (x' - S' (1 + tau'))``: the Earth-Mars rate along the line of
        sight to Mars' centre ``u_c . (v_mars - v_earth)`` plus the orbiter's velocity about
        Mars (at most ``v``), the station's (0.47 km/s), and the light-time and line-of-sight
        terms (under 0.02 km/s). The Earth-Mars rate changes at most at ``V^2 / D + 2e-5``
        km/s^2 (``V``, ``D`` the tables' speed and distance bounds). Where it exceeds
        ``v + 0.54 km/s`` plus its change over the window, the range has no turning point."""
        tb = self.tables
        a = windows.start
        m, vm = tb.mars(a)
        e, ve = tb.earth(a + tb.light_time(a)[0])
        los = m - e
        rate = _dot(los, vm - ve) / _norm(los)
        change = (tb.max_rel_speed_km_s**2 / tb.min_distance_km + 2e-5) * 1.1
        v_o = self.v_p_o[self.orb_of[windows.series]] / self.stretch
        slack = np.abs(rate) - v_o - 0.54 - change * (windows.end - a)
        return np.where(slack > 0.0, 6.0 * 3600.0, self.observe_step_s)

    def observe(self, t_s, series):
        t = np.asarray(t_s, float)
        series = np.asarray(series, np.int64)
        x = (orbiter_positions(self.trajectories, self.orb_of[series], t)
             + self.tables.mars(t, velocity=False)[0])
        s, up, tau = self._receive(t, x, self.sta_of[series])
        rel = x - s
        rho = _norm(rel)
        out = np.empty((3, t.size))
        out[0] = np.degrees(np.arcsin(np.clip(_dot(up, rel) / rho, -1.0, 1.0)))
        out[1] = rho
        out[2] = tau
        return out

    def shared_components(self) -> tuple[SharedComponent, ...]:
        """Station elevation shared per station, occultation per orbiter, with proven margins
        (:func:`marsrelay.contacts.earth_shared.orbiter_earth_shared`)."""
        if self._shared is None:
            self._shared = orbiter_earth_shared(self)
        return self._shared


class DirectEarthCriterion(_StationLink):
    """Lander -> station windows for pairs ``(site_index[k], station_index[k])``.

    Components: lander elevation of the station, station elevation of the lander (``sin``).
    """

    kind = "direct_earth"
    n_components = 2

    def __init__(
        self,
        tables: EarthMarsTables,
        sites: Sequence[MarsSite],
        stations: Sequence[EarthStation],
        site_index: Sequence[int],
        station_index: Sequence[int],
        rotation: RotationModel,
    ) -> None:
        super().__init__(tables, stations, station_index)
        self.rotation = rotation
        self.site_of = np.asarray(site_index, np.int64)
        self.site_pos = np.stack([s.position_body_km for s in sites], 1)
        self.site_up = np.stack([s.normal for s in sites], 1)
        self.site_sin_mask = np.sin(np.radians([s.elevation_mask_deg for s in sites]))
        w = mars_rotation_rate_rad_s(rotation)
        r = np.linalg.norm(self.site_pos, axis=0)[self.site_of]
        v_l, a_l = w * r, w * w * r
        d_min = tables.min_distance_km - r - 6400.0
        self.sta_lip, self.sta_curv = self._rates(v_l, a_l, d_min)
        v = v_l + tables.max_rel_speed_km_s * 1.01
        uv = v / d_min
        self.lan_lip = w + uv
        self.lan_curv = (w * w + 2.0 * w * uv + unit_vector_curvature(v, a_l + _A_STATION, d_min)
                         ) * 1.01

    def initial_step(self, series: np.ndarray) -> np.ndarray:
        return np.full(len(series), 3600.0)

    def _geometry(self, t: np.ndarray, series: np.ndarray):
        site, sta = self.site_of[series], self.sta_of[series]
        m, _ = self.tables.mars(t)
        x = m + icrf_from_body(self.rotation, t, self.site_pos[:, site])
        up_l = icrf_from_body(self.rotation, t, self.site_up[:, site])
        s, up, tau = self._receive(t, x, sta)
        rel = x - s
        rho = _norm(rel)
        return _dot(up, rel) / rho, -_dot(up_l, rel) / rho, rho, tau

    def _evaluate(self, t, series):
        sin_sta, sin_lan, _, _ = self._geometry(t, series)
        g = np.stack([sin_lan - self.site_sin_mask[self.site_of[series]],
                      sin_sta - self.sta_sin_mask[self.sta_of[series]]])
        return g, np.zeros((0, t.size))

    def bounds(self, h_s, series, aux_a, aux_b):
        lip = np.stack([self.lan_lip[series], self.sta_lip[series]])
        curv = np.stack([self.lan_curv[series], self.sta_curv[series]])
        return lip, curv

    def observe(self, t_s, series):
        sin_sta, _, rho, tau = self._geometry(np.asarray(t_s, float), np.asarray(series, np.int64))
        return np.stack([np.degrees(np.arcsin(np.clip(sin_sta, -1, 1))), rho, tau])


class ConjunctionCriterion(Criterion):
    """Open while the Sun-Earth-Mars angle is at least ``sep_deg`` (one series, 0).

    The angle is :meth:`EarthMarsTables.sun_earth_mars_rad` for a signal leaving Mars' centre:
    the spacecraft's own few-ms offsets change it by under 1e-8 deg. It moves at most
    ``V / D`` (Mars seen from Earth) plus 2.1e-7 rad/s (the Sun seen from Earth) per second.
    """

    n_components = 1

    def __init__(self, tables: EarthMarsTables, sep_deg: float) -> None:
        super().__init__()
        self.tables = tables
        self.sep = math.radians(sep_deg)
        self.lip = tables.max_rel_speed_km_s / tables.min_distance_km + 2.1e-7

    def initial_step(self, series):
        return np.full(len(series), 86400.0)

    def _evaluate(self, t, series):
        return (self.tables.sun_earth_mars_rad(t) - self.sep)[None, :], np.zeros((0, t.size))

    def bounds(self, h_s, series, aux_a, aux_b):
        return np.full((1, h_s.size), self.lip), np.full((1, h_s.size), np.inf)


def conjunction_free(tables: EarthMarsTables, t0_s: float, t1_s: float, sep_deg: float,
                     *, tol_s: float = 1e-3) -> Intervals:
    """TDB intervals (series 0) in ``[t0_s, t1_s]`` when the Sun-Earth-Mars angle is at least
    ``sep_deg`` (deg), i.e. when Earth links are allowed."""
    if sep_deg <= 0:
        return Intervals.span([0], t0_s, t1_s)
    crit = ConjunctionCriterion(tables, sep_deg)
    return find_windows(crit, Intervals.span([0], t0_s, t1_s), tol_s=tol_s).windows


def _earth_domains(tables: EarthMarsTables, t0_s: float, t1_s: float, sep_deg: float,
                   unavailable: Sequence[tuple[float, float]]) -> Intervals:
    domains = conjunction_free(tables, t0_s, t1_s, sep_deg)
    if unavailable:
        domains = domains.subtract(Intervals.from_pairs((0, a, b) for a, b in unavailable))
    return domains


def find_orbiter_earth_windows(
    trajectory: Trajectory,
    station: EarthStation,
    rotation: RotationModel,
    t0_s: float,
    t1_s: float,
    *,
    grazing_height_km: float = 0.0,
    conjunction_sep_deg: float = 2.0,
    unavailable: Sequence[tuple[float, float]] = (),
    tables: EarthMarsTables | None = None,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
) -> Passes:
    """Windows in ``[t0_s, t1_s]`` (sender's TDB s) when ``trajectory``'s orbiter can send to
    ``station``: station elevation above its mask, line of sight clear of Mars' ellipsoid
    enlarged by ``grazing_height_km``, Sun-Earth-Mars angle at least ``conjunction_sep_deg``;
    ``unavailable`` (sender's TDB intervals) removed. Figures: the station's elevation of the
    orbiter (deg), range (km), one-way light time (s). ``tables`` may be shared between calls
    (it must cover the span)."""
    tables = tables or EarthMarsTables(t0_s, t1_s, rotation)
    crit = OrbiterEarthCriterion(tables, [trajectory], [motion_bounds(trajectory, t0_s, t1_s)],
                                 [station], [0], [0], grazing_height_km)
    domains = _earth_domains(tables, t0_s, t1_s, conjunction_sep_deg, unavailable)
    return search_passes(crit, domains, min_duration_s=min_duration_s, tol_s=tol_s)


def find_direct_earth_windows(
    site: MarsSite,
    station: EarthStation,
    rotation: RotationModel,
    t0_s: float,
    t1_s: float,
    *,
    conjunction_sep_deg: float = 2.0,
    unavailable: Sequence[tuple[float, float]] = (),
    tables: EarthMarsTables | None = None,
    min_duration_s: float = 1.0,
    tol_s: float = 1e-5,
) -> Passes:
    """Windows in ``[t0_s, t1_s]`` (lander's TDB s) when a lander at ``site`` can send to
    ``station``: each above the other's elevation mask (light time included), Sun-Earth-Mars
    angle at least ``conjunction_sep_deg``; ``unavailable`` intervals removed. Figures: the
    station's elevation of the lander (deg), range (km), one-way light time (s)."""
    tables = tables or EarthMarsTables(t0_s, t1_s, rotation)
    crit = DirectEarthCriterion(tables, [site], [station], [0], [0], rotation)
    domains = _earth_domains(tables, t0_s, t1_s, conjunction_sep_deg, unavailable)
    return search_passes(crit, domains, min_duration_s=min_duration_s, tol_s=tol_s)
