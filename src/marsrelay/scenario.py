"""Scenario files (TOML): loading, validation, and the validated :class:`Scenario`.

A scenario describes one relay network (orbiters, landers, Earth stations) over one time span.
The keys of the project's scenario specification are a contract: they are all accepted, and any
unknown key is an error naming the file, the key's path and the nearest known key. Every problem
raises :class:`ScenarioError` (an :class:`~marsrelay.errors.InputError`) whose message is one
line: ``file: field.path: what is wrong (allowed: what is allowed)``.

Layout of a file (all keys; ``*`` marks the required ones)::

    [scenario]    name*, description, start*, end*, rotation_model, conjunction_sep_deg,
                  grazing_height_km, compare_without
    [[orbiter]]   name*, agency, max_range_km, radio, blackouts, and exactly one of
                  [orbiter.elements] (a_km*, i_deg*, e, raan_deg, argp_deg, mean_anomaly_deg,
                  epoch), [orbiter.spk] (path*, naif_id*), [orbiter.oem] (path*)
    [[lander]]    name*, agency, lat_deg*, lon_east_deg*, height_km, elevation_mask_deg, radio,
                  direct_to_earth, blackouts
    [[station]]   name*, agency, lat_deg*, lon_east_deg*, height_m, elevation_mask_deg, dish_m,
                  blackouts
    [links] [traffic] [schedule] [simulation]   stage settings (marsrelay.config)
    [ion]         nodes: ION node numbers -> node names for ION contact plans

Times are UTC ISO 8601 strings (or TOML date-times) and must lie inside the DE421 ephemeris
(1900 through 2050). An element ``epoch`` defaults to the scenario start; ``e``, ``raan_deg``,
``argp_deg`` and ``mean_anomaly_deg`` default to 0. Masks default to 10 deg, ``height_km`` and
``height_m`` to 0. Relative ``spk``/``oem`` paths are relative to the scenario file.

Worked example::

    >>> from marsrelay.scenario import load_scenario
    >>> sc = load_scenario("exomars-2030")
    >>> sc.name, sc.rotation_model, sc.landers[0].name
    ('exomars-2030', 'iau2009', 'Rosalind Franklin')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import math
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from marsrelay.config import (
    IonConfig,
    LinksConfig,
    ScheduleConfig,
    SimulationConfig,
    TrafficConfig,
)
from marsrelay.constants import MARS_EQ_RADIUS_KM
from marsrelay.errors import InputError
from marsrelay.geometry.ephemeris import (
    Ephemeris,
    EphemerisCoverageError,
    SpkEphemeris,
    load_ephemeris,
)
from marsrelay.geometry.orbits import (
    J2Orbit,
    MeanElements,
    OemTrajectory,
    SpkTrajectory,
    Trajectory,
    TrajectoryError,
)
from marsrelay.geometry.rotation import RotationModel, rotation_model
from marsrelay.geometry.sites import EarthStation, MarsSite
from marsrelay.geometry.time import TimeError, tdb_to_utc, utc_to_tdb

__all__ = [
    "BUILTIN_DIR",
    "LanderSpec",
    "OrbiterSpec",
    "Scenario",
    "ScenarioError",
    "Window",
    "builtin_scenario_names",
    "builtin_scenario_path",
    "load_scenario",
]

#: Folder of the built-in scenarios shipped with the package.
BUILTIN_DIR: Path = Path(__file__).resolve().parent / "scenarios"

#: A time window, ``(start, end)`` in TDB seconds past J2000.
Window = tuple[float, float]


class ScenarioError(InputError):
    """A scenario file that cannot be used: ``file: field: problem (allowed: ...)``."""


# --------------------------------------------------------------------------------------------
# The validated scenario
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrbiterSpec:
    """An orbiter: exactly one of ``elements``, ``spk_path`` (+ ``naif_id``) or ``oem_path``.

    ``max_range_km`` bounds proximity links (km; ``inf``, no bound, when the scenario omits
    it: spec/scenario.md makes the key optional and states no default); ``blackouts`` are
    TDB-second windows when the orbiter is unavailable.
    """

    name: str
    agency: str = ""
    max_range_km: float = math.inf
    radio: str | None = None
    elements: MeanElements | None = None
    spk_path: Path | None = None
    naif_id: int | None = None
    oem_path: Path | None = None
    blackouts: tuple[Window, ...] = ()

    @property
    def source(self) -> Literal["elements", "spk", "oem"]:
        """Which kind of trajectory the orbiter has."""
        if self.elements is not None:
            return "elements"
        return "spk" if self.spk_path is not None else "oem"

    def trajectory(self, rotation: RotationModel) -> Trajectory:
        """The orbiter's trajectory (Mars-centred ICRF states, km and km/s).

        ``rotation`` fixes ``MARS_EQ_J2000`` for mean elements; SPK and OEM states are already
        ICRF and ignore it. An SPK trajectory holds SPICE kernels loaded until its ``close()``.
        """
        if self.elements is not None:
            return J2Orbit(self.elements, rotation)
        if self.spk_path is not None:
            if self.naif_id is None:
                raise TrajectoryError(f"orbiter {self.name!r}: an SPK trajectory needs naif_id")
            return SpkTrajectory(self.spk_path, self.naif_id)
        if self.oem_path is not None:
            return OemTrajectory(self.oem_path)
        raise TrajectoryError(f"orbiter {self.name!r} has no elements, spk or oem")


@dataclass(frozen=True)
class LanderSpec:
    """A surface asset: its site (with elevation mask), radio and availability."""

    name: str
    site: MarsSite
    agency: str = ""
    radio: str | None = None
    direct_to_earth: bool = True
    blackouts: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Times inside are TDB seconds past J2000; ``*_utc`` as given."""

    name: str
    description: str
    path: Path | None
    start_utc: str
    end_utc: str
    start_tdb_s: float
    end_tdb_s: float
    rotation_model: str = "iau2009"
    conjunction_sep_deg: float = 2.0
    grazing_height_km: float = 0.0
    #: Partners (agencies or node names) whose loss ``marsrelay run`` shows side by side.
    compare_without: tuple[str, ...] = ()
    #: A JPL planetary SPK named by ``[scenario] ephemeris`` (None: DE421 from the package).
    ephemeris_path: Path | None = None
    orbiters: tuple[OrbiterSpec, ...] = ()
    landers: tuple[LanderSpec, ...] = ()
    stations: tuple[EarthStation, ...] = ()
    station_blackouts: dict[str, tuple[Window, ...]] = field(default_factory=dict)
    links: LinksConfig = field(default_factory=LinksConfig)
    traffic: TrafficConfig = field(default_factory=TrafficConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    ion: IonConfig = field(default_factory=IonConfig)

    @property
    def rotation(self) -> RotationModel:
        """The Mars rotation model named by :attr:`rotation_model`."""
        return rotation_model(self.rotation_model)

    @property
    def ephemeris(self) -> Ephemeris | SpkEphemeris:
        """The planetary ephemeris: DE421, or the SPK file ``[scenario] ephemeris`` names."""
        return load_ephemeris(None if self.ephemeris_path is None else str(self.ephemeris_path))

    @property
    def duration_s(self) -> float:
        """Length of the span, s (TDB)."""
        return self.end_tdb_s - self.start_tdb_s

    def node_names(self) -> list[str]:
        """Names of all nodes: orbiters, then landers, then stations (file order)."""
        return [n.name for n in (*self.orbiters, *self.landers, *self.stations)]

    def with_overrides(self, **changes: Any) -> Scenario:
        """A copy with some fields replaced (``dataclasses.replace``), e.g. for sweeps.

        Changing ``start_utc``/``end_utc`` recomputes the TDB seconds and vice versa.
        Raises :class:`ScenarioError` if the span ends up empty.
        """
        for utc_key, tdb_key in (("start_utc", "start_tdb_s"), ("end_utc", "end_tdb_s")):
            if utc_key in changes and tdb_key not in changes:
                changes[tdb_key] = float(utc_to_tdb(changes[utc_key]))
            elif tdb_key in changes and utc_key not in changes:
                changes[utc_key] = str(tdb_to_utc(changes[tdb_key]))
        new = dataclasses.replace(self, **changes)
        if new.end_tdb_s <= new.start_tdb_s:
            raise ScenarioError(
                f"end {new.end_utc} is not after start {new.start_utc}",
                file=str(self.path) if self.path else None,
                field="scenario.end",
                allowed="an end after the start",
            )
        return new

    def without(self, partner: str) -> Scenario:
        """The same scenario without a partner's assets: every orbiter, lander and station
        whose agency or name is ``partner`` (case-insensitive) is removed, with the
        ``[schedule]``, ``[traffic]``, ``[simulation]``, ``[links]`` and ``[ion]`` entries that
        name them.

        The copy is called ``<name>-without-<partner>``. Raises :class:`ScenarioError` if
        nothing matches (naming the agencies and nodes there are) or if no lander would remain.
        """
        key = partner.strip().lower()

        def gone(node: Any) -> bool:
            return node.name.lower() == key or (node.agency or "").lower() == key

        removed = {n.name for n in (*self.orbiters, *self.landers, *self.stations) if gone(n)}
        where = str(self.path) if self.path else None
        if not removed:
            agencies = sorted({n.agency for n in (*self.orbiters, *self.landers, *self.stations)
                               if n.agency})
            raise ScenarioError(
                f"no orbiter, lander or station has agency or name {partner!r}",
                file=where, field="--without",
                allowed="an agency (" + ", ".join(agencies) + ") or a node name",
            )
        landers = tuple(n for n in self.landers if n.name not in removed)
        if not landers:
            raise ScenarioError(
                f"removing {partner!r} leaves no lander", file=where, field="--without",
                allowed="a partner that does not own every lander",
            )
        sched = self.schedule.model_copy(update={
            "demand": [d for d in self.schedule.demand if d.lander not in removed],
            "orbiter_limits": [o for o in self.schedule.orbiter_limits
                               if o.orbiter not in removed],
            "fixed": [f for f in self.schedule.fixed
                      if f.lander not in removed and f.orbiter not in removed],
        })
        traffic = self.traffic.model_copy(update={
            "source": [x for x in self.traffic.source if x.node not in removed]})
        simulation = self.simulation.model_copy(update={
            "node": [x for x in self.simulation.node if x.name not in removed]})
        links = self.links.model_copy(update={
            "spacecraft": {k: v for k, v in self.links.spacecraft.items() if k not in removed},
            "stations": {k: v for k, v in self.links.stations.items() if k not in removed},
        })
        ion = self.ion.model_copy(update={
            "nodes": {n: v for n, v in self.ion.nodes.items() if v not in removed}})
        slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-") or "partner"
        return dataclasses.replace(
            self,
            name=f"{self.name}-without-{slug}",
            description=f"{self.description} (without {partner}: {', '.join(sorted(removed))})",
            orbiters=tuple(n for n in self.orbiters if n.name not in removed),
            landers=landers,
            stations=tuple(n for n in self.stations if n.name not in removed),
            station_blackouts={k: v for k, v in self.station_blackouts.items()
                               if k not in removed},
            schedule=sched, traffic=traffic, simulation=simulation, links=links, ion=ion,
            compare_without=(),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the validated scenario (UTC strings and TDB seconds)."""

        def windows(ws: tuple[Window, ...]) -> list[dict[str, Any]]:
            return [
                {"start_utc": str(tdb_to_utc(a)), "end_utc": str(tdb_to_utc(b)),
                 "start_tdb_s": a, "end_tdb_s": b}
                for a, b in ws
            ]

        def orbiter(o: OrbiterSpec) -> dict[str, Any]:
            out: dict[str, Any] = {
                "name": o.name,
                "agency": o.agency,
                "max_range_km": o.max_range_km if math.isfinite(o.max_range_km) else None,
                "radio": o.radio, "source": o.source, "blackouts": windows(o.blackouts),
            }
            if o.elements is not None:
                out["elements"] = dataclasses.asdict(o.elements)
                out["elements"]["epoch_utc"] = str(tdb_to_utc(o.elements.epoch_tdb_s))
            if o.spk_path is not None:
                out["spk"] = {"path": str(o.spk_path), "naif_id": o.naif_id}
            if o.oem_path is not None:
                out["oem"] = {"path": str(o.oem_path)}
            return out

        def lander(la: LanderSpec) -> dict[str, Any]:
            s = la.site
            return {
                "name": la.name, "agency": la.agency, "lat_deg": s.lat_deg,
                "lon_east_deg": s.lon_east_deg, "height_km": s.height_km,
                "elevation_mask_deg": s.elevation_mask_deg, "radio": la.radio,
                "direct_to_earth": la.direct_to_earth, "blackouts": windows(la.blackouts),
            }

        def station(st: EarthStation) -> dict[str, Any]:
            return {
                "name": st.name, "agency": st.agency, "lat_deg": st.lat_deg,
                "lon_east_deg": st.lon_east_deg, "height_m": st.height_m,
                "elevation_mask_deg": st.elevation_mask_deg, "dish_m": st.dish_m,
                "blackouts": windows(self.station_blackouts.get(st.name, ())),
            }

        return {
            "name": self.name,
            "description": self.description,
            "path": str(self.path) if self.path else None,
            "start_utc": self.start_utc,
            "end_utc": self.end_utc,
            "start_tdb_s": self.start_tdb_s,
            "end_tdb_s": self.end_tdb_s,
            "rotation_model": self.rotation_model,
            "conjunction_sep_deg": self.conjunction_sep_deg,
            "grazing_height_km": self.grazing_height_km,
            "compare_without": list(self.compare_without),
            "ephemeris": str(self.ephemeris_path) if self.ephemeris_path else "DE421",
            "orbiters": [orbiter(o) for o in self.orbiters],
            "landers": [lander(la) for la in self.landers],
            "stations": [station(st) for st in self.stations],
            "links": self.links.model_dump(mode="json"),
            "traffic": self.traffic.model_dump(mode="json"),
            "schedule": self.schedule.model_dump(mode="json"),
            "simulation": self.simulation.model_dump(mode="json"),
            "ion": self.ion.model_dump(mode="json"),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# File schema (pydantic): structure, types, ranges, unknown keys
# --------------------------------------------------------------------------------------------


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


_UTC_ALLOWED = "a UTC ISO 8601 time such as '2030-06-01T00:00:00Z'"
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


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class _ScenarioTable(_Table):
    name: str = _spec(..., "lower-case letters, digits and '-' ([a-z0-9-]+)",
                      pattern=r"^[a-z0-9-]+$")
    description: str = ""
    start: UtcText = _spec(..., _UTC_ALLOWED)
    end: UtcText = _spec(..., _UTC_ALLOWED)
    rotation_model: Literal["iau2009", "iau2015"] = _spec("iau2009", "'iau2009' or 'iau2015'")
    conjunction_sep_deg: float = _spec(2.0, "deg in [0, 180)", ge=0.0, lt=180.0)
    grazing_height_km: float = _spec(0.0, "km in [0, 1000]", ge=0.0, le=1000.0)
    compare_without: list[str] = _spec([], "a list of agencies or node names")
    ephemeris: str | None = _spec(None, "a JPL planetary SPK file (.bsp), relative to this file")


class _ElementsTable(_Table):
    epoch: UtcText | None = _spec(None, _UTC_ALLOWED + " (default: the scenario start)")
    a_km: float = _spec(..., f"km, with periapsis a_km * (1 - e) > {MARS_EQ_RADIUS_KM} km",
                        gt=0.0)
    e: float = _spec(0.0, "0 <= e < 1", ge=0.0, lt=1.0)
    i_deg: float = _spec(..., "deg in [0, 180]", ge=0.0, le=180.0)
    raan_deg: float = _spec(0.0, "a finite angle in deg")
    argp_deg: float = _spec(0.0, "a finite angle in deg")
    mean_anomaly_deg: float = _spec(0.0, "a finite angle in deg")


class _SpkTable(_Table):
    path: str = _spec(..., "an SPK file path (relative to the scenario file)", min_length=1)
    naif_id: int = _spec(..., "the NAIF integer id of the spacecraft, e.g. -143")


class _OemTable(_Table):
    path: str = _spec(..., "a CCSDS OEM file path (relative to the scenario file)", min_length=1)


class _OrbiterTable(_Table):
    name: NodeName
    agency: str = ""
    max_range_km: float | None = _spec(None, "km, > 0 (omit for no range limit)", gt=0.0)
    radio: str | None = None
    elements: _ElementsTable | None = None
    spk: _SpkTable | None = None
    oem: _OemTable | None = None
    blackouts: Blackouts


class _LanderTable(_Table):
    name: NodeName
    agency: str = ""
    lat_deg: float = _spec(..., "planetocentric " + _LAT, ge=-90.0, le=90.0)
    lon_east_deg: float = _spec(..., _LON, ge=-180.0, lt=360.0)
    height_km: float = _spec(0.0, "km over the IAU ellipsoid in [-10, 25]", ge=-10.0, le=25.0)
    elevation_mask_deg: float = _spec(10.0, _MASK, ge=0.0, lt=90.0)
    radio: str | None = None
    direct_to_earth: bool = True
    blackouts: Blackouts


class _StationTable(_Table):
    name: NodeName
    agency: str = ""
    lat_deg: float = _spec(..., "geodetic (WGS84) " + _LAT, ge=-90.0, le=90.0)
    lon_east_deg: float = _spec(..., _LON, ge=-180.0, lt=360.0)
    height_m: float = _spec(0.0, "m over WGS84 in [-1000, 10000]", ge=-1000.0, le=10000.0)
    elevation_mask_deg: float = _spec(10.0, _MASK, ge=0.0, lt=90.0)
    dish_m: float | None = _spec(None, "m, > 0", gt=0.0)
    blackouts: Blackouts


def _array_of(table: str) -> str:
    return f"an array of tables: write each one as [[{table}]]"


class _ScenarioFile(_Table):
    scenario: _ScenarioTable = _spec(..., "a [scenario] table with name, start and end")
    orbiter: list[_OrbiterTable] = _spec([], _array_of("orbiter"))
    lander: list[_LanderTable] = _spec([], _array_of("lander"))
    station: list[_StationTable] = _spec([], _array_of("station"))
    links: LinksConfig = Field(default_factory=LinksConfig)
    traffic: TrafficConfig = Field(default_factory=TrafficConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    ion: IonConfig = Field(default_factory=IonConfig)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _schema_at(loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the key at ``loc`` (or None) and that key's field."""
    model: type[BaseModel] | None = _ScenarioFile
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None, None
        info = model.model_fields[part]
        model = _inner_model(info.annotation)
    return model, info


def _allowed_text(info: FieldInfo | None, model: type[BaseModel] | None) -> str | None:
    extra = info.json_schema_extra if info is not None else None
    if isinstance(extra, dict) and extra.get("allowed"):
        return str(extra["allowed"])
    if model is not None:
        return "a table with keys " + ", ".join(model.model_fields) if model.model_fields else (
            "an empty table (no keys defined yet)"
        )
    return None


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validation_error(exc: ValidationError, file: str) -> ScenarioError:
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the real one "missing": report the unknown key, the cause.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    where = _loc_text(loc)
    if err["type"] == "extra_forbidden":
        parent, _ = _schema_at(loc[:-1])
        known = list(parent.model_fields) if parent is not None else []
        key = str(loc[-1])
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.0)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        allowed = ("keys " + ", ".join(known)) if known else "no keys in this table"
        return ScenarioError(f"unknown key {key!r}{hint}", file=file, field=where, allowed=allowed)
    model, info = _schema_at(loc)
    allowed = _allowed_text(info, model)
    if err["type"] == "missing":
        return ScenarioError("required key is missing", file=file, field=where, allowed=allowed)
    msg = str(err["msg"])
    msg = msg[:1].lower() + msg[1:]
    return ScenarioError(f"got {_shown(err['input'])}: {msg}", file=file, field=where,
                         allowed=allowed)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def builtin_scenario_names() -> list[str]:
    """Names of the built-in scenarios (the ``.toml`` files shipped in the package), sorted."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def builtin_scenario_path(name: str) -> Path:
    """Path of the built-in scenario ``name``; :class:`ScenarioError` if there is none."""
    names = builtin_scenario_names()
    if name not in names:
        near = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ScenarioError(
            f"no scenario file or built-in scenario called {name!r}{hint}",
            file=name,
            allowed="a path to a .toml file or a built-in: " + ", ".join(names),
        )
    return BUILTIN_DIR / f"{name}.toml"


def load_scenario(source: str | Path) -> Scenario:
    """Load and validate a scenario: a built-in name (see :func:`builtin_scenario_names`) or
    the path of a TOML file. Raises :class:`ScenarioError` (one line) on any problem."""
    text = str(source)
    path = Path(source)
    if isinstance(source, str) and text in builtin_scenario_names():
        path = BUILTIN_DIR / f"{text}.toml"
    elif not path.is_file():
        if isinstance(source, str) and not (path.suffix or "/" in text or "\\" in text):
            builtin_scenario_path(text)  # not a built-in either: raises with a did-you-mean
        raise ScenarioError(
            "not a file" if path.exists() else "no such scenario file",
            file=text,
            allowed="a path to a .toml file or a built-in: " + ", ".join(builtin_scenario_names()),
        )
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", file=str(path)) from exc
    try:
        content = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text: {exc.reason} at byte {exc.start}",
                            file=str(path), allowed="a UTF-8 TOML file") from exc
    return _parse(content, file=str(path), path=path.resolve())


def _parse(text: str, *, file: str, path: Path | None) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise ScenarioError(
            f"TOML syntax error: {exc}",
            file=file,
            field=f"line {m.group(1)}" if m else None,
            allowed="TOML 1.0 syntax (https://toml.io)",
        ) from exc
    try:
        raw = _ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, file) from None
    return _Builder(file, path).build(raw)


class _Builder:
    """Second pass: times, cross-field rules, files; turns the tables into the Scenario."""

    def __init__(self, file: str, path: Path | None) -> None:
        self.file = file
        self.base_dir = path.parent if path is not None else Path.cwd()
        self.path = path
        self.coverage = Ephemeris.de421().coverage_tdb_s
        self.ephemeris_name = "DE421"
        self.ephemeris_note = "DE421: 1900 through 2050"

    def error(self, message: str, where: str | None, allowed: str | None = None) -> ScenarioError:
        return ScenarioError(message, file=self.file, field=where, allowed=allowed)

    def tdb(self, text: str, where: str, in_coverage: bool = True) -> float:
        try:
            t = float(utc_to_tdb(text))
        except TimeError:
            raise self.error(f"{text!r} is not a valid UTC time", where, _UTC_ALLOWED) from None
        lo, hi = self.coverage
        if in_coverage and not (lo <= t <= hi):
            span = f"{tdb_to_utc(lo, digits=0)} .. {tdb_to_utc(hi, digits=0)}"
            raise self.error(f"{text} is outside the {self.ephemeris_name} ephemeris", where,
                             f"UTC times in {span} ({self.ephemeris_note})")
        return t

    def windows(self, pairs: list[list[str]], where: str) -> tuple[Window, ...]:
        out = []
        for k, (a, b) in enumerate(pairs):
            ta = self.tdb(a, f"{where}[{k}][0]", in_coverage=False)
            tb = self.tdb(b, f"{where}[{k}][1]", in_coverage=False)
            if tb <= ta:
                raise self.error(f"window end {b} is not after its start {a}", f"{where}[{k}]",
                                 "[start, end] with end after start")
            out.append((ta, tb))
        return tuple(out)

    def file_path(self, text: str, where: str, kind: str) -> Path:
        p = Path(text).expanduser()
        p = p if p.is_absolute() else self.base_dir / p
        if not p.is_file():
            raise self.error(f"{kind} file not found: {p}", where,
                             f"an existing {kind} file; relative paths start at the scenario's "
                             "folder")
        return p

    def orbiter(self, k: int, o: _OrbiterTable, start_tdb: float) -> OrbiterSpec:
        where = f"orbiter[{k}]"
        given = [n for n in ("elements", "spk", "oem") if getattr(o, n) is not None]
        if len(given) != 1:
            has = " and ".join(given) if given else "none of elements, spk, oem"
            raise self.error(f"orbiter {o.name!r} gives {has}", where,
                             "exactly one of [orbiter.elements], [orbiter.spk], [orbiter.oem]")
        spec = OrbiterSpec(name=o.name, agency=o.agency,
                           max_range_km=math.inf if o.max_range_km is None else o.max_range_km,
                           radio=o.radio, blackouts=self.windows(o.blackouts, f"{where}.blackouts"))
        if o.elements is not None:
            el = o.elements
            epoch = start_tdb if el.epoch is None else self.tdb(el.epoch, f"{where}.elements.epoch")
            elements = MeanElements(epoch, el.a_km, el.e, el.i_deg, el.raan_deg, el.argp_deg,
                                    el.mean_anomaly_deg)
            try:
                elements.validate()
            except TrajectoryError as exc:
                raise self.error(str(exc), f"{where}.elements",
                                 f"a_km * (1 - e) > {MARS_EQ_RADIUS_KM} km") from None
            return dataclasses.replace(spec, elements=elements)
        if o.spk is not None:
            p = self.file_path(o.spk.path, f"{where}.spk.path", "SPK")
            return dataclasses.replace(spec, spk_path=p, naif_id=o.spk.naif_id)
        assert o.oem is not None
        return dataclasses.replace(spec, oem_path=self.file_path(o.oem.path, f"{where}.oem.path",
                                                                  "OEM"))

    def build(self, raw: _ScenarioFile) -> Scenario:
        s = raw.scenario
        ephemeris_path = None
        if s.ephemeris is not None:
            ephemeris_path = (self.base_dir / s.ephemeris).resolve()
            try:
                self.coverage = load_ephemeris(str(ephemeris_path)).coverage_tdb_s
                self.ephemeris_name = self.ephemeris_note = ephemeris_path.name
            except EphemerisCoverageError as exc:
                raise self.error(str(exc), "scenario.ephemeris",
                                 "a JPL planetary SPK (e.g. de440s.bsp) with the Sun, "
                                 "Earth and Mars") from None
        start = self.tdb(s.start, "scenario.start")
        end = self.tdb(s.end, "scenario.end")
        if end <= start:
            raise self.error(f"end {s.end} is not after start {s.start}", "scenario.end",
                             f"a time after scenario.start ({s.start})")
        seen: dict[str, str] = {}
        for kind, tables in (("orbiter", raw.orbiter), ("lander", raw.lander),
                             ("station", raw.station)):
            for k, t in enumerate(tables):
                key = t.name.casefold()
                if key in seen:
                    raise self.error(f"name {t.name!r} is already used by {seen[key]}",
                                     f"{kind}[{k}].name",
                                     "names unique among orbiters, landers and stations "
                                     "(ignoring case)")
                seen[key] = f"{kind}[{k}]"
        names = [t.name for t in (*raw.orbiter, *raw.lander, *raw.station)]
        for number, name in raw.ion.nodes.items():
            if name not in names:
                raise self.error(f"ION node {number} names {name!r}, which is not an orbiter, "
                                 "lander or station here", f"ion.nodes.{number}",
                                 ", ".join(names))
        orbiters = tuple(self.orbiter(k, o, start) for k, o in enumerate(raw.orbiter))
        landers = tuple(
            LanderSpec(
                name=la.name,
                agency=la.agency,
                site=MarsSite(la.name, la.lat_deg, la.lon_east_deg, la.height_km,
                              la.elevation_mask_deg),
                radio=la.radio,
                direct_to_earth=la.direct_to_earth,
                blackouts=self.windows(la.blackouts, f"lander[{k}].blackouts"),
            )
            for k, la in enumerate(raw.lander)
        )
        stations = tuple(
            EarthStation(st.name, st.lat_deg, st.lon_east_deg, st.height_m,
                         st.elevation_mask_deg, st.dish_m, st.agency)
            for st in raw.station
        )
        station_blackouts = {
            st.name: self.windows(st.blackouts, f"station[{k}].blackouts")
            for k, st in enumerate(raw.station)
        }
        return Scenario(
            name=s.name,
            description=s.description,
            path=self.path,
            start_utc=s.start,
            end_utc=s.end,
            start_tdb_s=start,
            end_tdb_s=end,
            rotation_model=s.rotation_model,
            conjunction_sep_deg=s.conjunction_sep_deg,
            grazing_height_km=s.grazing_height_km,
            compare_without=tuple(s.compare_without),
            ephemeris_path=ephemeris_path,
            orbiters=orbiters,
            landers=landers,
            stations=stations,
            station_blackouts=station_blackouts,
            links=raw.links,
            traffic=raw.traffic,
            schedule=raw.schedule,
            simulation=raw.simulation,
            ion=raw.ion,
        )
