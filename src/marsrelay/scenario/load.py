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
import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from marsrelay.constants import MARS_EQ_RADIUS_KM
from marsrelay.errors import (
    EphemerisCoverageError,
    ScenarioError,
    TimeError,
    TrajectoryError,
)
from marsrelay.geometry.ephemeris import Ephemeris, load_ephemeris
from marsrelay.geometry.orbits import MeanElements, SpkTrajectory
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import EarthStation, MarsSite
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.scenario.file_schema import UTC_ALLOWED, OrbiterTable, ScenarioFile
from marsrelay.scenario.model import LanderSpec, OrbiterSpec, Scenario, Window
from marsrelay.scenario.validation import combined, validation_error

T = TypeVar("T")

__all__ = [
    "BUILTIN_DIR",
    "builtin_scenario_names",
    "builtin_scenario_path",
    "load_scenario",
    "scenario_from_data",
]

#: Folder of the built-in scenarios shipped with the package.
BUILTIN_DIR: Path = Path(__file__).resolve().parent / "builtin"



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
    if not text.strip():
        raise ScenarioError("the scenario is an empty string", field="SCENARIO",
                            allowed="a path to a .toml file or a built-in: "
                            + ", ".join(builtin_scenario_names()))
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
        content = raw_bytes.decode("utf-8-sig")  # a byte-order mark is harmless: drop it
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
    return _validate(data, file=file, path=path)


def scenario_from_data(
    data: Mapping[str, Any], *, file: str = "scenario", base_path: Path | None = None
) -> Scenario:
    """Validate parsed scenario TOML (the file's tables as dicts, lists and scalars, e.g. a
    sweep case's base with parameters applied) into a :class:`Scenario`.

    Every check of :func:`load_scenario` applies; errors name ``file``. Relative ``spk``/``oem``
    paths are relative to ``base_path``'s folder (the current folder without one).
    """
    return _validate(dict(data), file=file,
                     path=None if base_path is None else Path(base_path).resolve())


