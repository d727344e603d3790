"""The link model of one scenario: catalogue defaults + ``[links]`` overrides, checked.

:func:`build_link_model` resolves every node's UHF radio, every spacecraft's downlink to Earth
and every station's receiver, raising :class:`~marsrelay.errors.InputError` (file, key,
allowed values) for bad input. The resulting :class:`LinkModel` turns geometry into rates:

- :meth:`LinkModel.proximity_data_pn0_dbhz` - the lander -> orbiter return link (the data
  return direction): data-channel power to noise density from range, lander elevation and
  orbiter off-nadir angle (residual-carrier pairs lose 1.25 dB to the carrier);
- :meth:`LinkModel.proximity_supported_bps` - the rate that link carries at the fixed-rate
  margin; :meth:`LinkModel.proximity_throughput_bps` - the user data a pass running a given
  rate delivers (Proximity-1 framing, go-back-N at the frame error rate of the actual link);
- :meth:`LinkModel.earth_supported_bps` - a spacecraft's downlink to a station, from range and
  station elevation (atmospheric loss and sky noise grow at low elevation).

Each answers the continuous capacity (bps) the budget supports; :meth:`LinkModel.ladder` gives
the discrete rates a pair can run at. :class:`ProximityOps` holds the resolved session, adaptive
rate and margin settings the pass model (:mod:`marsrelay.links.proximity`) uses.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from marsrelay.config.links import LinksConfig
from marsrelay.constants import C_KM_S
from marsrelay.links.budget import (
    atmosphere_loss_db,
    atmosphere_noise_k,
    eirp_dbw,
    frame_error_rate,
    free_space_loss_db,
    go_back_n_efficiency,
    max_data_rate_bps,
    p_over_n0_dbhz,
    residual_carrier_losses_db,
    to_db,
)
from marsrelay.links.catalogue import (
    ADR_LAG_S,
    ADR_UPDATE_INTERVAL_S,
    BANDS,
    CODINGS,
    EARTH_TRANSMITTERS,
    LANDER_UHF_PATTERN,
    MARGIN_POLICY,
    ORBITER_UHF_PATTERN,
    PROXIMITY1_FRAMING,
    PROXIMITY1_RATES_BPS,
    PROXIMITY1_SESSION,
    PROXIMITY_RADIOS,
    RESIDUAL_CARRIER_MOD_INDEX_DEG,
    STATION_CLASSES,
    Band,
    Proximity1Session,
    ProximityRadio,
    adr_margin_db,
    canonical_spacecraft,
    expected_radio,
)
from marsrelay.links.checks import Checker, check_radio_rates, scenario_file, station_class
from marsrelay.scenario import Scenario

__all__ = [
    "RETURN_FREQUENCY_HZ",
    "Downlink",
    "LinkModel",
    "ProximityOps",
    "Receiver",
    "build_link_model",
    "earth_rate_ladder",
]

#: Proximity-1 return-link (lander -> orbiter) frequency, Hz (CCSDS 211.1-B channel 0 return).
RETURN_FREQUENCY_HZ: float = 401.585625e6


@dataclass(frozen=True)
class Downlink:
    """A resolved spacecraft -> Earth transmitter in one band."""

    node: str
    model: str
    band: Band
    eirp_dbw: float
    rates_bps: np.ndarray
    required_ebn0_db: float
    margin_db: float


@dataclass(frozen=True)
class ProximityOps:
    """Resolved settings of proximity passes as flown (see :mod:`marsrelay.links.proximity`).

    ``hail_s``: pass start to first data frame; ``comm_change_s``: down time of each rate
    change; ``update_interval_s``/``lag_s``/``adr_margin_db``: the adaptive rate's decisions
    (``adr_margin_db`` None: the margin at which a full frame meets ``adr_fer_target``);
    ``fixed_margin_db``: margin of fixed-rate passes; ``frame_data_octets`` and
    ``frame_overhead_octets``: one PLTU; ``arq``: go-back-N delivery; ``ideal``: none of it
    (capacity at the margin, tracked continuously).
    """

    hail_s: float
    comm_change_s: float
    update_interval_s: float
    lag_s: float
    adr_margin_db: float | None
    fixed_margin_db: float
    frame_data_octets: int
    frame_overhead_octets: int
    arq: bool
    ideal: bool
    adr_fer_target: float = MARGIN_POLICY.adr_fer_target

    @property
    def frame_bits(self) -> int:
        """Bits of one PLTU on the link."""
        return 8 * (self.frame_data_octets + self.frame_overhead_octets)

    @property
    def framing_efficiency(self) -> float:
        """User data share of the link's bits (0.994 with full 2043-octet data fields)."""
        if self.ideal:
            return 1.0
        return self.frame_data_octets / (self.frame_data_octets + self.frame_overhead_octets)


