"""The validated scenario: :class:`Scenario` with its orbiters, landers and stations.

Times inside are TDB seconds past J2000; ``*_utc`` fields keep the UTC text the file gave.
Build one with :func:`marsrelay.scenario.load_scenario`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from marsrelay.config import (
    IonConfig,
    LinksConfig,
    ScheduleConfig,
    SimulationConfig,
    TrafficConfig,
)
from marsrelay.errors import (
    ScenarioError,
    TrajectoryError,
)
from marsrelay.geometry.ephemeris import Ephemeris, SpkEphemeris, load_ephemeris
from marsrelay.geometry.orbits import (
    J2Orbit,
    MeanElements,
    OemTrajectory,
    SpkTrajectory,
    Trajectory,
)
from marsrelay.geometry.rotation import RotationModel, rotation_model
from marsrelay.geometry.sites import EarthStation, MarsSite
from marsrelay.geometry.snapshot import (
    GeometrySnapshot,
    SnapshotLander,
    SnapshotOrbiter,
    geometry_snapshot,
)
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb

__all__ = ["LanderSpec", "OrbiterSpec", "Scenario", "Window"]

#: A time window, ``(start, end)`` in TDB seconds past J2000.
Window = tuple[float, float]




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

    def geometry_at(self, tdb_s: float) -> GeometrySnapshot:
        """The scenario's geometry at ``tdb_s`` (TDB s past J2000): sub-orbiter points, what
        each lander sees, Earth-Mars distance and Sun-Earth-Mars angle
        (:func:`marsrelay.geometry.snapshot.geometry_snapshot`)."""
        trajectories = [o.trajectory(self.rotation) for o in self.orbiters]
        try:
            return geometry_snapshot(
                tdb_s, self.rotation,
                [SnapshotOrbiter(o.name, traj, o.max_range_km)
                 for o, traj in zip(self.orbiters, trajectories, strict=True)],
                [SnapshotLander(la.name, la.site) for la in self.landers], self.ephemeris)
        finally:
            for traj in trajectories:
                if isinstance(traj, SpkTrajectory):
                    traj.close()

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
            schedule=sched, traffic=traffic, simulation=simulation, links=links,
            ion=self.ion.model_copy(update={
                "nodes": {n: v for n, v in self.ion.nodes.items() if v not in removed}}),
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

