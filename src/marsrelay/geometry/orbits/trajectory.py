"""The trajectory protocol every orbiter model answers, and its error type."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

_DEG = math.pi / 180.0


@runtime_checkable
class Trajectory(Protocol):
    """Anything that gives Mars-centred ICRF states at TDB seconds past J2000."""

    def state_km(self, tdb_s: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(position_km (N, 3), velocity_km_s (N, 3))``."""
        ...

    @property
    def coverage_tdb_s(self) -> tuple[float, float]:
        """``(first, last)`` TDB seconds with valid states (infinite for analytic orbits)."""
        ...


