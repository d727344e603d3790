"""Default parameters of radios, spacecraft transmitters and ground stations, with sources.

(Over 500 lines by design: every sourced default of the links stage lives here, next to its
citation, so a reviewer checks one file.)

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

Proximity passes as flown (:mod:`marsrelay.links.proximity`; constants below, each with its
source, every one a ``[links]`` key):

- Proximity-1 framing: a PLTU is a 24-bit attached sync marker, one Version-3 transfer frame
  (5-octet header, data field up to 2043 octets) and a 32-bit CRC (CCSDS 211.0-B-6 §3.2.1,
  §3.2.3; CCSDS 211.2-B-3 §3.2.2-3.2.5): 12 octets of overhead per frame.
- Reliable (sequence-controlled) delivery is COP-P go-back-N: the receiver reports with PLCWs on
  the opposite link and the sender repeats every frame from the first one lost (CCSDS 211.0
  §4.3.3, §7; window <= 127 frames, §7.2.3.3).
- Session set-up by hailing: carrier only, then the idle sequence for symbol and decoder lock,
  then the hail directives, answered the same way by the responder, then a change to the working
  rate (CCSDS 211.0 §6.2.4.3-6.2.4.5 and §6.4). Electra's defaults are a 1.0 s carrier-only
  time when hailing and 0 s when changing rate, kept apart "to reduce the amount of
  non-data-transfer down time added by comm changes in adaptive data rate operations"
  (G. Kazz, CCSDS SLS-SLP working group mail of 2011-03-07 quoting the NASA Electra
  implementers). Every rate change of the adaptive rate therefore costs the idle and tail
  sequences again.
- Adaptive data rate (ADR): the orbiter's Electra measures its received signal and commands the
  lander's radio to a new rate on the fly (Makovsky, Ilott & Taylor 2009, DESCANSO 14, §2.2.2;
  Edwards et al., "Relay support for the Mars Science Laboratory mission", IEEE Aerospace 2013:
  "varied throughout the relay pass based on the actual observed link channel
  characteristics"), so the rate trails the link by the measurement and command time.
- Curiosity-MRO runs suppressed-carrier modulation (Edwards et al. 2013; Bell et al. 2014);
  radios without it use the Proximity-1 residual carrier at a 60 deg modulation index (CCSDS
  211.1 §3.3.5), which leaves sin^2(60 deg) of the power to the data: 1.25 dB (DESCANSO 18
  Table 5-5 line 25).
- Margin policy (:data:`MARGIN_POLICY`): predicted links keep 3 dB (UHF fixed-rate passes, X
  band) or 4 dB (Ka band); the adaptive rate decides on the measured link at the Eb/N0 where a
  full frame meets FER 1e-4. Margins choose rates; what arrives follows the nominal link.

UHF hardware at Mars (:data:`UHF_RELAY_HARDWARE`; the calibration against published pass volumes
in ``tests/test_links_calibration.py`` rests on these, none is fitted):

- An orbiter's UHF receiver looks at Mars: system noise temperature 632.8 K = Mars 190.0 K +
  a 3.5 dB-noise-figure LNA (359.2 K) + 1.1 dB of front-end cable and connectors at 290 K
  (83.6 K); the same 1.1 dB lowers the receive gain (Kobayashi, Shihabi & Taylor, DESCANSO 18,
  2021, Table 5-5, lines 12 and 14-16, the one published UHF relay design control table at
  401.586 MHz, reproduced line by line in ``tests/test_links_published.py``). It holds for every
  orbiter receiver in this catalogue (Electra, Electra-Lite on MAVEN, CE-505 on Odyssey, Melacom):
  their earlier 400-500 K had no source and left out the LNA's noise.
- A lander's UHF transmitter loses 1.5 dB between radio and antenna (same table, line 5, the
  InSight lander antenna; 2.0 dB through the backshell antenna).
- Electra's nadir antenna is a low-gain quadrifilar helix (the Electra payload is the
  transceiver, a low-gain quadrifilar helix antenna and cabling: Edwards et al. 2003, as
  summarised in public Electra descriptions), the same class as the other orbiter UHF antennas
  here: 3 dBi peak, the gain of the UHF relay receive antenna of the same table (line 11:
  2.9-3.5 dBi). No Electra-specific gain figure was found; the earlier 5 dBi had no source and
  made Electra's G/T 2.5 dB better than that of MAVEN's Electra-Lite, which the published pass
  volumes contradict (MAVEN's 550 Mbit pass at 1,110-3,700 km against MRO's 100-250 Mbit passes
  at 250-1,200 km; ``tests/test_links_calibration.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marsrelay.links.budget import dish_gain_dbi

__all__ = [
    "ADR_LAG_S",
    "ADR_UPDATE_INTERVAL_S",
    "BANDS",
    "CODINGS",
    "DEFAULT_LANDER_RADIO",
    "DEFAULT_ORBITER_RADIO",
    "EARTH_TRANSMITTERS",
    "LANDER_UHF_PATTERN",
    "MARGIN_POLICY",
    "ORBITER_UHF_PATTERN",
    "PROXIMITY1_FRAMING",
    "PROXIMITY1_RATES_BPS",
    "PROXIMITY1_SESSION",
    "PROXIMITY_RADIOS",
    "RESIDUAL_CARRIER_MOD_INDEX_DEG",
    "SPACECRAFT_ALIASES",
    "SPACECRAFT_RADIOS",
    "STATION_CLASSES",
    "UHF_RELAY_HARDWARE",
    "AntennaPattern",
    "Band",
    "Coding",
    "EarthTransmitter",
    "MarginPolicy",
    "Proximity1Framing",
    "Proximity1Session",
    "ProximityRadio",
    "StationClass",
    "UhfRelayHardware",
    "adr_margin_db",
    "canonical_spacecraft",
    "expected_radio",
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
    needs for the target error rate, implementation losses included.

    Frame errors follow a waterfall: at the required Eb/N0 an error event starts with
    probability ``event_rate_at_required`` per information bit, ten times less for every
    ``db_per_decade`` dB more (:func:`marsrelay.links.budget.frame_error_rate`).
    """

    name: str
    code_rate: float
    required_ebn0_db: float
    source: str
    event_rate_at_required: float = 1e-7
    db_per_decade: float = 0.3


