"""Write NAIF SPICE kernels from scratch for the tests (nothing is downloaded).

The tests compare marsrelay with NAIF SPICE (CSPICE through SpiceyPy). SPICE needs kernels;
these helpers write every one the tests use into a temporary directory:

- :func:`write_lsk`: a text leapseconds kernel with the content of NAIF's ``naif0012.tls``
  (DELTET constants and the leap-second table up to 2017-01-01, TAI - UTC = 37 s), typed in.
- :func:`write_pck`: a text PCK with Mars' radii and IAU rotation constants, typed in from NAIF's
  ``pck00010.tpc`` (IAU 2009) or ``pck00011.tpc`` (IAU 2015, with its periodic terms).
- :func:`write_mars_eq_fk`: a TK frame kernel for ``MARS_EQ_J2000`` relative to ``J2000``.
- :func:`write_planetary_spk`: an SPK of type 2 (Chebyshev position) for the Sun, the Earth-Moon
  barycentre, Earth, Moon and Mars, built from the same Chebyshev coefficients the ``de421``
  package ships, so SPICE's own evaluator can be compared with marsrelay's.
- :func:`write_orbiter_spk`: an SPK of type 13 (Hermite) or 9 (Lagrange) from sampled states.

Constants are typed here, never read from marsrelay, so a wrong constant in marsrelay shows up
as a test failure. :class:`LoadedKernels` furnishes files and unloads exactly those files again
(SPICE's kernel pool is process-global; other tests may hold kernels of their own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import spiceypy as sp

__all__ = [
    "LEAP_SECONDS",
    "MARS_EQ_J2000_FRAME_ID",
    "LoadedKernels",
    "pole_from_spice",
    "write_lsk",
    "write_mars_eq_fk",
    "write_orbiter_spk",
    "write_pck",
    "write_planetary_spk",
]

#: Frame ID used for the TK frame ``MARS_EQ_J2000`` (NAIF reserves 1400000-2000000 for users).
MARS_EQ_J2000_FRAME_ID = 1499000

#: TAI - UTC (s) from each date on (NAIF naif0012.tls, DELTET/DELTA_AT; IERS Bulletin C).
LEAP_SECONDS: tuple[tuple[int, str], ...] = (
    (10, "1972-JAN-1"),
    (11, "1972-JUL-1"),
    (12, "1973-JAN-1"),
    (13, "1974-JAN-1"),
    (14, "1975-JAN-1"),
    (15, "1976-JAN-1"),
    (16, "1977-JAN-1"),
    (17, "1978-JAN-1"),
    (18, "1979-JAN-1"),
    (19, "1980-JAN-1"),
    (20, "1981-JUL-1"),
    (21, "1982-JUL-1"),
    (22, "1983-JUL-1"),
    (23, "1985-JUL-1"),
    (24, "1988-JAN-1"),
    (25, "1990-JAN-1"),
    (26, "1991-JAN-1"),
    (27, "1992-JUL-1"),
    (28, "1993-JUL-1"),
    (29, "1994-JUL-1"),
    (30, "1996-JAN-1"),
    (31, "1997-JUL-1"),
    (32, "1999-JAN-1"),
    (33, "2006-JAN-1"),
    (34, "2009-JAN-1"),
    (35, "2012-JUL-1"),
    (36, "2015-JUL-1"),
    (37, "2017-JAN-1"),
)


def write_lsk(dirpath: str | Path) -> Path:
    """Write ``naif0012_test.tls`` (content of NAIF naif0012.tls) into ``dirpath``."""
    table = "\n".join(
        f"                           {dat:2d},   @{date}" for dat, date in LEAP_SECONDS
    )
    text = f"""KPL/LSK

Leapseconds kernel written by the marsrelay tests; values from NAIF naif0012.tls.

\\begindata

DELTET/DELTA_T_A       =   32.184
DELTET/K               =    1.657D-3
DELTET/EB              =    1.671D-2
DELTET/M               = (  6.239996D0   1.99096871D-7 )

DELTET/DELTA_AT        = (
{table}
                         )

\\begintext
"""
    path = Path(dirpath) / "naif0012_test.tls"
    path.write_text(text)
    return path


# NAIF pck00010.tpc (IAU WGCCRE 2009, Archinal et al. 2011), Mars.
_PCK_IAU2009 = """
BODY499_RADII            = ( 3396.19   3396.19   3376.20 )
BODY499_POLE_RA          = ( 317.68143   -0.1061      0. )
BODY499_POLE_DEC         = (  52.88650   -0.0609      0. )
BODY499_PM               = ( 176.630    350.89198226  0. )
"""

# NAIF pck00011.tpc (IAU WGCCRE 2015, Archinal et al. 2018), Mars. The first ten angles of
# BODY4_NUT_PREC_ANGLES belong to Phobos and Deimos (zero Mars amplitudes); then five angles for
# the RA terms, five for Dec and six for PM. Three coefficients per angle (constant, T, T^2).
_PCK_IAU2015 = """
BODY499_RADII            = ( 3396.19   3396.19   3376.20 )
BODY499_POLE_RA          = ( 317.269202  -0.10927547        0. )
BODY499_POLE_DEC         = (  54.432516  -0.05827105        0. )
BODY499_PM               = ( 176.049863  +350.891982443297  0. )

