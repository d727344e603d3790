"""The ``[simulation]`` table of a scenario file: settings of the store-and-forward simulation.

Every key is optional. Example::

    [simulation]
    seed = 1                      # random draws (link loss, missed contacts) are seeded
    loss_probability = 0.0        # probability that a bundle sent on a contact is lost
    contact_confidence = 1.0      # probability that a planned contact happens at all
    storage_bits = 16e9           # default storage of every node (unlimited if not given)
    use_schedule = false          # keep only the proximity passes the schedule stage selected

    [[simulation.node]]
    name = "Rosalind Franklin"
    storage_bits = 4e9
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NodeStorage", "SimulationConfig"]


class NodeStorage(BaseModel):
    """``[[simulation.node]]``: storage of one node (bits)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    storage_bits: float = Field(gt=0.0, description="bundle storage, bits")


class SimulationConfig(BaseModel):
    """Settings read from the scenario's ``[simulation]`` table (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, description="seed of the random draws")
    loss_probability: float = Field(
        0.0, ge=0.0, le=1.0, description="probability a bundle sent on a contact is lost"
    )
    contact_confidence: float = Field(
        1.0, gt=0.0, le=1.0, description="probability that a planned contact happens"
    )
    storage_bits: float | None = Field(
        None, gt=0.0, description="default node storage, bits (None: unlimited)"
    )
    node: list[NodeStorage] = Field(default_factory=list, description="per-node storage")
    use_schedule: bool = Field(
        False, description="keep only the proximity passes selected by the schedule stage"
    )
    proximity_return: bool = Field(
        False, description="also model orbiter -> lander contacts in each proximity window"
    )
    one_transmitter_per_band: bool = Field(
        True,
        description="a node sends on one contact of a band (UHF, X/Ka to Earth) at a time",
    )
    default_proximity_rate_bps: float = Field(
        256e3, gt=0.0, description="rate when the links stage has not filled a proximity contact"
    )
    default_earth_rate_bps: float = Field(
        500e3, gt=0.0, description="rate when the links stage has not filled an Earth contact"
    )
    buffer_sample_s: float = Field(
        3600.0, gt=0.0, description="step of the buffer occupancy table, s"
    )