#: Channel codes. Required Eb/N0 at BER 1e-6 / FER 1e-4 with ~0.5-1 dB implementation loss
#: (CCSDS 130.1-G, "TM Synchronization and Channel Coding - Summary of Concept and Rationale",
#: BER/FER curves; approx.). Waterfalls: the (7,1/2) code's from the union bound on its
#: first-event error probability with the code's distance spectrum (d_free = 10; 11, 38, 193,
#: 1331 paths of weight 10, 12, 14, 16: Proakis, "Digital Communications", convolutional-code
#: tables), which reaches BER 1e-6 at 4.79 dB, so the 5.0 dB requirement holds 0.21 dB of
#: implementation loss, with 2.7e-7 events per bit there and about 0.55 dB per decade above
#: (``tests/test_links_realism.py`` checks the fit against the bound); uncoded BPSK from
#: Q(sqrt(2 Eb/N0)); the block codes' per-bit rate is FER 1e-4 spread over one codeword, with a
#: steep waterfall (approx., CCSDS 130.1-G curves).
CODINGS: dict[str, Coding] = {
    c.name: c
    for c in (
        Coding("uncoded", 1.0, 11.0, "BPSK, BER 1e-6: 10.5 dB + 0.5 dB (CCSDS 130.1-G)",
               1e-6, 0.75),
        Coding("conv-r1/2", 0.5, 5.0, "(7,1/2) Viterbi, BER 1e-6 (CCSDS 130.1-G; Proximity-1)",
               2.7e-7, 0.55),
        Coding("conv-rs", 0.5 * 223 / 255, 3.0,
               "(7,1/2) + RS(255,223), BER 1e-6 (CCSDS 130.1-G)", 1e-7, 0.3),
        Coding("ldpc-r1/2", 0.5, 2.5, "AR4JA LDPC r=1/2, FER 1e-4 (CCSDS 130.1-G; Prox-1 211.2)",
               1e-7, 0.25),
        Coding("turbo-r1/2", 0.5, 1.5, "turbo 8920 r=1/2, FER 1e-4 (CCSDS 130.1-G)", 1.1e-8,
               0.25),
        Coding("turbo-r1/6", 1.0 / 6.0, 0.53,
               "turbo r=1/6, FER 1e-4: threshold -0.10 dB + 0.63 dB implementation loss "
               "(Kobayashi et al. 2021, DESCANSO 18, Table 5-4, lines 35-36)", 1.1e-8, 0.25),
    )
}


