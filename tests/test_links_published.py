"""Link-budget arithmetic against a published deep-space design control table, line by line.

Source (every figure below is copied from it, with its line number):
Kobayashi, M. M., Shihabi, M. & Taylor, J., "Mars Cube One Telecommunications Subsystem
Design", DESCANSO Design and Performance Summary Series, article 18, Jet Propulsion
Laboratory, September 2021 (https://descanso.jpl.nasa.gov/DPSummary/DESCANSO18_MarCO.pdf):

- Table 5-4 "X-band downlink link budget" (pp. 58-59): MarCO at 8414 MHz through its LGA,
  MGA and HGA to a DSN 34 m antenna and through its HGA to the 70 m antenna (Madrid, InSight
  EDL), 21 deg elevation, 90% weather, turbo r=1/6 at FER 1e-4;
- Table 5-5 "MarCO-InSight UHF link budget" (pp. 64-65): InSight (lander, 14.8 W) to MarCO at
  401.586 MHz, 8 kbps, for the backshell antenna, the lander antenna and after touchdown.

Tolerances. The tables print each line to 0.1 dB (a few to 0.01 dB) and compute every derived
line from unrounded inputs, so a line recomputed here from the printed, rounded inputs may
differ from the printed result by up to ~0.1 dB: the largest such difference in these tables
is line 26 of the HGA/34 m column (38.30 dB-Hz from the printed inputs, 38.2 printed; its
line 38 margin of 7.3 dB over a required 30.97 dB-Hz puts the unrounded value at >= 38.25).
Hence ``TOL_DB = 0.1``; noise temperatures summed from three terms each rounded to 0.1 K get
0.15 K. Lines printed to 0.01 dB that are exact functions of one input (modulation losses,
N0 of a given temperature) get 0.01 dB.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from marsrelay.links.budget import (
    BOLTZMANN_DBW_PER_K_HZ,
    atmosphere_loss_db,
    eirp_dbw,
    free_space_loss_db,
    max_data_rate_bps,
    noise_figure_temp_k,
    p_over_n0_dbhz,
    residual_carrier_losses_db,
    to_db,
)
from marsrelay.links.catalogue import PROXIMITY_RADIOS, UHF_RELAY_HARDWARE
from marsrelay.links.model import build_link_model
from marsrelay.scenario import load_scenario

TOL_DB = 0.1  # the tables' 0.1 dB print resolution, compounded (module docstring)
TOL_FINE_DB = 0.01  # lines printed to 0.01 dB that depend on one exact input
TOL_K = 0.15  # three temperature terms each printed to 0.1 K
AU_KM = 149_597_870.7  # IAU 2012 astronomical unit (the tables' line 3 is in AU)


def dbm_to_w(p_dbm: float) -> float:
    """Power in W of ``p_dbm`` dBm (the tables print powers in dBm)."""
    return 10.0 ** (p_dbm / 10.0) / 1000.0


# -------------------------------------------------------------------------------------------
# Table 5-4: X-band downlink, MarCO -> DSN (losses printed negative there, positive here)
# -------------------------------------------------------------------------------------------


class XColumn(NamedTuple):
    """One column of DESCANSO 18 Table 5-4 (line numbers in brackets)."""

    name: str
    range_au: float  # [3]
    range_km: float  # [12] as printed (rounded)
    data_rate_bps: float  # [5]
    mod_index_deg: float  # [6]
    circuit_loss_db: float  # [8]
    sc_gain_dbi: float  # [9]
    sc_pointing_db: float  # [10]
    eirp_dbm: float  # [11] result
    fsl_db: float  # [13] result
    polarization_db: float  # [16]
    dsn_gain_dbi: float  # [17]
    received_dbm: float  # [20] result
    t_sys_k: float  # [21]
    t_vacuum_zenith_k: float  # [22]
    t_elevation_k: float  # [23]
    n0_dbm_hz: float  # [25] result
    pt_n0_dbhz: float  # [26] result
    carrier_suppression_db: float  # [27] result
    carrier_dbm: float  # [28] result
    loop_bw_hz: float  # [2]; [29] printed in dB-Hz
    loop_bw_dbhz: float  # [29]
    pc_n0_loop_db: float  # [30] result
    carrier_margin_db: float  # [32] result
    mod_loss_db: float  # [33] result
    rate_dbbps: float  # [34] result
    required_pt_n0_dbhz: float  # [37] result
    channel_margin_db: float  # [38] result
    margin_over_threshold_db: float  # [40] result


# Lines common to every column: [4] 8414 MHz, [7] 36.6 dBm, [14] 0.15 dB atmosphere (90%
# weather), [18] 0.1 dB DSN pointing, [19] 0.1 dB wind loading, [24] 11.8 K sky, [31] 6.0
# dB-Hz carrier-loop threshold, [35] 0.63 dB implementation loss, [36] -0.10 dB threshold
# Eb/N0 (turbo r=1/6, FER 1e-4), [39] 3.0 dB margin threshold.
FREQ_X_HZ = 8414e6
TX_POWER_X_DBM = 36.6
ATMOSPHERE_DB = 0.15
DSN_POINTING_DB = 0.1
WIND_DB = 0.1
T_SKY_K = 11.8
CARRIER_THRESHOLD_DBHZ = 6.0
IMPLEMENTATION_LOSS_DB = 0.63
THRESHOLD_EBN0_DB = -0.10
MARGIN_THRESHOLD_DB = 3.0

X_COLUMNS = [
    XColumn("LGA-34m", 0.10, 15e6, 62.5, 56.0, 0.7, 7.6, 13.4, 30.1, 254.4, 1.40, 68.3, -157.8,
            30.5, 18.3, 0.5, -183.8, 26.0, 5.05, -162.8, 3.0, 4.8, 16.1, 10.1, 1.63, 18.0,
            20.12, 5.8, 2.8),
    XColumn("MGA-34m", 0.50, 74.8e6, 62.5, 56.0, 0.9, 8.4, 0.8, 43.3, 268.4, 0.31, 68.3, -157.5,
            30.5, 18.3, 0.5, -183.8, 26.3, 5.05, -162.5, 3.0, 4.8, 16.4, 10.4, 1.63, 18.0,
            20.12, 6.1, 3.1),
    XColumn("HGA-34m", 1.07, 160e6, 1000.0, 72.0, 1.3, 29.2, 2.8, 61.7, 275.0, 0.11, 68.3,
            -145.5, 30.5, 18.3, 0.5, -183.8, 38.2, 10.20, -155.7, 3.0, 4.8, 23.3, 17.3, 0.44,
            30.0, 30.97, 7.3, 4.3),
    XColumn("HGA-70m", 1.07, 160e6, 8000.0, 77.0, 1.3, 29.2, 2.8, 61.7, 275.0, 0.11, 74.3,
            -139.5, 24.8, 11.5, 1.6, -184.7, 45.2, 12.96, -152.5, 10.0, 10.0, 22.2, 16.2, 0.23,
            39.0, 39.79, 5.4, 2.4),
]


def _x_other_losses_db(c: XColumn) -> float:
    """Path and receive losses between EIRP and the DSN gain: lines 14, 16, 18, 19."""
    return ATMOSPHERE_DB + c.polarization_db + DSN_POINTING_DB + WIND_DB


@pytest.mark.parametrize("c", X_COLUMNS, ids=lambda c: c.name)
def test_marco_xband_eirp_and_space_loss(c: XColumn) -> None:
    # [11] = [7] + [8] + [9] + [10]
    eirp_dbm = float(eirp_dbw(dbm_to_w(TX_POWER_X_DBM), c.sc_gain_dbi,
                              c.circuit_loss_db + c.sc_pointing_db)) + 30.0
    assert eirp_dbm == pytest.approx(c.eirp_dbm, abs=TOL_DB)
    # [13] from [3] (AU) and [4]; [12] is the same range rounded to 2-3 digits
    assert c.range_au * AU_KM == pytest.approx(c.range_km, rel=0.005)
    fsl = float(free_space_loss_db(c.range_au * AU_KM, FREQ_X_HZ))
    assert fsl == pytest.approx(c.fsl_db, abs=TOL_DB)


@pytest.mark.parametrize("c", X_COLUMNS, ids=lambda c: c.name)
def test_marco_xband_received_power_noise_and_pt_n0(c: XColumn) -> None:
    # [20] = [11] + [13] + [14] + [16] + [17] + [18] + [19]
    received_dbm = c.eirp_dbm - c.fsl_db - _x_other_losses_db(c) + c.dsn_gain_dbi
    assert received_dbm == pytest.approx(c.received_dbm, abs=TOL_DB)
    # [21] = [22] + [23] + [24]
    assert c.t_vacuum_zenith_k + c.t_elevation_k + T_SKY_K == pytest.approx(c.t_sys_k, abs=TOL_K)
    # [25] = k T, in dBm/Hz
    n0_dbm_hz = BOLTZMANN_DBW_PER_K_HZ + float(to_db(c.t_sys_k)) + 30.0
    assert n0_dbm_hz == pytest.approx(c.n0_dbm_hz, abs=0.05)  # printed to 0.1 dB
    # [26] = [20] - [25], computed as EIRP - L_space - L_other + G/T - k
    pt_n0 = float(p_over_n0_dbhz(
        c.eirp_dbm - 30.0, c.fsl_db, c.dsn_gain_dbi - float(to_db(c.t_sys_k)),
        _x_other_losses_db(c),
    ))
    assert pt_n0 == pytest.approx(c.pt_n0_dbhz, abs=TOL_DB)


@pytest.mark.parametrize("c", X_COLUMNS, ids=lambda c: c.name)
def test_marco_xband_carrier_and_channel_performance(c: XColumn) -> None:
    carrier_db, data_db = residual_carrier_losses_db(c.mod_index_deg)
    assert float(carrier_db) == pytest.approx(c.carrier_suppression_db, abs=TOL_FINE_DB)  # [27]
    assert float(data_db) == pytest.approx(c.mod_loss_db, abs=TOL_FINE_DB)  # [33]
    # [28] = [20] + [27]; [29] = 10 log10(loop BW); [30] = [28] - [25] - [29]; [32] = [30] - [31]
    # ([30] is computed as [26] + [27] - [29]: the same sum with one rounded term fewer)
    assert c.received_dbm - float(carrier_db) == pytest.approx(c.carrier_dbm, abs=TOL_DB)
    assert float(to_db(c.loop_bw_hz)) == pytest.approx(c.loop_bw_dbhz, abs=0.05)
    pc_n0_loop = c.pt_n0_dbhz - float(carrier_db) - float(to_db(c.loop_bw_hz))
    assert pc_n0_loop == pytest.approx(c.pc_n0_loop_db, abs=TOL_DB)
    assert c.pc_n0_loop_db - CARRIER_THRESHOLD_DBHZ == pytest.approx(c.carrier_margin_db,
                                                                    abs=TOL_DB)
    # [34] = 10 log10(R); [37] = [36] + [35] + [34] + [33]; [38] = [26] - [37]; [40] = [38] - [39]
    rate_db = float(to_db(c.data_rate_bps))
    assert rate_db == pytest.approx(c.rate_dbbps, abs=0.05)
    required_ebn0 = THRESHOLD_EBN0_DB + IMPLEMENTATION_LOSS_DB + float(data_db)
    assert required_ebn0 + rate_db == pytest.approx(c.required_pt_n0_dbhz, abs=TOL_FINE_DB)
    assert c.pt_n0_dbhz - c.required_pt_n0_dbhz == pytest.approx(c.channel_margin_db,
                                                                 abs=TOL_DB)
    assert c.channel_margin_db - MARGIN_THRESHOLD_DB == pytest.approx(
        c.margin_over_threshold_db, abs=TOL_DB)
    # and the inverse: the rate the printed P_t/N0 carries at the printed margin is the
    # table's data rate, and at the 3 dB threshold it is that much higher
    r_at_margin = float(max_data_rate_bps(c.pt_n0_dbhz, required_ebn0, c.channel_margin_db))
    assert 10 * np.log10(r_at_margin / c.data_rate_bps) == pytest.approx(0.0, abs=TOL_DB)
    r_at_threshold = float(max_data_rate_bps(c.pt_n0_dbhz, required_ebn0, MARGIN_THRESHOLD_DB))
    assert 10 * np.log10(r_at_threshold / c.data_rate_bps) == pytest.approx(
        c.margin_over_threshold_db, abs=TOL_DB)


# -------------------------------------------------------------------------------------------
# Table 5-5: UHF return link, InSight (lander) -> MarCO
# -------------------------------------------------------------------------------------------


class UhfColumn(NamedTuple):
    """One column of DESCANSO 18 Table 5-5 (line numbers in brackets)."""

    name: str
    circuit_loss_db: float  # [5]
    tx_gain_dbi: float  # [6]
    eirp_dbm: float  # [7] result
    range_km: float  # [8]
    fsl_db: float  # [9] result
    rx_gain_dbi: float  # [11]
    received_dbm: float  # [13] result
    pt_n0_dbhz: float  # [18] result
    carrier_dbm: float  # [20] result
    pc_n0_loop_db: float  # [22] result
    carrier_margin_db: float  # [24] result
    channel_margin_db: float  # [30] result
    margin_over_threshold_db: float  # [32] result


# Common lines: [1] 401.586 MHz, [2] 8000 bps, [3] 60 deg (residual carrier), [4] 41.7 dBm
# "14.8 W transmit power", [10] 2.73 dB polarisation, [12] 1.1 dB cable, [14] 632.8 K
# = Mars 190.0 K + [15] 359.2 K ("3.5 dB NF at LNA") + [16] 83.6 K (front-end cables and
# connectors), [17] -170.59 dBm/Hz, [19] 6.02 dB, [21] 23.0 dB-Hz (200 Hz loop), [23] 12.0
# dB-Hz, [25] 1.25 dB, [26] 39.0 dB-bps, [27] 4.50 dB implementation loss, [28] 3.52 dB
# threshold Eb/N0 (BER 1e-3), [29] 48.30 dB-Hz, [31] 3.0 dB.
FREQ_UHF_HZ = 401.586e6
UHF_RATE_BPS = 8000.0
UHF_MOD_INDEX_DEG = 60.0
UHF_TX_POWER_W = 14.8
UHF_TX_POWER_DBM = 41.7
UHF_POLARIZATION_DB = 2.73
UHF_CABLE_DB = 1.1
T_MARS_K = 190.0
LNA_NF_DB = 3.5
T_RECEIVER_K = 359.2
T_CIRCUIT_K = 83.6
T_SYS_UHF_K = 632.8
N0_UHF_DBM_HZ = -170.59
UHF_CARRIER_SUPPRESSION_DB = 6.02
UHF_LOOP_BW_HZ = 200.0
UHF_LOOP_BW_DBHZ = 23.0
UHF_CARRIER_THRESHOLD_DBHZ = 12.0
UHF_MOD_LOSS_DB = 1.25
UHF_RATE_DBBPS = 39.0
UHF_IMPLEMENTATION_LOSS_DB = 4.50
UHF_THRESHOLD_EBN0_DB = 3.52
UHF_REQUIRED_PT_N0_DBHZ = 48.30

UHF_COLUMNS = [
    UhfColumn("backshell", 2.0, -1.0, 38.7, 3300.0, 154.9, 2.9, -117.1, 53.5, -123.1, 24.4,
              12.4, 5.2, 2.2),
    UhfColumn("lander", 1.5, 3.0, 43.2, 3300.0, 154.9, 3.5, -112.0, 58.6, -118.0, 29.5, 17.5,
              10.3, 7.3),
    UhfColumn("post-TD", 1.5, 3.0, 43.2, 3500.0, 155.4, 3.5, -112.5, 58.1, -118.6, 29.0, 17.0,
              9.8, 6.8),
]


def test_marco_uhf_noise_temperature_and_n0() -> None:
    assert float(to_db(UHF_TX_POWER_W)) + 30.0 == pytest.approx(UHF_TX_POWER_DBM, abs=0.05)
    # [15]: a 3.5 dB noise figure; [16]: the 1.1 dB front-end loss at 290 K (noise figure = loss)
    assert float(noise_figure_temp_k(LNA_NF_DB)) == pytest.approx(T_RECEIVER_K, abs=0.05)
    assert float(noise_figure_temp_k(UHF_CABLE_DB)) == pytest.approx(T_CIRCUIT_K, abs=0.05)
    t_sys = T_MARS_K + T_RECEIVER_K + T_CIRCUIT_K
    assert t_sys == pytest.approx(T_SYS_UHF_K, abs=0.05)
    # [17] = k T in dBm/Hz (printed to 0.01 dB)
    n0 = BOLTZMANN_DBW_PER_K_HZ + float(to_db(T_SYS_UHF_K)) + 30.0
    assert n0 == pytest.approx(N0_UHF_DBM_HZ, abs=0.005)
    carrier_db, data_db = residual_carrier_losses_db(UHF_MOD_INDEX_DEG)
    assert float(carrier_db) == pytest.approx(UHF_CARRIER_SUPPRESSION_DB, abs=TOL_FINE_DB)
    assert float(data_db) == pytest.approx(UHF_MOD_LOSS_DB, abs=TOL_FINE_DB)
    # [29] = [25] + [26] + [27] + [28], with [26] = 10 log10(8000) = 39.03
    assert float(to_db(UHF_RATE_BPS)) == pytest.approx(UHF_RATE_DBBPS, abs=0.05)
    required = float(data_db) + float(to_db(UHF_RATE_BPS)) + UHF_IMPLEMENTATION_LOSS_DB \
        + UHF_THRESHOLD_EBN0_DB
    assert required == pytest.approx(UHF_REQUIRED_PT_N0_DBHZ, abs=TOL_FINE_DB)


@pytest.mark.parametrize("c", UHF_COLUMNS, ids=lambda c: c.name)
def test_marco_uhf_link_lines(c: UhfColumn) -> None:
    # [7] = [4] + [5] + [6]
    eirp_dbm = float(eirp_dbw(UHF_TX_POWER_W, c.tx_gain_dbi, c.circuit_loss_db)) + 30.0
    assert eirp_dbm == pytest.approx(c.eirp_dbm, abs=TOL_DB)
    # [9] from [1] and [8]
    fsl = float(free_space_loss_db(c.range_km, FREQ_UHF_HZ))
    assert fsl == pytest.approx(c.fsl_db, abs=TOL_DB)
    # [13] = [7] + [9] + [10] + [11] + [12]
    received = c.eirp_dbm - c.fsl_db - UHF_POLARIZATION_DB + c.rx_gain_dbi - UHF_CABLE_DB
    assert received == pytest.approx(c.received_dbm, abs=TOL_DB)
    # [18] = [13] - [17]: EIRP - L_space - polarisation + G/T - k, the cable loss inside G/T
    g_over_t = c.rx_gain_dbi - UHF_CABLE_DB - float(to_db(T_SYS_UHF_K))
    pt_n0 = float(p_over_n0_dbhz(c.eirp_dbm - 30.0, c.fsl_db, g_over_t, UHF_POLARIZATION_DB))
    assert pt_n0 == pytest.approx(c.pt_n0_dbhz, abs=TOL_DB)
    # [20] = [13] - [19]; [22] = [20] - [17] - [21] (computed as [18] - [19] - [21]);
    # [24] = [22] - [23]
    assert c.received_dbm - UHF_CARRIER_SUPPRESSION_DB == pytest.approx(c.carrier_dbm,
                                                                        abs=TOL_DB)
    assert float(to_db(UHF_LOOP_BW_HZ)) == pytest.approx(UHF_LOOP_BW_DBHZ, abs=0.05)
    carrier_db, _ = residual_carrier_losses_db(UHF_MOD_INDEX_DEG)
    pc_n0_loop = c.pt_n0_dbhz - float(carrier_db) - float(to_db(UHF_LOOP_BW_HZ))
    assert pc_n0_loop == pytest.approx(c.pc_n0_loop_db, abs=TOL_DB)
    assert c.pc_n0_loop_db - UHF_CARRIER_THRESHOLD_DBHZ == pytest.approx(c.carrier_margin_db,
                                                                        abs=TOL_DB)
    # [30] = [18] - [29]; [32] = [30] - [31]
    assert c.pt_n0_dbhz - UHF_REQUIRED_PT_N0_DBHZ == pytest.approx(c.channel_margin_db,
                                                                   abs=TOL_DB)
    assert c.channel_margin_db - 3.0 == pytest.approx(c.margin_over_threshold_db, abs=TOL_DB)


# -------------------------------------------------------------------------------------------
# The scenario-level link model (catalogue + [links] overrides) against the same tables
# -------------------------------------------------------------------------------------------

# MarCO flew past Mars; its orbit here only makes the scenario valid: the link model is
# evaluated at the tables' ranges and angles. Stations: DSS-63 (70 m) and DSS-56 (34 m),
# Madrid, as in /work/shared/reference/facts.md (DSN 810-005 module 301).
SCENARIO_TOML = """\
[scenario]
name = "marco-dct"
start = "2018-11-26T19:00:00Z"
end = "2018-11-26T21:00:00Z"

