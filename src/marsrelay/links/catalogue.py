"""Default parameters of radios, spacecraft transmitters and ground stations, with sources.

Figures marked "approx." are engineering estimates consistent with the cited descriptions (the
exact flight values vary with the unit, the antenna placement and the mission phase); every one
can be overridden per scenario in the ``[links]`` table
(:class:`marsrelay.config.links.LinksConfig`).

Proximity links (UHF, CCSDS Proximity-1):

- Data rates: Proximity-1 rates 1, 2, 4, ..., 2048 kbps (CCSDS 211.1-B, Proximity-1 Physical
  Layer; Electra "1 to 2048 kbps", Edwards et al., "The Electra Proximity Link Payload for Mars
  Relay Telecommunications and Navigation", IAC 2003; Bell et al. 2014, "MRO relay telecom
  support of Mars Science Laboratory surface operations", IEEE Aerospace: 256 kbps raised to
  2048 kbps with adaptive data rate).
- Return link (lander -> orbiter) near 401.6 MHz, forward near 437.1 MHz (CCSDS 211.1-B channel
  plan; JPL Electra descriptions: return 390-405 MHz, forward 435-450 MHz).
- Odyssey <-> Curiosity at fixed 128 or 256 kbps (NASA/JPL MSL "Communications with Earth"
  page): the CE-505 radio has no adaptive data rate.

Earth links (X-band 8.4 GHz, Ka-band 32 GHz):

- MRO: 3 m HGA, 100 W X-band TWTA, 0.5 to 4 Mbps to 34 m DSN antennas (NASA MRO X-band
  communications page); 35 W Ka-band TWTA on the same HGA (Taylor, Lee & Shambayati, "Mars
  Reconnaissance Orbiter Telecommunications", DESCANSO Design and Performance Summary Series,
  article 12, 2006).
- TGO: 2.2 m HGA, 65 W X-band TWTA (ESA ExoMars TGO spacecraft pages).
- Curiosity direct-to-Earth: HGA 25.5 dBi transmit, 15 W; about 500 bps to 32 kbps (Makovsky,
  Ilott & Taylor, "Mars Science Laboratory Telecommunications System Design", DESCANSO article
  14, 2009; NASA/JPL MSL page).
- DSN antennas at 8414 MHz: 70 m gain 74.3 dBi, 34 m 68.3 dBi; system noise temperature at
  21 deg elevation, 90% weather, 24.8 K (70 m) and 30.5 K (34 m) (Kobayashi, Shihabi & Taylor,
  "Mars Cube One Telecommunications Subsystem Design", DESCANSO Design and Performance Summary
  Series article 18, JPL, 2021, Table 5-4, lines 17 and 21, "per DSN 810-005"); the zenith
  values below are those less this model's 4.5 K of extra sky noise at 21 deg. Zenith X-band
  atmospheric loss ~0.04 dB (DSN 810-005 module 105; approx.; the MarCO table books 0.15 dB at
  21 deg, i.e. ~0.054 dB at zenith). ESTRACK 35 m deep-space antennas: X-band G/T ~50.8 dB/K
  (ESA ESTRACK pages; approx.).
- Turbo r=1/6 downlinks need Eb/N0 0.53 dB: threshold -0.10 dB at FER 1e-4 plus 0.63 dB
  implementation loss (same table, lines 35-36).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marsrelay.links.budget import dish_gain_dbi

__all__ = [
    "BANDS",
    "CODINGS",
    "DEFAULT_LANDER_RADIO",
    "DEFAULT_ORBITER_RADIO",
    "EARTH_TRANSMITTERS",
    "LANDER_UHF_PATTERN",
    "ORBITER_UHF_PATTERN",
    "PROXIMITY1_RATES_BPS",
    "PROXIMITY_RADIOS",
    "SPACECRAFT_ALIASES",
    "STATION_CLASSES",
    "AntennaPattern",
    "Band",
    "Coding",
    "EarthTransmitter",
    "ProximityRadio",
    "StationClass",
    "canonical_spacecraft",
]

#: Proximity-1 data rates, bps: 2^n kbps, n = 0..11 (CCSDS 211.1-B).
PROXIMITY1_RATES_BPS: tuple[float, ...] = tuple(1000.0 * 2**n for n in range(12))

#: Default radios when a scenario node names none (the Mars Exploration Program's standard
#: relay radios: Electra on orbiters, Electra-Lite on landers).
DEFAULT_ORBITER_RADIO = "electra"
DEFAULT_LANDER_RADIO = "electra-lite"


@dataclass(frozen=True)
class Coding:
    """A channel code: ``code_rate`` (information bits per channel symbol) and the Eb/N0 (dB) it
    needs for the target error rate, implementation losses included."""

    name: str
    code_rate: float
    required_ebn0_db: float
    source: str


#: Channel codes. Required Eb/N0 at BER 1e-6 / FER 1e-4 with ~0.5-1 dB implementation loss
#: (CCSDS 130.1-G, "TM Synchronization and Channel Coding - Summary of Concept and Rationale",
#: BER/FER curves; approx.).
CODINGS: dict[str, Coding] = {
    c.name: c
    for c in (
        Coding("uncoded", 1.0, 11.0, "BPSK, BER 1e-6: 10.5 dB + 0.5 dB (CCSDS 130.1-G)"),
        Coding("conv-r1/2", 0.5, 5.0, "(7,1/2) Viterbi, BER 1e-6 (CCSDS 130.1-G; Proximity-1)"),
        Coding("conv-rs", 0.5 * 223 / 255, 3.0,
               "(7,1/2) + RS(255,223), BER 1e-6 (CCSDS 130.1-G)"),
        Coding("ldpc-r1/2", 0.5, 2.5, "AR4JA LDPC r=1/2, FER 1e-4 (CCSDS 130.1-G; Prox-1 211.2)"),
        Coding("turbo-r1/2", 0.5, 1.5, "turbo 8920 r=1/2, FER 1e-4 (CCSDS 130.1-G)"),
        Coding("turbo-r1/6", 1.0 / 6.0, 0.53,
               "turbo r=1/6, FER 1e-4: threshold -0.10 dB + 0.63 dB implementation loss "
               "(Kobayashi et al. 2021, DESCANSO 18, Table 5-4, lines 35-36)"),
    )
}


@dataclass(frozen=True)
class AntennaPattern:
    """Gain relative to the peak (dB, <= 0) against an angle in degrees, linearly interpolated.

    For a lander the angle is the elevation of the orbiter; for an orbiter it is the off-nadir
    angle of the lander.
    """

    angle_deg: tuple[float, ...]
    relative_gain_db: tuple[float, ...]

    def gain_db(self, angle_deg: np.ndarray, peak_gain_dbi: float) -> np.ndarray:
        """Gain (dBi) at ``angle_deg`` for an antenna of peak gain ``peak_gain_dbi``."""
        return peak_gain_dbi + np.interp(angle_deg, self.angle_deg, self.relative_gain_db)


#: Orbiter nadir-pointed UHF quadrifilar helix: peak at nadir, ~-6 dB at the limb as seen from
#: low orbit (~65 deg off nadir) (approx., shape of the MRO/Odyssey UHF helix patterns in the
#: DESCANSO Odyssey and MRO telecom articles).
ORBITER_UHF_PATTERN = AntennaPattern(
    (0.0, 20.0, 40.0, 55.0, 65.0, 75.0, 90.0, 180.0),
    (0.0, -0.5, -2.0, -4.0, -6.0, -9.0, -14.0, -20.0),
)

#: Lander zenith-pointed UHF antenna (monopole / helix): peak near zenith, ~-5 dB at 10 deg
#: elevation, worse toward the horizon (approx., MSL rover UHF antenna patterns, DESCANSO 14).
LANDER_UHF_PATTERN = AntennaPattern(
    (-90.0, 0.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0),
    (-20.0, -8.0, -5.0, -3.0, -2.0, -1.0, -0.5, 0.0),
)


@dataclass(frozen=True)
class ProximityRadio:
    """A UHF relay radio: transmitter, receiver and its rate set.

    ``antenna_gain_dbi`` is the peak gain of the antenna the radio normally uses;
    ``noise_temp_k`` the system noise temperature when receiving (antenna + Mars in view +
    receiver); ``circuit_loss_db`` cables/diplexer between radio and antenna;
    ``required_ebn0_db`` overrides the coding's required Eb/N0 when set.
    """

    name: str
    tx_power_w: float
    antenna_gain_dbi: float
    noise_temp_k: float
    rates_bps: tuple[float, ...]
    coding: str
    adr: bool
    circuit_loss_db: float
    max_symbol_rate_sps: float
    source: str
    required_ebn0_db: float | None = None

    @property
    def required_ebn0(self) -> float:
        """Required Eb/N0 (dB): the override if set, else the coding's value."""
        if self.required_ebn0_db is not None:
            return self.required_ebn0_db
        return CODINGS[self.coding].required_ebn0_db


