"""Orbiter states from NAIF SPK kernels: SPICE states sampled on a grid and interpolated by
piecewise degree-7 Hermite polynomials with a rigorous error bound (0.1 mm)."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marsrelay.constants import (
    MARS_GM_KM3_S2,
)
from marsrelay.errors import TrajectoryError

# SPK trajectories: SPICE states sampled on a grid, interpolated by piecewise Hermite polynomials


@functools.cache
def _two_body_series(order: int) -> tuple[tuple[dict, dict], ...]:
    """``(F_n, G_n)`` for n = 0..order with ``d^n r / dt^n = F_n r + G_n v`` on a Kepler orbit.

    Polynomials in ``u = GM / r^3``, ``p = (r . v) / r^2``, ``q = v^2 / r^2 - u`` as
    ``{(i, j, k): coefficient}`` of ``u^i p^j q^k`` (the f and g series; Danby, "Fundamentals
    of Celestial Mechanics", 2nd ed., section 6.9). Along the orbit ``u' = -3 u p``,
    ``p' = q - 2 p^2`` and ``q' = -p (u + 2 q)``; differentiating ``F r + G v`` with
    ``r'' = -u r`` gives ``F_{n+1} = F_n' - u G_n`` and ``G_{n+1} = F_n + G_n'`` from
    ``F_0 = 1, G_0 = 0``. For instance the fourth derivative is
    ``u (u + 3 q - 15 p^2) r + 6 u p v``.
    """

    def deriv(poly: dict) -> dict:
        out: dict = {}

        def put(m: tuple[int, int, int], c: float) -> None:
            out[m] = out.get(m, 0.0) + c

        for (i, j, k), c in poly.items():
            if i:
                put((i, j + 1, k), -3.0 * i * c)
            if j:
                put((i, j - 1, k + 1), j * c)
                put((i, j + 1, k), -2.0 * j * c)
            if k:
                put((i + 1, j + 1, k - 1), -k * c)
                put((i, j + 1, k), -2.0 * k * c)
        return out

    def combine(a: dict, b: dict, scale: float) -> dict:
        out = dict(a)
        for m, c in b.items():
            out[m] = out.get(m, 0.0) + scale * c
        return {m: c for m, c in out.items() if c != 0.0}

    series: list[tuple[dict, dict]] = [({(0, 0, 0): 1.0}, {})]
    for _ in range(order):
        f, g = series[-1]
        g_times_u = {(i + 1, j, k): c for (i, j, k), c in g.items()}
        series.append((combine(deriv(f), g_times_u, -1.0), combine(f, deriv(g), 1.0)))
    return tuple(series)


def two_body_derivative_norm(
    order: int,
    position_km: np.ndarray,
    velocity_km_s: np.ndarray,
    gm_km3_s2: float = MARS_GM_KM3_S2,
) -> np.ndarray:
    """``|d^n r / dt^n|`` (km/s^n, n = ``order``) of the Kepler orbit through each state;
    positions (km) and velocities (km/s) as ``(3, N)`` rows.

    Exact for two-body motion (the f and g series); for a real orbiter the other forces (J2,
    third bodies) change it by about a percent. :class:`SpkTrajectory` chooses its sampling
    step from it.
    """
    r, v = np.asarray(position_km, float), np.asarray(velocity_km_s, float)
    r2 = np.einsum("i...,i...->...", r, r)
    rv = np.einsum("i...,i...->...", r, v)
    v2 = np.einsum("i...,i...->...", v, v)
    u = gm_km3_s2 / (r2 * np.sqrt(r2))
    p = rv / r2
    q = v2 / r2 - u
    f_poly, g_poly = _two_body_series(order)[order]

    def value(poly: dict) -> np.ndarray:
        out = np.zeros_like(u)
        for (i, j, k), c in poly.items():
            out = out + c * u**i * p**j * q**k
        return out

    f, g = value(f_poly), value(g_poly)
    # |F r + G v|^2 = r^2 (F^2 + 2 F G p + G^2 (q + u))
    return np.sqrt(np.maximum(r2 * (f * f + 2.0 * f * g * p + g * g * (q + u)), 0.0))


def _window_nodes(shift: int) -> np.ndarray:
    """Grid nodes of an interpolation window, in steps from the interval's start: the window
    starts ``shift`` nodes before the interval (1: centred; 0 or 2 at the ends of coverage)."""
    return np.arange(4.0) - shift


@functools.cache
def _hermite_matrix(shift: int) -> np.ndarray:
    """``(8, 8)`` matrix from the window's data (values at its four nodes, then slopes per
    step) to the monomial coefficients (s^0..s^7) of the Hermite polynomial of degree 7, with
    ``s`` the time from the interval's start in steps."""
    x = _window_nodes(shift)
    k = np.arange(8)
    values = x[:, None] ** k[None, :]
    slopes = k[None, :] * x[:, None] ** np.maximum(k[None, :] - 1, 0)
    return np.linalg.inv(np.vstack([values, slopes]))


