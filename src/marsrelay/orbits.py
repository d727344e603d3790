"""Orbiter trajectories: mean elements with J2 secular rates, NAIF SPK kernels, CCSDS OEM files.

Every trajectory answers ``state_km(tdb_s) -> (position_km, velocity_km_s)``: Mars-centred ICRF
states, arrays of shape ``(N, 3)``, at TDB seconds past J2000.

Mean-element propagation follows the project conventions (Vallado 4th ed., section 9.6)::

    n0 = sqrt(GM / a^3),  p = a (1 - e^2),  k = J2 (R / p)^2
    dRAAN/dt = -1.5 n0 k cos i
    dargp/dt = 0.75 n0 k (4 - 5 sin^2 i)
    dM/dt    = n0 (1 + 0.75 k sqrt(1 - e^2) (2 - 3 sin^2 i))

with a, e, i constant; elements are referred to ``MARS_EQ_J2000`` (see :mod:`marsrelay.rotation`).
The velocity is the exact time derivative of that position (secular rates included), so an SPK
written from these states reproduces the positions when interpolated.

Worked example (a 400 km circular TGO-like orbit)::

    >>> from marsrelay.orbits import MeanElements, J2Orbit
    >>> orbit = J2Orbit(MeanElements(epoch_tdb_s=0.0, a_km=3796.19, e=0.0, i_deg=74.0,
    ...                              raan_deg=0.0, argp_deg=0.0, mean_anomaly_deg=0.0))
    >>> round(orbit.period_s / 60.0, 1)
    121.9
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from marsrelay.constants import (
    MARS_EQ_RADIUS_KM,
    MARS_GM_KM3_S2,
    MARS_J2,
    MARS_J2_REF_RADIUS_KM,
)
from marsrelay.rotation import RotationModel, rotation_model

__all__ = [
    "J2Orbit",
    "J2Rates",
    "MeanElements",
    "OemTrajectory",
    "SpkTrajectory",
    "Trajectory",
    "TrajectoryError",
    "j2_secular_rates",
    "kepler_eccentric_anomaly",
    "solve_kepler",
    "write_oem",
]

_DEG = math.pi / 180.0


class TrajectoryError(ValueError):
    """A trajectory that cannot be built or evaluated (says what and how to fix it)."""


@runtime_checkable
class Trajectory(Protocol):
    """Anything that gives Mars-centred ICRF states at TDB seconds past J2000."""

    def state_km(self, tdb_s: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(position_km (N, 3), velocity_km_s (N, 3))``."""
        ...

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        """``(first, last)`` TDB seconds with valid states (infinite for analytic orbits)."""
        ...


@dataclass(frozen=True)
class MeanElements:
    """Mean classical elements at an epoch, in ``MARS_EQ_J2000``; km and degrees."""

    epoch_tdb_s: float
    a_km: float
    e: float
    i_deg: float
    raan_deg: float
    argp_deg: float
    mean_anomaly_deg: float

    def validate(self) -> None:
        """Raise :class:`TrajectoryError` if the orbit is not bound or hits Mars."""
        if not (0.0 <= self.e < 1.0):
            raise TrajectoryError(f"eccentricity e = {self.e} must satisfy 0 <= e < 1")
        if not (0.0 <= self.i_deg <= 180.0):
            raise TrajectoryError(f"inclination i_deg = {self.i_deg} must be in [0, 180]")
        periapsis_km = self.a_km * (1.0 - self.e)
        if periapsis_km <= MARS_EQ_RADIUS_KM:
            raise TrajectoryError(
                f"periapsis radius {periapsis_km:.1f} km (a_km * (1 - e)) is inside Mars "
                f"(equatorial radius {MARS_EQ_RADIUS_KM} km): raise a_km or lower e"
            )


@dataclass(frozen=True)
class J2Rates:
    """Secular rates of a mean orbit: rad/s."""

    raan_rad_s: float
    argp_rad_s: float
    mean_anomaly_rad_s: float
    mean_motion_rad_s: float


