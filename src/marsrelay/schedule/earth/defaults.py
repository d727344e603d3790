"""Default Earth resources: antennas, complexes, tracking allocations, direct-to-Earth sessions.

Every figure with its source (copied here; nothing is read at run time). Scenario keys of the
``[earth]`` table (:mod:`marsrelay.config.earth`) replace them.

- **Antenna capacity.** One antenna receives one spacecraft unless the scenario gives ``mspa``:
  the DSN's Multiple Spacecraft Per Aperture receives "downlink from up to four spacecraft
  simultaneously" at Mars, and "allows only one spacecraft at a time to have the uplink"
  (NASA/JPL MSL "Preventing Busy Signals" page; the MER-era page said up to two). MSPA works
  only where several spacecraft share the beam, i.e. at Mars (Lazio et al. 2025, "On the Size
  of the Mission Suite Enabled by NASA's Deep Space Network", arXiv 2506.13949; IPN Progress
  Report 42-238, 2024, on beam sharing of a 34 m antenna). marsrelay models downlinks only
  (there is no forward traffic), so the one-uplink rule does not bind here.
- **Complexes.** The DSN has three complexes, Goldstone, Madrid and Canberra, each with one 70 m
  and several 34 m antennas (Johnston et al. 2014, "Automated Scheduling for NASA's Deep Space
  Network", AI Magazine 35(4); DSN 810-005 module 301 station locations). A station without a
  ``complex`` joins the stations of its agency within :data:`COMPLEX_RADIUS_KM`; the complex
  takes a known name (:data:`KNOWN_COMPLEXES`) when one lies that close, else its first
  station's name.
- **Orbiter tracking.** :data:`DEFAULT_PASSES_PER_DAY` track(s) of :data:`DEFAULT_TRACK_HOURS`
  per UTC day. The 8-hour track is the DSN's unit for Mars orbiters: MRO's primary mission was
  planned on "19 eight-hour tracks per week" (Jai, Wenkert & Halbrook 2006, "The Mars
  Reconnaissance Orbiter Mission Operations: Architecture and Approach", SpaceOps 2006); NASA's
  MRO communications page gives "16 hours of daily Deep Space Network tracking", of which the
  orbiter sends data for 10-11 hours (the rest it is occulted). One track a day for an orbiter
  without an allocation is ASSUMED (issue 14: "the DSN gives each spacecraft a few tracks a
  day").
- **Direct-to-Earth sessions.** A lander with ``direct_to_earth`` gets
  :data:`DEFAULT_SESSIONS_PER_SOL` session of :data:`DEFAULT_SESSION_MINUTES` per sol:
  Curiosity's "downlink sessions ... are generally roughly 15 minutes each", with about 30
  minutes of commanding early each sol (NASA/JPL MSL "Preventing Busy Signals" page). The
  session's rate is what the link supports (Curiosity: 500 bps to 32 kbps, NASA/JPL MSL
  "Data Rates/Returns" page).
"""

from __future__ import annotations

__all__ = [
    "COMPLEX_RADIUS_KM",
    "DEFAULT_PASSES_PER_DAY",
    "DEFAULT_SESSIONS_PER_SOL",
    "DEFAULT_SESSION_MINUTES",
    "DEFAULT_TRACK_HOURS",
    "KNOWN_COMPLEXES",
    "MERGE_GAP_S",
    "MIN_TRACK_FRACTION",
]

#: Tracks per UTC day of an orbiter without an allocation (ASSUMED, see the module docstring).
DEFAULT_PASSES_PER_DAY: int = 1
#: Length of one track, h (Jai et al. 2006: MRO's eight-hour tracks).
DEFAULT_TRACK_HOURS: float = 8.0
#: Direct-to-Earth sessions per sol of a lander with ``direct_to_earth`` (MSL page).
DEFAULT_SESSIONS_PER_SOL: int = 1
#: Length of a direct-to-Earth session, min (MSL page: "roughly 15 minutes each").
DEFAULT_SESSION_MINUTES: float = 15.0
#: Stations of one agency closer than this form one complex, km (a complex's antennas lie
#: within a few km; Madrid and Cebreros, of different agencies, are about 10 km apart).
COMPLEX_RADIUS_KM: float = 50.0
#: An orbiter's Earth windows at one station closer than this in time belong to one view
#: period (a track spans the occultations of a low orbiter, about 40 min each), s.
MERGE_GAP_S: float = 2 * 3600.0
#: A view period shorter than a track still gives a (shorter) candidate track when it is at
#: least this fraction of the track length.
MIN_TRACK_FRACTION: float = 0.25

#: Known complexes: name, geodetic latitude and east longitude (deg; DSN 810-005 module 301,
#: ESA ESTRACK pages), agency.
KNOWN_COMPLEXES: tuple[tuple[str, float, float, str], ...] = (
    ("Goldstone", 35.4259, 243.1113, "NASA"),
    ("Canberra", -35.4040, 148.9801, "NASA"),
    ("Madrid", 40.4299, 355.7523, "NASA"),
    ("New Norcia", -31.0482, 116.1914, "ESA"),
    ("Cebreros", 40.4527, 355.6324, "ESA"),
    ("Malargue", -35.7760, 290.6018, "ESA"),
    ("Kalyazin", 57.2233, 37.9003, "Roscosmos"),
    ("Bear Lakes", 55.8683, 37.9514, "Roscosmos"),
)