@dataclass(frozen=True)
class Receiver:
    """A resolved ground station receiver in one band: gain (dBi), zenith noise temperature (K)."""

    station: str
    band: str
    station_class: str
    gain_dbi: float
    zenith_noise_temp_k: float


@dataclass
class LinkModel:
    """Resolved radios, downlinks and receivers of one scenario (see module docstring)."""

    config: LinksConfig
    radios: dict[str, ProximityRadio]
    landers: frozenset[str]
    downlinks: dict[str, Downlink]
    receivers: dict[tuple[str, str], Receiver]
    ops: ProximityOps
    notes: list[str] = field(default_factory=list)

    # -- proximity ------------------------------------------------------------------------
    def pair_rates_bps(self, lander: str, orbiter: str) -> np.ndarray:
        """Rates (bps, ascending) both radios of a lander-orbiter pair support."""
        a, b = self.radios[lander].rates_bps, self.radios[orbiter].rates_bps
        return np.array(sorted(set(a) & set(b)), dtype=float)

    def pair_adr(self, lander: str, orbiter: str) -> bool:
        """Whether the pair runs adaptive data rate (config and both radios allow it)."""
        return bool(self.config.adr and self.radios[lander].adr and self.radios[orbiter].adr)

    def pair_modulation_loss_db(self, lander: str, orbiter: str) -> float:
        """Power lost to the carrier (dB): 0 when both radios run suppressed carrier, else the
        Proximity-1 residual carrier at 60 deg (1.25 dB, CCSDS 211.1 §3.3.5)."""
        if self.radios[lander].suppressed_carrier and self.radios[orbiter].suppressed_carrier:
            return 0.0
        return float(residual_carrier_losses_db(RESIDUAL_CARRIER_MOD_INDEX_DEG)[1])

    def proximity_data_pn0_dbhz(
        self,
        lander: str,
        orbiter: str,
        range_km: np.ndarray,
        elevation_deg: np.ndarray,
        off_nadir_deg: np.ndarray,
    ) -> np.ndarray:
        """Return-link data power to noise density (dB-Hz) at the given geometry samples."""
        tx, rx = self.radios[lander], self.radios[orbiter]
        eirp = eirp_dbw(
            tx.tx_power_w,
            LANDER_UHF_PATTERN.gain_db(elevation_deg, tx.antenna_gain_dbi),
            tx.circuit_loss_db,
        )
        g_over_t = (
            ORBITER_UHF_PATTERN.gain_db(off_nadir_deg, rx.antenna_gain_dbi)
            - rx.receive_circuit_loss_db
            - to_db(rx.noise_temp_k)
        )
        pn0 = p_over_n0_dbhz(
            eirp, free_space_loss_db(range_km, RETURN_FREQUENCY_HZ), g_over_t,
            self.config.proximity_other_losses_db,
        )
        return pn0 - self.pair_modulation_loss_db(lander, orbiter)

    def adr_margin_db(self, lander: str) -> float:
        """Margin (dB) of the adaptive rate's decisions on ``lander``'s return link: the
        ``[links.adaptive_rate] margin_db`` or, by default, the Eb/N0 over the coding's
        requirement at which a full frame meets the policy's frame error rate."""
        if self.ops.adr_margin_db is not None:
            return self.ops.adr_margin_db
        return adr_margin_db(CODINGS[self.radios[lander].coding], self.ops.frame_bits,
                             self.ops.adr_fer_target)

    def proximity_required_ebn0_db(self, lander: str) -> float:
        """Eb/N0 (dB) the return link's decoder needs (the lander's radio's coding)."""
        return self.radios[lander].required_ebn0

    def proximity_supported_bps(
        self,
        lander: str,
        orbiter: str,
        range_km: np.ndarray,
        elevation_deg: np.ndarray,
        off_nadir_deg: np.ndarray,
    ) -> np.ndarray:
        """Continuous return-link capacity (bps) at the fixed-rate margin at the samples."""
        pdn0 = self.proximity_data_pn0_dbhz(lander, orbiter, range_km, elevation_deg,
                                            off_nadir_deg)
        return max_data_rate_bps(pdn0, self.proximity_required_ebn0_db(lander),
                                 self.ops.fixed_margin_db)

    def proximity_throughput_bps(
        self, lander: str, rate_bps: np.ndarray, pdn0_dbhz: np.ndarray, range_km: np.ndarray
    ) -> np.ndarray:
        """User data (bps) delivered by a return link running ``rate_bps`` when the actual
        link has ``pdn0_dbhz``: framing efficiency times go-back-N efficiency at the frame error
        rate of the link's Eb/N0 (frames in flight: one, plus those sent during the light-time
        round trip, plus one for the PLCW that reports the loss). Ideal: the rate itself
        wherever it is not above the link's capacity at the adaptive-rate margin."""
        rate = np.asarray(rate_bps, dtype=float)
        ops = self.ops
        code = CODINGS[self.radios[lander].coding]
        required = self.proximity_required_ebn0_db(lander)
        on = rate > 0.0
        safe = np.where(on, rate, 1.0)
        excess = np.asarray(pdn0_dbhz, dtype=float) - to_db(safe) - required
        if ops.ideal:
            return np.where(on & (excess >= self.adr_margin_db(lander) - 1e-9), rate, 0.0)
        fer = frame_error_rate(excess, ops.frame_bits, code.event_rate_at_required,
                               code.db_per_decade)
        if ops.arq:
            frame_s = ops.frame_bits / safe
            in_flight = 2.0 + np.ceil(2.0 * np.asarray(range_km, dtype=float) / C_KM_S / frame_s)
            eff = go_back_n_efficiency(fer, in_flight)
        else:
            eff = 1.0 - fer
        return np.where(on, rate * ops.framing_efficiency * eff, 0.0)

    # -- Earth ----------------------------------------------------------------------------
    def earth_supported_bps(
        self, node: str, station: str, range_km: np.ndarray, elevation_deg: np.ndarray
    ) -> np.ndarray:
        """Continuous downlink capacity (bps) from ``node`` to ``station`` at the samples."""
        dl = self.downlinks[node]
        rx = self.receivers[(station, dl.band.name)]
        loss_atm = atmosphere_loss_db(elevation_deg, dl.band.zenith_atmosphere_db)
        # The zenith noise temperature already holds the zenith sky; add the excess.
        t_sys = rx.zenith_noise_temp_k + atmosphere_noise_k(loss_atm) - atmosphere_noise_k(
            dl.band.zenith_atmosphere_db
        )
        pn0 = p_over_n0_dbhz(
            dl.eirp_dbw,
            free_space_loss_db(range_km, dl.band.frequency_hz),
            rx.gain_dbi - to_db(t_sys),
            self.config.earth_other_losses_db + loss_atm,
        )
        return max_data_rate_bps(pn0, dl.required_ebn0_db, dl.margin_db)

    def ladder(self, kind: str, sender: str, receiver: str) -> np.ndarray:
        """Discrete rates (bps, ascending) of a link of ``kind`` between two nodes."""
        if kind == "proximity":
            lander, orbiter = (sender, receiver) if sender in self.landers else (receiver, sender)
            return self.pair_rates_bps(lander, orbiter)
        return self.downlinks[sender].rates_bps


