"""Geometry for pictures: orbiter ground tracks, lander visibility rings, Earth-Mars distance and
the Sun-Earth-Mars angle.

These feed the report's map and geometry plots only; every number in a report table comes from
the stage outputs of a run. Part of the geometry layer (it imports nothing from later stages).

Worked example (a 400 km circular orbit at 74 deg inclination never goes past 74 deg latitude)::

    >>> import numpy as np
    >>> from marsrelay.geometry.orbits import MeanElements, J2Orbit
    >>> from marsrelay.geometry.rotation import rotation_model
    >>> rot = rotation_model("iau2009")
    >>> orbit = J2Orbit(MeanElements(0.0, 3796.19, 0.0, 74.0, 0.0, 0.0, 0.0), rot)
    >>> track = ground_track(orbit, rot, np.arange(0.0, 7200.0, 60.0))
    >>> bool(np.abs(track.lat_deg).max() < 74.01)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.constants import C_KM_S, MARS_EQ_RADIUS_KM
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.orbits import Trajectory
from marsrelay.geometry.rotation import RotationModel
from marsrelay.geometry.snapshot import nearest_ellipsoid_point

__all__ = [
    "EarthMarsGeometry",
    "GroundTrack",
    "coverage_half_angle_deg",
    "earth_mars_geometry",
    "ground_track",
    "small_circle_deg",
]


@dataclass(frozen=True)
class GroundTrack:
    """Sub-spacecraft points: planetocentric latitude, east longitude in [0, 360) (deg) of the
    nearest ellipsoid point and the height over it (km), one per time (TDB s)."""

    tdb_s: np.ndarray
    lat_deg: np.ndarray
    lon_east_deg: np.ndarray
    height_km: np.ndarray


@dataclass(frozen=True)
class EarthMarsGeometry:
    """Geocentre-to-Mars-centre distance (km), one-way light time over it (s) and the
    Sun-Earth-Mars angle (deg) at each time (TDB s)."""

    tdb_s: np.ndarray
    distance_km: np.ndarray
    owlt_s: np.ndarray
    sep_deg: np.ndarray


def ground_track(
    trajectory: Trajectory, rotation: RotationModel, tdb_s: Sequence[float] | np.ndarray
) -> GroundTrack:
    """Ground track of ``trajectory`` at ``tdb_s`` (TDB s past J2000) in ``rotation``'s
    body-fixed frame: the sub-orbiter points of ``marsrelay geometry`` (nearest point of the IAU
    ellipsoid, SPICE ``subpnt`` NEAR POINT/ELLIPSOID) as planetocentric latitude and east
    longitude (deg), and the height over that point (km)."""
    t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
    pos_icrf, _ = trajectory.state_km(t)
    body = np.einsum("nij,nj->ni", rotation.icrf_to_body(t), pos_icrf)
    surface, height = nearest_ellipsoid_point(body)
    lat = np.arctan2(surface[:, 2], np.hypot(surface[:, 0], surface[:, 1]))
    lon = np.degrees(np.arctan2(surface[:, 1], surface[:, 0])) % 360.0
    return GroundTrack(t, np.degrees(lat), lon, height)


def earth_mars_geometry(
    tdb_s: Sequence[float] | np.ndarray, ephemeris: Ephemeris | None = None
) -> EarthMarsGeometry:
    """Geometric (no light time) Earth-Mars distance (km), light time (s) and Sun-Earth-Mars
    angle (deg) at ``tdb_s``; DE421 unless ``ephemeris`` is given.

    Light time would move Mars by under 0.01 deg as seen from Earth, far below what a plot or
    a 2 deg conjunction threshold can show.
    """
    eph = ephemeris or Ephemeris.de421()
    t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
    to_mars = eph.position_km("mars", t, centre="earth")
    to_sun = eph.position_km("sun", t, centre="earth")
    dist = np.linalg.norm(to_mars, axis=1)
    cos_sep = np.einsum("ij,ij->i", to_mars, to_sun) / (dist * np.linalg.norm(to_sun, axis=1))
    sep = np.degrees(np.arccos(np.clip(cos_sep, -1.0, 1.0)))
    return EarthMarsGeometry(t, dist, dist / C_KM_S, sep)


def coverage_half_angle_deg(
    altitude_km: float, elevation_mask_deg: float, radius_km: float = MARS_EQ_RADIUS_KM
) -> float:
    """Mars-centre angle (deg) between a site and the sub-point of a spacecraft at
    ``altitude_km`` seen exactly at ``elevation_mask_deg`` (spherical Mars of ``radius_km``).

    lambda = arccos(R cos(el) / (R + h)) - el (Wertz, Space Mission Analysis and Design, 5.2).
    """
    el = np.radians(elevation_mask_deg)
    lam = np.arccos(radius_km * np.cos(el) / (radius_km + altitude_km)) - el
    return float(np.degrees(max(lam, 0.0)))


def small_circle_deg(
    lat_deg: float, lon_east_deg: float, radius_deg: float, n: int = 181
) -> tuple[np.ndarray, np.ndarray]:
    """Points (latitude, east longitude in [0, 360), deg) of the circle of angular radius
    ``radius_deg`` around a point of a sphere, ``n`` points, closed."""
    lat0, lon0, r = np.radians(lat_deg), np.radians(lon_east_deg), np.radians(radius_deg)
    az = np.linspace(0.0, 2.0 * np.pi, n)
    lat = np.arcsin(np.sin(lat0) * np.cos(r) + np.cos(lat0) * np.sin(r) * np.cos(az))
    lon = lon0 + np.arctan2(
        np.sin(az) * np.sin(r) * np.cos(lat0), np.cos(r) - np.sin(lat0) * np.sin(lat)
    )
    return np.degrees(lat), np.degrees(lon) % 360.0
