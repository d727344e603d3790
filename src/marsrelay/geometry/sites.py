"""Surface sites on Mars and ground stations on Earth, with their topocentric frames.

Mars sites (conventions): the point of the IAU ellipsoid (a = b = 3396.19 km, c = 3376.20 km)
at the given *planetocentric* latitude and east longitude, moved ``height_km`` along the
ellipsoid's outward normal there. The topocentric frame has z along that normal, x toward local
north; elevation is measured from the plane normal to z, azimuth from north through east.

Earth stations: geodetic latitude, east longitude and height over WGS84 (``erfa.gd2gc``), rotated
to ICRF (GCRS axes) with ERFA's IAU 2006/2000A precession-nutation and the Earth rotation angle
(``c2i06a``, ``era00``), UT1 = UTC and no polar motion. Ignoring |UT1 - UTC| < 0.9 s and polar
motion (< 0.5") moves a station by < 0.42 km along its parallel and < 16 m; seen from a station
that shifts the *direction* of Mars by under 2e-6 deg and its elevation by under 1e-5 deg
(the local vertical turns with the station while the target direction is fixed).

Worked example::

    >>> from marsrelay.geometry.sites import MarsSite
    >>> site = MarsSite("Oxia", lat_deg=18.275, lon_east_deg=335.368, height_km=-3.0)
    >>> [round(float(x), 3) for x in site.position_body_km]
    [2927.143, -1342.129, 1063.399]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import erfa
import numpy as np

from marsrelay.constants import DEFAULT_ELEVATION_MASK_DEG, MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM
from marsrelay.geometry.time import tdb_to_tt_jd, tdb_to_utc_jd

__all__ = [
    "AzElRange",
    "EarthStation",
    "MarsSite",
    "azel_range",
    "earth_icrf_to_itrs",
    "topocentric_matrix",
]

_DEG = math.pi / 180.0


@dataclass(frozen=True)
class AzElRange:
    """Azimuth (deg, from north through east, [0, 360)), elevation (deg) and range (km)."""

    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    range_km: np.ndarray


def topocentric_matrix(up: np.ndarray, east_hint_lon_rad: float | None = None) -> np.ndarray:
    """Rows (north, west, up) of the topocentric frame whose z is the unit vector ``up``.

    ``x`` points to local north (toward the body's +z axis, projected), ``y = z cross x`` (west),
    so the frame is right-handed like SPICE's topocentric frames.
    """
    up = np.asarray(up, dtype=float)
    up = up / np.linalg.norm(up)
    pole = np.array([0.0, 0.0, 1.0])
    north = pole - up * (pole @ up)
    nn = np.linalg.norm(north)
    if nn < 1e-12:  # at a pole: north is toward longitude 180 deg (-x), as in SPICE
        lon = 0.0 if east_hint_lon_rad is None else east_hint_lon_rad
        north = -np.array([math.cos(lon), math.sin(lon), 0.0]) * np.sign(up[2])
        nn = 1.0
    north = north / nn
    west = np.cross(up, north)
    return np.stack([north, west, up])


def azel_range(rel_topo_km: np.ndarray) -> AzElRange:
    """Azimuth/elevation/range of vectors already in a (north, west, up) frame, ``(N, 3)``."""
    rel = np.atleast_2d(rel_topo_km)
    rng = np.linalg.norm(rel, axis=-1)
    el = np.degrees(np.arcsin(np.clip(rel[:, 2] / rng, -1.0, 1.0)))
    az = np.degrees(np.arctan2(-rel[:, 1], rel[:, 0])) % 360.0
    return AzElRange(az, el, rng)


@dataclass(frozen=True)
class MarsSite:
    """A lander or any point fixed on Mars (planetocentric lat, east lon, height over the
    IAU ellipsoid)."""

    name: str
    lat_deg: float
    lon_east_deg: float
    height_km: float = 0.0
    elevation_mask_deg: float = DEFAULT_ELEVATION_MASK_DEG
    radii_km: tuple[float, float] = (MARS_EQ_RADIUS_KM, MARS_POLAR_RADIUS_KM)
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def surface_point_km(self) -> np.ndarray:
        """The ellipsoid's surface point at the planetocentric lat/lon (body-fixed, km)."""
        a, c = self.radii_km
        lat, lon = self.lat_deg * _DEG, self.lon_east_deg * _DEG
        r = 1.0 / math.sqrt((math.cos(lat) / a) ** 2 + (math.sin(lat) / c) ** 2)
        return r * np.array(
            [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]
        )

    @property
    def normal(self) -> np.ndarray:
        """Outward unit normal of the ellipsoid at the surface point (body-fixed)."""
        a, c = self.radii_km
        p = self.surface_point_km
        n = np.array([p[0] / a**2, p[1] / a**2, p[2] / c**2])
        return n / np.linalg.norm(n)

    @property
    def position_body_km(self) -> np.ndarray:
        """Site position in the Mars body-fixed frame, km."""
        return self.surface_point_km + self.height_km * self.normal

    @property
    def topocentric(self) -> np.ndarray:
        """Rows (north, west, up) of the site's topocentric frame in body-fixed axes."""
        return topocentric_matrix(self.normal, self.lon_east_deg * _DEG)

    def azel_of_body_fixed(self, target_body_km: np.ndarray) -> AzElRange:
        """Az/el/range of target positions given in Mars body-fixed km, ``(N, 3)``."""
        rel = np.atleast_2d(target_body_km) - self.position_body_km
        return azel_range(rel @ self.topocentric.T)


def earth_icrf_to_itrs(tdb_s: Sequence[float] | np.ndarray | float) -> np.ndarray:
    """Matrices GCRS(ICRF axes) -> ITRS at TDB seconds, ``(N, 3, 3)``.

    IAU 2006/2000A (``erfa.c2i06a``) and ERA (``erfa.era00``) with UT1 = UTC, no polar motion.
    For long, dense arrays (more times than hours spanned) the slowly varying
    celestial-to-intermediate matrix is computed on a 1 h grid and interpolated linearly (error
    < 5e-11 rad, about 2e-11 in tests; its fastest term has a 5.6-day period).
    """
    t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        # The grid only pays when it has fewer nodes than there are times (sparse times over
        # decades would otherwise build a grid of hundreds of thousands of nodes).
        n_grid = math.ceil(t.max() / 3600.0) - math.floor(t.min() / 3600.0) + 3 if t.size else 0
        if t.size > 64 and n_grid < t.size:
            grid = np.arange(math.floor(t.min() / 3600.0) - 1, math.ceil(t.max() / 3600.0) + 2)
            g1, g2 = tdb_to_tt_jd(grid * 3600.0)
            cg = erfa.c2i06a(g1, g2).reshape(-1, 9)
            pos = t / 3600.0 - grid[0]
            i0 = np.clip(np.floor(pos).astype(int), 0, len(grid) - 2)
            f = (pos - i0)[:, None]
            c2i = ((1.0 - f) * cg[i0] + f * cg[i0 + 1]).reshape(-1, 3, 3)
        else:
            tt1, tt2 = tdb_to_tt_jd(t)
            c2i = erfa.c2i06a(tt1, tt2)
        u1, u2 = tdb_to_utc_jd(t)
        era = erfa.era00(u1, u2)
    c, s = np.cos(era), np.sin(era)
    o, z = np.ones_like(era), np.zeros_like(era)
    r3 = np.stack([np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, o], -1)], -2)
    return r3 @ c2i