def earth_rate_ladder(max_rate_bps: float, min_rate_bps: float) -> np.ndarray:
    """Downlink rate ladder: 1 dB steps (10 per decade) down from the spacecraft's maximum.

    Deep-space transponders (e.g. the SDST) program telemetry rates in fine steps; a 1 dB
    ladder loses at most 21% of capacity against a continuously variable rate.
    """
    n = math.floor(10.0 * math.log10(max_rate_bps / min_rate_bps) + 1e-9) + 1
    return np.sort(max_rate_bps * 10.0 ** (-np.arange(n) / 10.0))


# -------------------------------------------------------------------------------------------
# Resolution and checks
# -------------------------------------------------------------------------------------------


def _resolve_radio(chk: Checker, name: str, cfg: LinksConfig) -> ProximityRadio:
    base = PROXIMITY_RADIOS[name]
    ov = cfg.radios.get(name)
    if ov is None:
        return base
    where = f"links.radios.{name}"
    changes = {k: v for k, v in ov.model_dump().items() if v is not None}
    if "rates_bps" in changes:
        changes["rates_bps"] = tuple(float(r) for r in changes["rates_bps"])
    radio = dataclasses.replace(base, **changes)
    chk.positive(f"{where}.tx_power_w", radio.tx_power_w, "W")
    chk.positive(f"{where}.noise_temp_k", radio.noise_temp_k, "K")
    chk.finite(f"{where}.antenna_gain_dbi", radio.antenna_gain_dbi, -30.0, 30.0, "dBi")
    chk.finite(f"{where}.circuit_loss_db", radio.circuit_loss_db, 0.0, 30.0, "dB")
    chk.finite(f"{where}.rx_circuit_loss_db", radio.receive_circuit_loss_db, 0.0, 30.0, "dB")
    chk.name(f"{where}.coding", radio.coding, CODINGS, "coding")
    chk.finite(f"{where}.required_ebn0_db", radio.required_ebn0, -2.0, 20.0, "dB")
    return radio