PROXIMITY_RADIOS: dict[str, ProximityRadio] = {
    r.name: r
    for r in (
        ProximityRadio(
            "electra", 5.0, 5.0, 400.0, PROXIMITY1_RATES_BPS, "conv-r1/2", True, 0.5, 4.096e6,
            "JPL Electra (MRO, MAVEN, TGO): 1-2048 kbps, ADR (Edwards et al. 2003; Bell et al. "
            "2014); ~5 W RF, nadir quadrifilar helix (approx.)",
        ),
        ProximityRadio(
            "electra-lite", 8.5, 3.0, 450.0, PROXIMITY1_RATES_BPS, "conv-r1/2", True, 0.5,
            4.096e6,
            "Electra-Lite (Curiosity, Perseverance): Proximity-1, 1-2048 kbps, ADR (Makovsky et "
            "al. 2009, DESCANSO 14; Bell et al. 2014); ~8.5 W RF (approx.)",
        ),
        ProximityRadio(
            "ce-505", 14.8, 3.0, 500.0, (8000.0, 32000.0, 128000.0, 256000.0), "conv-r1/2",
            False, 1.0, 0.512e6,
            "CMC/Cincinnati Electronics CE-505 (Odyssey, MER, Phoenix, InSight): fixed 8-256 "
            "kbps, no ADR (Makovsky et al. 2002, DESCANSO 6; NASA/JPL MSL page: Odyssey 128 or "
            "256 kbps); 14.8 W RF, InSight's UHF transmitter (Kobayashi et al. 2021, DESCANSO "
            "18, Table 5-5, line 4; was ~12 W approx.)",
        ),
        ProximityRadio(
            "melacom", 5.0, 3.0, 500.0, (2000.0, 8000.0, 32000.0, 128000.0), "conv-r1/2", False,
            1.0, 0.256e6,
            "Melacom (Mars Express): Proximity-1, up to 128 kbps, no ADR (ESA Mars Express relay "
            "pages; approx.)",
        ),
        ProximityRadio(
            "exomars-uhf", 8.0, 3.0, 450.0, PROXIMITY1_RATES_BPS[:10], "conv-r1/2", True, 0.5,
            1.024e6,
            "ExoMars rover UHF transceiver: Proximity-1 relay via TGO Electra, up to 512 kbps "
            "(approx.; ESA ExoMars rover pages)",
        ),
    )
}


