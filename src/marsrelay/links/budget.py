"""Link-budget arithmetic: free-space loss, antenna gain, P/N0, supported data rate, rate ladders.

Everything is in decibels and vectorised over numpy arrays. The received data-rate capacity of a
link follows the standard budget (DSN 810-005 module 201; Yuen, "Deep Space Telecommunications
Systems Engineering", ch. 1)::

    P_r/N0 [dB-Hz] = EIRP [dBW] - L_space [dB] - L_other [dB] + G/T [dB/K] - k [dBW/K/Hz]
    Eb/N0  [dB]    = P_r/N0 - 10 log10(R)
    R_max  [bps]   = 10 ** ((P_r/N0 - (Eb/N0)_required - margin) / 10)

with k = 1.380649e-23 J/K (-228.6 dBW/K/Hz) and the free-space loss
``L_space = 20 log10(4 pi d / lambda)``. A radio then runs at the highest rate of its discrete
ladder not above ``R_max`` (:func:`ladder_floor`).

Worked example (UNITEC-1 link budget, oz9aec.net, 5840 MHz, EIRP 11.8 dBW, G/T 23 dB/K, 2.4 dB
of other losses, 200,000 km: space loss 214 dB and P/N0 = 47 dB-Hz)::

    >>> round(float(free_space_loss_db(200_000.0, 5.84e9)), 1)
    213.8
    >>> round(float(p_over_n0_dbhz(11.8, free_space_loss_db(200_000.0, 5.84e9), 23.0, 2.4)), 1)
    47.2

A deep-space design control table reproduced line by line (Kobayashi, Shihabi & Taylor, "Mars
Cube One Telecommunications Subsystem Design", DESCANSO Design and Performance Summary Series
article 18, JPL, 2021, Table 5-4, HGA to a 70 m antenna at 1.07 AU, 8414 MHz, 8 kbps): EIRP
61.7 dBm, space loss 275.0 dB, received P_t/N0 45.2 dB-Hz (``tests/test_links_published.py``
checks every line of that table and of its UHF Table 5-5)::

    >>> round(float(eirp_dbw(10 ** (36.6 / 10) / 1000, 29.2, 1.3 + 2.8)) + 30.0, 1)
    61.7
    >>> round(float(free_space_loss_db(1.07 * 149_597_870.7, 8414e6)), 1)
    275.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from marsrelay.constants import C_KM_S

__all__ = [
    "BOLTZMANN_DBW_PER_K_HZ",
    "atmosphere_loss_db",
    "atmosphere_noise_k",
    "dish_gain_dbi",
    "eirp_dbw",
    "frame_error_rate",
    "free_space_loss_db",
    "go_back_n_efficiency",
    "ladder_floor",
    "max_data_rate_bps",
    "noise_figure_temp_k",
    "p_over_n0_dbhz",
    "residual_carrier_losses_db",
    "to_db",
]

#: Boltzmann's constant in dBW/K/Hz: 10 log10(1.380649e-23) (SI exact k).
BOLTZMANN_DBW_PER_K_HZ: float = 10.0 * math.log10(1.380649e-23)


def to_db(x: np.ndarray | float) -> np.ndarray:
    """``10 log10(x)`` of a power ratio (or W -> dBW, K -> dBK)."""
    return 10.0 * np.log10(np.asarray(x, dtype=float))


def free_space_loss_db(range_km: np.ndarray | float, frequency_hz: float) -> np.ndarray:
    """Free-space (spreading) loss ``20 log10(4 pi d / lambda)``, dB, for ``range_km`` in km."""
    wavelength_km = C_KM_S / frequency_hz
    return 20.0 * np.log10(4.0 * math.pi * np.asarray(range_km, dtype=float) / wavelength_km)


def dish_gain_dbi(diameter_m: float, frequency_hz: float, efficiency: float = 0.6) -> float:
    """Boresight gain of a parabolic dish, dBi: ``efficiency * (pi D / lambda)^2``."""
    wavelength_m = C_KM_S * 1000.0 / frequency_hz
    return float(10.0 * math.log10(efficiency * (math.pi * diameter_m / wavelength_m) ** 2))


def eirp_dbw(
    tx_power_w: np.ndarray | float,
    antenna_gain_dbi: np.ndarray | float,
    losses_db: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Effective isotropic radiated power, dBW: ``10 log10(P_W) + G_dBi - losses_dB``.

    ``losses_db`` (positive) holds the transmit circuit loss and, where a design control table
    books it there, the transmit antenna's pointing loss.
    """
    return to_db(tx_power_w) + np.asarray(antenna_gain_dbi, dtype=float) - losses_db


def noise_figure_temp_k(
    noise_figure_db: np.ndarray | float, reference_temp_k: float = 290.0
) -> np.ndarray:
    """Noise temperature (K) of a stage of noise figure ``F`` dB: ``T0 (10^(F/10) - 1)``.

    A passive loss of ``L`` dB at ``T0`` has a noise figure of ``L`` dB, so the same formula
    gives the input-referred noise of a lossy cable (IEEE noise-figure definition, T0 = 290 K).
    """
    return reference_temp_k * (10.0 ** (np.asarray(noise_figure_db, dtype=float) / 10.0) - 1.0)


