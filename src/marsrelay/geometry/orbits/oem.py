"""Orbiter states from CCSDS Orbit Ephemeris Messages (OEM, KVN): reading and writing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from marsrelay.errors import TrajectoryError

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
    from marsrelay.geometry.time import tt_to_tdb, utc_to_tdb

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