#: Residual-carrier modulation index of Proximity-1 (CCSDS 211.1-B, §3.3.5: "60 deg +- 5%").
RESIDUAL_CARRIER_MOD_INDEX_DEG = 60.0


@dataclass(frozen=True)
class Proximity1Framing:
    """Proximity-1 framing (octets): sync marker, frame header, CRC, largest data field."""

    asm_octets: int
    header_octets: int
    crc_octets: int
    max_data_field_octets: int
    source: str

    @property
    def overhead_octets(self) -> int:
        """Octets a PLTU adds to the data field it carries (12)."""
        return self.asm_octets + self.header_octets + self.crc_octets


PROXIMITY1_FRAMING = Proximity1Framing(
    3, 5, 4, 2043,
    "CCSDS 211.2-B-3 §3.2.2-3.2.5 (PLTU = 24-bit ASM + frame + CRC-32); CCSDS 211.0-B-6 "
    "§3.2.1 (5-octet Version-3 header), §3.2.3 (data field 0-2043 octets)",
)


@dataclass(frozen=True)
class Proximity1Session:
    """Proximity-1 session timings (s): hail set-up and the down time of a rate change."""

    carrier_only_hail_s: float
    carrier_only_comm_change_s: float
    acquisition_idle_s: float
    tail_idle_s: float
    source: str

    def hail_s(self) -> float:
        """Pass start to first data frame: the caller's and the responder's carrier-only and
        idle sequences, then a change to the working rate (the hail directives themselves are
        a few tens of octets, milliseconds at the 8 kbps hailing rate)."""
        return 2.0 * (self.carrier_only_hail_s + self.acquisition_idle_s) + self.comm_change_s()

    def comm_change_s(self) -> float:
        """Down time of one rate change: tail of the old rate, carrier only, idle at the new."""
        return self.tail_idle_s + self.carrier_only_comm_change_s + self.acquisition_idle_s


PROXIMITY1_SESSION = Proximity1Session(
    1.0, 0.0, 1.0, 0.5,
    "carrier-only 1.0 s hailing / 0 s comm change: Electra defaults (Kazz, CCSDS SLS-SLP mail "
    "2011-03-07); acquisition idle 1.0 s and tail idle 0.5 s: assumption (no published Electra "
    "value found; 1 s is 8000 symbols at the 8 kbps hailing rate, CCSDS 211.0 §6.2.4.4)",
)

#: Adaptive data rate: seconds between rate decisions, and how far the decision's measurement
#: lags the link it is applied to (signal averaging plus the SET TRANSMITTER PARAMETERS
#: directive's trip to the lander). Assumption: no published Electra value was found; a rate
#: held one interval avoids the rate chatter the comm-change down time would cost, and the
#: measurement window is half of it.
ADR_UPDATE_INTERVAL_S = 10.0
ADR_LAG_S = 5.0


def adr_margin_db(coding: Coding, frame_bits: int, fer_target: float) -> float:
    """Eb/N0 (dB) over ``coding``'s requirement at which a frame of ``frame_bits`` meets
    ``fer_target`` on its waterfall (0.91 dB for (7,1/2) and 2043-octet frames at 1e-4)."""
    per_bit = -math.expm1(math.log1p(-fer_target) / frame_bits)
    return -coding.db_per_decade * math.log10(per_bit / coding.event_rate_at_required)


@dataclass(frozen=True)
class MarginPolicy:
    """Required link margins (dB) by link kind, and the frame error rate the adaptive rate's
    decisions aim at; each with its source."""

    proximity_fixed_db: float
    adr_fer_target: float
    earth_db: dict[str, float]
    source: str


