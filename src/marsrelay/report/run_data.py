"""Read a run folder into typed tables for the report, the comparison and the CZML export.

The folder must be a complete run (``run.json``, :func:`marsrelay.rundir.folder.check_run_folder`);
its tables are read through the one schema (:mod:`marsrelay.rundir.schema`). Tables of stages
the run did not reach are ``None``, and a report section without its table says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from marsrelay.contacts.table import CONTACT_KINDS
from marsrelay.errors import RunFolderError
from marsrelay.geometry.orbits import J2Orbit, MeanElements, OemTrajectory, SpkTrajectory
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.time import tdb_to_utc_jd
from marsrelay.rundir import schema
from marsrelay.rundir.folder import check_run_folder
from marsrelay.rundir.schema import TableSpec
from marsrelay.rundir.tables import read_table
from marsrelay.scenario import Scenario

__all__ = [
    "EARTH_KINDS",
    "PROXIMITY",
    "NodeInfo",
    "RunData",
    "ScenarioInfo",
    "Table",
    "load_run",
    "scenario_info_from_scenario",
    "tdb_to_plot_time",
]

#: ``kind`` values of the contact table.
PROXIMITY: str = CONTACT_KINDS[0]
EARTH_KINDS: tuple[str, ...] = CONTACT_KINDS[1:]

_UNIX_EPOCH_JD = 2440587.5


@dataclass
class Table:
    """Columns of one run-folder table under the schema's names (numpy arrays)."""

    spec: TableSpec
    path: Path
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def has(self, name: str) -> bool:
        """Whether the table has column ``name``."""
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def get(self, name: str, default: float = np.nan) -> np.ndarray:
        """Column ``name``, or a column of ``default`` when the table has none."""
        if name in self.columns:
            return self.columns[name]
        return np.full(len(self), default)


@dataclass(frozen=True)
class NodeInfo:
    """A node of the scenario: ``kind`` is ``orbiter``, ``lander`` or ``station``; position
    (deg) for landers and stations."""

    name: str
    kind: str
    agency: str = ""
    lat_deg: float = math.nan
    lon_east_deg: float = math.nan
    elevation_mask_deg: float = math.nan


@dataclass(frozen=True)
class ScenarioInfo:
    """What the report needs to know about the scenario of a run (span in TDB s past J2000,
    nodes, conjunction threshold in deg, orbiter trajectories for the map)."""

    name: str
    description: str
    start_tdb_s: float
    end_tdb_s: float
    conjunction_sep_deg: float = 2.0
    rotation_model: str = "iau2009"
    orbiters: tuple[NodeInfo, ...] = ()
    landers: tuple[NodeInfo, ...] = ()
    stations: tuple[NodeInfo, ...] = ()
    trajectories: tuple[tuple[str, Any], ...] = ()
    source: str = ""

    @property
    def span_s(self) -> float:
        """Length of the span, s."""
        return self.end_tdb_s - self.start_tdb_s

    def lander(self, name: str) -> NodeInfo | None:
        """The lander called ``name``, if the scenario has one."""
        return next((n for n in self.landers if n.name == name), None)


@dataclass
class RunData:
    """Everything read from one run folder (``None`` for a table the run did not write)."""

    run_dir: Path
    scenario: ScenarioInfo
    contacts: Table | None = None
    volumes: Table | None = None
    schedule: Table | None = None
    bundles: Table | None = None
    delivery: Table | None = None
    buffers: Table | None = None
    conjunction: Table | None = None

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name


def tdb_to_plot_time(tdb_s: np.ndarray | float) -> np.ndarray:
    """TDB seconds past J2000 -> ``datetime64[ms]`` UTC for plot axes (vectorised).

    Within a leap second the result may be off by up to 1 s: fine for a picture, never used
    for a number in a table.
    """
    t = np.atleast_1d(np.asarray(tdb_s, dtype=float))
    out = np.full(t.shape, np.datetime64("NaT"), dtype="datetime64[ms]")
    ok = np.isfinite(t)
    if ok.any():
        u1, u2 = tdb_to_utc_jd(t[ok])
        ms = np.rint(((np.asarray(u1) - _UNIX_EPOCH_JD) + np.asarray(u2)) * 86_400_000.0)
        out[ok] = ms.astype("int64").astype("datetime64[ms]")
    return out


