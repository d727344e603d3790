"""Kernels and helpers for comparing marsrelay's contact windows with SPICE's GF subsystem.

Complements :mod:`spicekit` (LSK, Mars PCK, planetary and orbiter SPKs) with what geometry
finder searches from the ground need, all written by the test into its temporary folder:

- :func:`write_fixed_point_spk`: an SPK of type 9 holding a constant position in a body-fixed
  frame (a lander in ``IAU_MARS``, a station in the Earth frame below);
- :func:`write_topo_fk`: a TK frame (``MATRIX`` form) for a site's topocentric frame, rows
  (north, west, up), centred on the site so SPICE evaluates it without light time;
- :func:`write_earth_pck`: a binary PCK of type 2 for an Earth body-fixed frame
  ``EARTH_ERFA`` (class 2, centre 399), its Euler angles fitted with Chebyshev polynomials
  to ERFA's IAU 2006/2000A precession-nutation (``c2i06a``) and Earth rotation angle
  (``era00``, UT1 = UTC), the model the project conventions fix. Computed here from ERFA
  directly, not from marsrelay.

Binary PCK type 2 angles: SPICE builds ICRF -> body as ``[phi3]_3 [phi2]_1 [phi1]_3`` from the
three stored angles ``(phi1, phi2, phi3)`` as they are (checked in the tests against
``eul2m``); they are SPICE's ``m2eul(M, 3, 1, 3)`` in reverse order.

:func:`windows_of` and :func:`send_time_windows` turn SPICE window cells into arrays and map
receive-time windows to send times with ``spkezr(..., 'CN', station)``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import erfa
import numpy as np
import spiceypy as sp

__all__ = [
    "EARTH_FRAME",
    "EARTH_FRAME_ID",
    "send_time_windows",
    "window_cell",
    "windows_of",
    "write_earth_pck",
    "write_fixed_point_spk",
    "write_topo_fk",
]

EARTH_FRAME = "EARTH_ERFA"
EARTH_FRAME_ID = 1399001  # user frame id range (NAIF: 1400000-2000000 free; 13xxxxx unused)
_DJ00 = 2451545.0
_TT_TAI = 32.184

# SPICE leapseconds-kernel TDB - TT model (naif0012.tls DELTET), typed in (as spicekit's LSK).
_K, _EB, _M0, _M1 = 1.657e-3, 1.671e-2, 6.239996, 1.99096871e-7


def _tdb_to_tt(tdb: np.ndarray) -> np.ndarray:
    tt = tdb.copy()
    for _ in range(3):
        m = _M0 + _M1 * tt
        tt = tdb - _K * np.sin(m + _EB * np.sin(m))
    return tt


def _erfa_icrf_to_itrs(tdb: np.ndarray) -> np.ndarray:
    """GCRS -> ITRS matrices (no polar motion, UT1 = UTC), straight from ERFA."""
    tt = _tdb_to_tt(tdb)
    jd1 = np.full_like(tt, _DJ00)
    c2i = erfa.c2i06a(jd1, tt / 86400.0)
    with warnings.catch_warnings():  # "dubious year": ERFA's leap-second table ends in 2017
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        u1, u2 = erfa.taiutc(jd1, (tt - _TT_TAI) / 86400.0)
    era = erfa.era00(u1, u2)
    c, s = np.cos(era), np.sin(era)
    r3 = np.zeros((tt.size, 3, 3))
    r3[:, 0, 0], r3[:, 0, 1], r3[:, 1, 0], r3[:, 1, 1], r3[:, 2, 2] = c, s, -s, c, 1.0
    return r3 @ c2i


def write_earth_pck(path: str | Path, first_tdb_s: float, last_tdb_s: float,
                    record_s: float = 3600.0, degree: int = 12) -> tuple[Path, Path]:
    """Write the binary PCK for ``EARTH_ERFA`` over a TDB span and its frame kernel.

    Returns ``(pck_path, fk_path)``. Records of ``record_s`` (s), Chebyshev ``degree``;
    the fit reproduces ERFA's matrices to better than 1e-12 rad.
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    n_rec = math.ceil((last_tdb_s - first_tdb_s) / record_s)
    btime = first_tdb_s
    n_nodes = degree + 8
    x = np.cos(np.pi * (np.arange(n_nodes) + 0.5) / n_nodes)
    cdata = np.empty((n_rec, 3, degree + 1))
    half = 0.5 * record_s
    for r in range(n_rec):
        mid = btime + (r + 0.5) * record_s
        mats = _erfa_icrf_to_itrs(mid + half * x)
        ang = np.array([sp.m2eul(m, 3, 1, 3) for m in mats])  # (angle3, angle2, angle1)
        phi = np.unwrap(ang[:, ::-1], axis=0)  # phi1, phi2, phi3
        for k in range(3):
            cdata[r, k] = np.polynomial.chebyshev.chebfit(x, phi[:, k], degree)
    handle = sp.pckopn(str(path), "marsrelay test Earth PCK", 0)
    try:
        sp.pckw02(handle, EARTH_FRAME_ID, "J2000", first_tdb_s, btime + n_rec * record_s,
                  "ERFA IAU2006/2000A + ERA", record_s, n_rec, degree, cdata.ravel(), btime)
    finally:
        sp.pckcls(handle)
    fk = path.with_suffix(".tf")
    fk.write_text(f"""KPL/FK

Earth body-fixed frame fitted to ERFA (IAU 2006/2000A, ERA with UT1 = UTC, no polar motion).

\\begindata
FRAME_{EARTH_FRAME}        = {EARTH_FRAME_ID}
FRAME_{EARTH_FRAME_ID}_NAME     = '{EARTH_FRAME}'
FRAME_{EARTH_FRAME_ID}_CLASS    = 2
FRAME_{EARTH_FRAME_ID}_CLASS_ID = {EARTH_FRAME_ID}
FRAME_{EARTH_FRAME_ID}_CENTER   = 399
\\begintext
""")
    return path, fk