BODY499_NUT_PREC_RA      = ( 0 0 0 0 0  0 0 0 0 0
                             0.000068  0.000238  0.000052  0.000009  0.419057 )
BODY499_NUT_PREC_DEC     = ( 0 0 0 0 0  0 0 0 0 0  0 0 0 0 0
                             0.000051  0.000141  0.000031  0.000005  1.591274 )
BODY499_NUT_PREC_PM      = ( 0 0 0 0 0  0 0 0 0 0  0 0 0 0 0  0 0 0 0 0
                             0.000145  0.000157  0.000040  0.000001  0.000001  0.584542 )

BODY4_MAX_PHASE_DEGREE   = 2
BODY4_NUT_PREC_ANGLES    = (
    190.72646643      15917.10818695   0
     21.46892470      31834.27934054   0
    332.86082793      19139.89694742   0
    394.93256437      38280.79631835   0
    189.63271560   41215158.18420050   12.711923222
    121.46893664        660.22803474   0
    231.05028581        660.99123540   0
    251.37314025       1320.50145245   0
    217.98635955      38279.96125550   0
    196.19729402      19139.83628608   0
    198.991226        19139.4819985    0
    226.292679        38280.8511281    0
    249.663391        57420.7251593    0
    266.183510        76560.6367950    0
     79.398797            0.5042615    0
    122.433576        19139.9407476    0
     43.058401        38280.8753272    0
     57.663379        57420.7517205    0
     79.476401        76560.6495004    0
    166.325722            0.5042615    0
    129.071773        19140.0328244    0
     36.352167        38281.0473591    0
     56.668646        57420.9295360    0
     67.364003        76560.2552215    0
    104.792680        95700.4387578    0
     95.391654            0.5042615    0 )
"""


def write_pck(dirpath: str | Path, model: str = "iau2009") -> Path:
    """Write a text PCK with Mars' radii and rotation (``iau2009`` or ``iau2015``)."""
    body = {"iau2009": _PCK_IAU2009, "iau2015": _PCK_IAU2015}[model]
    source = {"iau2009": "pck00010.tpc", "iau2015": "pck00011.tpc"}[model]
    text = (
        f"KPL/PCK\n\nMars constants written by the marsrelay tests; values from NAIF {source}.\n\n"
        f"\\begindata\n{body}\n\\begintext\n"
    )
    path = Path(dirpath) / f"mars_{model}_test.tpc"
    path.write_text(text)
    return path


def write_mars_eq_fk(dirpath: str | Path, pole_ra_deg: float, pole_dec_deg: float) -> Path:
    """Write a TK frame kernel for ``MARS_EQ_J2000``: Mars' equator and pole at J2000.

    NAIF Frames Required Reading ("Defining a TK Frame Using Euler Angles"): the matrix that
    converts vectors from the TK frame to the RELATIVE frame is
    ``[angle_1]_axis_1 [angle_2]_axis_2 [angle_3]_axis_3``. The project conventions want
    J2000 -> MARS_EQ_J2000 = R1(90 - d0) R3(90 + a0), whose transpose is
    R3(-(90 + a0)) R1(-(90 - d0)) R3(0): angles (-(90 + a0), -(90 - d0), 0), axes (3, 1, 3).
    """
    fid = MARS_EQ_J2000_FRAME_ID
    a1 = -(90.0 + pole_ra_deg)
    a2 = -(90.0 - pole_dec_deg)
    text = f"""KPL/FK

MARS_EQ_J2000: Mars equator and pole of J2000, x along the ascending node of that equator on
the ICRF (J2000) equator. Written by the marsrelay tests.

\\begindata

FRAME_MARS_EQ_J2000          = {fid}
FRAME_{fid}_NAME            = 'MARS_EQ_J2000'
FRAME_{fid}_CLASS           = 4
FRAME_{fid}_CLASS_ID        = {fid}
FRAME_{fid}_CENTER          = 499
TKFRAME_{fid}_RELATIVE      = 'J2000'
TKFRAME_{fid}_SPEC          = 'ANGLES'
TKFRAME_{fid}_UNITS         = 'DEGREES'
TKFRAME_{fid}_AXES          = ( 3, 1, 3 )
TKFRAME_{fid}_ANGLES        = ( {a1:.15f}, {a2:.15f}, 0.0 )

\\begintext
"""
    path = Path(dirpath) / "mars_eq_j2000_test.tf"
    path.write_text(text)
    return path


def pole_from_spice(et: float = 0.0) -> tuple[float, float]:
    """Right ascension and declination (deg) of Mars' pole from the loaded PCK at ``et``.

    The third row of SPICE's J2000 -> IAU_MARS matrix is the pole in J2000.
    """
    z = np.asarray(sp.pxform("J2000", "IAU_MARS", et))[2]
    return float(np.degrees(np.arctan2(z[1], z[0])) % 360.0), float(np.degrees(np.arcsin(z[2])))