def _table(run_dir: Path, spec: TableSpec) -> Table | None:
    columns = read_table(run_dir, spec)
    if columns is None:
        return None
    path = run_dir / (spec.parquet_file if (run_dir / spec.parquet_file).is_file()
                      else spec.csv_file)
    if spec is schema.SCHEDULE:
        keep = columns["status"] == "selected"
        columns = {k: v[keep] for k, v in columns.items()}
    return Table(spec, path, columns)


def _trajectory(o: dict[str, Any], rotation: str) -> Any | None:
    """The orbiter's trajectory as ``scenario.json`` describes it (None if its file is gone)."""
    if isinstance(o.get("elements"), dict):
        el = o["elements"]
        me = MeanElements(float(el["epoch_tdb_s"]), float(el["a_km"]), float(el["e"]),
                          float(el["i_deg"]), float(el["raan_deg"]), float(el["argp_deg"]),
                          float(el["mean_anomaly_deg"]))
        return J2Orbit(me, rotation_model(rotation))
    if isinstance(o.get("spk"), dict) and Path(o["spk"]["path"]).is_file():
        return SpkTrajectory(o["spk"]["path"], int(o["spk"]["naif_id"]))
    if isinstance(o.get("oem"), dict) and Path(o["oem"]["path"]).is_file():
        return OemTrajectory(o["oem"]["path"])
    return None


def _node(d: dict[str, Any], kind: str) -> NodeInfo:
    return NodeInfo(str(d["name"]), kind, str(d.get("agency") or ""),
                    float(d.get("lat_deg", math.nan)), float(d.get("lon_east_deg", math.nan)),
                    float(d.get("elevation_mask_deg", math.nan)))


def scenario_info(data: dict[str, Any], source: str = schema.SCENARIO_JSON) -> ScenarioInfo:
    """:class:`ScenarioInfo` from a scenario's JSON description
    (:meth:`marsrelay.scenario.Scenario.to_dict`)."""
    rotation = str(data.get("rotation_model", "iau2009"))
    trajectories = []
    for o in data.get("orbiters", []):
        traj = _trajectory(o, rotation)
        if traj is not None:
            trajectories.append((str(o["name"]), traj))
    return ScenarioInfo(
        name=str(data["name"]), description=str(data.get("description") or ""),
        start_tdb_s=float(data["start_tdb_s"]), end_tdb_s=float(data["end_tdb_s"]),
        conjunction_sep_deg=float(data.get("conjunction_sep_deg", 2.0)),
        rotation_model=rotation,
        orbiters=tuple(_node(o, "orbiter") for o in data.get("orbiters", [])),
        landers=tuple(_node(x, "lander") for x in data.get("landers", [])),
        stations=tuple(_node(x, "station") for x in data.get("stations", [])),
        trajectories=tuple(trajectories), source=source)


def scenario_info_from_scenario(sc: Scenario, source: str = "scenario") -> ScenarioInfo:
    """:class:`ScenarioInfo` from a loaded :class:`marsrelay.scenario.Scenario`."""
    return scenario_info(sc.to_dict(), source)


def load_run(run_dir: str | Path) -> RunData:
    """Read every table of the complete run folder ``run_dir``.

    Raises :class:`~marsrelay.errors.RunFolderError` if the folder is not a complete run
    (naming what is missing) or a table in it cannot be read.
    """
    path = Path(run_dir)
    check_run_folder(path, need=("contacts",))
    try:
        data = json.loads((path / schema.SCENARIO_JSON).read_text(encoding="utf-8"))
        info = scenario_info(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunFolderError(f"{schema.SCENARIO_JSON} is not readable ({exc})",
                             file=str(path)) from None
    tables: dict[str, Table | None] = {}
    for spec in schema.ALL_TABLES:
        try:
            tables[spec.name] = _table(path, spec)
        except (OSError, ValueError) as exc:
            raise RunFolderError(f"{exc}", file=str(path),
                                 allowed="a run folder written by this version") from None
    return RunData(
        run_dir=path, scenario=info, contacts=tables["contacts"],
        volumes=tables["volumes_per_sol"], schedule=tables["schedule"],
        bundles=tables["bundles"], delivery=tables["delivery"], buffers=tables["buffers"],
        conjunction=tables["conjunction"])
