"""Read a run directory into typed tables, following :mod:`marsrelay.report.schema`.

Every stage output but the contacts table may be missing: :func:`load_run` gives ``None`` for
it, and a file that exists but cannot be read (a column it needs is missing) is ``None`` too,
with the reason in :attr:`RunData.problems`, so a report still shows everything else.
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from marsrelay.errors import InputError
from marsrelay.geometry.time import tdb_to_utc_jd, utc_to_tdb
from marsrelay.report import schema
from marsrelay.report.schema import Column, TableFile

__all__ = [
    "NodeInfo",
    "RunData",
    "ScenarioInfo",
    "Table",
    "load_run",
    "read_table",
    "scenario_info_from_scenario",
    "tdb_to_plot_time",
]

_UNIX_EPOCH_JD = 2440587.5


@dataclass
class Table:
    """Columns of one run-directory file under their canonical names (numpy arrays)."""

    spec: TableFile
    path: Path
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def has(self, name: str) -> bool:
        """Whether the file had column ``name`` (under any accepted name)."""
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def get(self, name: str, default: float = np.nan) -> np.ndarray:
        """Column ``name``, or a column of ``default`` when the file did not have it."""
        if name in self.columns:
            return self.columns[name]
        return np.full(len(self), default)


@dataclass(frozen=True)
class NodeInfo:
    """A node of the scenario: ``kind`` is ``orbiter``, ``lander`` or ``station``; position
    (deg) for landers and stations when known."""

    name: str
    kind: str
    agency: str = ""
    lat_deg: float = math.nan
    lon_east_deg: float = math.nan
    elevation_mask_deg: float = math.nan


@dataclass(frozen=True)
class ScenarioInfo:
    """What the report needs to know about the scenario of a run (span in TDB s past J2000,
    nodes, conjunction threshold in deg, orbiter trajectories for the map when available)."""

    name: str
    description: str
    start_tdb_s: float
    end_tdb_s: float
    conjunction_sep_deg: float = 2.0
    rotation_model: str = "iau2009"
    orbiters: tuple[NodeInfo, ...] = ()
    landers: tuple[NodeInfo, ...] = ()
    stations: tuple[NodeInfo, ...] = ()
    conjunction_windows_tdb_s: tuple[tuple[float, float], ...] | None = None
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
    """Everything read from one run directory (``None`` for a file the run did not write)."""

    run_dir: Path
    scenario: ScenarioInfo
    contacts: Table | None = None
    volumes: Table | None = None
    schedule: Table | None = None
    bundles: Table | None = None
    delivery: Table | None = None
    buffers: Table | None = None
    conjunction: Table | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name


# ---------------------------------------------------------------------------------------------
# time helpers


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


def _utc_to_tdb(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    ok = np.array([isinstance(v, str) and v.strip() != "" for v in values], dtype=bool)
    if ok.any():
        out[ok] = utc_to_tdb(np.asarray(values[ok], dtype=str))
    return out


# ---------------------------------------------------------------------------------------------
# tables


def _read_raw(path: Path) -> dict[str, np.ndarray]:
    """All columns of a CSV (strings) or Parquet file (native types) as numpy arrays."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        tab = pq.read_table(path)
        out: dict[str, np.ndarray] = {}
        for name in tab.column_names:
            col = tab.column(name)
            import pyarrow as pa

            if pa.types.is_timestamp(col.type):
                col = col.cast(pa.string())
            out[name] = np.asarray(col.to_pylist(), dtype=object)
        return out
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r]
    return {
        h: np.array([r[k] if k < len(r) else "" for r in body], dtype=object)
        for k, h in enumerate(header)
    }