[[orbiter]]
name = "MarCO-B"
radio = "melacom"
[orbiter.elements]
a_km = 3700.0
e = 0.0
i_deg = 90.0

[[lander]]
name = "InSight"
lat_deg = 4.502
lon_east_deg = 135.623
radio = "ce-505"

[[station]]
name = "DSS-63"
lat_deg = 40.4299
lon_east_deg = 355.7523
height_m = 865.0
dish_m = 70.0

[[station]]
name = "DSS-56"
lat_deg = 40.4278
lon_east_deg = 355.7478
height_m = 835.0
dish_m = 34.0

[links]
proximity_margin_db = 3.0
proximity_other_losses_db = {uhf_other}
earth_margin_db = 3.0
earth_other_losses_db = {x_other}

[links.radios.ce-505]
antenna_gain_dbi = {tx_gain}
circuit_loss_db = {tx_loss}
required_ebn0_db = {uhf_ebn0}

[links.radios.melacom]
antenna_gain_dbi = {rx_gain}
circuit_loss_db = {rx_loss}
noise_temp_k = {t_sys}

[links.spacecraft.MarCO-B]
model = "generic-orbiter"
tx_power_w = {x_power_w}
antenna_gain_dbi = {x_gain}
circuit_loss_db = {x_loss}
coding = "turbo-r1/6"
"""


MODEL_CASES = [
    (X_COLUMNS[0], UHF_COLUMNS[0]),
    (X_COLUMNS[1], UHF_COLUMNS[1]),
    (X_COLUMNS[2], UHF_COLUMNS[2]),
    (X_COLUMNS[3], UHF_COLUMNS[1]),
]


@pytest.mark.parametrize(
    ("x", "u"), MODEL_CASES, ids=[f"{x.name}+{u.name}" for x, u in MODEL_CASES]
)
def test_link_model_reproduces_published_margins(write_scenario, x: XColumn,
                                                 u: UhfColumn) -> None:
    """The model with the tables' inputs supports each table's rate by its printed margin.

    Defaults exercised: the ce-505 transmit power (14.8 W, Table 5-5 line 4), the residual
    carrier's data loss of a pair without suppressed carrier (line 25), the turbo r=1/6
    required Eb/N0 (0.53 dB = lines 35 + 36), the DSN 34 m / 70 m X-band gains and system
    noise temperatures (lines 17, 21). The model computes its own atmosphere at 21 deg
    (0.112 dB against the table's 0.15 dB), hence 0.05 dB more tolerance on the X-band side.
    """
    _, x_mod_loss = residual_carrier_losses_db(x.mod_index_deg)
    _, uhf_mod_loss = residual_carrier_losses_db(UHF_MOD_INDEX_DEG)
    atm_model = float(atmosphere_loss_db(21.0, 0.04))
    text = SCENARIO_TOML.format(
        # X band: the data-channel modulation loss is booked with the other losses (same
        # arithmetic). UHF: the model itself takes line 25's 1.25 dB from the residual carrier
        # of a CE-505/Melacom pair (CCSDS 211.1, 60 deg), so the requirement is lines 27 + 28.
        uhf_other=UHF_POLARIZATION_DB,
        x_other=x.polarization_db + DSN_POINTING_DB + WIND_DB + float(x_mod_loss),
        tx_gain=u.tx_gain_dbi, tx_loss=u.circuit_loss_db,
        uhf_ebn0=UHF_THRESHOLD_EBN0_DB + UHF_IMPLEMENTATION_LOSS_DB,
        rx_gain=u.rx_gain_dbi, rx_loss=UHF_CABLE_DB, t_sys=T_SYS_UHF_K,
        x_power_w=dbm_to_w(TX_POWER_X_DBM), x_gain=x.sc_gain_dbi,
        x_loss=x.circuit_loss_db + x.sc_pointing_db,
    )
    model = build_link_model(load_scenario(write_scenario(text)))
    assert model.pair_modulation_loss_db("InSight", "MarCO-B") == pytest.approx(
        float(uhf_mod_loss), abs=1e-12)
    assert model.pair_modulation_loss_db("InSight", "MarCO-B") == pytest.approx(
        UHF_MOD_LOSS_DB, abs=TOL_FINE_DB)
    station = "DSS-63" if x.name.endswith("70m") else "DSS-56"
    # The lander's antenna at zenith and MarCO's on boresight: the patterns give 0 dB there,
    # and the table's gains already are the worst case over the angles it considers.
    sup_uhf = model.proximity_supported_bps(
        "InSight", "MarCO-B", np.array([u.range_km]), np.array([90.0]), np.array([0.0]))
    assert 10 * np.log10(sup_uhf[0] / UHF_RATE_BPS) == pytest.approx(
        u.margin_over_threshold_db, abs=TOL_DB)
    sup_x = model.earth_supported_bps(
        "MarCO-B", station, np.array([x.range_au * AU_KM]), np.array([21.0]))
    assert 10 * np.log10(sup_x[0] / x.data_rate_bps) == pytest.approx(
        x.margin_over_threshold_db, abs=TOL_DB + abs(ATMOSPHERE_DB - atm_model))


def test_catalogue_uhf_hardware_is_this_table() -> None:
    """The catalogue's orbiter receive chain and lander transmit loss are Table 5-5's lines 5,
    12 and 14-16, and every orbiter receiver and lander transmitter of the catalogue uses them."""
    hw = UHF_RELAY_HARDWARE
    assert hw.orbiter_noise_temp_k == pytest.approx(T_SYS_UHF_K, abs=0.05)
    assert hw.receive_front_end_loss_db == UHF_CABLE_DB
    lander = next(c for c in UHF_COLUMNS if c.name == "lander")
    assert hw.lander_transmit_loss_db == lander.circuit_loss_db
    assert min(c.rx_gain_dbi for c in UHF_COLUMNS) <= hw.orbiter_antenna_gain_dbi \
        <= max(c.rx_gain_dbi for c in UHF_COLUMNS)
    for name in ("electra", "electra-lite", "ce-505", "melacom"):  # radios orbiters carry
        radio = PROXIMITY_RADIOS[name]
        assert radio.noise_temp_k == hw.orbiter_noise_temp_k
        assert radio.receive_circuit_loss_db == hw.receive_front_end_loss_db
    for name in ("electra-lite", "ce-505", "exomars-uhf"):  # radios landers carry
        assert PROXIMITY_RADIOS[name].circuit_loss_db == hw.lander_transmit_loss_db
