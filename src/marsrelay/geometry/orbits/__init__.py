"""Orbiter trajectories: mean elements with J2 secular rates (:mod:`.elements`), NAIF SPK kernels
(:mod:`.spk`) and CCSDS OEM files (:mod:`.oem`); all answer the :class:`Trajectory` protocol."""

from marsrelay.geometry.orbits.elements import (
    J2Orbit,
    J2Rates,
    MeanElements,
    j2_secular_rates,
    kepler_eccentric_anomaly,
    solve_kepler,
)
from marsrelay.geometry.orbits.oem import OemTrajectory, write_oem
from marsrelay.geometry.orbits.spk import SpkTrajectory, two_body_derivative_norm
from marsrelay.geometry.orbits.trajectory import Trajectory

__all__ = [
    "J2Orbit",
    "J2Rates",
    "MeanElements",
    "OemTrajectory",
    "SpkTrajectory",
    "Trajectory",
    "j2_secular_rates",
    "kepler_eccentric_anomaly",
    "solve_kepler",
    "two_body_derivative_norm",
    "write_oem",
]
