"""Geometry inside contact windows, sampled for the link budget (vectorised over all windows).

Each window ``[start, end]`` is sampled at ``n = max(2, ceil(duration / step) + 1)`` equally
spaced instants, so both edges are exact and the spacing never exceeds ``step``.

- Proximity (lander <-> orbiter): geometric positions in the Mars body-fixed frame (light time
  under 34 ms is ignored, as in the contact finder); range, the orbiter's elevation seen from the
  lander, and the lander's off-nadir angle seen from the orbiter (nadir = toward Mars' centre).
- Earth (orbiter or lander -> station): the sender at TDB ``t`` and the station at
  ``t + OWLT`` (conventions: windows in the sender's time); range and station elevation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marsrelay.constants import C_KM_S
from marsrelay.geometry.ephemeris import Ephemeris
from marsrelay.geometry.orbits import Trajectory
from marsrelay.geometry.rotation import RotationModel
from marsrelay.geometry.sites import EarthStation, MarsSite

__all__ = [
    "LinkGeometry",
    "WindowSamples",
    "earth_geometry",
    "lander_icrf_km",
    "proximity_geometry",
    "sample_windows",
]


@dataclass(frozen=True)
class WindowSamples:
    """Sample instants of several windows, flattened.

    ``t_tdb_s[offsets[k]:offsets[k + 1]]`` are the samples of window ``k``; ``window`` gives the
    window index of every sample.
    """

    t_tdb_s: np.ndarray
    window: np.ndarray
    offsets: np.ndarray

    @property
    def interval_mask(self) -> np.ndarray:
        """True for each pair of consecutive samples that belong to the same window."""
        return self.window[1:] == self.window[:-1]


def sample_windows(start_tdb_s: np.ndarray, end_tdb_s: np.ndarray, step_s: float) -> WindowSamples:
    """Sample each window ``[start, end]`` at spacing <= ``step_s`` including both edges."""
    start = np.asarray(start_tdb_s, dtype=float)
    dur = np.maximum(np.asarray(end_tdb_s, dtype=float) - start, 0.0)
    n = np.maximum(2, np.ceil(dur / step_s).astype(np.int64) + 1)
    offsets = np.concatenate([[0], np.cumsum(n)])
    window = np.repeat(np.arange(len(start)), n)
    j = np.arange(offsets[-1]) - offsets[window]
    frac = j / (n[window] - 1)
    return WindowSamples(start[window] + dur[window] * frac, window, offsets)


@dataclass(frozen=True)
class LinkGeometry:
    """Per-sample geometry: range (km), elevation at the surface end (deg), off-nadir angle of
    the surface end seen from an orbiter (deg; NaN for Earth links)."""

    range_km: np.ndarray
    elevation_deg: np.ndarray
    off_nadir_deg: np.ndarray


def proximity_geometry(
    site: MarsSite, trajectory: Trajectory, rotation: RotationModel, t_tdb_s: np.ndarray
) -> LinkGeometry:
    """Range, lander elevation and orbiter off-nadir angle at TDB seconds ``t_tdb_s``."""
    pos_icrf, _ = trajectory.state_km(t_tdb_s)
    orb_bf = np.einsum("nij,nj->ni", rotation.icrf_to_body(t_tdb_s), pos_icrf)
    azel = site.azel_of_body_fixed(orb_bf)
    to_site = site.position_body_km - orb_bf
    cos_nadir = -np.einsum("ni,ni->n", to_site, orb_bf) / (
        np.linalg.norm(to_site, axis=1) * np.linalg.norm(orb_bf, axis=1)
    )
    off_nadir = np.degrees(np.arccos(np.clip(cos_nadir, -1.0, 1.0)))
    return LinkGeometry(azel.range_km, azel.elevation_deg, off_nadir)


def earth_geometry(
    sender_mars_icrf_km: np.ndarray,
    station: EarthStation,
    ephemeris: Ephemeris,
    t_tdb_s: np.ndarray,
) -> LinkGeometry:
    """Range and station elevation of a sender at Mars-centred ICRF positions (km) sent at
    ``t_tdb_s`` and received one light time later."""
    mars_ssb = ephemeris.position_km("mars", t_tdb_s, centre="ssb")
    sender_ssb = mars_ssb + sender_mars_icrf_km
    earth0 = ephemeris.position_km("earth", t_tdb_s, centre="ssb")
    owlt = np.linalg.norm(sender_ssb - earth0, axis=1) / C_KM_S
    t_rx = t_tdb_s + owlt
    geo = sender_ssb - ephemeris.position_km("earth", t_rx, centre="ssb")
    azel = station.azel_of_icrf(geo, t_rx)
    return LinkGeometry(azel.range_km, azel.elevation_deg, np.full(len(t_tdb_s), np.nan))


def lander_icrf_km(site: MarsSite, rotation: RotationModel, t_tdb_s: np.ndarray) -> np.ndarray:
    """Mars-centred ICRF position (km) of a surface site at TDB seconds, ``(N, 3)``."""
    return np.einsum("nji,j->ni", rotation.icrf_to_body(t_tdb_s), site.position_body_km)
