"""Geometry at one instant: where each orbiter is over Mars, what each lander sees.

:func:`geometry_snapshot` (or :meth:`marsrelay.scenario.Scenario.geometry_at` for a whole
scenario) answers, at one TDB time:

- each orbiter's sub-orbiter point: the point of the IAU ellipsoid (3396.19, 3396.19, 3376.20 km)
  *nearest* to the orbiter (SPICE ``subpnt`` with ``NEAR POINT/ELLIPSOID``), given as the
  planetocentric latitude and east longitude of that surface point, and the altitude, the
  distance from it to the orbiter (the height along the ellipsoid normal);
- each lander's azimuth, elevation and range of each orbiter (geometric, no light time: the
  distances are under 10,000 km, under 34 ms);
- each lander's azimuth and elevation of Earth's centre, *geometric*: Earth's position at the
  same TDB instant, no light time, no aberration. The apparent direction differs by under about
  0.02 deg (Earth moves up to ~50 km/s across the line of sight during the 3-22 min light
  time, ~0.01 deg; stellar aberration from Mars' ~24 km/s, ~0.005 deg);
- the Earth-Mars distance and the Sun-Earth-Mars angle (SEP, the angle at Earth between the Sun
  and Mars; solar conjunction blocks Earth links below the scenario's threshold).

The nearest ellipsoid point is found in the meridian plane of the orbiter by Newton's method on
the Lagrange-multiplier equation of Eberly ("Distance from a point to an ellipse, an ellipsoid,
or a hyperellipsoid", Geometric Tools, 2013), iterated to machine precision.

Worked example::

    >>> from marsrelay.scenario import load_scenario
    >>> sc = load_scenario("exomars-2030")
    >>> snap = sc.geometry_at(sc.start_tdb_s)
    >>> [p.orbiter for p in snap.sub_orbiter_points]
    ['TGO', 'MRO', 'MAVEN']
    >>> round(snap.sub_orbiter_points[0].altitude_km) in range(395, 420)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.constants import C_KM_S, MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM
from marsrelay.geometry.ephemeris import Ephemeris, SpkEphemeris
from marsrelay.geometry.orbits import Trajectory
from marsrelay.geometry.rotation import RotationModel
from marsrelay.geometry.sites import MarsSite
from marsrelay.geometry.time import tdb_to_utc

__all__ = [
    "GeometrySnapshot",
    "LanderEarthView",
    "LanderOrbiterView",
    "SnapshotLander",
    "SnapshotOrbiter",
    "SubOrbiterPoint",
    "geometry_snapshot",
    "nearest_ellipsoid_point",
]


@dataclass(frozen=True)
class SnapshotOrbiter:
    """An orbiter as the snapshot needs it: name, trajectory, longest proximity link (km)."""

    name: str
    trajectory: Trajectory
    max_range_km: float = math.inf


@dataclass(frozen=True)
class SnapshotLander:
    """A lander as the snapshot needs it: name and site (with its elevation mask)."""

    name: str
    site: MarsSite


@dataclass(frozen=True)
class SubOrbiterPoint:
    """An orbiter's nearest ellipsoid point: planetocentric lat, east lon in [0, 360) (deg),
    altitude above it (km)."""

    orbiter: str
    lat_deg: float
    lon_east_deg: float
    altitude_km: float


@dataclass(frozen=True)
class LanderOrbiterView:
    """An orbiter seen from a lander: azimuth (deg, from north through east), elevation (deg),
    range (km); ``in_view``: above the lander's mask and within the orbiter's max range."""

    lander: str
    orbiter: str
    azimuth_deg: float
    elevation_deg: float
    range_km: float
    in_view: bool


@dataclass(frozen=True)
class LanderEarthView:
    """Earth's centre seen from a lander, geometric: azimuth and elevation (deg)."""

    lander: str
    azimuth_deg: float
    elevation_deg: float


@dataclass(frozen=True)
class GeometrySnapshot:
    """The geometry of a scenario at one instant (see the module docstring)."""

    tdb_s: float
    utc: str
    sub_orbiter_points: tuple[SubOrbiterPoint, ...]
    lander_orbiter_views: tuple[LanderOrbiterView, ...]
    lander_earth_views: tuple[LanderEarthView, ...]
    earth_mars_distance_km: float
    one_way_light_time_s: float
    sun_earth_mars_deg: float