def _node_radio(chk: Checker, node: Any, kind: str, cfg: LinksConfig, notes: list[str]) -> str:
    radio = getattr(node, "radio", None)
    if radio is None:
        radio = cfg.default_lander_radio if kind == "lander" else cfg.default_orbiter_radio
        notes.append(f"{kind} {node.name!r} names no radio: assuming {radio!r}")
        chk.name(f"links.default_{kind}_radio", radio, PROXIMITY_RADIOS, "radio")
    else:
        chk.name(f"{kind}[{node.name}].radio", radio, PROXIMITY_RADIOS, "radio")
    carried = expected_radio(node.name)
    if carried is not None and carried != radio:
        notes.append(f"{kind} {node.name!r} carries {carried!r} (links catalogue); using the "
                     f"scenario's {radio!r}")
    return radio


def _resolve_downlink(
    chk: Checker, node: str, is_lander: bool, cfg: LinksConfig, notes: list[str]
) -> Downlink:
    ov = cfg.spacecraft.get(node)
    where = f"links.spacecraft.{node}"
    model = ov.model if ov is not None and ov.model is not None else canonical_spacecraft(node)
    if ov is not None and ov.model is not None:
        chk.name(f"{where}.model", model, EARTH_TRANSMITTERS, "spacecraft model")
    if model is None or (is_lander and model not in ("msl", "insight", "generic-lander")):
        model = "generic-lander" if is_lander else "generic-orbiter"
        notes.append(
            f"no downlink parameters known for {node!r}: using {model!r} "
            f"(set [links.spacecraft.{node}] to override)"
        )
    base = EARTH_TRANSMITTERS[model]
    band_name = ov.band if ov is not None and ov.band is not None else cfg.earth_band
    chk.name(f"{where}.band" if ov is not None and ov.band else "links.earth_band",
             band_name, BANDS, "band")
    if band_name not in base.tx_power_w:
        chk.fail(f"{where}.band" if ov is not None and ov.band else "links.earth_band",
                 f"{node!r} ({model}) has no {band_name}-band downlink",
                 ", ".join(base.tx_power_w))
    vals = {
        "tx_power_w": base.tx_power_w[band_name],
        "antenna_gain_dbi": base.antenna_gain_dbi[band_name],
        "max_rate_bps": base.max_rate_bps[band_name],
        "min_rate_bps": base.min_rate_bps,
        "coding": base.coding,
        "required_ebn0_db": None,
        "circuit_loss_db": base.circuit_loss_db,
    }
    if ov is not None:
        vals.update({k: v for k, v in ov.model_dump().items()
                     if v is not None and k in vals})
    chk.positive(f"{where}.tx_power_w", vals["tx_power_w"], "W")
    chk.finite(f"{where}.antenna_gain_dbi", vals["antenna_gain_dbi"], -10.0, 80.0, "dBi")
    chk.positive(f"{where}.max_rate_bps", vals["max_rate_bps"], "bps")
    chk.positive(f"{where}.min_rate_bps", vals["min_rate_bps"], "bps")
    chk.finite(f"{where}.circuit_loss_db", vals["circuit_loss_db"], 0.0, 30.0, "dB")
    chk.name(f"{where}.coding", vals["coding"], CODINGS, "coding")
    if vals["min_rate_bps"] > vals["max_rate_bps"]:
        chk.fail(f"{where}.min_rate_bps", "min_rate_bps is above max_rate_bps",
                 f"<= {vals['max_rate_bps']:g} bps")
    code = CODINGS[vals["coding"]]
    if vals["max_rate_bps"] / code.code_rate > base.max_symbol_rate_sps * (1 + 1e-9):
        chk.fail(
            f"{where}.max_rate_bps",
            f"{vals['max_rate_bps']:g} bps with coding {code.name} needs "
            f"{vals['max_rate_bps'] / code.code_rate:g} symbols/s, above "
            f"{base.max_symbol_rate_sps:g}",
            f"<= {base.max_symbol_rate_sps * code.code_rate:g} bps with {code.name}",
        )
    required = vals["required_ebn0_db"]
    if required is None:
        required = code.required_ebn0_db
    chk.finite(f"{where}.required_ebn0_db", required, -2.0, 20.0, "dB")
    eirp = float(eirp_dbw(vals["tx_power_w"], vals["antenna_gain_dbi"], vals["circuit_loss_db"]))
    margin = cfg.earth_margin_db
    if margin is None:
        margin = MARGIN_POLICY.earth_db[band_name]
    return Downlink(
        node, model, BANDS[band_name], eirp,
        earth_rate_ladder(vals["max_rate_bps"], vals["min_rate_bps"]), float(required),
        float(margin),
    )


