"""The ``[links]`` table of a scenario file: settings of the links stage (radios, rates, margins,
the Proximity-1 session and the adaptive rate).

Every key is optional; defaults come from :mod:`marsrelay.links.catalogue` (sources cited there)
and are resolved by :func:`marsrelay.links.model.build_link_model`. Example::

    [links]
    adr = true                       # adaptive data rate on proximity links (radios permitting)
    proximity_margin_db = 3.0        # fixed-rate passes (default: catalogue margin policy)
    earth_margin_db = 3.0            # default: 3 dB at X band, 4 dB at Ka band
    earth_band = "x"                 # "x" or "ka"
    ideal = false                    # true: no hail, framing, ARQ or ADR lag (capacity only)

    [links.adaptive_rate]            # Electra ADR
    update_interval_s = 10.0
    lag_s = 5.0
    margin_db = 0.9                  # default: where a full frame meets FER 1e-4

    [links.proximity_protocol]       # CCSDS Proximity-1 session and framing
    frame_data_octets = 2043
    arq = true                       # sequence-controlled (go-back-N) delivery
    hail_s = 10.0                    # default: from the timings below
    carrier_only_hail_s = 1.0
    carrier_only_comm_change_s = 0.0
    acquisition_idle_s = 1.0
    tail_idle_s = 0.5

    [links.radios.electra-lite]      # override catalogue values of one radio type
    tx_power_w = 8.5
    rx_circuit_loss_db = 1.1         # receive side (default: circuit_loss_db)
    rates_bps = [128000, 256000, 512000, 1024000, 2048000]

    [links.spacecraft.TGO]           # a node's downlink to Earth (by scenario node name)
    tx_power_w = 65.0
    antenna_gain_dbi = 43.3

    [links.stations.DSS-43]          # a ground station (by scenario station name)
    station_class = "dsn-70m"

Numbers are checked when the links stage starts (:func:`marsrelay.links.model.build_link_model`),
which raises :class:`marsrelay.errors.InputError` naming the key, e.g.
``links.radios.electra.tx_power_w``, and what is allowed. Unknown keys are refused when the
scenario loads, naming the nearest known key.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdaptiveRateConfig",
    "LinksConfig",
    "ProximityProtocolConfig",
    "RadioOverride",
    "SpacecraftOverride",
    "StationOverride",
]


class RadioOverride(BaseModel):
    """``[links.radios.<radio>]``: catalogue values of a UHF radio type to replace (None keeps)."""

    model_config = ConfigDict(extra="forbid")

    tx_power_w: float | None = None
    antenna_gain_dbi: float | None = None
    noise_temp_k: float | None = None
    rates_bps: list[float] | None = None
    coding: str | None = None
    required_ebn0_db: float | None = None
    adr: bool | None = None
    circuit_loss_db: float | None = Field(None, description="radio to antenna when sending, dB")
    rx_circuit_loss_db: float | None = Field(
        None, description="antenna to radio when receiving, dB (default: circuit_loss_db)"
    )
    suppressed_carrier: bool | None = None


class SpacecraftOverride(BaseModel):
    """``[links.spacecraft.<node>]``: a node's downlink to Earth (None keeps the catalogue)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="catalogue entry to start from, e.g. 'mro'")
    band: str | None = Field(None, description="'x' or 'ka' (default: links.earth_band)")
    tx_power_w: float | None = None
    antenna_gain_dbi: float | None = None
    max_rate_bps: float | None = None
    min_rate_bps: float | None = None
    coding: str | None = None
    required_ebn0_db: float | None = None
    circuit_loss_db: float | None = None


class StationOverride(BaseModel):
    """``[links.stations.<station>]``: a ground antenna's receive parameters."""

    model_config = ConfigDict(extra="forbid")

    station_class: str | None = Field(None, description="dsn-70m, dsn-34m, estrack-35m, ru-64m")
    gain_dbi: float | None = None
    zenith_noise_temp_k: float | None = None


class AdaptiveRateConfig(BaseModel):
    """``[links.adaptive_rate]``: the adaptive data rate's decisions (None: catalogue value)."""

    model_config = ConfigDict(extra="forbid")

    update_interval_s: float | None = Field(None, description="seconds between rate decisions")
    lag_s: float | None = Field(
        None, description="age of the link measurement a decision uses, s"
    )
    margin_db: float | None = Field(None, description="margin kept at each rate decision, dB")


class ProximityProtocolConfig(BaseModel):
    """``[links.proximity_protocol]``: Proximity-1 framing, ARQ and session timings (None:
    catalogue value)."""

    model_config = ConfigDict(extra="forbid")

    frame_data_octets: int | None = Field(None, description="data field per frame, 1..2043")
    arq: bool = Field(True, description="sequence-controlled (go-back-N) delivery")
    hail_s: float | None = Field(
        None, description="pass start to first data frame, s (default: from the timings)"
    )
    carrier_only_hail_s: float | None = None
    carrier_only_comm_change_s: float | None = None
    acquisition_idle_s: float | None = None
    tail_idle_s: float | None = None


class LinksConfig(BaseModel):
    """Settings read from the scenario's ``[links]`` table (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")

    adr: bool = Field(True, description="adaptive data rate where both radios support it")
    fixed_rate_bps: float | None = Field(
        None, description="fixed proximity rate, bps (default: best single rate of each pass)"
    )
    ideal: bool = Field(
        False, description="capacity only: no hail, framing, ARQ or adaptive-rate lag"
    )
    proximity_margin_db: float | None = Field(
        None, description="margin of fixed-rate UHF passes, dB (default: margin policy)"
    )
    proximity_other_losses_db: float = Field(
        2.0, description="polarisation, multipath and pointing losses on UHF links, dB"
    )
    earth_margin_db: float | None = Field(
        None, description="required margin on Earth links, dB (default: by band)"
    )
    earth_other_losses_db: float = Field(
        0.5, description="pointing and polarisation losses on Earth links, dB"
    )
    earth_band: str = Field("x", description="downlink band to Earth: 'x' or 'ka'")
    sample_step_s: float = Field(20.0, description="geometry sampling step in proximity passes, s")
    earth_sample_step_s: float = Field(60.0, description="sampling step in Earth passes, s")
    default_lander_radio: str = Field("electra-lite", description="radio of landers naming none")
    default_orbiter_radio: str = Field("electra", description="radio of orbiters naming none")
    adaptive_rate: AdaptiveRateConfig = Field(default_factory=AdaptiveRateConfig)
    proximity_protocol: ProximityProtocolConfig = Field(default_factory=ProximityProtocolConfig)
    radios: dict[str, RadioOverride] = Field(default_factory=dict)
    spacecraft: dict[str, SpacecraftOverride] = Field(default_factory=dict)
    stations: dict[str, StationOverride] = Field(default_factory=dict)