def _chebyshev_span(
    coef: np.ndarray, start_s: float, granule_s: float, first_s: float, last_s: float
) -> tuple[np.ndarray, float]:
    """Records of ``coef`` covering ``[first_s, last_s]`` and the begin time of the first."""
    i0 = max(0, int(np.floor((first_s - start_s) / granule_s)))
    i1 = min(coef.shape[0], int(np.ceil((last_s - start_s) / granule_s)))
    if i1 <= i0:
        raise ValueError("span outside the coefficient arrays")
    return coef[i0:i1], start_s + i0 * granule_s


def _spkw02(handle: int, body: int, center: int, coef: np.ndarray, btime: float,
            granule_s: float, first_s: float, last_s: float, segid: str) -> None:
    n, _, n_coef = coef.shape
    # A type 2 record holds the x, y and z coefficients one after the other: exactly the
    # (3, n_coef) layout of each set, flattened.
    cdata = np.ascontiguousarray(coef.reshape(n, 3 * n_coef)).ravel()
    sp.spkw02(handle, body, center, "J2000", first_s, last_s, segid, granule_s, n,
              n_coef - 1, cdata, btime)


def write_planetary_spk(path: str | Path, ephemeris, first_tdb_s: float,
                        last_tdb_s: float) -> Path:
    """Write a type 2 SPK from the ephemeris' Chebyshev coefficients over a TDB span.

    Segments (the layout of JPL's DE SPK files): 10 (Sun), 3 (Earth-Moon barycentre) and 4 (Mars
    barycentre) relative to 0 (solar-system barycentre); 399 (Earth) and 301 (Moon) relative to 3,
    the geocentric Moon's coefficients scaled by -1/(1 + EMRAT) and EMRAT/(1 + EMRAT); and 499
    (Mars) relative to 4 with a zero offset (marsrelay treats Mars' centre as its barycentre).
    ``ephemeris`` needs ``coefficients(body)`` and ``constants['EMRAT']``.
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    emrat = float(ephemeris.constants["EMRAT"])
    handle = sp.spkopn(str(path), "marsrelay test SPK", 0)
    try:
        for body, center, name, scale in (
            (10, 0, "sun", 1.0),
            (3, 0, "earthmoon", 1.0),
            (4, 0, "mars", 1.0),
            (399, 3, "moon", -1.0 / (1.0 + emrat)),
            (301, 3, "moon", emrat / (1.0 + emrat)),
        ):
            coef, start, granule = ephemeris.coefficients(name)
            recs, btime = _chebyshev_span(coef, start, granule, first_tdb_s, last_tdb_s)
            first = max(first_tdb_s, btime)
            last = min(last_tdb_s, btime + recs.shape[0] * granule)
            _spkw02(handle, body, center, recs * scale, btime, granule, first, last,
                    f"DE421 {name} x {scale:.6g}")
        zero = np.zeros((1, 3, 3))
        _spkw02(handle, 499, 4, zero, first_tdb_s, last_tdb_s - first_tdb_s, first_tdb_s,
                last_tdb_s, "MARS = MARS BARYCENTER")
    finally:
        sp.spkcls(handle)
    return path


def write_orbiter_spk(path: str | Path, naif_id: int, tdb_s: np.ndarray,
                      position_km: np.ndarray, velocity_km_s: np.ndarray,
                      center: int = 499, frame: str = "J2000", spk_type: int = 13,
                      degree: int = 15) -> Path:
    """Write sampled states as an SPK of type 13 (Hermite) or 9 (Lagrange), one segment."""
    path = Path(path)
    if path.exists():
        path.unlink()
    t = np.asarray(tdb_s, dtype=float)
    states = np.ascontiguousarray(np.hstack([position_km, velocity_km_s]), dtype=float)
    handle = sp.spkopn(str(path), "marsrelay test orbiter", 0)
    try:
        if spk_type == 13:
            sp.spkw13(handle, naif_id, center, frame, float(t[0]), float(t[-1]), "orbiter",
                      degree, len(t), states, t)
        elif spk_type == 9:
            sp.spkw09(handle, naif_id, center, frame, float(t[0]), float(t[-1]), "orbiter",
                      degree, len(t), states, t)
        else:
            raise ValueError("spk_type must be 9 or 13")
    finally:
        sp.spkcls(handle)
    return path


class LoadedKernels:
    """Context manager: ``furnsh`` the given files, and ``unload`` exactly them at exit."""

    def __init__(self, files: Iterable[str | Path]) -> None:
        self.files: Sequence[str] = [str(f) for f in files]

    def __enter__(self) -> LoadedKernels:
        for f in self.files:
            sp.furnsh(f)
        return self

    def __exit__(self, *exc) -> None:
        for f in reversed(self.files):
            sp.unload(f)
