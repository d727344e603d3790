"""The ``[schedule]`` table of a scenario file: settings of the schedule stage (pass choice).

Example::

    [schedule]
    solver = "cpsat"            # "cpsat" (exact, OR-Tools CP-SAT) | "greedy" (fast baseline)
    time_limit_s = 10.0
    deadline_lmst_h = 9.0       # a sol's data is due home by 09:00 LMST of the next sol
    split_passes = true         # two landers may share one orbiter overflight (default false)
    switch_time_s = 60.0        # hand-over from one lander to the next inside a split pass

    [[schedule.demand]]
    lander = "Rosalind Franklin"
    bits_per_sol = 150e6
    priority = 2.0

    [[schedule.orbiter_limits]]
    orbiter = "TGO"
    max_passes_per_sol = 4
    min_gap_s = 600.0

    [[schedule.fixed]]
    lander = "Rosalind Franklin"
    orbiter = "MRO"
    start = "2030-11-02T14:05:00Z"   # any instant inside the pass (or up to 120 s before it)
    action = "require"               # "require" | "forbid"

Every field has a default; unknown keys are an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DemandSpec", "FixedPassSpec", "OrbiterLimitSpec", "ScheduleConfig"]

#: Default lander demand, bits per sol: the Curiosity relay requirement of 250 Mbit/sol
#: (Bell et al. 2014, "MRO relay support of MSL surface operations", IEEE Aerospace).
DEFAULT_BITS_PER_SOL: float = 250e6


class DemandSpec(BaseModel):
    """``[[schedule.demand]]``: how much a lander wants home per sol, and how much it counts."""

    model_config = ConfigDict(extra="forbid")

    lander: str
    bits_per_sol: float = Field(DEFAULT_BITS_PER_SOL, ge=0.0)
    priority: float = Field(1.0, gt=0.0, le=1000.0)


class OrbiterLimitSpec(BaseModel):
    """``[[schedule.orbiter_limits]]``: per-orbiter operational limits."""

    model_config = ConfigDict(extra="forbid")

    orbiter: str
    #: At most this many relay passes per Mars sol (sols counted in Mars coordinated time,
    #: i.e. LMST at 0 deg longitude). ``None``: no limit.
    max_passes_per_sol: int | None = Field(None, ge=0)
    #: Minimum idle time between the end of one pass of this orbiter and the start of the
    #: next, s (slews, radio reconfiguration).
    min_gap_s: float = Field(0.0, ge=0.0)


class FixedPassSpec(BaseModel):
    """``[[schedule.fixed]]``: a pass the operators want taken or refused, decided in advance."""

    model_config = ConfigDict(extra="forbid")

    lander: str
    orbiter: str
    #: UTC ISO 8601 instant inside the pass (the pass whose window contains it, allowing
    #: ``ScheduleConfig.fixed_match_tolerance_s`` before its start).
    start: str
    action: Literal["require", "forbid"] = "require"

    @field_validator("start")
    @classmethod
    def _utc(cls, value: str) -> str:
        from marsrelay.geometry.time import utc_to_tdb

        utc_to_tdb(value)  # raises TimeError (a ValueError) with the reason
        return value


class ScheduleConfig(BaseModel):
    """Settings read from the scenario's ``[schedule]`` table (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")

    #: "cpsat": exact optimiser (OR-Tools CP-SAT, solved piece by piece, see
    #: marsrelay.schedule.decompose); "greedy": fast baseline.
    solver: Literal["cpsat", "greedy"] = "cpsat"
    #: Wall-clock limit of the whole exact solve, s (the best plan found and its gap are
    #: reported).
    time_limit_s: float = Field(10.0, gt=0.0)
    #: CP-SAT search workers (threads; the pieces are also solved this many at a time).
    workers: int = Field(2, ge=1, le=64)
    #: Data relayed during a lander's sol must be on Earth by this local mean solar time of
    #: the next sol (the next planning cycle), LMST hours.
    deadline_lmst_h: float = Field(9.0, ge=0.0, le=48.0)
    #: Fraction of each orbiter's Earth downlink volume available to relayed lander data.
    earth_share: float = Field(1.0, ge=0.0, le=1.0)
    #: Demand of landers without a ``[[schedule.demand]]`` entry, bits per sol.
    default_bits_per_sol: float = Field(DEFAULT_BITS_PER_SOL, ge=0.0)
    #: Proximity passes carrying less than this are not candidates, bits.
    min_pass_bits: float = Field(0.0, ge=0.0)
    #: Split passes: when two landers' passes on one orbiter overlap, the orbiter may serve
    #: one lander for the first part of the overlap and the other for the rest (one radio,
    #: one lander at a time). Each lander's part (its share) is a candidate of its own;
    #: ``schedule.csv`` marks a pass used that way ``split``, with the share's window.
    split_passes: bool = False
    #: Hand-over time inside a split pass, s: the orbiter's radio ends the session with one
    #: lander and hails the next (Proximity-1 hailing and link set-up; assumed, no published
    #: figure found). A share and a pass of another lander on the same orbiter are at least
    #: ``max(switch_time_s, min_gap_s)`` apart; whole passes keep ``min_gap_s`` alone.
    switch_time_s: float = Field(60.0, ge=0.0)
    #: Split passes: the range of hand-over instants of each overlap of two landers' passes is
    #: cut into this many equal parts (``split_cuts + 1`` candidate instants, its ends
    #: included): more give finer shares and a larger problem.
    split_cuts: int = Field(2, ge=1, le=32)
    #: How far before a pass's start a ``[[schedule.fixed]]`` instant may lie, s.
    fixed_match_tolerance_s: float = Field(120.0, ge=0.0)
    demand: list[DemandSpec] = Field(default_factory=list)
    orbiter_limits: list[OrbiterLimitSpec] = Field(default_factory=list)
    fixed: list[FixedPassSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ScheduleConfig:
        for key, items, attr in (("demand", self.demand, "lander"),
                                 ("orbiter_limits", self.orbiter_limits, "orbiter")):
            names = [getattr(item, attr) for item in items]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{key}: {attr} {dup[0]!r} is listed more than once")
        return self