@dataclass(frozen=True)
class Band:
    """A deep-space downlink band: frequency and zenith atmospheric loss (90% weather)."""

    name: str
    frequency_hz: float
    zenith_atmosphere_db: float


#: X-band 8.42 GHz and Ka-band 32.0 GHz; zenith attenuation ~0.04 dB (X) and ~0.2 dB (Ka) at
#: DSN sites, 90% weather (DSN 810-005 module 105; approx.).
BANDS: dict[str, Band] = {
    "x": Band("x", 8.42e9, 0.04),
    "ka": Band("ka", 32.0e9, 0.2),
}


@dataclass(frozen=True)
class EarthTransmitter:
    """A spacecraft's downlink to Earth: power and antenna per band, rate ladder top, coding."""

    name: str
    tx_power_w: dict[str, float]
    antenna_gain_dbi: dict[str, float]
    max_rate_bps: dict[str, float]
    min_rate_bps: float = 10.0
    circuit_loss_db: float = 1.0
    coding: str = "turbo-r1/6"
    max_symbol_rate_sps: float = 30e6
    source: str = ""


def _dish(diameter_m: float, band: str, efficiency: float = 0.6) -> float:
    return round(dish_gain_dbi(diameter_m, BANDS[band].frequency_hz, efficiency), 2)


