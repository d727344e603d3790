"""Proximity passes as flown: Proximity-1 hail, adaptive rate with lag, framing and ARQ.

A lander -> orbiter pass (sources in :mod:`marsrelay.links.catalogue`, settings in
:class:`marsrelay.links.model.ProximityOps`):

1. **Hail.** No data flows for ``hail_s`` after the window opens: carrier only and idle sequences
   of the caller and the responder, then the change to the working rate (CCSDS 211.0 §6.4).
2. **Adaptive rate (ADR).** Every ``update_interval_s`` from the first data frame the orbiter
   picks the highest rate of the pair's table whose Eb/N0 keeps the adaptive-rate margin over
   the decoder's requirement (:meth:`marsrelay.links.model.LinkModel.adr_margin_db`), judged on
   the link as it was ``lag_s`` earlier. The rate holds until
   the next decision, so it trails a rising link and overshoots a setting one. Each change of
   rate costs ``comm_change_s`` of idle and tail sequences.
3. **Fixed rate** (radios without ADR): one rate for the pass, the one whose *predicted* volume at
   ``fixed_margin_db`` is largest (or ``[links] fixed_rate_bps``), run from the first data frame
   to the end of the window.
4. **Delivery.** A rate ``R`` delivers ``R`` times the framing efficiency times the go-back-N
   efficiency at the frame error rate of the *actual* link at that moment
   (:meth:`marsrelay.links.model.LinkModel.proximity_throughput_bps`): margins choose rates,
   the nominal link decides what arrives.

Everything is vectorised over all windows of one lander-orbiter pair on one time grid
(:func:`pass_grid`), whose sub-steps divide the ADR interval so every decision falls on a grid
point. Volumes integrate by the trapezoid rule with the rate of the interval's left point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marsrelay.links.budget import max_data_rate_bps
from marsrelay.links.model import LinkModel

__all__ = ["PassGrid", "PassVolumes", "pass_grid", "simulate_passes"]


@dataclass(frozen=True)
class PassGrid:
    """Time grid of several windows, flattened (as :class:`~marsrelay.links.geometry.
    WindowSamples`), with each window's first data instant ``data_start_tdb_s``.

    ``t_tdb_s[offsets[k]:offsets[k + 1]]`` are window ``k``'s points: its start, its first data
    instant, then steps of ``step_s`` (dividing the ADR interval), then its end.
    """

    t_tdb_s: np.ndarray
    window: np.ndarray
    offsets: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    data_start_tdb_s: np.ndarray
    step_s: float

    @property
    def interval_mask(self) -> np.ndarray:
        """True for each pair of consecutive points in the same window."""
        return self.window[1:] == self.window[:-1]

    @property
    def live(self) -> np.ndarray:
        """True at points at or after their window's first data instant."""
        return self.t_tdb_s >= self.data_start_tdb_s[self.window] - 1e-9


def pass_grid(start_tdb_s: np.ndarray, end_tdb_s: np.ndarray, hail_s: float,
              update_interval_s: float, step_s: float) -> PassGrid:
    """Grid over windows ``[start, end]``: start, ``start + hail_s``, then steps of at most
    ``step_s`` that divide ``update_interval_s``, then the end (at least two points each)."""
    start = np.asarray(start_tdb_s, dtype=float)
    end = np.asarray(end_tdb_s, dtype=float)
    dur = np.maximum(end - start, 0.0)
    lead = np.minimum(hail_s, dur)
    h = update_interval_s / max(1, math.ceil(update_interval_s / step_s - 1e-9))
    n_data = np.maximum(np.ceil((dur - lead) / h - 1e-9), 0).astype(np.int64)
    has_lead = (lead > 0).astype(np.int64)
    n_pts = np.maximum(has_lead + n_data + 1, 2)
    offsets = np.concatenate([[0], np.cumsum(n_pts)])
    window = np.repeat(np.arange(len(start)), n_pts)
    j = np.arange(offsets[-1]) - offsets[window]
    data_start = start + lead
    t = data_start[window] + (j - has_lead[window]) * h
    t = np.where((j == 0) & (has_lead[window] == 1), start[window], t)
    t[offsets[1:] - 1] = end
    return PassGrid(t, window, offsets, start, end, data_start, h)


