"""The ``[traffic]`` table of a scenario file: the data products each node generates.

Every key is optional. Example::

    [[traffic.source]]
    node = "Rosalind Franklin"     # a lander (or an orbiter, for its own science)
    bits_per_sol = 150e6           # generated per sol (LMST midnight to midnight for a lander)
    product_bits = 8e6             # one data product (an image, a sounding); split into bundles
    bundle_bits = 1e6              # largest bundle; the last bundle of a product may be smaller
    priority = 1                   # 0 bulk, 1 normal, 2 expedited
    profile = "daytime"            # "uniform" over the sol, or "daytime" (LMST 06:00-18:00)
    lifetime_s = 2592000.0         # bundle lifetime; expired bundles are dropped

With no ``[[traffic.source]]`` every lander generates :data:`DEFAULT_BITS_PER_SOL` (the pre-2022
Rosalind Franklin data budget of 150 Mbit/sol, ExoMars science working team #7, 2014) in bundles
of :data:`DEFAULT_BUNDLE_BITS`, priority 1, uniformly over the sol.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DEFAULT_BITS_PER_SOL",
    "DEFAULT_BUNDLE_BITS",
    "DEFAULT_LIFETIME_S",
    "TrafficConfig",
    "TrafficSource",
]

#: Rosalind Franklin data budget (pre-2022 design): 150 Mbit/sol (ExoMars SWT #7, 2014).
DEFAULT_BITS_PER_SOL: float = 150e6
#: Default bundle size, bits (1 Mbit).
DEFAULT_BUNDLE_BITS: float = 1e6
#: Default bundle lifetime, s (30 days).
DEFAULT_LIFETIME_S: float = 30 * 86400.0


class TrafficSource(BaseModel):
    """``[[traffic.source]]``: data generated at one node (units in the field names)."""

    model_config = ConfigDict(extra="forbid")

    node: str = Field(description="scenario node name (lander or orbiter)")
    bits_per_sol: float = Field(DEFAULT_BITS_PER_SOL, ge=0.0, description="bits per sol")
    product_bits: float | None = Field(
        None, gt=0.0, description="bits per data product (default: one bundle per product)"
    )
    bundle_bits: float = Field(DEFAULT_BUNDLE_BITS, gt=0.0, description="largest bundle, bits")
    priority: int = Field(1, ge=0, le=2, description="0 bulk, 1 normal, 2 expedited")
    profile: Literal["uniform", "daytime"] = "uniform"
    lifetime_s: float = Field(DEFAULT_LIFETIME_S, gt=0.0, description="bundle lifetime, s")

    @model_validator(mode="after")
    def _product_holds_bundles(self) -> TrafficSource:
        if self.product_bits is not None and self.product_bits < 1.0:
            raise ValueError("product_bits must be at least 1 bit")
        return self


class TrafficConfig(BaseModel):
    """Settings read from the scenario's ``[traffic]`` table (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")

    source: list[TrafficSource] = Field(
        default_factory=list,
        description="data sources; empty means the default source on every lander",
    )