def j2_secular_rates(
    a_km: float,
    e: float,
    i_deg: float,
    gm_km3_s2: float = MARS_GM_KM3_S2,
    j2: float = MARS_J2,
    r_ref_km: float = MARS_J2_REF_RADIUS_KM,
) -> J2Rates:
    """J2 secular rates of RAAN, argument of periapsis and mean anomaly (Vallado 9.6)."""
    n0 = math.sqrt(gm_km3_s2 / a_km**3)
    p = a_km * (1.0 - e * e)
    k = j2 * (r_ref_km / p) ** 2
    si2 = math.sin(i_deg * _DEG) ** 2
    return J2Rates(
        raan_rad_s=-1.5 * n0 * k * math.cos(i_deg * _DEG),
        argp_rad_s=0.75 * n0 * k * (4.0 - 5.0 * si2),
        mean_anomaly_rad_s=n0 * (1.0 + 0.75 * k * math.sqrt(1.0 - e * e) * (2.0 - 3.0 * si2)),
        mean_motion_rad_s=n0,
    )


def kepler_eccentric_anomaly(
    mean_anomaly_rad: np.ndarray, e: float, tol_rad: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(E, sin E, cos E)`` with ``E - e sin E = M`` to ``tol_rad`` (vectorised Halley
    iteration from a second-order series start). ``E`` is reduced to ``[-pi, pi)`` for
    ``e > 0`` (near 1e4 rad a float cannot resolve 1e-12 rad); the sine and cosine are those
    of the last iterate."""
    m = np.asarray(mean_anomaly_rad, dtype=float)
    if e != 0.0:
        m = m - (2.0 * math.pi) * np.floor(m / (2.0 * math.pi) + 0.5)
    sm, cm = np.sin(m), np.cos(m)
    if e == 0.0:
        return m, sm, cm
    ecc = m + e * sm * (1.0 + e * cm) if e < 0.8 else m + e * np.sign(sm)
    s, c = sm, cm
    for _ in range(30):
        s, c = np.sin(ecc), np.cos(ecc)
        f = ecc - e * s - m
        fp = 1.0 - e * c
        step = f / (fp - 0.5 * f * e * s / fp)
        ecc = ecc - step
        if np.abs(step).max(initial=0.0) < tol_rad:
            break
    return ecc, s, c


def solve_kepler(mean_anomaly_rad: np.ndarray, e: float, tol_rad: float = 1e-12) -> np.ndarray:
    """Eccentric anomaly E in ``[-pi, pi)`` with ``E - e sin E = M`` to ``tol_rad``."""
    return kepler_eccentric_anomaly(mean_anomaly_rad, e, tol_rad)[0]


@dataclass
class J2Orbit:
    """Two-body motion plus J2 secular drift of RAAN, argp and mean anomaly."""

    elements: MeanElements
    rotation: RotationModel = field(default_factory=lambda: rotation_model("iau2009"))
    gm_km3_s2: float = MARS_GM_KM3_S2

    def __post_init__(self) -> None:
        self.elements.validate()
        el = self.elements
        self.rates = j2_secular_rates(el.a_km, el.e, el.i_deg, self.gm_km3_s2)
        self._eq_to_icrf = self.rotation.mars_eq_j2000().T

    @property
    def period_s(self) -> float:
        """Anomalistic period with the J2 mean-motion correction, s."""
        return 2.0 * math.pi / self.rates.mean_anomaly_rad_s

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mars-centred ICRF position (km) and velocity (km/s), each ``(N, 3)``."""
        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        r, v = self.state_rows_km(t, velocity=True)
        assert v is not None
        return r.T, v.T

    def state_rows_km(
        self, tdb_s: np.ndarray, velocity: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Position (km) and velocity (km/s; ``None`` unless ``velocity``) as ``(3, N)`` rows.

        The layout the contact finder's hot path wants (component rows are several times
        faster than ``(N, 3)`` at a million times); :meth:`state_km` is its transpose.
        """
        el, rt = self.elements, self.rates
        dt = np.asarray(tdb_s, dtype=float) - el.epoch_tdb_s
        raan = el.raan_deg * _DEG + rt.raan_rad_s * dt
        argp = el.argp_deg * _DEG + rt.argp_rad_s * dt
        e, a = el.e, el.a_km
        m = el.mean_anomaly_deg * _DEG + rt.mean_anomaly_rad_s * dt
        cn, sn = np.cos(raan), np.sin(raan)
        ci, si = math.cos(el.i_deg * _DEG), math.sin(el.i_deg * _DEG)
        mat = self._eq_to_icrf
        if e == 0.0 and not velocity:
            # Circular: the argument of latitude argp + M gives the position directly.
            cu, su = np.cos(argp + m), np.sin(argp + m)
            r = np.stack([a * (cn * cu - sn * su * ci), a * (sn * cu + cn * su * ci), a * su * si])
            return mat @ r, None
        _, sin_e, cos_e = kepler_eccentric_anomaly(m, e)
        sq = math.sqrt(1.0 - e * e)
        # Perifocal position, and its time derivative through M only.
        xp = a * (cos_e - e)
        yp = (a * sq) * sin_e
        co, so = np.cos(argp), np.sin(argp)
        # Columns P (periapsis) and Q of R3(-raan) R1(-i) R3(-argp).
        px, py, pz = cn * co - sn * so * ci, sn * co + cn * so * ci, so * si
        qx, qy, qz = -cn * so - sn * co * ci, -sn * so + cn * co * ci, co * si
        r = np.stack([px * xp + qx * yp, py * xp + qy * yp, pz * xp + qz * yp])
        if not velocity:
            return mat @ r, None
        edot = rt.mean_anomaly_rad_s / (1.0 - e * cos_e)
        vxp = -a * sin_e * edot
        vyp = (a * sq) * cos_e * edot
        v = np.stack([px * vxp + qx * vyp, py * vxp + qy * vyp, pz * vxp + qz * vyp])
        # Rotation of the apsides about the orbit normal h, and of the node about z.
        hx, hy = sn * si, -cn * si
        wa, wn = rt.argp_rad_s, rt.raan_rad_s
        v[0] += wa * (hy * r[2] - ci * r[1]) - wn * r[1]
        v[1] += wa * (ci * r[0] - hx * r[2]) + wn * r[0]
        v[2] += wa * (hx * r[1] - hy * r[0])
        return mat @ r, mat @ v


class SpkTrajectory:
    """States of one body from a NAIF SPK kernel, relative to Mars (NAIF 499), via SpiceyPy.

    The kernel is loaded into SPICE's kernel pool when the object is made and unloaded by
    :meth:`close` (SPICE's pool is process-global; this class keeps its own file loaded
    only while it lives). Any SPK type SPICE reads is accepted. If the segment is relative to
    another centre, the kernels needed to chain to Mars must be loaded too (``extra_kernels``).
    """

    def __init__(
        self, path: str | Path, naif_id: int, extra_kernels: Sequence[str | Path] = ()
    ) -> None:
        import spiceypy as sp

        self.path = Path(path)
        if not self.path.is_file():
            raise TrajectoryError(f"SPK file not found: {self.path}")
        self.naif_id = int(naif_id)
        self._files = [str(p) for p in (*extra_kernels, self.path)]
        for f in self._files:
            sp.furnsh(f)
        cover = sp.stypes.SPICEDOUBLE_CELL(2000)
        try:
            sp.spkcov(str(self.path), self.naif_id, cover)
        except sp.stypes.SpiceyError as exc:
            self.close()
            raise TrajectoryError(f"{self.path}: cannot read SPK coverage: {exc}") from exc
        n = sp.wncard(cover)
        if n == 0:
            self.close()
            raise TrajectoryError(f"{self.path}: no data for NAIF id {self.naif_id}")
        first = sp.wnfetd(cover, 0)[0]
        last = sp.wnfetd(cover, n - 1)[1]
        self._coverage = (float(first), float(last))

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return self._coverage

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        import spiceypy as sp

        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        lo, hi = self._coverage
        if t.size and (t.min() < lo or t.max() > hi):
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} covers TDB {lo:.3f}..{hi:.3f} s past J2000; "
                f"asked for {t.min():.3f}..{t.max():.3f}"
            )
        out = np.empty((t.size, 6))
        for k, tk in enumerate(t):
            out[k] = sp.spkgeo(self.naif_id, float(tk), "J2000", 499)[0]
        return out[:, :3], out[:, 3:]

    def close(self) -> None:
        import spiceypy as sp

        for f in self._files:
            with contextlib.suppress(Exception):  # unloading an already unloaded file
                sp.unload(f)


_OEM_TIME_SYSTEMS = ("UTC", "TDB", "TT")
_OEM_FRAMES = ("ICRF", "EME2000", "J2000")


class OemTrajectory:
    """States from a CCSDS Orbit Ephemeris Message (KVN, CCSDS 502.0-B), Lagrange-interpolated.

    Accepts ``CENTER_NAME = MARS``, ``REF_FRAME`` ICRF or EME2000 (taken as ICRF, as SPICE's
    ``J2000``), ``TIME_SYSTEM`` UTC, TDB or TT; units km and km/s. Several segments are
    concatenated in time order. Interpolation uses ``INTERPOLATION_DEGREE`` (default 7)
    Lagrange polynomials over the nearest points, for position and velocity separately.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise TrajectoryError(f"OEM file not found: {self.path}")
        times: list[float] = []
        rows: list[list[float]] = []
        meta: dict[str, str] = {}
        in_meta = in_cov = False
        degree = 7
        epochs_txt: list[str] = []
        systems: list[str] = []
        for lineno, raw in enumerate(self.path.read_text().splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("COMMENT"):
                continue
            if line == "META_START":
                in_meta, meta = True, {}
                continue
            if line == "META_STOP":
                in_meta = False
                self._check_meta(meta, lineno)
                degree = int(meta.get("INTERPOLATION_DEGREE", degree))
                continue
            if line == "COVARIANCE_START":
                in_cov = True
                continue
            if line == "COVARIANCE_STOP":
                in_cov = False
                continue
            if in_cov:
                continue
            if in_meta or "=" in line:
                key, _, value = line.partition("=")
                meta[key.strip()] = value.strip()
                continue
            parts = line.split()
            if len(parts) not in (7, 10):
                raise TrajectoryError(
                    f"{self.path}:{lineno}: expected 'EPOCH X Y Z X_DOT Y_DOT Z_DOT', got {line!r}"
                )
            epochs_txt.append(parts[0])
            systems.append(meta.get("TIME_SYSTEM", "UTC").upper())
            rows.append([float(v) for v in parts[1:7]])
        if len(rows) < 2:
            raise TrajectoryError(f"{self.path}: fewer than two state lines")
        times = _oem_epochs_to_tdb(epochs_txt, systems)
        order = np.argsort(times, kind="stable")
        self.tdb_s = np.asarray(times)[order]
        keep = np.concatenate([[True], np.diff(self.tdb_s) > 0])  # drop repeated segment edges
        self.tdb_s = self.tdb_s[keep]
        self.states = np.asarray(rows)[order][keep]
        self.degree = max(1, min(degree, len(self.tdb_s) - 1))
        self.object_name = meta.get("OBJECT_NAME", "")

    def _check_meta(self, meta: dict[str, str], lineno: int) -> None:
        center = meta.get("CENTER_NAME", "").upper()
        if center not in ("MARS", "MARS BARYCENTER"):
            raise TrajectoryError(
                f"{self.path}:{lineno}: CENTER_NAME is {center!r}; marsrelay needs MARS"
            )
        frame = meta.get("REF_FRAME", "").upper()
        if frame not in _OEM_FRAMES:
            raise TrajectoryError(
                f"{self.path}:{lineno}: REF_FRAME {frame!r} not supported; use one of "
                f"{', '.join(_OEM_FRAMES)}"
            )
        ts = meta.get("TIME_SYSTEM", "").upper()
        if ts not in _OEM_TIME_SYSTEMS:
            raise TrajectoryError(
                f"{self.path}:{lineno}: TIME_SYSTEM {ts!r} not supported; use one of "
                f"{', '.join(_OEM_TIME_SYSTEMS)}"
            )

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return float(self.tdb_s[0]), float(self.tdb_s[-1])

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        lo, hi = self.coverage_tdb_s
        if t.size and (t.min() < lo - 1e-6 or t.max() > hi + 1e-6):
            raise TrajectoryError(
                f"{self.path}: covers TDB {lo:.3f}..{hi:.3f} s past J2000; asked for "
                f"{t.min():.3f}..{t.max():.3f}"
            )
        n_pts = self.degree + 1
        idx = np.searchsorted(self.tdb_s, t) - n_pts // 2
        idx = np.clip(idx, 0, len(self.tdb_s) - n_pts)
        window = idx[:, None] + np.arange(n_pts)[None, :]
        tw = self.tdb_s[window]  # (N, n)
        # Lagrange basis weights, scaled for conditioning.
        scale = np.maximum(tw[:, -1] - tw[:, 0], 1e-9)[:, None]
        x = (t[:, None] - tw) / scale
        xw = tw / scale
        weights = np.ones_like(tw)
        for j in range(n_pts):
            for m in range(n_pts):
                if m != j:
                    weights[:, j] *= x[:, m] / (xw[:, j] - xw[:, m])
        states = np.einsum("nk,nkc->nc", weights, self.states[window])
        return states[:, :3], states[:, 3:]


def _oem_epochs_to_tdb(epochs: list[str], systems: list[str]) -> list[float]:
    from marsrelay.time import tt_to_tdb, utc_to_tdb

    out = np.empty(len(epochs))
    sys_arr = np.asarray(systems)
    ep = np.asarray(epochs, dtype=object)
    utc = sys_arr == "UTC"
    if utc.any():
        out[utc] = utc_to_tdb(ep[utc])
    for scale in ("TDB", "TT"):
        sel = sys_arr == scale
        if sel.any():
            # Read the calendar string as if it were UTC-free: parse with TT-like arithmetic.
            secs = _calendar_to_seconds_past_j2000(ep[sel])
            out[sel] = secs if scale == "TDB" else tt_to_tdb(secs)
    return out.tolist()


_CAL_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)Z?$")


def _calendar_to_seconds_past_j2000(strings: np.ndarray) -> np.ndarray:
    """Calendar strings in a uniform scale (TDB, TT) -> seconds past J2000 noon of that scale."""
    import erfa

    out = np.empty(len(strings))
    for k, s in enumerate(strings):
        m = _CAL_RE.match(str(s).strip())
        if m is None:
            raise TrajectoryError(f"OEM epoch {s!r} is not YYYY-MM-DDThh:mm:ss[.fff]")
        y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
        sec = float(m.group(6))
        jd1, jd2 = erfa.cal2jd(y, mo, d)
        out[k] = ((jd1 - 2451545.0) + jd2) * 86400.0 + h * 3600.0 + mi * 60.0 + sec
    return out


def write_oem(
    path: str | Path,
    object_name: str,
    tdb_s: np.ndarray,
    position_km: np.ndarray,
    velocity_km_s: np.ndarray,
    interpolation_degree: int = 7,
) -> None:
    """Write Mars-centred ICRF states as a CCSDS OEM 2.0 (KVN, TDB epochs), atomically."""
    import erfa

    from marsrelay.io import atomic_write_text

    tdb = np.asarray(tdb_s, dtype=float)
    lines = [
        "CCSDS_OEM_VERS = 2.0",
        "CREATION_DATE = 2000-01-01T00:00:00",
        "ORIGINATOR = marsrelay",
        "",
        "META_START",
        f"OBJECT_NAME = {object_name}",
        f"OBJECT_ID = {object_name}",
        "CENTER_NAME = MARS",
        "REF_FRAME = ICRF",
        "TIME_SYSTEM = TDB",
        f"START_TIME = {_tdb_calendar(tdb[0], erfa)}",
        f"STOP_TIME = {_tdb_calendar(tdb[-1], erfa)}",
        "INTERPOLATION = LAGRANGE",
        f"INTERPOLATION_DEGREE = {interpolation_degree}",
        "META_STOP",
        "",
    ]
    for t, r, v in zip(tdb, position_km, velocity_km_s, strict=True):
        lines.append(
            f"{_tdb_calendar(t, erfa)} {r[0]:.6f} {r[1]:.6f} {r[2]:.6f} "
            f"{v[0]:.9f} {v[1]:.9f} {v[2]:.9f}"
        )
    atomic_write_text(path, "\n".join(lines) + "\n")


def _tdb_calendar(t: float, erfa_mod) -> str:
    # Whole microseconds of the day, so rounding carries into the next day instead of
    # printing hour 24 (which CCSDS OEM readers reject).
    days, rem = divmod(float(t) + 43200.0, 86400.0)
    us = round(rem * 1e6)
    if us >= 86_400_000_000:
        days, us = days + 1.0, us - 86_400_000_000
    iy, im, iday, _ = erfa_mod.jd2cal(2451544.5 + days, 0.0)
    h, us = divmod(us, 3_600_000_000)
    mi, us = divmod(us, 60_000_000)
    s, us = divmod(us, 1_000_000)
    return f"{int(iy):04d}-{int(im):02d}-{int(iday):02d}T{h:02d}:{mi:02d}:{s:02d}.{us:06d}"