def _validate(data: dict[str, Any], *, file: str, path: Path | None) -> Scenario:
    try:
        raw = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, file) from None
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
        self.errors: list[ScenarioError] = []

    def error(self, message: str, where: str | None, allowed: str | None = None) -> ScenarioError:
        return ScenarioError(message, file=self.file, field=where, allowed=allowed)

    def tdb(self, text: str, where: str, in_coverage: bool = True) -> float:
        try:
            t = float(utc_to_tdb(text))
        except TimeError:
            raise self.error(f"{text!r} is not a valid UTC time", where, UTC_ALLOWED) from None
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

    def orbiter(self, k: int, o: OrbiterTable, start_tdb: float) -> OrbiterSpec:
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
            spec = dataclasses.replace(spec, spk_path=p, naif_id=o.spk.naif_id)
            field, allowed = f"{where}.spk", "a binary SPK file holding the orbiter's naif_id"
        else:
            assert o.oem is not None
            p = self.file_path(o.oem.path, f"{where}.oem.path", "OEM")
            spec = dataclasses.replace(spec, oem_path=p)
            field, allowed = f"{where}.oem.path", "a CCSDS OEM file (KVN) centred on Mars"
        try:  # read the file now: a bad one is an error of this scenario, before any work
            trajectory = spec.trajectory(rotation_model("iau2009"))
        except TrajectoryError as exc:
            raise self.error(exc.problem, field, allowed) from None
        if isinstance(trajectory, SpkTrajectory):
            trajectory.close()
        return spec

    def attempt(self, fn: Callable[[], T], default: T) -> T:
        """``fn()``, or ``default`` with its error kept: every problem is reported at once."""
        try:
            return fn()
        except ScenarioError as exc:
            self.errors.append(exc)
            return default

    def check_references(self, raw: ScenarioFile) -> None:
        """Names in the stage tables must be nodes of the right kind (checked before any work:
        a typo must not surface after minutes of contact search)."""
        orbiters = [o.name for o in raw.orbiter]
        landers = [la.name for la in raw.lander]
        stations = [st.name for st in raw.station]

        def check(name: str, where: str, kinds: str, names: list[str]) -> None:
            if name not in names:
                near = difflib.get_close_matches(name, names, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                self.errors.append(self.error(f"{name!r} is not a {kinds} of this scenario{hint}",
                                              where, ", ".join(names) or f"no {kinds} here"))

        for k, src in enumerate(raw.traffic.source):
            check(src.node, f"traffic.source[{k}].node", "lander or orbiter", landers + orbiters)
        for k, d in enumerate(raw.schedule.demand):
            check(d.lander, f"schedule.demand[{k}].lander", "lander", landers)
        for k, lim in enumerate(raw.schedule.orbiter_limits):
            check(lim.orbiter, f"schedule.orbiter_limits[{k}].orbiter", "orbiter", orbiters)
        for k, f in enumerate(raw.schedule.fixed):
            check(f.lander, f"schedule.fixed[{k}].lander", "lander", landers)
            check(f.orbiter, f"schedule.fixed[{k}].orbiter", "orbiter", orbiters)
        for k, node in enumerate(raw.simulation.node):
            check(node.name, f"simulation.node[{k}].name", "lander or orbiter",
                  landers + orbiters)
        for name in raw.links.spacecraft:
            check(name, f"links.spacecraft.{name}", "lander or orbiter", landers + orbiters)
        for name in raw.links.stations:
            check(name, f"links.stations.{name}", "station", stations)

    def build(self, raw: ScenarioFile) -> Scenario:
        s = raw.scenario
        ephemeris_path = None
        if s.ephemeris is not None:
            ephemeris_path = (self.base_dir / s.ephemeris).resolve()
            try:
                self.coverage = load_ephemeris(str(ephemeris_path)).coverage_tdb_s
                self.ephemeris_name = self.ephemeris_note = ephemeris_path.name
            except EphemerisCoverageError as exc:
                self.errors.append(self.error(
                    str(exc), "scenario.ephemeris",
                    "a JPL planetary SPK (e.g. de440s.bsp) with the Sun, Earth and Mars"))
        start = self.attempt(lambda: self.tdb(s.start, "scenario.start"), math.nan)
        end = self.attempt(lambda: self.tdb(s.end, "scenario.end"), math.nan)
        if end <= start:
            self.errors.append(self.error(f"end {s.end} is not after start {s.start}",
                                          "scenario.end",
                                          f"a time after scenario.start ({s.start})"))
        seen: dict[str, str] = {}
        agencies: set[str] = set()
        for kind, tables in (("orbiter", raw.orbiter), ("lander", raw.lander),
                             ("station", raw.station)):
            for k, t in enumerate(tables):
                key = t.name.casefold()
                agencies.add(t.agency.casefold())
                if key in seen:
                    self.errors.append(self.error(
                        f"name {t.name!r} is already used by {seen[key]}", f"{kind}[{k}].name",
                        "names unique among orbiters, landers and stations (ignoring case)"))
                seen[key] = f"{kind}[{k}]"
        names = [t.name for t in (*raw.orbiter, *raw.lander, *raw.station)]
        for number, name in raw.ion.nodes.items():
            if name not in names:
                self.errors.append(self.error(
                    f"ION node {number} names {name!r}, which is not an orbiter, lander or "
                    "station here", f"ion.nodes.{number}", ", ".join(names)))
        self.check_references(raw)
        for k, partner in enumerate(s.compare_without):
            if partner.strip().casefold() not in seen.keys() | agencies - {""}:
                named = sorted({t.agency for t in (*raw.orbiter, *raw.lander, *raw.station)
                                if t.agency})
                self.errors.append(self.error(
                    f"{partner!r} is neither an agency nor a node of this scenario",
                    f"scenario.compare_without[{k}]",
                    (f"an agency ({', '.join(named)}) or " if named else "") + "a node name"))
        first = start if math.isfinite(start) else 0.0
        orbiters = tuple(o for o in (self.attempt(lambda k=k, o=o: self.orbiter(k, o, first), None)
                                     for k, o in enumerate(raw.orbiter)) if o is not None)
        landers = tuple(
            LanderSpec(
                name=la.name,
                agency=la.agency,
                site=MarsSite(la.name, la.lat_deg, la.lon_east_deg, la.height_km,
                              la.elevation_mask_deg),
                radio=la.radio,
                direct_to_earth=la.direct_to_earth,
                blackouts=self.attempt(
                    lambda k=k, la=la: self.windows(la.blackouts, f"lander[{k}].blackouts"), ()),
            )
            for k, la in enumerate(raw.lander)
        )
        stations = tuple(
            EarthStation(st.name, st.lat_deg, st.lon_east_deg, st.height_m,
                         st.elevation_mask_deg, st.dish_m, st.agency)
            for st in raw.station
        )
        station_blackouts = {
            st.name: self.attempt(
                lambda k=k, st=st: self.windows(st.blackouts, f"station[{k}].blackouts"), ())
            for k, st in enumerate(raw.station)
        }
        if self.errors:
            raise combined(self.errors, self.file)
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