def nearest_ellipsoid_point(
    position_km: np.ndarray,
    radii_km: tuple[float, float] = (MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM),
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest points of an oblate ellipsoid (equatorial, polar radius, km) to body-fixed
    positions ``(N, 3)`` km, and the signed distances to them (km, negative inside).

    Solves ``F(t) = (a r/(t + a^2))^2 + (c |z|/(t + c^2))^2 - 1 = 0`` for its largest root by
    Newton's method from ``t0 = max(a r - a^2, c |z| - c^2)``, where ``F(t0) >= 0``; F is convex
    and decreasing there, so the iterates rise monotonically to the root. Valid for points
    outside the ellipsoid or inside it away from its centre (an interior point on the equatorial
    plane closer to the centre than ``a - c^2/a`` has another nearest point; not handled).
    """
    p = np.atleast_2d(np.asarray(position_km, dtype=float))
    a, c = radii_km
    rho = np.hypot(p[:, 0], p[:, 1])
    zabs = np.abs(p[:, 2])
    a2, c2 = a * a, c * c
    t = np.maximum(a * rho - a2, c * zabs - c2)
    for _ in range(100):
        ea = a * rho / (t + a2)
        ec = c * zabs / (t + c2)
        f = ea * ea + ec * ec - 1.0
        df = -2.0 * (ea * ea / (t + a2) + ec * ec / (t + c2))
        step = np.divide(f, df, out=np.zeros_like(f), where=df != 0.0)
        t = t - step
        if np.all(np.abs(step) <= 1e-15 * (np.abs(t) + a2)):
            break
    rho_s = a2 * rho / (t + a2)
    z_s = np.copysign(c2 * zabs / (t + c2), p[:, 2])
    scale = np.divide(rho_s, rho, out=np.zeros_like(rho), where=rho > 0.0)
    surface = np.stack([p[:, 0] * scale, p[:, 1] * scale, z_s], axis=-1)
    inside = (rho / a) ** 2 + (zabs / c) ** 2 < 1.0
    dist = np.linalg.norm(p - surface, axis=-1)
    return surface, np.where(inside, -dist, dist)


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    """Angle between two 3-vectors, deg (atan2 form, accurate at all angles)."""
    return math.degrees(math.atan2(np.linalg.norm(np.cross(u, v)), float(np.dot(u, v))))


def geometry_snapshot(
    tdb_s: float,
    rotation: RotationModel,
    orbiters: Sequence[SnapshotOrbiter],
    landers: Sequence[SnapshotLander],
    ephemeris: Ephemeris | SpkEphemeris | None = None,
) -> GeometrySnapshot:
    """The geometry of ``orbiters`` and ``landers`` at ``tdb_s`` (TDB seconds past J2000); see
    the module docstring. ``ephemeris`` defaults to DE421.

    Raises :class:`~marsrelay.errors.EphemerisCoverageError` outside the ephemeris and
    :class:`~marsrelay.errors.TrajectoryError` outside an SPK/OEM trajectory's coverage.
    """
    eph = ephemeris if ephemeris is not None else Ephemeris.de421()
    t = np.array([float(tdb_s)])
    rot = rotation.icrf_to_body(t)[0]  # ICRF -> IAU_MARS
    names = [o.name for o in orbiters]
    body_positions = [rot @ o.trajectory.state_km(t)[0][0] for o in orbiters]

    sub_points: list[SubOrbiterPoint] = []
    if body_positions:
        pos_body = np.array(body_positions)
        surface, altitude = nearest_ellipsoid_point(pos_body)
        lat = np.degrees(np.arctan2(surface[:, 2], np.hypot(surface[:, 0], surface[:, 1])))
        lon = np.degrees(np.arctan2(surface[:, 1], surface[:, 0])) % 360.0
        sub_points = [
            SubOrbiterPoint(n, float(la), float(lo), float(h))
            for n, la, lo, h in zip(names, lat, lon, altitude, strict=True)
        ]

    earth_from_mars = eph.position_km("earth", t, centre="mars")[0]
    sun_from_earth = eph.position_km("sun", t, centre="earth")[0]
    earth_body = rot @ earth_from_mars

    views: list[LanderOrbiterView] = []
    earth_views: list[LanderEarthView] = []
    for lander in landers:
        site = lander.site
        for orbiter, pos in zip(orbiters, body_positions, strict=True):
            aer = site.azel_of_body_fixed(pos)
            el, rng = float(aer.elevation_deg[0]), float(aer.range_km[0])
            views.append(
                LanderOrbiterView(
                    lander.name, orbiter.name, float(aer.azimuth_deg[0]), el, rng,
                    bool(el >= site.elevation_mask_deg and rng <= orbiter.max_range_km),
                )
            )
        aer = site.azel_of_body_fixed(earth_body)
        earth_views.append(
            LanderEarthView(lander.name, float(aer.azimuth_deg[0]), float(aer.elevation_deg[0]))
        )

    distance = float(np.linalg.norm(earth_from_mars))
    return GeometrySnapshot(
        tdb_s=float(tdb_s),
        utc=str(tdb_to_utc(float(tdb_s))),
        sub_orbiter_points=tuple(sub_points),
        lander_orbiter_views=tuple(views),
        lander_earth_views=tuple(earth_views),
        earth_mars_distance_km=distance,
        one_way_light_time_s=distance / C_KM_S,
        sun_earth_mars_deg=_angle_deg(sun_from_earth, -earth_from_mars),
    )