@dataclass(frozen=True)
class PassVolumes:
    """Pass-model results of one lander-orbiter pair.

    Per window: ``adr_bits``, ``fixed_bits`` (delivered user bits), ``fixed_rate_bps``,
    ``peak_adr_rate_bps``. Per grid interval (consecutive points of one window): ``interval_t0``
    (left point index), ``v_adr_bits``, ``v_fixed_bits``. Per grid point: ``adr_rate_bps`` (the
    rate in force, 0 during the hail), ``adr_throughput_bps`` and ``fixed_throughput_bps``
    (user data delivered, comm-change down time spread over its decision interval),
    ``supported_bps`` (capacity at the adaptive-rate margin).
    """

    adr_bits: np.ndarray
    fixed_bits: np.ndarray
    fixed_rate_bps: np.ndarray
    peak_adr_rate_bps: np.ndarray
    interval_t0: np.ndarray
    v_adr_bits: np.ndarray
    v_fixed_bits: np.ndarray
    adr_rate_bps: np.ndarray
    adr_throughput_bps: np.ndarray
    fixed_throughput_bps: np.ndarray
    supported_bps: np.ndarray


def _interp_in_windows(grid: PassGrid, values: np.ndarray, t_query: np.ndarray,
                       w_query: np.ndarray) -> np.ndarray:
    """Linear interpolation of per-point ``values`` at times ``t_query`` of windows
    ``w_query`` (clamped to the window)."""
    span = (grid.end_tdb_s - grid.start_tdb_s) * (1.0 + 1e-12) + 1e-9

    def coord(t: np.ndarray, w: np.ndarray) -> np.ndarray:
        frac = np.clip((t - grid.start_tdb_s[w]) / span[w], 0.0, 1.0)
        return w + frac

    return np.interp(coord(t_query, w_query), coord(grid.t_tdb_s, grid.window), values)


def _ladder_index(rate_bps: np.ndarray, ladder: np.ndarray) -> np.ndarray:
    return np.searchsorted(ladder, rate_bps * (1.0 + 1e-9), side="right") - 1