def _to_float(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for k, v in enumerate(values):
        if v is None or (isinstance(v, str) and v.strip() == ""):
            continue
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            out[k] = np.nan
    return out


def _canonical(spec: TableFile, raw: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    for col in spec.columns:
        found = _find(col, raw)
        if found is None:
            if col.required:
                names = ", ".join(n for n, _ in col.candidates())
                raise ValueError(f"{path.name}: no column {col.name!r} (accepted names: {names})")
            continue
        name, factor = found
        values = raw[name]
        if col.text:
            cols[col.name] = np.array(["" if v is None else str(v) for v in values], dtype=object)
        else:
            cols[col.name] = _to_float(values) * factor
    for tdb_name, utc_name in spec.times:
        if tdb_name not in cols and utc_name in cols:
            cols[tdb_name] = _utc_to_tdb(cols[utc_name])
        if tdb_name not in cols and any(c.name == tdb_name and c.required for c in spec.columns):
            raise ValueError(f"{path.name}: needs {tdb_name!r} or {utc_name!r}")
    return cols


def _find(col: Column, raw: dict[str, np.ndarray]) -> tuple[str, float] | None:
    for name, factor in col.candidates():
        if name in raw:
            return name, factor
    return None


def read_table(run_dir: Path, spec: TableFile) -> Table | None:
    """Read ``spec``'s file from ``run_dir`` (first existing name); ``None`` when absent.

    Raises ``ValueError`` naming the file and column when a needed column is missing.
    """
    for fname in spec.files:
        path = run_dir / fname
        if path.is_file():
            raw = _read_raw(path)
            cols = _canonical(spec, raw, path)
            if spec is schema.CONTACTS:
                _complete_contacts(cols, path)
            if spec is schema.SCHEDULE and "status" in cols:
                keep = cols["status"] == "selected"
                cols = {k: v[keep] for k, v in cols.items()}
            return Table(spec, path, cols)
    return None


def _complete_contacts(cols: dict[str, np.ndarray], path: Path) -> None:
    if "start_tdb_s" not in cols or "end_tdb_s" not in cols:
        raise ValueError(f"{path.name}: needs start_tdb_s/end_tdb_s or start_utc/end_utc")
    if "duration_s" not in cols:
        cols["duration_s"] = cols["end_tdb_s"] - cols["start_tdb_s"]


# ---------------------------------------------------------------------------------------------
# scenario


def _key(d: dict[str, Any], logical: str, default: Any = None) -> Any:
    for k in schema.SCENARIO_KEYS[logical]:
        if k in d and d[k] is not None:
            return d[k]
    return default


def _time(d: dict[str, Any], utc_key: str, tdb_key: str) -> float | None:
    tdb = _key(d, tdb_key)
    if tdb is not None:
        return float(tdb)
    utc = _key(d, utc_key)
    if isinstance(utc, str) and utc:
        return float(utc_to_tdb(utc))
    return None


def _node(d: dict[str, Any], kind: str) -> NodeInfo:
    site = d.get("site") if isinstance(d.get("site"), dict) else {}
    merged = {**site, **{k: v for k, v in d.items() if k != "site"}}
    return NodeInfo(
        name=str(merged.get("name", "?")),
        kind=kind,
        agency=str(_key(merged, "agency", "") or ""),
        lat_deg=float(_key(merged, "lat_deg", math.nan)),
        lon_east_deg=float(_key(merged, "lon_east_deg", math.nan)),
        elevation_mask_deg=float(_key(merged, "elevation_mask_deg", math.nan)),
    )


def _trajectory_from_json(d: dict[str, Any], rotation_name: str) -> Any | None:
    el = _key(d, "elements")
    if not isinstance(el, dict):
        return None
    from marsrelay.geometry.orbits import J2Orbit, MeanElements
    from marsrelay.geometry.rotation import rotation_model

    epoch = _time(el, "epoch_utc", "epoch_tdb_s")
    if epoch is None:
        return None
    me = MeanElements(
        epoch, float(el["a_km"]), float(el.get("e", 0.0)), float(el["i_deg"]),
        float(el.get("raan_deg", 0.0)), float(el.get("argp_deg", 0.0)),
        float(el.get("mean_anomaly_deg", 0.0)),
    )
    return J2Orbit(me, rotation_model(rotation_name))


def scenario_info_from_scenario(sc: Any, source: str = "scenario") -> ScenarioInfo:
    """:class:`ScenarioInfo` from a loaded :class:`marsrelay.scenario.Scenario`."""
    trajectories = []
    for o in sc.orbiters:
        try:
            trajectories.append((o.name, o.trajectory(sc.rotation)))
        except Exception:
            continue
    windows = getattr(sc, "conjunction_windows_tdb_s", None)
    return ScenarioInfo(
        name=sc.name,
        description=getattr(sc, "description", "") or "",
        start_tdb_s=float(sc.start_tdb_s),
        end_tdb_s=float(sc.end_tdb_s),
        conjunction_sep_deg=float(getattr(sc, "conjunction_sep_deg", 2.0)),
        rotation_model=str(getattr(sc, "rotation_model", "iau2009")),
        orbiters=tuple(NodeInfo(o.name, "orbiter", o.agency or "") for o in sc.orbiters),
        landers=tuple(
            NodeInfo(
                ln.name, "lander", ln.agency or "", ln.site.lat_deg, ln.site.lon_east_deg,
                ln.site.elevation_mask_deg,
            )
            for ln in sc.landers
        ),
        stations=tuple(
            NodeInfo(s.name, "station", s.agency or "", s.lat_deg, s.lon_east_deg,
                     s.elevation_mask_deg)
            for s in sc.stations
        ),
        conjunction_windows_tdb_s=tuple(windows) if windows is not None else None,
        trajectories=tuple(trajectories),
        source=source,
    )


def _load_scenario_file(path_or_name: str) -> Any | None:
    try:
        from marsrelay.scenario import load_scenario
    except ImportError:
        return None
    try:
        return load_scenario(path_or_name)
    except Exception:
        return None


def _scenario_from_json(data: dict[str, Any]) -> ScenarioInfo | None:
    top = data.get("scenario") if isinstance(data.get("scenario"), dict) else {}
    flat = {**data, **top}
    start = _time(flat, "start_utc", "start_tdb_s")
    end = _time(flat, "end_utc", "end_tdb_s")
    if start is None or end is None:
        return None
    rot = str(_key(flat, "rotation_model", "iau2009"))
    orbiters = [o for o in (_key(flat, "orbiters") or []) if isinstance(o, dict)]
    trajectories = []
    for o in orbiters:
        try:
            traj = _trajectory_from_json(o, rot)
        except Exception:
            traj = None
        if traj is not None:
            trajectories.append((str(o.get("name", "?")), traj))
    windows = _key(flat, "conjunction_windows")
    win_t: tuple[tuple[float, float], ...] | None = None
    if isinstance(windows, list):
        win_t = tuple(
            (_time(w, "start_utc", "start_tdb_s") or math.nan,
             _time(w, "end_utc", "end_tdb_s") or math.nan)
            if isinstance(w, dict) else (float(w[0]), float(w[1]))
            for w in windows
        )
    return ScenarioInfo(
        name=str(_key(flat, "name", "scenario")),
        description=str(_key(flat, "description", "") or ""),
        start_tdb_s=start,
        end_tdb_s=end,
        conjunction_sep_deg=float(_key(flat, "conjunction_sep_deg", 2.0)),
        rotation_model=rot,
        orbiters=tuple(_node(o, "orbiter") for o in orbiters),
        landers=tuple(
            _node(x, "lander") for x in _key(flat, "landers") or [] if isinstance(x, dict)
        ),
        stations=tuple(
            _node(x, "station") for x in _key(flat, "stations") or [] if isinstance(x, dict)
        ),
        conjunction_windows_tdb_s=win_t,
        trajectories=tuple(trajectories),
        source=schema.SCENARIO_JSON,
    )


def _scenario_from_contacts(run_dir: Path, contacts: Table) -> ScenarioInfo:
    kind, src, tgt = contacts["kind"], contacts["source"], contacts["target"]
    orbiters = _unique(src[kind == "orbiter_earth"])
    landers = _unique(src[kind == "direct_earth"])
    stations = _unique(tgt[np.isin(kind, schema.EARTH_KINDS)])
    prox = kind == schema.PROXIMITY
    for name in _unique(np.concatenate([src[prox], tgt[prox]])):
        if name not in orbiters and name not in landers:
            landers.append(name)
    t0 = float(np.nanmin(contacts["start_tdb_s"])) if len(contacts) else 0.0
    t1 = float(np.nanmax(contacts["end_tdb_s"])) if len(contacts) else 0.0
    return ScenarioInfo(
        name=run_dir.name,
        description="",
        start_tdb_s=t0,
        end_tdb_s=t1,
        orbiters=tuple(NodeInfo(n, "orbiter") for n in orbiters),
        landers=tuple(NodeInfo(n, "lander") for n in landers),
        stations=tuple(NodeInfo(n, "station") for n in stations),
        source="contacts",
    )


def _unique(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(str(v), None)
    return list(seen)


def _with_json_extras(info: ScenarioInfo, data: dict[str, Any] | None) -> ScenarioInfo:
    """Conjunction windows written into scenario.json by a stage, kept with a loaded scenario."""
    if data is None or info.conjunction_windows_tdb_s is not None:
        return info
    from_json = _scenario_from_json(data)
    if from_json is None or from_json.conjunction_windows_tdb_s is None:
        return info
    from dataclasses import replace

    return replace(info, conjunction_windows_tdb_s=from_json.conjunction_windows_tdb_s)


def _load_scenario_info(run_dir: Path, contacts: Table | None, problems: list[str]) -> ScenarioInfo:
    """The scenario a run used: a ``scenario.toml`` copy in the run directory, else
    ``scenario.json`` (the validated scenario the stages ran on: span, nodes, elements), else the
    scenario file that ``scenario.json`` names, else what the contacts table shows.

    The file ``scenario.json`` names (or the built-in of its name) is never the authority for
    the span or the nodes: a run made from it with overrides (a shorter span, other orbiters,
    a sweep case) differs from it. It only lends trajectories the JSON cannot describe (SPK,
    OEM), by orbiter name.
    """
    data: dict[str, Any] | None = None
    json_path = run_dir / schema.SCENARIO_JSON
    if json_path.is_file():
        try:
            loaded = json.loads(json_path.read_text(encoding="utf-8"))
            data = loaded if isinstance(loaded, dict) else None
        except (OSError, json.JSONDecodeError) as exc:
            problems.append(f"{schema.SCENARIO_JSON}: not readable JSON ({exc})")
    toml_path = run_dir / schema.SCENARIO_TOML
    if toml_path.is_file():
        sc = _load_scenario_file(str(toml_path))
        if sc is not None:
            return _with_json_extras(scenario_info_from_scenario(sc, source=str(toml_path)), data)
    named: list[str] = []
    if data is not None:
        top = data.get("scenario") if isinstance(data.get("scenario"), dict) else {}
        p = _key({**data, **top}, "path")
        if isinstance(p, str) and p and Path(p).is_file():
            named.append(p)
        info = _scenario_from_json(data)
        if info is not None:
            return _with_file_trajectories(info, [*named, info.name])
        problems.append(f"{schema.SCENARIO_JSON}: no start/end time found")
    for cand in named:
        sc = _load_scenario_file(cand)
        if sc is not None:
            return _with_json_extras(scenario_info_from_scenario(sc, source=cand), data)
    if contacts is not None:
        return _scenario_from_contacts(run_dir, contacts)
    raise InputError(
        "not a marsrelay run directory (no scenario.json and no contacts table)",
        file=str(run_dir),
    )


def _with_file_trajectories(info: ScenarioInfo, sources: list[str]) -> ScenarioInfo:
    """``info`` with the trajectories of orbiters the JSON gave none for (SPK, OEM), taken by
    name from the first of ``sources`` (scenario files or built-in names) that loads and has
    them; span, nodes and everything else stay those of ``info``."""
    have = {name for name, _ in info.trajectories}
    missing = [o.name for o in info.orbiters if o.name not in have]
    if not missing:
        return info
    for cand in sources:
        sc = _load_scenario_file(cand)
        if sc is None:
            continue
        found = []
        for o in sc.orbiters:
            if o.name not in missing:
                continue
            try:
                found.append((o.name, o.trajectory(sc.rotation)))
            except Exception:
                continue
        if found:
            from dataclasses import replace

            return replace(info, trajectories=(*info.trajectories, *found))
    return info


def load_run(run_dir: str | Path) -> RunData:
    """Read every known output of ``run_dir``.

    Raises :class:`~marsrelay.errors.InputError` if the folder does not exist or holds neither
    a scenario description nor a contacts table.
    """
    path = Path(run_dir)
    if not path.exists():
        raise InputError("no such run directory", file=str(path))
    if not path.is_dir():
        raise InputError("not a directory (expected a run directory)", file=str(path))
    problems: list[str] = []
    tables: dict[str, Table | None] = {}
    for spec in schema.ALL_TABLES:
        try:
            tables[spec.key] = read_table(path, spec)
        except (ValueError, OSError) as exc:
            problems.append(str(exc))
            tables[spec.key] = None
        except Exception as exc:
            problems.append(f"{spec.files[0]}: not readable ({type(exc).__name__}: {exc})")
            tables[spec.key] = None
    info = _load_scenario_info(path, tables["contacts"], problems)
    return RunData(
        run_dir=path,
        scenario=info,
        contacts=tables["contacts"],
        volumes=tables["volumes_per_sol"],
        schedule=tables["schedule"],
        bundles=tables["bundles"],
        delivery=tables["delivery"],
        buffers=tables["buffers"],
        conjunction=tables["conjunction"],
        problems=tuple(problems),
    )


def read_scenario_toml_text(path: Path) -> dict[str, Any]:
    """Parse a scenario file's TOML syntax only; raises :class:`InputError` with the line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from exc