def write_fixed_point_spk(path: str | Path, naif_id: int, center: int, frame: str,
                          position_km: np.ndarray, first_tdb_s: float, last_tdb_s: float,
                          frame_kernels: tuple[str | Path, ...] = ()) -> Path:
    """An SPK (type 9) with a constant position (zero velocity) in ``frame``.

    A frame defined in a kernel must be known while the segment is written: pass that
    kernel in ``frame_kernels`` (loaded for the call only)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    t = np.linspace(first_tdb_s, last_tdb_s, 8)
    states = np.zeros((8, 6))
    states[:, :3] = np.asarray(position_km, float)
    for k in frame_kernels:
        sp.furnsh(str(k))
    handle = sp.spkopn(str(path), "marsrelay test site", 0)
    try:
        sp.spkw09(handle, naif_id, center, frame, float(t[0]), float(t[-1]), "fixed point", 3,
                  8, states, t)
    finally:
        sp.spkcls(handle)
        for k in frame_kernels:
            sp.unload(str(k))
    return path


def write_topo_fk(path: str | Path, sites: list[tuple[str, int, int, str, np.ndarray]]) -> Path:
    """TK frames ``(name, frame_id, center_id, relative_frame, rows)``; ``rows`` are the
    frame's (north, west, up) axes in the relative frame (a matrix relative -> topocentric).

    SPICE's ``TKFRAME_<id>_MATRIX`` is the TK -> relative matrix in column order, which is
    the relative -> topocentric matrix in row order: ``rows.ravel()``."""
    lines = ["KPL/FK", "", "Topocentric frames written by the marsrelay tests.", "",
             "\\begindata"]
    for name, fid, center, rel, rows in sites:
        v = np.asarray(rows, float).ravel()  # text-kernel lines stay short: 3 values each
        m = "\n    ".join(" ".join(f"{x:.17e}" for x in v[i:i + 3]) for i in (0, 3, 6))
        lines += [
            f"FRAME_{name} = {fid}",
            f"FRAME_{fid}_NAME = '{name}'",
            f"FRAME_{fid}_CLASS = 4",
            f"FRAME_{fid}_CLASS_ID = {fid}",
            f"FRAME_{fid}_CENTER = {center}",
            f"TKFRAME_{fid}_RELATIVE = '{rel}'",
            f"TKFRAME_{fid}_SPEC = 'MATRIX'",
            f"TKFRAME_{fid}_MATRIX = ( {m} )",
        ]
    lines += ["\\begintext", ""]
    path = Path(path)
    path.write_text("\n".join(lines))
    return path


def window_cell(intervals: np.ndarray, size: int = 200000):
    """A SPICE double-precision window cell holding ``(n, 2)`` intervals."""
    cell = sp.cell_double(size)
    for a, b in np.asarray(intervals, float).reshape(-1, 2):
        sp.wninsd(float(a), float(b), cell)
    return cell


def windows_of(cell) -> np.ndarray:
    """The intervals of a SPICE window cell as an ``(n, 2)`` array."""
    n = sp.wncard(cell)
    return np.array([sp.wnfetd(cell, i) for i in range(n)]).reshape(n, 2)


def send_time_windows(receive: np.ndarray, target: str, station: str) -> np.ndarray:
    """Map windows in the station's receive time to the sender's time: ``t - lt``, with the
    converged light time of ``spkezr(target, t, 'J2000', 'CN', station)``."""
    out = np.empty_like(receive)
    for idx, t in np.ndenumerate(receive):
        out[idx] = t - sp.spkezr(target, float(t), "J2000", "CN", station)[1]
    return out