def residual_carrier_losses_db(
    mod_index_deg: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Power split of a residual-carrier PCM/PM signal (NRZ data or a square-wave subcarrier).

    Returns ``(carrier_suppression_db, data_modulation_loss_db)``, both positive:
    ``-20 log10 |cos(beta)|`` and ``-20 log10 |sin(beta)|`` for the modulation index ``beta``
    (DSN 810-005 module 207; e.g. 60 deg -> 6.02 dB and 1.25 dB).
    """
    beta = np.radians(np.asarray(mod_index_deg, dtype=float))
    return -20.0 * np.log10(np.abs(np.cos(beta))), -20.0 * np.log10(np.abs(np.sin(beta)))


def p_over_n0_dbhz(
    eirp_dbw: np.ndarray | float,
    space_loss_db: np.ndarray | float,
    g_over_t_dbk: np.ndarray | float,
    other_losses_db: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Received total power to noise spectral density ``P_r/N0``, dB-Hz."""
    return (
        np.asarray(eirp_dbw, dtype=float)
        - space_loss_db
        - other_losses_db
        + g_over_t_dbk
        - BOLTZMANN_DBW_PER_K_HZ
    )


def max_data_rate_bps(
    pn0_dbhz: np.ndarray | float, required_ebn0_db: float, margin_db: float
) -> np.ndarray:
    """Highest data rate (bps, continuous) whose Eb/N0 meets ``required + margin``."""
    return 10.0 ** ((np.asarray(pn0_dbhz, dtype=float) - required_ebn0_db - margin_db) / 10.0)


def ladder_floor(rate_bps: np.ndarray, ladder_bps: Sequence[float] | np.ndarray) -> np.ndarray:
    """The highest ladder rate not above each ``rate_bps`` (0 where even the lowest fails).

    ``ladder_bps`` need not be sorted. A relative tolerance of 1e-9 keeps a rate computed as
    exactly a ladder value on that value.
    """
    ladder = np.unique(np.asarray(ladder_bps, dtype=float))
    rate = np.asarray(rate_bps, dtype=float)
    if ladder.size == 0:
        return np.zeros_like(rate)
    idx = np.searchsorted(ladder, rate * (1.0 + 1e-9), side="right") - 1
    return np.where(idx >= 0, ladder[np.clip(idx, 0, None)], 0.0)


def atmosphere_loss_db(
    elevation_deg: np.ndarray | float, zenith_loss_db: float, min_elevation_deg: float = 3.0
) -> np.ndarray:
    """Atmospheric attenuation at elevation ``el``: ``A_zenith / sin(el)`` (flat-Earth airmass,
    DSN 810-005 module 105, valid above about 6 deg; clamped at ``min_elevation_deg``)."""
    el = np.maximum(np.asarray(elevation_deg, dtype=float), min_elevation_deg)
    return zenith_loss_db / np.sin(np.radians(el))


def atmosphere_noise_k(loss_db: np.ndarray | float, physical_temp_k: float = 275.0) -> np.ndarray:
    """Sky-noise temperature added by an absorbing atmosphere of loss ``loss_db`` (K):
    ``T_p (1 - 10^(-A/10))`` (DSN 810-005 module 105, mean physical temperature ~275 K)."""
    return physical_temp_k * (1.0 - 10.0 ** (-np.asarray(loss_db, dtype=float) / 10.0))


def frame_error_rate(
    excess_db: np.ndarray | float,
    frame_bits: float,
    event_rate_at_required: float,
    db_per_decade: float,
) -> np.ndarray:
    """Probability that a frame of ``frame_bits`` information bits has an error, at
    ``excess_db`` dB of Eb/N0 above the coding's requirement (negative: below it).

    Error events start independently with probability ``p`` per bit, a waterfall of
    ``db_per_decade`` dB per decade through ``event_rate_at_required`` at 0 dB excess:
    ``FER = 1 - (1 - p)^L``. For a soft-decision Viterbi decoder ``p`` is the first-event error
    probability, whose union bound falls about a decade per 0.55 dB near BER 1e-6 for the
    (7,1/2) code (Proakis, "Digital Communications", ch. 8).
    """
    p = event_rate_at_required * 10.0 ** (-np.asarray(excess_db, dtype=float) / db_per_decade)
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.where(p >= 1.0, 1.0, -np.expm1(frame_bits * np.log1p(-np.minimum(p, 0.5))))


def go_back_n_efficiency(
    fer: np.ndarray | float, frames_per_round_trip: np.ndarray | float
) -> np.ndarray:
    """Share of frame slots that deliver new frames under go-back-N ARQ:
    ``(1 - F) / (1 + (N - 1) F)`` with ``N`` the frames sent between a frame's start and the
    report that it was lost (every one of them is sent again; Bertsekas & Gallager, "Data
    Networks", §2.4; CCSDS 211.0 §4.3.3 COP-P)."""
    f = np.asarray(fer, dtype=float)
    n = np.asarray(frames_per_round_trip, dtype=float)
    return (1.0 - f) / (1.0 + (n - 1.0) * f)