MARGIN_POLICY = MarginPolicy(
    3.0, 1e-4, {"x": 3.0, "ka": 4.0},
    "Predicted links keep 3.0 dB over the decoder threshold: UHF fixed-rate passes (DESCANSO 18, "
    "Table 5-5, line 31) and X band (Table 5-4, line 39, with 90% weather); Ka band keeps 4 dB "
    "relative to adverse conditions, which gives at least 95% data return (IPN Progress Report "
    "42-214, 2018, MRO Ka-band cruise statistics). The adaptive rate decides on the *measured* "
    "link, so the prediction uncertainty those margins cover is gone: each decision takes the "
    "highest rate at which a full frame meets FER 1e-4, the quality the same tables' thresholds "
    "are defined at (Table 5-4, line 36) - for (7,1/2) frames of 2043 octets 0.91 dB over the "
    "BER 1e-6 requirement. The lag between decisions is modelled, not margined.",
)

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
class UhfRelayHardware:
    """Published UHF relay hardware figures shared by the catalogue's radios (see the module
    docstring): the system noise temperature of an orbiter receiver looking at Mars (K), the
    receive front-end loss (dB), a lander transmitter's circuit loss (dB) and the peak gain of a
    broad-beam orbiter UHF antenna (dBi)."""

    orbiter_noise_temp_k: float
    receive_front_end_loss_db: float
    lander_transmit_loss_db: float
    orbiter_antenna_gain_dbi: float
    source: str


UHF_RELAY_HARDWARE = UhfRelayHardware(
    190.0 + 359.2 + 83.6, 1.1, 1.5, 3.0,
    "Kobayashi, Shihabi & Taylor 2021, DESCANSO 18, Table 5-5 (401.586 MHz): lines 14-16 "
    "(632.8 K = Mars 190.0 K + LNA at 3.5 dB NF 359.2 K + front end 83.6 K), line 12 (1.1 dB "
    "receive cable), line 5 (1.5 dB lander transmit circuit loss), line 11 (2.9-3.5 dBi UHF relay "
    "receive antenna); Electra's antenna a low-gain quadrifilar helix (Edwards et al. 2003)",
)


@dataclass(frozen=True)
class ProximityRadio:
    """A UHF relay radio: transmitter, receiver and its rate set.

    ``antenna_gain_dbi`` is the peak gain of the antenna the radio normally uses;
    ``noise_temp_k`` the system noise temperature when receiving (antenna + Mars in view +
    receiver); ``circuit_loss_db`` cables/diplexer between radio and antenna when transmitting,
    ``rx_circuit_loss_db`` between antenna and receiver (None: the same as ``circuit_loss_db``);
    ``required_ebn0_db`` overrides the coding's required Eb/N0 when set;
    ``suppressed_carrier``: the radio can run suppressed-carrier modulation (a pair of such
    radios gives all power to the data; otherwise the Proximity-1 residual carrier at 60 deg).
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
    suppressed_carrier: bool = False
    rx_circuit_loss_db: float | None = None

    @property
    def required_ebn0(self) -> float:
        """Required Eb/N0 (dB): the override if set, else the coding's value."""
        if self.required_ebn0_db is not None:
            return self.required_ebn0_db
        return CODINGS[self.coding].required_ebn0_db

    @property
    def receive_circuit_loss_db(self) -> float:
        """Loss (dB) between antenna and receiver: ``rx_circuit_loss_db`` or, if unset, the
        transmit-side ``circuit_loss_db``."""
        if self.rx_circuit_loss_db is not None:
            return self.rx_circuit_loss_db
        return self.circuit_loss_db


_HW = UHF_RELAY_HARDWARE

