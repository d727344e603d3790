"""Earth resources in a scenario file: antennas, tracking allocations, direct-to-Earth sessions.

The schedule stage allocates Earth passes (:mod:`marsrelay.schedule.earth`): each orbiter gets
tracks on the scenario's antennas within its tracking allocation, each lander its direct-to-Earth
sessions, and no antenna serves more spacecraft at once than it can. The keys belong to the
nodes they describe, so a node's settings come and go with it; the ``[earth]`` table holds the
allocation's own settings. Every key is optional; unknown keys are an error. Example::

    [earth]
    allocate = true                # false: every Earth window usable at once (capacity only)
    solver = "cpsat"               # "cpsat" (exact) | "greedy"; default: [schedule] solver
    time_limit_s = 10.0            # default: [schedule] time_limit_s
    candidate_step_s = 1800.0      # candidate track starts every this many seconds

    [[station]]
    name = "DSS-26"
    # ... position keys ...
    mspa = 4                       # downlinks it receives at once (MSPA); 1: one spacecraft
    complex = "Goldstone"          # default: stations of one agency within 50 km of each other
    serves = ["MRO", "Curiosity"]  # default: every spacecraft

    [[orbiter]]
    name = "MRO"
    # ...
    [orbiter.tracking]             # the orbiter's tracking allocation
    hours_per_day = 16.0           # track time per UTC day
    passes_per_day = 2             # tracks per UTC day (each hours_per_day / passes_per_day)
    # or explicit tracks (then only these):
    # tracks = [{station = "DSS-26", start = "2019-06-01T02:00:00Z", end = "2019-06-01T10:00:00Z"}]

    [[lander]]
    name = "Curiosity"
    # ...
    [lander.dte]                   # direct-to-Earth sessions (with direct_to_earth = true)
    sessions_per_sol = 1
    session_minutes = 15.0
    rate_bps = 11000.0             # default: what the link supports (never above it)

:class:`EarthConfig` gathers both: the ``[earth]`` keys and, by node name, the antennas
(``stations``), tracking allocations (``orbiters``) and sessions (``landers``) the node tables
give. Defaults (sources in :mod:`marsrelay.schedule.earth.defaults`): an orbiter without a
``tracking`` table gets one 8-hour track per UTC day; a lander with ``direct_to_earth`` one
15-minute session per sol; an antenna serves one spacecraft at a time unless ``mspa`` says
more.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "EarthConfig",
    "EarthTable",
    "ExplicitTrack",
    "LanderSessions",
    "OrbiterTracking",
    "StationAntenna",
]


class StationAntenna(BaseModel):
    """One antenna's capacity, complex and the spacecraft it serves (``[[station]]`` keys)."""

    model_config = ConfigDict(extra="forbid")

    mspa: int = Field(1, ge=1, le=16, description="downlinks received at once (1: one spacecraft)",
                      json_schema_extra={"allowed": "an integer 1..16 (DSN MSPA: up to 4)"})
    complex: str | None = Field(None, min_length=1, description="the station's complex")
    serves: list[str] | None = Field(None, description="spacecraft it may track (default all)")


class ExplicitTrack(BaseModel):
    """One track given by the scenario: ``{station, start, end}`` (UTC)."""

    model_config = ConfigDict(extra="forbid")

    station: str
    start: str
    end: str

    @field_validator("start", "end", mode="before")
    @classmethod
    def _utc(cls, value: object) -> object:
        import datetime as dt

        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.isoformat() + "Z"
        return value


class OrbiterTracking(BaseModel):
    """``[orbiter.tracking]``: an orbiter's tracking allocation."""

    model_config = ConfigDict(extra="forbid")

    hours_per_day: float | None = Field(
        None, gt=0.0, le=24.0, description="track time per UTC day, h",
        json_schema_extra={"allowed": "hours in (0, 24]"})
    passes_per_day: int | None = Field(
        None, ge=0, le=24, description="tracks per UTC day",
        json_schema_extra={"allowed": "an integer 0..24"})
    tracks: list[ExplicitTrack] = Field(
        default_factory=list, description="explicit tracks (the orbiter then gets only these)")

    @model_validator(mode="after")
    def _not_both(self) -> OrbiterTracking:
        if self.tracks and (self.hours_per_day is not None or self.passes_per_day is not None):
            raise ValueError("give either tracks or hours_per_day/passes_per_day, not both")
        return self


class LanderSessions(BaseModel):
    """``[lander.dte]``: a lander's direct-to-Earth sessions."""

    model_config = ConfigDict(extra="forbid")

    sessions_per_sol: int = Field(1, ge=0, le=24, description="sessions per local sol",
                                  json_schema_extra={"allowed": "an integer 0..24"})
    session_minutes: float = Field(15.0, gt=0.0, le=720.0, description="session length, min",
                                   json_schema_extra={"allowed": "minutes in (0, 720]"})
    rate_bps: float | None = Field(None, gt=0.0, description="session data rate, bps "
                                   "(default: the link's rate; never above it)")


class EarthTable(BaseModel):
    """The ``[earth]`` table of a scenario file: the allocation's own settings."""

    model_config = ConfigDict(extra="forbid")

    allocate: bool = Field(True, description="allocate Earth passes (false: every Earth window "
                           "usable, one spacecraft per antenna not enforced)")
    solver: Literal["cpsat", "greedy"] | None = Field(
        None, description="Earth allocation solver (default: [schedule] solver)")
    time_limit_s: float | None = Field(None, gt=0.0, description="solver time limit, s "
                                       "(default: [schedule] time_limit_s)")
    candidate_step_s: float = Field(1800.0, ge=60.0, le=86400.0,
                                    description="candidate track starts every this many s")


class EarthConfig(EarthTable):
    """The Earth allocation's settings: the ``[earth]`` table's keys and, by node name, the
    node tables' antennas (``[[station]]`` ``mspa``/``complex``/``serves``), tracking
    allocations (``[orbiter.tracking]``) and direct-to-Earth sessions (``[lander.dte]``).
    Nodes without an entry get the defaults."""

    stations: dict[str, StationAntenna] = Field(default_factory=dict)
    orbiters: dict[str, OrbiterTracking] = Field(default_factory=dict)
    landers: dict[str, LanderSessions] = Field(default_factory=dict)