EARTH_TRANSMITTERS: dict[str, EarthTransmitter] = {
    t.name: t
    for t in (
        EarthTransmitter(
            "mro", {"x": 100.0, "ka": 35.0}, {"x": _dish(3.0, "x"), "ka": _dish(3.0, "ka", 0.45)},
            {"x": 4.0e6, "ka": 4.0e6},
            source="NASA MRO X-band page: 3 m HGA, 100 W TWTA, 0.5-4 Mbps; Ka 35 W "
            "(Taylor et al. 2006, DESCANSO 12)",
        ),
        EarthTransmitter(
            "tgo", {"x": 65.0}, {"x": _dish(2.2, "x")}, {"x": 2.0e6},
            source="ESA TGO: 2.2 m HGA, 65 W TWTA (approx. max rate)",
        ),
        EarthTransmitter(
            "odyssey", {"x": 15.0}, {"x": _dish(1.3, "x")}, {"x": 256e3}, coding="conv-rs",
            source="Makovsky et al. 2002, DESCANSO 6: 1.3 m HGA, 15 W SSPA (approx.)",
        ),
        EarthTransmitter(
            "maven", {"x": 100.0}, {"x": _dish(2.0, "x")}, {"x": 2.0e6},
            source="MAVEN: 2 m HGA, X-band TWTA (approx.)",
        ),
        EarthTransmitter(
            "mex", {"x": 65.0}, {"x": _dish(1.6, "x")}, {"x": 228e3}, coding="conv-rs",
            source="ESA Mars Express: 1.6 m HGA, 65 W TWTA, up to 228 kbps (approx.)",
        ),
        EarthTransmitter(
            "generic-orbiter", {"x": 50.0}, {"x": _dish(2.0, "x")}, {"x": 2.0e6},
            source="generic Mars orbiter: 2 m HGA, 50 W (assumption)",
        ),
        EarthTransmitter(
            "msl", {"x": 15.0}, {"x": 25.5}, {"x": 32e3}, coding="turbo-r1/6",
            source="Makovsky, Ilott & Taylor 2009 (DESCANSO 14): HGA 25.5 dBi, 15 W; "
            "DTE ~500 bps to 32 kbps (NASA/JPL MSL page)",
        ),
        EarthTransmitter(
            "insight", {"x": 15.0}, {"x": 14.0}, {"x": 4e3}, coding="turbo-r1/6",
            source="InSight X-band medium-gain antennas (approx.)",
        ),
        EarthTransmitter(
            "generic-lander", {"x": 15.0}, {"x": 25.5}, {"x": 32e3}, coding="turbo-r1/6",
            source="generic lander: MSL-class X-band HGA (assumption)",
        ),
    )
}

#: Normalised node names (lower case, letters and digits only) -> catalogue key.
SPACECRAFT_ALIASES: dict[str, str] = {
    "mro": "mro", "marsreconnaissanceorbiter": "mro",
    "tgo": "tgo", "exomarstgo": "tgo", "tracegasorbiter": "tgo", "exomarstracegasorbiter": "tgo",
    "odyssey": "odyssey", "marsodyssey": "odyssey", "2001marsodyssey": "odyssey", "ody": "odyssey",
    "maven": "maven",
    "mex": "mex", "marsexpress": "mex",
    "curiosity": "msl", "msl": "msl", "perseverance": "msl", "mars2020": "msl", "m2020": "msl",
    "insight": "insight",
}


def canonical_spacecraft(node_name: str) -> str | None:
    """Catalogue key of a scenario node name (``"Mars Express"`` -> ``"mex"``), or None."""
    key = "".join(ch for ch in node_name.lower() if ch.isalnum())
    return SPACECRAFT_ALIASES.get(key)


@dataclass(frozen=True)
class StationClass:
    """A class of ground antenna: receive gain per band (dBi, at the gain-optimal elevation) and
    zenith system noise temperature per band (K, atmosphere included)."""

    name: str
    gain_dbi: dict[str, float]
    zenith_noise_temp_k: dict[str, float]
    source: str = ""


STATION_CLASSES: dict[str, StationClass] = {
    s.name: s
    for s in (
        StationClass("dsn-70m", {"x": 74.3, "ka": 84.0}, {"x": 20.3, "ka": 40.0},
                     "X: DESCANSO 18 Table 5-4 (74.3 dBi; 24.8 K at 21 deg less 4.5 K sky "
                     "excess), per DSN 810-005; Ka approx."),
        StationClass("dsn-34m", {"x": 68.3, "ka": 78.9}, {"x": 26.0, "ka": 32.0},
                     "X: DESCANSO 18 Table 5-4 (68.3 dBi; 30.5 K at 21 deg less 4.5 K sky "
                     "excess), per DSN 810-005 module 104; Ka approx."),
        StationClass("estrack-35m", {"x": 68.4, "ka": 79.0}, {"x": 57.0, "ka": 75.0},
                     "ESA ESTRACK DSA: X-band G/T ~50.8 dB/K (approx.)"),
        StationClass("ru-64m", {"x": 72.8, "ka": 80.0}, {"x": 45.0, "ka": 90.0},
                     "Kalyazin / Bear Lakes 64 m: dish formula at 60% efficiency (approx.)"),
    )
}
