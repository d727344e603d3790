"""The scenario file's structure (pydantic): tables, keys, types, ranges, unknown keys.

Each field carries an ``allowed`` text that error messages quote. :mod:`.load` validates a
parsed TOML document with :class:`ScenarioFile`, then builds the :class:`~.model.Scenario`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from marsrelay.config import (
    IonConfig,
    LinksConfig,
    ScheduleConfig,
    SimulationConfig,
    TrafficConfig,
)
from marsrelay.constants import DEFAULT_ELEVATION_MASK_DEG, MARS_EQ_RADIUS_KM


def _spec(default: Any, allowed: str, **constraints: Any) -> Any:
    """A pydantic field whose ``allowed`` text goes into error messages."""
    return Field(default, json_schema_extra={"allowed": allowed}, **constraints)


def _datetime_to_text(value: Any) -> Any:
    """TOML date-times and dates -> UTC ISO strings (naive ones are read as UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00Z"
    return value


UTC_ALLOWED = "a UTC ISO 8601 time such as '2030-06-01T00:00:00Z'"
UtcText = Annotated[str, BeforeValidator(_datetime_to_text)]
NodeName = Annotated[
    str,
    _spec(
        ...,
        "1 to 64 characters, no leading or trailing spaces",
        min_length=1,
        max_length=64,
        pattern=r"^\S(?:[^\x00-\x1f]*\S)?$",
    ),
]
Blackouts = Annotated[
    list[Annotated[list[UtcText], Field(min_length=2, max_length=2)]],
    _spec([], "an array of [start, end] UTC pairs, e.g. [['2030-06-02T00:00:00Z', "
          "'2030-06-02T06:00:00Z']]"),
]
_LAT = "deg in [-90, 90]"
_LON = "deg east in [0, 360) or [-180, 180)"
_MASK = "deg in [0, 90)"


class FileTable(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class ScenarioTable(FileTable):
    name: str = _spec(..., "lower-case letters, digits and '-' ([a-z0-9-]+)",
                      pattern=r"^[a-z0-9-]+$")
    description: str = ""
    start: UtcText = _spec(..., UTC_ALLOWED)
    end: UtcText = _spec(..., UTC_ALLOWED)
    rotation_model: Literal["iau2009", "iau2015"] = _spec("iau2009", "'iau2009' or 'iau2015'")
    conjunction_sep_deg: float = _spec(2.0, "deg in [0, 180)", ge=0.0, lt=180.0)
    grazing_height_km: float = _spec(0.0, "km in [0, 1000]", ge=0.0, le=1000.0)
    compare_without: list[str] = _spec([], "a list of agencies or node names")
    ephemeris: str | None = _spec(None, "a JPL planetary SPK file (.bsp), relative to this file")


class ElementsTable(FileTable):
    epoch: UtcText | None = _spec(None, UTC_ALLOWED + " (default: the scenario start)")
    a_km: float = _spec(..., f"km, with periapsis a_km * (1 - e) > {MARS_EQ_RADIUS_KM} km",
                        gt=0.0)
    e: float = _spec(0.0, "0 <= e < 1", ge=0.0, lt=1.0)
    i_deg: float = _spec(..., "deg in [0, 180]", ge=0.0, le=180.0)
    raan_deg: float = _spec(0.0, "a finite angle in deg")
    argp_deg: float = _spec(0.0, "a finite angle in deg")
    mean_anomaly_deg: float = _spec(0.0, "a finite angle in deg")


class SpkTable(FileTable):
    path: str = _spec(..., "an SPK file path (relative to the scenario file)", min_length=1)
    naif_id: int = _spec(..., "the NAIF integer id of the spacecraft, e.g. -143")


class OemTable(FileTable):
    path: str = _spec(..., "a CCSDS OEM file path (relative to the scenario file)", min_length=1)


class OrbiterTable(FileTable):
    name: NodeName
    agency: str = ""
    max_range_km: float | None = _spec(None, "km, > 0 (omit for no range limit)", gt=0.0)
    radio: str | None = None
    elements: ElementsTable | None = None
    spk: SpkTable | None = None
    oem: OemTable | None = None
    blackouts: Blackouts


class LanderTable(FileTable):
    name: NodeName
    agency: str = ""
    lat_deg: float = _spec(..., "planetocentric " + _LAT, ge=-90.0, le=90.0)
    lon_east_deg: float = _spec(..., _LON, ge=-180.0, lt=360.0)
    height_km: float = _spec(0.0, "km over the IAU ellipsoid in [-10, 25]", ge=-10.0, le=25.0)
    elevation_mask_deg: float = _spec(DEFAULT_ELEVATION_MASK_DEG, _MASK, ge=0.0, lt=90.0)
    radio: str | None = None
    direct_to_earth: bool = True
    blackouts: Blackouts


class StationTable(FileTable):
    name: NodeName
    agency: str = ""
    lat_deg: float = _spec(..., "geodetic (WGS84) " + _LAT, ge=-90.0, le=90.0)
    lon_east_deg: float = _spec(..., _LON, ge=-180.0, lt=360.0)
    height_m: float = _spec(0.0, "m over WGS84 in [-1000, 10000]", ge=-1000.0, le=10000.0)
    elevation_mask_deg: float = _spec(DEFAULT_ELEVATION_MASK_DEG, _MASK, ge=0.0, lt=90.0)
    dish_m: float | None = _spec(None, "m, > 0", gt=0.0)
    blackouts: Blackouts


def _array_of(table: str) -> str:
    return f"an array of tables: write each one as [[{table}]]"


class ScenarioFile(FileTable):
    scenario: ScenarioTable = _spec(..., "a [scenario] table with name, start and end")
    orbiter: list[OrbiterTable] = _spec([], _array_of("orbiter"))
    lander: list[LanderTable] = _spec([], _array_of("lander"))
    station: list[StationTable] = _spec([], _array_of("station"))
    links: LinksConfig = Field(default_factory=LinksConfig)
    traffic: TrafficConfig = Field(default_factory=TrafficConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    ion: IonConfig = Field(default_factory=IonConfig)