def simulate_passes(
    model: LinkModel,
    lander: str,
    orbiter: str,
    grid: PassGrid,
    pdn0_dbhz: np.ndarray,
    range_km: np.ndarray,
    fixed_rate_bps: float | None = None,
) -> PassVolumes:
    """Delivered volumes of every window of ``grid`` (see the module docstring).

    ``pdn0_dbhz``/``range_km`` are the return link's data P/N0 and range at the grid points.
    """
    ops = model.ops
    ladder = model.pair_rates_bps(lander, orbiter)
    required = model.proximity_required_ebn0_db(lander)
    n_win = len(grid.start_tdb_s)
    t, w = grid.t_tdb_s, grid.window
    live = grid.live
    same = grid.interval_mask
    i0 = np.nonzero(same & live[:-1])[0]  # intervals that carry data
    dt = t[i0 + 1] - t[i0]

    def throughput(rate: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return model.proximity_throughput_bps(lander, rate, pdn0_dbhz[idx], range_km[idx])

    # ---- adaptive rate: one decision per update interval --------------------------------
    span = np.maximum(grid.end_tdb_s - grid.data_start_tdb_s, 0.0)
    n_upd = np.maximum(np.ceil(span / ops.update_interval_s - 1e-9), 1).astype(np.int64)
    upd_off = np.concatenate([[0], np.cumsum(n_upd)])
    upd_w = np.repeat(np.arange(n_win), n_upd)
    k = np.arange(upd_off[-1]) - upd_off[upd_w]
    t_dec = grid.data_start_tdb_s[upd_w] + k * ops.update_interval_s
    t_meas = np.maximum(grid.start_tdb_s[upd_w], t_dec - ops.lag_s)
    meas = _interp_in_windows(grid, pdn0_dbhz, t_meas, upd_w)
    adr_margin = model.adr_margin_db(lander)
    cap = max_data_rate_bps(meas, required, adr_margin)
    q = _ladder_index(cap, ladder)
    rate_dec = np.where(q >= 0, ladder[np.clip(q, 0, None)], 0.0) if len(ladder) else 0.0 * cap
    changed = np.zeros(len(k), dtype=bool)
    changed[1:] = (rate_dec[1:] != rate_dec[:-1]) & (upd_w[1:] == upd_w[:-1])
    length = np.minimum(ops.update_interval_s, grid.end_tdb_s[upd_w] - t_dec)
    keep = np.where(changed & (length > 0),
                    1.0 - np.minimum(ops.comm_change_s, length) / np.maximum(length, 1e-12), 1.0)
    k_pt = np.floor((t - grid.data_start_tdb_s[w]) / ops.update_interval_s + 1e-9)
    k_pt = np.clip(k_pt, 0, n_upd[w] - 1).astype(np.int64) + upd_off[w]
    adr_rate = np.where(live, rate_dec[k_pt], 0.0)
    # interval rate: the left point's decision, at both ends
    r_int = adr_rate[i0]
    f_int = keep[k_pt[i0]]
    v_adr_live = f_int * 0.5 * (throughput(r_int, i0) + throughput(r_int, i0 + 1)) * dt
    peak = np.zeros(n_win)
    np.maximum.at(peak, upd_w, np.where(span[upd_w] > 0, rate_dec, 0.0))

    # ---- fixed rate: planned on the predicted link at the fixed-rate margin --------------
    m = len(ladder)
    if m:
        cap_f = max_data_rate_bps(pdn0_dbhz, required, ops.fixed_margin_db)
        kq = _ladder_index(cap_f, ladder)
        wi = w[i0]
        h = np.zeros(n_win * (m + 1))
        h += np.bincount(wi * (m + 1) + kq[i0] + 1, 0.5 * dt, minlength=n_win * (m + 1))
        h += np.bincount(wi * (m + 1) + kq[i0 + 1] + 1, 0.5 * dt, minlength=n_win * (m + 1))
        time_at = np.cumsum(h.reshape(n_win, m + 1)[:, :0:-1], axis=1)[:, ::-1]
        predicted = time_at * ladder[None, :]
        if fixed_rate_bps is None:
            idx = np.argmax(predicted, axis=1)
            best = predicted[np.arange(n_win), idx]
            fixed_rate = np.where(best > 0, ladder[idx], 0.0)
        else:
            qf = int(_ladder_index(np.array([fixed_rate_bps]), ladder)[0])
            fixed_rate = np.full(n_win, ladder[qf] if qf >= 0 else 0.0)
    else:
        fixed_rate = np.zeros(n_win)
    fixed_pt = np.where(live, fixed_rate[w], 0.0)
    v_fix_live = 0.5 * (throughput(fixed_pt[i0], i0) + throughput(fixed_pt[i0], i0 + 1)) * dt

    # ---- per-interval, per-window and per-point outputs ---------------------------------
    all_i = np.nonzero(same)[0]
    v_adr = np.zeros(len(t) - 1)
    v_fix = np.zeros(len(t) - 1)
    v_adr[i0], v_fix[i0] = v_adr_live, v_fix_live
    adr_bits = np.bincount(w[i0], v_adr_live, minlength=n_win)
    fixed_bits = np.bincount(w[i0], v_fix_live, minlength=n_win)
    all_pts = np.arange(len(t))
    return PassVolumes(
        adr_bits=adr_bits,
        fixed_bits=fixed_bits,
        fixed_rate_bps=np.where(fixed_bits > 0, fixed_rate, 0.0),
        peak_adr_rate_bps=peak,
        interval_t0=all_i,
        v_adr_bits=v_adr[all_i],
        v_fixed_bits=v_fix[all_i],
        adr_rate_bps=adr_rate,
        adr_throughput_bps=np.where(live, keep[k_pt] * throughput(adr_rate, all_pts), 0.0),
        fixed_throughput_bps=np.where(live, throughput(fixed_pt, all_pts), 0.0),
        supported_bps=max_data_rate_bps(pdn0_dbhz, required, adr_margin),
    )