#: UHF relay radios and their rate tables. Which spacecraft carries which radio: Electra on
#: MRO and (two units) on TGO; Electra-Lite on Curiosity, Perseverance and MAVEN; CE-505 on
#: Odyssey, MER, Phoenix and InSight (Phoenix heritage); Melacom on Mars Express; the ExoMars
#: surface elements' own UHF unit (NASA/JPL mission pages; ESA ExoMars pages;
#: /work/shared/reference/facts.md copies these into the built-in scenario files). Receive
#: chains (noise temperature, front-end loss), lander transmit losses and the orbiter antennas'
#: peak gain: :data:`UHF_RELAY_HARDWARE` (DESCANSO 18, Table 5-5).
PROXIMITY_RADIOS: dict[str, ProximityRadio] = {
    r.name: r
    for r in (
        ProximityRadio(
            "electra", 5.0, _HW.orbiter_antenna_gain_dbi, _HW.orbiter_noise_temp_k,
            PROXIMITY1_RATES_BPS, "conv-r1/2", True, _HW.receive_front_end_loss_db, 4.096e6,
            "JPL Electra (MRO, TGO): Proximity-1 rates 1-2048 kbps, ADR (Edwards et al. 2003; "
            "Bell et al. 2014: 256 kbps raised to 2048 kbps with ADR); suppressed carrier with "
            "Electra-Lite (Edwards et al. 2013); ~5 W RF (approx.); nadir low-gain quadrifilar "
            "helix, receive chain at Mars (UHF_RELAY_HARDWARE)",
            suppressed_carrier=True,
        ),
        ProximityRadio(
            "electra-lite", 8.5, 3.0, _HW.orbiter_noise_temp_k, PROXIMITY1_RATES_BPS,
            "conv-r1/2", True, _HW.lander_transmit_loss_db, 4.096e6,
            "Electra-Lite (Curiosity, Perseverance, MAVEN): Proximity-1 rates 1-2048 kbps, ADR, "
            "suppressed carrier (Makovsky et al. 2009, DESCANSO 14; Edwards et al. 2013; Bell "
            "et al. 2014); ~8.5 W RF, 3 dBi (approx.); lander transmit loss, and on MAVEN the "
            "receive chain at Mars (UHF_RELAY_HARDWARE)",
            suppressed_carrier=True, rx_circuit_loss_db=_HW.receive_front_end_loss_db,
        ),
        ProximityRadio(
            "ce-505", 14.8, 3.0, _HW.orbiter_noise_temp_k,
            (8000.0, 32000.0, 128000.0, 256000.0), "conv-r1/2", False,
            _HW.lander_transmit_loss_db, 0.512e6,
            "CMC/Cincinnati Electronics CE-505 (Odyssey, MER, Phoenix, InSight): fixed rates 8, "
            "32, 128, 256 kbps, no ADR, residual carrier (Makovsky et al. 2002, DESCANSO 6; "
            "NASA/JPL MSL page: Odyssey 128 or 256 kbps; IPN Progress Report 42-163, 2005: the "
            "Phoenix radio's lowest rate is 8 kbps, needing -120 dBm at Odyssey); 14.8 W RF, "
            "InSight's UHF transmitter, residual carrier at 60 deg, 1.5 dB transmit loss, and on "
            "Odyssey the receive chain at Mars (Kobayashi et al. 2021, DESCANSO 18, Table 5-5, "
            "lines 3-5, 12, 14-16)",
            rx_circuit_loss_db=_HW.receive_front_end_loss_db,
        ),
        ProximityRadio(
            "melacom", 5.0, 3.0, _HW.orbiter_noise_temp_k, (2000.0, 8000.0, 32000.0, 128000.0),
            "conv-r1/2", False, _HW.receive_front_end_loss_db, 0.256e6,
            "Melacom (Mars Express): Proximity-1, fixed rates up to 128 kbps, no ADR, residual "
            "carrier (ESA Mars Express relay pages; approx.); receive chain at Mars "
            "(UHF_RELAY_HARDWARE)",
        ),
        ProximityRadio(
            "exomars-uhf", 8.0, 3.0, 450.0, PROXIMITY1_RATES_BPS[:10], "conv-r1/2", True,
            _HW.lander_transmit_loss_db, 1.024e6,
            "ExoMars surface UHF transceiver (Rosalind Franklin; Kazachok in the 2022 plan): "
            "Proximity-1 relay via TGO's Electra, rates up to 512 kbps, ADR with Electra, "
            "residual carrier (the CCSDS 211.1 baseline; approx., ESA ExoMars rover pages); "
            "lander transmit loss (UHF_RELAY_HARDWARE)",
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


#: The UHF relay radio each known spacecraft carries (see :data:`PROXIMITY_RADIOS`; NASA/JPL
#: and ESA mission pages; InSight: DESCANSO 18, Table 5-5; MAVEN's Electra-Lite: the reference
#: facts of the project).
SPACECRAFT_RADIOS: dict[str, str] = {
    "mro": "electra", "tgo": "electra", "odyssey": "ce-505", "maven": "electra-lite",
    "mex": "melacom", "msl": "electra-lite", "insight": "ce-505",
}

#: Normalised names of spacecraft with a radio but no downlink entry.
_RADIO_ONLY_ALIASES: dict[str, str] = {
    "rosalindfranklin": "exomars-uhf", "exomarsrover": "exomars-uhf",
}


def expected_radio(node_name: str) -> str | None:
    """The radio the spacecraft called ``node_name`` carries, or None if not catalogued."""
    key = canonical_spacecraft(node_name)
    if key is not None:
        return SPACECRAFT_RADIOS.get(key)
    return _RADIO_ONLY_ALIASES.get("".join(ch for ch in node_name.lower() if ch.isalnum()))


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