def _resolve_receiver(chk: Checker, station: Any, band: str, cfg: LinksConfig,
                      notes: list[str]) -> Receiver:
    ov = cfg.stations.get(station.name)
    where = f"links.stations.{station.name}"
    dish = getattr(station, "dish_m", None)
    cls = station_class(dish, getattr(station, "agency", "") or "")
    if ov is not None and ov.station_class is not None:
        chk.name(f"{where}.station_class", ov.station_class, STATION_CLASSES, "station class")
        cls = ov.station_class
    elif dish is None:
        note = f"station {station.name!r} gives no dish_m: assuming {cls!r}"
        if note not in notes:
            notes.append(note)
    sc = STATION_CLASSES[cls]
    gain = sc.gain_dbi[band]
    t_zen = sc.zenith_noise_temp_k[band]
    if ov is not None and ov.gain_dbi is not None:
        gain = ov.gain_dbi
    if ov is not None and ov.zenith_noise_temp_k is not None:
        t_zen = ov.zenith_noise_temp_k
    chk.finite(f"{where}.gain_dbi", gain, 0.0, 100.0, "dBi")
    chk.positive(f"{where}.zenith_noise_temp_k", t_zen, "K")
    return Receiver(station.name, band, cls, float(gain), float(t_zen))


def _resolve_ops(chk: Checker, cfg: LinksConfig) -> ProximityOps:
    """Session, framing, adaptive-rate and margin settings: ``[links]`` over the catalogue."""
    ar, pp = cfg.adaptive_rate, cfg.proximity_protocol

    def pick(value: float | None, default: float) -> float:
        return float(default if value is None else value)

    session = Proximity1Session(
        pick(pp.carrier_only_hail_s, PROXIMITY1_SESSION.carrier_only_hail_s),
        pick(pp.carrier_only_comm_change_s, PROXIMITY1_SESSION.carrier_only_comm_change_s),
        pick(pp.acquisition_idle_s, PROXIMITY1_SESSION.acquisition_idle_s),
        pick(pp.tail_idle_s, PROXIMITY1_SESSION.tail_idle_s),
        "scenario",
    )
    where = "links.proximity_protocol"
    for key in ("carrier_only_hail_s", "carrier_only_comm_change_s", "acquisition_idle_s",
                "tail_idle_s"):
        chk.finite(f"{where}.{key}", getattr(session, key), 0.0, 60.0, "s")
    hail = pick(pp.hail_s, session.hail_s())
    chk.finite(f"{where}.hail_s", hail, 0.0, 3600.0, "s")
    octets = PROXIMITY1_FRAMING.max_data_field_octets if pp.frame_data_octets is None \
        else pp.frame_data_octets
    chk.finite(f"{where}.frame_data_octets", octets, 1, PROXIMITY1_FRAMING.max_data_field_octets,
               "octets (CCSDS 211.0 §3.2.3)")
    update = pick(ar.update_interval_s, ADR_UPDATE_INTERVAL_S)
    lag = pick(ar.lag_s, ADR_LAG_S)
    chk.finite("links.adaptive_rate.update_interval_s", update, 0.5, 600.0, "s")
    chk.finite("links.adaptive_rate.lag_s", lag, 0.0, 600.0, "s")
    adr_margin = ar.margin_db  # None: from each lander's coding (LinkModel.adr_margin_db)
    if adr_margin is not None:
        chk.finite("links.adaptive_rate.margin_db", adr_margin, -10.0, 40.0, "dB")
    fixed_margin = pick(cfg.proximity_margin_db, MARGIN_POLICY.proximity_fixed_db)
    if cfg.ideal:
        # the capacity model: the adaptive rate follows the link at the fixed-rate margin
        return ProximityOps(0.0, 0.0, update, 0.0, fixed_margin, fixed_margin, int(octets),
                            PROXIMITY1_FRAMING.overhead_octets, False, True)
    return ProximityOps(hail, session.comm_change_s(), update, lag, adr_margin, fixed_margin,
                        int(octets), PROXIMITY1_FRAMING.overhead_octets, pp.arq, False)


