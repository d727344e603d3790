"""The link model of one scenario: catalogue defaults + ``[links]`` overrides, checked.

:func:`build_link_model` resolves every node's UHF radio, every spacecraft's downlink to Earth
and every station's receiver, raising :class:`~marsrelay.errors.InputError` (file, key,
allowed values) for bad input. The resulting :class:`LinkModel` turns geometry into rates:

- :meth:`LinkModel.proximity_supported_bps` - the lander -> orbiter return link (the data
  return direction), from range, lander elevation and orbiter off-nadir angle;
- :meth:`LinkModel.earth_supported_bps` - a spacecraft's downlink to a station, from range and
  station elevation (atmospheric loss and sky noise grow at low elevation).

Each answers the continuous capacity (bps) the budget supports; :meth:`LinkModel.ladder` gives
the discrete rates a pair can run at.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from marsrelay.config.links import LinksConfig
from marsrelay.errors import InputError
from marsrelay.links.budget import (
    atmosphere_loss_db,
    atmosphere_noise_k,
    eirp_dbw,
    free_space_loss_db,
    max_data_rate_bps,
    p_over_n0_dbhz,
    to_db,
)
from marsrelay.links.catalogue import (
    BANDS,
    CODINGS,
    EARTH_TRANSMITTERS,
    LANDER_UHF_PATTERN,
    ORBITER_UHF_PATTERN,
    PROXIMITY1_RATES_BPS,
    PROXIMITY_RADIOS,
    STATION_CLASSES,
    Band,
    ProximityRadio,
    canonical_spacecraft,
)
from marsrelay.scenario import Scenario

__all__ = [
    "RETURN_FREQUENCY_HZ",
    "Downlink",
    "LinkModel",
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
    notes: list[str] = field(default_factory=list)

    # -- proximity ------------------------------------------------------------------------
    def pair_rates_bps(self, lander: str, orbiter: str) -> np.ndarray:
        """Rates (bps, ascending) both radios of a lander-orbiter pair support."""
        a, b = self.radios[lander].rates_bps, self.radios[orbiter].rates_bps
        return np.array(sorted(set(a) & set(b)), dtype=float)

    def pair_adr(self, lander: str, orbiter: str) -> bool:
        """Whether the pair runs adaptive data rate (config and both radios allow it)."""
        return bool(self.config.adr and self.radios[lander].adr and self.radios[orbiter].adr)

    def proximity_supported_bps(
        self,
        lander: str,
        orbiter: str,
        range_km: np.ndarray,
        elevation_deg: np.ndarray,
        off_nadir_deg: np.ndarray,
    ) -> np.ndarray:
        """Continuous return-link capacity (bps) at the given geometry samples."""
        tx, rx = self.radios[lander], self.radios[orbiter]
        cfg = self.config
        eirp = eirp_dbw(
            tx.tx_power_w,
            LANDER_UHF_PATTERN.gain_db(elevation_deg, tx.antenna_gain_dbi),
            tx.circuit_loss_db,
        )
        g_over_t = (
            ORBITER_UHF_PATTERN.gain_db(off_nadir_deg, rx.antenna_gain_dbi)
            - rx.circuit_loss_db
            - to_db(rx.noise_temp_k)
        )
        pn0 = p_over_n0_dbhz(
            eirp, free_space_loss_db(range_km, RETURN_FREQUENCY_HZ), g_over_t,
            cfg.proximity_other_losses_db,
        )
        return max_data_rate_bps(pn0, tx.required_ebn0, cfg.proximity_margin_db)

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
        return max_data_rate_bps(pn0, dl.required_ebn0_db, self.config.earth_margin_db)

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


class _Checker:
    def __init__(self, file: str | None) -> None:
        self.file = file

    def fail(self, field_path: str, problem: str, allowed: str | None = None) -> None:
        raise InputError(problem, file=self.file, field=field_path, allowed=allowed)

    def positive(self, field_path: str, value: float, unit: str) -> None:
        if not (math.isfinite(value) and value > 0.0):
            self.fail(field_path, f"{value!r} must be a positive number of {unit}", f"> 0 {unit}")

    def finite(self, field_path: str, value: float, lo: float = -math.inf,
               hi: float = math.inf, unit: str = "") -> None:
        if not (math.isfinite(value) and lo <= value <= hi):
            self.fail(field_path, f"{value!r} is out of range", f"{lo} .. {hi} {unit}".strip())

    def name(self, field_path: str, value: str, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        if value not in allowed:
            self.fail(field_path, f"unknown {what} {value!r}", ", ".join(allowed))


def _scenario_file(scenario: Scenario) -> str | None:
    path = scenario.path
    return str(path) if path is not None else None


def _resolve_radio(chk: _Checker, name: str, cfg: LinksConfig) -> ProximityRadio:
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
    chk.name(f"{where}.coding", radio.coding, CODINGS, "coding")
    chk.finite(f"{where}.required_ebn0_db", radio.required_ebn0, -2.0, 20.0, "dB")
    return radio


def _check_radio_rates(chk: _Checker, radio: ProximityRadio) -> None:
    where = f"links.radios.{radio.name}.rates_bps"
    prox = ", ".join(f"{r:.0f}" for r in PROXIMITY1_RATES_BPS)
    if not radio.rates_bps:
        chk.fail(where, "empty rate list", f"Proximity-1 rates {prox} bps")
    code = CODINGS[radio.coding]
    for r in radio.rates_bps:
        if not any(abs(r - p) < 1e-6 for p in PROXIMITY1_RATES_BPS):
            chk.fail(where, f"{r:g} bps is not a Proximity-1 data rate", f"{prox} bps")
        if r / code.code_rate > radio.max_symbol_rate_sps * (1 + 1e-9):
            top = radio.max_symbol_rate_sps * code.code_rate
            chk.fail(
                where,
                f"{r:g} bps with coding {code.name} needs {r / code.code_rate:g} symbols/s, above "
                f"the {radio.name} radio's {radio.max_symbol_rate_sps:g} symbols/s",
                f"rates <= {top:g} bps with {code.name}",
            )


def _node_radio(chk: _Checker, node: Any, kind: str, cfg: LinksConfig, notes: list[str]) -> str:
    radio = getattr(node, "radio", None)
    if radio is None:
        radio = cfg.default_lander_radio if kind == "lander" else cfg.default_orbiter_radio
        notes.append(f"{kind} {node.name!r} names no radio: assuming {radio!r}")
        chk.name(f"links.default_{kind}_radio", radio, PROXIMITY_RADIOS, "radio")
    else:
        chk.name(f"{kind}[{node.name}].radio", radio, PROXIMITY_RADIOS, "radio")
    return radio


def _resolve_downlink(
    chk: _Checker, node: str, is_lander: bool, cfg: LinksConfig, notes: list[str]
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
    return Downlink(
        node, model, BANDS[band_name], eirp,
        earth_rate_ladder(vals["max_rate_bps"], vals["min_rate_bps"]), float(required),
    )


def _station_class(dish_m: float | None, agency: str) -> str:
    if dish_m is not None and dish_m >= 60.0:
        return "dsn-70m" if dish_m >= 68.0 else "ru-64m"
    if (dish_m is not None and abs(dish_m - 35.0) < 0.5) or agency.upper() == "ESA":
        return "estrack-35m"
    return "dsn-34m"


def _resolve_receiver(chk: _Checker, station: Any, band: str, cfg: LinksConfig,
                      notes: list[str]) -> Receiver:
    ov = cfg.stations.get(station.name)
    where = f"links.stations.{station.name}"
    dish = getattr(station, "dish_m", None)
    cls = _station_class(dish, getattr(station, "agency", "") or "")
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


def build_link_model(scenario: Scenario) -> LinkModel:
    """Resolve and check the link parameters of a :class:`marsrelay.scenario.Scenario`.

    Raises :class:`~marsrelay.errors.InputError` naming the scenario file, the key (e.g.
    ``links.radios.electra.tx_power_w``) and the allowed values.
    """
    cfg: LinksConfig = scenario.links
    chk = _Checker(_scenario_file(scenario))
    notes: list[str] = []
    chk.name("links.earth_band", cfg.earth_band, BANDS, "band")
    for key in ("proximity_margin_db", "earth_margin_db"):
        chk.finite(f"links.{key}", getattr(cfg, key), -10.0, 40.0, "dB")
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
        _check_radio_rates(chk, resolved[name])
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
    return LinkModel(cfg, radios, landers, downlinks, receivers, notes)