@dataclass(frozen=True)
class EarthStation:
    """A ground station on Earth: geodetic WGS84 lat/lon (deg) and height (m)."""

    name: str
    lat_deg: float
    lon_east_deg: float
    height_m: float = 0.0
    elevation_mask_deg: float = DEFAULT_ELEVATION_MASK_DEG
    dish_m: float | None = None
    agency: str = ""

    @property
    def position_itrs_km(self) -> np.ndarray:
        """Station position in the Earth-fixed frame (ITRS ~ WGS84), km."""
        xyz = erfa.gd2gc(1, self.lon_east_deg * _DEG, self.lat_deg * _DEG, self.height_m)
        return np.asarray(xyz) / 1000.0

    @property
    def topocentric_itrs(self) -> np.ndarray:
        """Rows (north, west, up) of the station's frame in Earth-fixed axes (geodetic up)."""
        lat, lon = self.lat_deg * _DEG, self.lon_east_deg * _DEG
        up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
        return topocentric_matrix(up, lon)

    def position_icrf_km(
        self, tdb_s: Sequence[float] | np.ndarray | float, rotation: np.ndarray | None = None
    ) -> np.ndarray:
        """Geocentric station position in ICRF axes, km, ``(N, 3)``."""
        rot = earth_icrf_to_itrs(tdb_s) if rotation is None else rotation
        return np.einsum("nji,j->ni", rot, self.position_itrs_km)

    def azel_of_icrf(
        self,
        target_geocentric_icrf_km: np.ndarray,
        tdb_s: Sequence[float] | np.ndarray | float,
        rotation: np.ndarray | None = None,
    ) -> AzElRange:
        """Az/el/range of geocentric ICRF target positions seen from the station at ``tdb_s``."""
        rot = earth_icrf_to_itrs(tdb_s) if rotation is None else rotation
        target_itrs = np.einsum("nij,nj->ni", rot, np.atleast_2d(target_geocentric_icrf_km))
        rel = target_itrs - self.position_itrs_km
        return azel_range(rel @ self.topocentric_itrs.T)