def build_link_model(scenario: Scenario) -> LinkModel:
    """Resolve and check the link parameters of a :class:`marsrelay.scenario.Scenario`.

    Raises :class:`~marsrelay.errors.InputError` naming the scenario file, the key (e.g.
    ``links.radios.electra.tx_power_w``) and the allowed values.
    """
    cfg: LinksConfig = scenario.links
    chk = Checker(scenario_file(scenario))
    notes: list[str] = []
    chk.name("links.earth_band", cfg.earth_band, BANDS, "band")
    for key in ("proximity_margin_db", "earth_margin_db"):
        if getattr(cfg, key) is not None:
            chk.finite(f"links.{key}", getattr(cfg, key), -10.0, 40.0, "dB")
    ops = _resolve_ops(chk, cfg)
    for key in ("proximity_other_losses_db", "earth_other_losses_db"):
        chk.finite(f"links.{key}", getattr(cfg, key), 0.0, 40.0, "dB")
    for key in ("sample_step_s", "earth_sample_step_s"):
        chk.finite(f"links.{key}", getattr(cfg, key), 0.5, 600.0, "s")
    for name in cfg.radios:
        chk.name(f"links.radios.{name}", name, PROXIMITY_RADIOS, "radio")
    resolved = {name: _resolve_radio(chk, name, cfg) for name in PROXIMITY_RADIOS}
    if cfg.fixed_rate_bps is not None:
        chk.positive("links.fixed_rate_bps", cfg.fixed_rate_bps, "bps")
        if not any(abs(cfg.fixed_rate_bps - p) < 1e-6 for p in PROXIMITY1_RATES_BPS):
            chk.fail("links.fixed_rate_bps",
                     f"{cfg.fixed_rate_bps:g} bps is not a Proximity-1 data rate",
                     ", ".join(f"{r:.0f}" for r in PROXIMITY1_RATES_BPS) + " bps")

    radios: dict[str, ProximityRadio] = {}
    for kind, nodes in (("lander", scenario.landers), ("orbiter", scenario.orbiters)):
        for node in nodes:
            radios[node.name] = resolved[_node_radio(chk, node, kind, cfg, notes)]
    for name in sorted({r.name for r in radios.values()} | set(cfg.radios)):
        check_radio_rates(chk, resolved[name])
    landers = frozenset(n.name for n in scenario.landers)

    node_names = [n.name for n in (*scenario.orbiters, *scenario.landers)]
    for name in cfg.spacecraft:
        chk.name(f"links.spacecraft.{name}", name, node_names, "node")
    station_names = [s.name for s in scenario.stations]
    for name in cfg.stations:
        chk.name(f"links.stations.{name}", name, station_names, "station")

    downlinks: dict[str, Downlink] = {}
    for node in scenario.orbiters:
        downlinks[node.name] = _resolve_downlink(chk, node.name, False, cfg, notes)
    for node in scenario.landers:
        if getattr(node, "direct_to_earth", True):
            downlinks[node.name] = _resolve_downlink(chk, node.name, True, cfg, notes)
    bands = sorted({d.band.name for d in downlinks.values()})
    receivers = {
        (s.name, band): _resolve_receiver(chk, s, band, cfg, notes)
        for s in scenario.stations
        for band in bands
    }
    return LinkModel(cfg, radios, landers, downlinks, receivers, ops, notes)
