"""Physical constants fixed by the project conventions, each with its source.

Every number here is named with its unit. Sources are the ones listed in the project's
reference facts (NAIF generic kernels, Vallado, Allison & McEwen 2000).
"""

from __future__ import annotations

#: Speed of light in vacuum, km/s (IAU / SI exact value; SPICE ``clight()``).
C_KM_S: float = 299792.458

#: Mars gravitational parameter, km^3/s^2 (NAIF gm_de431.tpc / gm_de440.tpc, BODY499_GM).
MARS_GM_KM3_S2: float = 42828.37362

#: Mars triaxial radii, km (NAIF pck00010.tpc, BODY499_RADII); used as an oblate ellipsoid.
MARS_RADII_KM: tuple[float, float, float] = (3396.19, 3396.19, 3376.20)
MARS_EQ_RADIUS_KM: float = 3396.19
MARS_POLAR_RADIUS_KM: float = 3376.20

#: Mars J2 (unnormalised) and its reference radius, km (Vallado, Fundamentals of
#: Astrodynamics and Applications, Mars data table; project convention).
MARS_J2: float = 1.96045e-3
MARS_J2_REF_RADIUS_KM: float = 3396.0

#: Mars mean solar day, s (Allison and McEwen 2000, Mars24).
SOL_S: float = 88775.244

#: Mars sidereal year in Earth days (NASA Mars fact sheet).
MARS_YEAR_DAYS: float = 686.98

#: Seconds per day and per Julian century.
DAY_S: float = 86400.0
JULIAN_CENTURY_DAYS: float = 36525.0

#: Julian date of the J2000 epoch (2000-01-01T12:00:00 TDB).
J2000_JD: float = 2451545.0

#: WGS84 ellipsoid (NIMA TR8350.2): equatorial radius km and flattening.
WGS84_A_KM: float = 6378.137
WGS84_F: float = 1.0 / 298.257223563

#: Elevation mask of landers and stations when a scenario gives none, deg (the value
#: spec/scenario.md shows; the same default for MarsSite, EarthStation and scenario files).
DEFAULT_ELEVATION_MASK_DEG: float = 10.0