@functools.cache
def _hermite_error_constant(shift: int) -> float:
    """``max prod (s - s_i)^2 / 8!`` over the interval ``0 <= s <= 1``: 0.3164 / 8! = 7.85e-6
    for a centred window, 0.879 / 8! = 2.18e-5 for the window at an end of coverage."""
    s = np.linspace(0.0, 1.0, 20001)
    return float(np.prod((s[:, None] - _window_nodes(shift)[None, :]) ** 2, axis=1).max()
                 / 40320.0)


def spice_message(exc: Exception) -> str:
    """A SPICE error in one short line: its code and the first sentence of its explanation
    (not the toolkit's banner and traceback)."""
    short = str(getattr(exc, "short", "") or "").strip()
    long = " ".join(str(getattr(exc, "long", "") or "").split())
    first = long.split(". ")[0].rstrip(".") if long else ""
    return ": ".join(part for part in (short, first) if part) or " ".join(str(exc).split())


class SpkTrajectory:
    """States of one body from a NAIF SPK kernel, relative to Mars (NAIF 499).

    The kernel is loaded into SPICE's kernel pool when the object is made and unloaded by
    :meth:`close` (SPICE's pool is process-global; this class keeps its own file loaded
    only while it lives). Any SPK type SPICE reads is accepted. If the segment is relative to
    another centre, the kernels needed to chain to Mars must be loaded too (``extra_kernels``).

    **Fast path.** :meth:`state_km` does not call SPICE per time. The first time a block of
    the coverage is asked for (blocks of :attr:`BLOCK_S`, one day, from the start of each
    coverage window) SPICE (``spkgeo``) is sampled on a uniform grid over that block; any
    number of times are then interpolated, vectorised, with piecewise Hermite polynomials of
    degree 7 matching position and velocity at the four grid nodes around each time (the
    scheme of SPK type 13 with a window of four). Blocks stay sampled until :meth:`close`.
    Degree 7 rather than cubic: a SPICE call costs 10-20 us, and a cubic Hermite (error
    ``h^4 max|r^(4)| / 384``) would need steps of about a 250th of an orbit, as many calls as
    the contact finder makes at its own times; degree 7 needs about a 40th.

    **Error bound.** A Hermite polynomial of degree 7 through four nodes ``t_i`` errs in
    position by at most ``max|r^(8)| / 8! * max prod (t - t_i)^2``: ``7.85e-6 h^8 max|r^(8)|``
    on the centre interval of a grid of step ``h`` (``2.18e-5 h^8 max|r^(8)|`` in the first
    and last step of a coverage window). Each block's step keeps this below
    :attr:`POSITION_TOLERANCE_KM` (0.1 mm, ten thousand times below the metre the project
    needs), with ``max|r^(8)|`` the exact two-body value (:func:`two_body_derivative_norm`)
    at the window's four nodes times :attr:`DERIVATIVE_MARGIN` (1.5; the maximum between
    nodes and the other forces, J2 and third bodies, add a few percent); rounding adds at
    most 0.1 mm (sampled times are first moved onto the exact grid). That gives a step of
    about 170 s on a 255 x 320 km orbit and 100 s on a 150 x 4500 km one (500 to 900 SPICE
    calls per day); velocities come out within about 1e-8 km/s.
    :meth:`interpolation_bound_km` gives the bound at any time and :meth:`spice_state_km`
    SPICE's own states.

    The bound assumes a smooth trajectory within a block: a kernel that stores an impulsive
    manoeuvre as a velocity step is smoothed over about one grid step there.
    """

    #: Length of the blocks sampled on first use, s.
    BLOCK_S: float = 86400.0
    #: Interpolation error bound for positions, km.
    POSITION_TOLERANCE_KM: float = 1e-7
    #: Factor on the largest two-body 8th derivative at a window's nodes.
    DERIVATIVE_MARGIN: float = 1.5

    def __init__(
        self, path: str | Path, naif_id: int, extra_kernels: Sequence[str | Path] = ()
    ) -> None:
        import spiceypy as sp

        self.path = Path(path)
        if not self.path.is_file():
            raise TrajectoryError(f"SPK file not found: {self.path}")
        self.naif_id = int(naif_id)
        self._files: list[str] = []
        cover = sp.stypes.SPICEDOUBLE_CELL(2000)
        try:
            for f in (str(p) for p in (*extra_kernels, self.path)):
                sp.furnsh(f)
                self._files.append(f)
            sp.spkcov(str(self.path), self.naif_id, cover)
        except sp.stypes.SpiceyError as exc:
            self.close()
            raise TrajectoryError(
                f"{self.path}: not a readable SPK file ({spice_message(exc)})") from None
        n = sp.wncard(cover)
        if n == 0:
            self.close()
            raise TrajectoryError(f"{self.path}: no data for NAIF id {self.naif_id}")
        self._windows = np.array([sp.wnfetd(cover, i) for i in range(n)], float).reshape(n, 2)
        self._coverage = (float(self._windows[0, 0]), float(self._windows[-1, 1]))
        spans = self._windows[:, 1] - self._windows[:, 0]
        self._n_blocks = np.maximum(np.ceil(spans / self.BLOCK_S), 1).astype(np.int64)
        self._block_base = np.concatenate([[0], np.cumsum(self._n_blocks)[:-1]])
        self._blocks: dict[int, _SampledBlock] = {}
        self._merged: _SampledBlock | None = None

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        return self._coverage

    def state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mars-centred ICRF position (km) and velocity (km/s), each ``(N, 3)``, interpolated
        from SPICE's states within :attr:`POSITION_TOLERANCE_KM` (see the class docstring)."""
        r, v = self.state_rows_km(np.asarray(tdb_s, dtype=float))
        assert v is not None
        return np.ascontiguousarray(r.T), np.ascontiguousarray(v.T)

    def state_rows_km(
        self, tdb_s: np.ndarray, velocity: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`state_km` as ``(3, N)`` rows (velocity ``None`` unless ``velocity``)."""
        t = self._checked_times(tdb_s)
        if t.size == 0:
            return np.empty((3, 0)), (np.empty((3, 0)) if velocity else None)
        grid = self._sampled(self._block_ids(t))
        k = np.clip(np.searchsorted(grid.starts, t, side="right") - 1, 0, grid.starts.size - 1)
        h = grid.step[k]
        x = ((t - grid.starts[k]) + grid.start_offset_s[k]) / h  # t - starts[k] is exact
        coef = [np.take(grid.coef[i], k, axis=1) for i in range(8)]  # (3, N) each
        pos = coef[7].copy()
        for i in range(6, -1, -1):
            pos *= x
            pos += coef[i]
        if not velocity:
            return pos, None
        vel = 7.0 * coef[7]
        for i in range(6, 0, -1):
            vel *= x
            vel += i * coef[i]
        vel /= h
        return pos, vel

    def interpolation_bound_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> np.ndarray:
        """Position error bound (km) of the interpolation at each time (see the class
        docstring): at most :attr:`POSITION_TOLERANCE_KM` plus 1e-7 km of rounding."""
        t = self._checked_times(tdb_s)
        grid = self._sampled(self._block_ids(t))
        k = np.clip(np.searchsorted(grid.starts, t, side="right") - 1, 0, grid.starts.size - 1)
        return grid.bound_km[k]

    def spice_state_km(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """SPICE's own states (``spkgeo``, one call per time, so slow), ``(N, 3)`` km, km/s."""
        rows = self._spice_rows(self._checked_times(tdb_s))
        return rows[:3].T, rows[3:].T

    def close(self) -> None:
        """Unload this trajectory's kernels and forget the sampled blocks."""
        import spiceypy as sp

        self._blocks = {}
        self._merged = None
        for f in self._files:
            with contextlib.suppress(Exception):  # unloading an already unloaded file
                sp.unload(f)

    # ------------------------------------------------------------------ internals

    def _spice_rows(self, t: np.ndarray) -> np.ndarray:
        """SPICE states at ``t`` as ``(6, N)`` rows: one call per grid node."""
        import spiceypy as sp

        out = np.empty((t.size, 6))
        try:
            for k, tk in enumerate(t.tolist()):
                out[k] = sp.spkgeo(self.naif_id, tk, "J2000", 499)[0]
        except sp.stypes.SpiceyError as exc:
            raise TrajectoryError(
                f"{self.path}: SPICE cannot give NAIF id {self.naif_id} relative to Mars "
                f"({spice_message(exc)})"
            ) from None
        return np.ascontiguousarray(out.T)

    def _checked_times(self, tdb_s: Sequence[float] | np.ndarray | float) -> np.ndarray:
        t = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        lo, hi = self._coverage
        if t.size and not (t.min() >= lo and t.max() <= hi):
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} covers TDB {lo:.3f}..{hi:.3f} s past J2000; "
                f"asked for {t.min():.3f}..{t.max():.3f}"
            )
        return t

    def _block_ids(self, t: np.ndarray) -> np.ndarray:
        """Index of the block holding each time (windows' blocks numbered in time order)."""
        w = np.clip(np.searchsorted(self._windows[:, 0], t, side="right") - 1, 0,
                    len(self._windows) - 1)
        gap = t > self._windows[w, 1]
        if gap.any():
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} has no data at TDB "
                f"{float(t[gap][0]):.3f} s past J2000 (between the kernel's coverage windows)"
            )
        j = np.floor((t - self._windows[w, 0]) / self.BLOCK_S).astype(np.int64)
        return self._block_base[w] + np.clip(j, 0, self._n_blocks[w] - 1)

    def _sampled(self, block_ids: np.ndarray) -> _SampledBlock:
        """All sampled blocks merged in time order, after sampling those ``block_ids`` need."""
        need = np.zeros(int(self._n_blocks.sum()), dtype=bool)
        need[block_ids] = True
        missing = [g for g in np.flatnonzero(need).tolist() if g not in self._blocks]
        for g in missing:
            self._blocks[g] = self._sample_block(g)
        if self._merged is None or missing:
            self._merged = _SampledBlock.concat([self._blocks[g] for g in sorted(self._blocks)])
        return self._merged

    def _block_span(self, gid: int) -> tuple[float, float, float, float]:
        """``(start, end)`` of block ``gid`` and of its coverage window, TDB s."""
        w = int(np.searchsorted(self._block_base, gid, side="right") - 1)
        lo, hi = (float(x) for x in self._windows[w])
        j = gid - int(self._block_base[w])
        a = lo + j * self.BLOCK_S
        b = hi if j == self._n_blocks[w] - 1 else min(a + self.BLOCK_S, hi)
        return a, b, lo, hi

    def _initial_step_s(self, t: float) -> float:
        """A first step: the bound over the whole osculating Kepler orbit at ``t``."""
        rows = self._spice_rows(np.array([t]))
        r, v = rows[:3, 0], rows[3:, 0]
        rn = float(np.linalg.norm(r))
        energy = 0.5 * float(v @ v) - MARS_GM_KM3_S2 / rn
        if energy >= 0.0:
            return 60.0
        a = -MARS_GM_KM3_S2 / (2.0 * energy)
        e_vec = np.cross(v, np.cross(r, v)) / MARS_GM_KM3_S2 - r / rn
        e = min(float(np.linalg.norm(e_vec)), 0.999)
        ecc_anomaly = np.linspace(0.0, 2.0 * math.pi, 721)
        radius = a * (1.0 - e * np.cos(ecc_anomaly))
        # Only |r|, r . v and |v| matter: states written in the orbit's own plane.
        rdot = math.sqrt(MARS_GM_KM3_S2 * a) * e * np.sin(ecc_anomaly) / radius
        speed2 = MARS_GM_KM3_S2 * (2.0 / radius - 1.0 / a)
        zero = np.zeros_like(radius)
        pos = np.stack([radius, zero, zero])
        vel = np.stack([rdot, np.sqrt(np.maximum(speed2 - rdot * rdot, 0.0)), zero])
        m8 = float(two_body_derivative_norm(8, pos, vel).max()) * self.DERIVATIVE_MARGIN
        c_mid = _hermite_error_constant(1)
        return float((self.POSITION_TOLERANCE_KM / (c_mid * max(m8, 1e-300))) ** 0.125)

    def _sample_block(self, gid: int) -> _SampledBlock:
        """Sample block ``gid`` with a step that meets the error bound (refined if not)."""
        a, b, lo, hi = self._block_span(gid)
        span = b - a
        h = self._initial_step_s(a)
        for _ in range(8):
            n = max(3, math.ceil(span / max(h, 1e-3)))
            h = span / n
            # one node beyond each end of the block where the coverage allows, so that windows
            # stay centred across blocks
            j = np.arange(-1 if a - h >= lo else 0, (n + 1 if b + h <= hi else n) + 1)
            node_t = a + j * h
            node_t[j == 0], node_t[j == n] = a, b
            rows = self._spice_rows(node_t)
            first = np.arange(n) - j[0]  # node index of each interval's start
            window = np.clip(first - 1, 0, node_t.size - 4)
            shift = first - window
            m8 = two_body_derivative_norm(8, rows[:3], rows[3:])
            m8_window = np.max(np.stack([m8[window + i] for i in range(4)]), axis=0)
            const = np.array([_hermite_error_constant(k) for k in range(3)])[shift]
            bound = const * h**8 * m8_window * self.DERIVATIVE_MARGIN
            worst = float(bound.max())
            if worst <= self.POSITION_TOLERANCE_KM:
                break
            h *= min(0.9, 0.98 * (self.POSITION_TOLERANCE_KM / worst) ** 0.125)
        else:
            raise TrajectoryError(
                f"{self.path}: NAIF id {self.naif_id} moves too irregularly near TDB {a:.0f} s "
                "to interpolate within the bound"
            )
        # The polynomials place the nodes at exact multiples of h from a; the sampled times
        # a + j h are rounded to 1.2e-7 s (near 1e9 s), 0.4 mm of flight: move each state
        # to its exact grid time, r(t - d) = r(t) - v d (the next term, a d^2 / 2, is 1e-17 km).
        offset = (node_t - a) - j * h  # node time minus grid time; node_t - a is exact
        pos = rows[:3] - rows[3:] * offset
        data = np.concatenate([np.stack([pos[:, window + i] for i in range(4)]),
                               np.stack([h * rows[3:, window + i] for i in range(4)])])
        coef = np.empty((8, 3, n))
        for k in np.unique(shift).tolist():
            m = shift == k
            coef[:, :, m] = np.einsum("ij,jcn->icn", _hermite_matrix(k), data[:, :, m])
        return _SampledBlock(node_t[first], offset[first], np.full(n, h), coef,
                             bound + _ROUNDING_KM)


#: Allowance for rounding in the interpolated positions, km (SPICE's own polynomials, the
#: Hermite sums with coefficients up to ~1e4 km), with the sampled times on the exact grid.
_ROUNDING_KM = 1e-7


@dataclass(frozen=True)
class _SampledBlock:
    """Piecewise polynomials of a sampled grid: per interval its start (TDB s, as sampled)
    and how far that is from the exact grid time (s), step (s), monomial coefficients
    ``coef[i]`` (3, n) of ``s^i`` (``s`` the time from the exact grid time in steps;
    positions in km) and position error bound (km)."""

    starts: np.ndarray
    start_offset_s: np.ndarray
    step: np.ndarray
    coef: np.ndarray
    bound_km: np.ndarray

    @staticmethod
    def concat(blocks: list[_SampledBlock]) -> _SampledBlock:
        """Blocks in time order as one piecewise polynomial."""
        return _SampledBlock(
            np.concatenate([b.starts for b in blocks]),
            np.concatenate([b.start_offset_s for b in blocks]),
            np.concatenate([b.step for b in blocks]),
            np.concatenate([b.coef for b in blocks], axis=2),
            np.concatenate([b.bound_km for b in blocks]),
        )
