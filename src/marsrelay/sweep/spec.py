"""Sweep files (TOML): a base scenario, parameter axes and the figures to collect.

Example (a grid: every combination of the axes' values)::

    [sweep]
    name = "oxia-sites"
    base = "exomars-2030"            # built-in scenario name, or a path relative to this file
    figures = ["passes_per_sol", "contact_min_per_sol"]   # default: DEFAULT_FIGURES
    # case = "pipeline"               # the case function: "pipeline" (default), a name another
    #                                  # package registers (entry points "marsrelay.sweep_cases"),
    #                                  # or "module:function", run only with --allow-code

    [[axis]]
    path = 'orbiter["TGO"].elements.raan_deg'
    start = 0.0                      # start/stop/num: inclusive linspace; or values = [...]
    stop = 270.0
    num = 4

    [[axis]]                         # several paths varied together (zip)
    paths = ["lander[0].lat_deg", "lander[0].lon_east_deg"]
    values = [[18.275, 335.368], [-4.5895, 137.4417]]

    [[axis]]
    path = "station"                 # subsets: lists of names to keep
    values = [["DSA-1", "DSA-2", "DSA-3"], ["DSS-14", "DSS-43", "DSS-63"]]

Random sweeps draw ``samples`` cases with a seeded generator; each axis takes ``min``/``max``
(uniform, one path) or ``values`` (uniform choice)::

    [sweep]
    base = "exomars-2030"
    mode = "random"
    samples = 200
    seed = 1

    [[axis]]
    path = "lander[*].elevation_mask_deg"
    min = 5.0
    max = 20.0

    [[axis]]
    path = "span_days"
    values = [10, 30]

Every case gets an id, the first 16 hex digits of the SHA-256 of its parameter values
(canonical JSON of ``{path: value}``), so results of different runs can be matched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marsrelay.errors import InputError
from marsrelay.scenario import builtin_scenario_names, builtin_scenario_path
from marsrelay.sweep.case import FIGURE_NAMES, Case
from marsrelay.sweep.paths import case_scenario, check_path, describe_value_error

__all__ = [
    "DEFAULT_CASE_FUNCTION",
    "DEFAULT_FIGURES",
    "MAX_CASES",
    "Axis",
    "Sweep",
    "case_id_of",
    "load_sweep",
]

#: Largest number of cases a sweep file may expand to.
MAX_CASES: int = 1_000_000
#: Figures collected when a sweep file does not list them (contacts and links only: cheap).
DEFAULT_FIGURES: tuple[str, ...] = ("passes_per_sol", "contact_min_per_sol", "max_gap_h",
                                    "capacity_mbit_per_sol")
#: The case function used when a sweep file does not name one.
DEFAULT_CASE_FUNCTION: str = "pipeline"


class _AxisModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    paths: list[str] | None = Field(default=None, min_length=1)
    values: list[Any] | None = Field(default=None, min_length=1)
    start: float | None = None
    stop: float | None = None
    num: int | None = Field(default=None, ge=1)
    min: float | None = None
    max: float | None = None


class _SweepSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    base: str
    mode: Literal["grid", "random"] = "grid"
    samples: int | None = Field(default=None, ge=1, le=MAX_CASES)
    seed: int = 0
    figures: list[str] = Field(default_factory=lambda: list(DEFAULT_FIGURES), min_length=1)
    case: str = DEFAULT_CASE_FUNCTION


class _SweepFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sweep: _SweepSection
    axis: list[_AxisModel] = Field(min_length=1)


@dataclass(frozen=True)
class Axis:
    """One axis: the paths it sets (several = zipped) and how it chooses values.

    Grid axes have ``values`` (each a tuple, one entry per path). Random axes have either
    ``values`` (uniform choice) or ``low``/``high`` (uniform float in ``[low, high]``, one path).
    """

    paths: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...] = ()
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: base scenario data, axes, figures, and its expanded cases."""

    source: Path | None
    name: str
    base: str
    base_path: Path | None
    base_data: dict[str, Any]
    mode: str
    samples: int | None
    seed: int
    figures: tuple[str, ...]
    case_function: str
    axes: tuple[Axis, ...]
    cases: tuple[Case, ...]

    @property
    def param_paths(self) -> tuple[str, ...]:
        """Every swept path, in axis order (the parameter columns of the results)."""
        return tuple(p for a in self.axes for p in a.paths)

    def fingerprint(self) -> str:
        """SHA-256 of everything that determines the results (base data, axes, mode,
        samples, seed, figures, case function): equal fingerprints, equal sweeps."""
        doc = {
            "base_data": self.base_data,
            "axes": [[list(a.paths), [list(v) for v in a.values], a.low, a.high]
                     for a in self.axes],
            "mode": self.mode,
            "samples": self.samples,
            "seed": self.seed,
            "figures": list(self.figures),
            "case_function": self.case_function,
        }
        return hashlib.sha256(_canonical_json(doc).encode()).hexdigest()


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str,
                      ensure_ascii=True)


def _normalise(value: Any) -> Any:
    """Numbers as float, strings as is, lists element-wise (subset lists sorted by caller)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def case_id_of(params: tuple[tuple[str, Any], ...]) -> str:
    """Stable id of a case: first 16 hex digits of SHA-256 of ``{path: value}`` as canonical
    JSON (numbers as floats)."""
    doc = {path: _normalise(value) for path, value in params}
    return hashlib.sha256(_canonical_json(doc).encode()).hexdigest()[:16]


def _value_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def _resolve_base(base: str, sweep_dir: Path | None, file: str) -> Path:
    """Path of the base scenario: a built-in name or a path relative to the sweep file."""
    candidate = Path(base)
    if sweep_dir is not None and not candidate.is_absolute():
        candidate = sweep_dir / candidate
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.is_file():
            raise InputError(f"base scenario file {str(candidate)!r} not found", file=file,
                             field="sweep.base", allowed="a built-in name or a .toml path")
        return candidate
    names = builtin_scenario_names()
    if base in names:
        return builtin_scenario_path(base)
    raise InputError(f"unknown base scenario {base!r}", file=file, field="sweep.base",
                     allowed=", ".join(names) + (", " if names else "") + "or a .toml path")


def _pydantic_to_input_error(err: ValidationError, file: str) -> InputError:
    first = err.errors()[0]
    loc = ".".join(
        f"[{x}]" if isinstance(x, int) else str(x) for x in first["loc"]
    ).replace(".[", "[")
    allowed = None
    if first["type"] == "extra_forbidden":
        model: Any = _SweepFile
        for part in first["loc"][:-1]:
            if isinstance(part, int):
                continue
            ann = model.model_fields[part].annotation
            model = _AxisModel if part == "axis" else ann
        allowed = ", ".join(model.model_fields)
        return InputError("unknown key", file=file, field=loc, allowed=allowed)
    if first["type"] == "missing":
        return InputError("required key is missing", file=file, field=loc)
    ctx = first.get("ctx") or {}
    if "expected" in ctx:
        allowed = str(ctx["expected"])
    return InputError(first["msg"], file=file, field=loc, allowed=allowed)


def load_sweep(path: str | Path, *, validate_values: bool = True) -> Sweep:
    """Read and validate a sweep file and expand its cases.

    Raises :class:`~marsrelay.errors.InputError` naming the file, the field and what is
    allowed for: unreadable TOML, unknown keys, an unknown base scenario, malformed or unknown
    parameter paths, bad ranges, unknown figures, more than :data:`MAX_CASES` cases, and (with
    ``validate_values``) axis values the scenario loader rejects (each distinct value is applied
    alone to the base scenario and loaded; for random ranges, both ends).
    """
    path = Path(path)
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("sweep file not found", file=file) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read sweep file: {err}", file=file) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", file=file) from None
    try:
        model = _SweepFile.model_validate(raw)
    except ValidationError as err:
        raise _pydantic_to_input_error(err, file) from None
    return _build_sweep(model, path, validate_values)


def _build_sweep(model: _SweepFile, path: Path, validate_values: bool) -> Sweep:
    file = str(path)
    sec = model.sweep
    unknown = [f for f in sec.figures if f not in FIGURE_NAMES]
    if unknown:
        raise InputError(f"unknown figure {unknown[0]!r}", file=file, field="sweep.figures",
                         allowed=", ".join(FIGURE_NAMES))
    if len(set(sec.figures)) != len(sec.figures):
        raise InputError("a figure is listed twice", file=file, field="sweep.figures")
    if not sec.case.strip():
        raise InputError("the case function is empty", file=file, field="sweep.case",
                         allowed=f"a registered case function such as {DEFAULT_CASE_FUNCTION!r}")
    if sec.mode == "random" and sec.samples is None:
        raise InputError("random sweeps need a number of samples", file=file,
                         field="sweep.samples", allowed="an integer >= 1")
    if sec.mode == "grid" and sec.samples is not None:
        raise InputError("samples applies to random sweeps only", file=file,
                         field="sweep.samples", allowed='mode = "random"')
    base_path = _resolve_base(sec.base, path.parent, file)
    try:
        base_data = tomllib.loads(base_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"cannot read base scenario: {err}", file=file,
                         field="sweep.base") from None

    axes: list[Axis] = []
    seen: set[str] = set()
    for i, ax in enumerate(model.axis):
        axes.append(_build_axis(ax, i, sec.mode, base_data, file, seen))
    swept = {p for a in axes for p in a.paths}
    if {"span_days", "scenario.end"} <= swept:
        raise InputError("span_days and scenario.end both set the end of the span", file=file,
                         field="axis", allowed="one of span_days, scenario.end")
    n_cases = sec.samples if sec.mode == "random" else int(np.prod([len(a.values) for a in axes]))
    if n_cases > MAX_CASES:
        raise InputError(f"the sweep expands to {n_cases} cases", file=file, field="axis",
                         allowed=f"at most {MAX_CASES}")
    if validate_values:
        _validate_values(axes, base_data, base_path, file)
    combos = _expand(axes, sec.mode, sec.samples, sec.seed)
    cases: list[Case] = []
    ids: set[str] = set()
    for params in combos:
        cid = case_id_of(params)
        if cid in ids:  # a repeated draw of the same values is one case
            continue
        ids.add(cid)
        cases.append(Case(case_id=cid, index=len(cases), params=params, base_data=base_data,
                          base_path=base_path, figures=tuple(sec.figures)))
    return Sweep(
        source=path, name=sec.name or path.stem, base=sec.base, base_path=base_path,
        base_data=base_data, mode=sec.mode, samples=sec.samples, seed=sec.seed,
        figures=tuple(sec.figures), case_function=sec.case, axes=tuple(axes),
        cases=tuple(cases),
    )


def _build_axis(ax: _AxisModel, i: int, mode: str, base: dict[str, Any], file: str,
                seen: set[str]) -> Axis:
    field = f"axis[{i}]"
    if (ax.path is None) == (ax.paths is None):
        raise InputError("give exactly one of path or paths", file=file, field=field,
                         allowed="path = '...' or paths = ['...', ...]")
    paths = [ax.path] if ax.path is not None else list(ax.paths or [])
    for j, text in enumerate(paths):
        where = f"{field}.path" if ax.path is not None else f"{field}.paths[{j}]"
        try:
            p = check_path(text, base)
        except ValueError as err:
            raise InputError(str(err), file=file, field=where) from None
        if p.text in seen:
            raise InputError(f"path {p.text!r} is swept by two axes", file=file, field=where)
        seen.add(p.text)
    paths = [p.strip() for p in paths]
    linspace = (ax.start, ax.stop, ax.num)
    has_linspace = any(x is not None for x in linspace)
    has_range = ax.min is not None or ax.max is not None
    if mode == "grid":
        if has_range:
            raise InputError("min/max are for random sweeps", file=file, field=field,
                             allowed="values, or start/stop/num")
        if has_linspace and ax.values is not None:
            raise InputError("give values or start/stop/num, not both", file=file, field=field)
        if has_linspace:
            if None in linspace:
                raise InputError("start, stop and num go together", file=file, field=field,
                                 allowed="start = <number>, stop = <number>, num = <int >= 1>")
            if len(paths) != 1:
                raise InputError("start/stop/num need a single path", file=file, field=field)
            grid = np.linspace(float(ax.start), float(ax.stop), int(ax.num))  # type: ignore[arg-type]
            values: tuple[tuple[Any, ...], ...] = tuple((float(v),) for v in grid)
            return _checked_axis(Axis(tuple(paths), values), base, file, field)
        if ax.values is None:
            raise InputError("an axis needs values", file=file, field=field,
                             allowed="values = [...], or start/stop/num")
        return _checked_axis(Axis(tuple(paths), _tuples(ax.values, paths, file, field)),
                             base, file, field)
    # random
    if has_linspace:
        raise InputError("start/stop/num are for grid sweeps", file=file, field=field,
                         allowed="min/max, or values")
    if has_range:
        if ax.values is not None:
            raise InputError("give values or min/max, not both", file=file, field=field)
        if ax.min is None or ax.max is None:
            raise InputError("min and max go together", file=file, field=field)
        if len(paths) != 1:
            raise InputError("min/max need a single path", file=file, field=field)
        if not ax.min <= ax.max:
            raise InputError(f"min {ax.min} is above max {ax.max}", file=file, field=field,
                             allowed="min <= max")
        return _checked_axis(Axis(tuple(paths), low=float(ax.min), high=float(ax.max)),
                             base, file, field)
    if ax.values is None:
        raise InputError("an axis needs values", file=file, field=field,
                         allowed="values = [...], or min/max")
    return _checked_axis(Axis(tuple(paths), _tuples(ax.values, paths, file, field)),
                         base, file, field)


def _tuples(values: list[Any], paths: list[str], file: str, field: str
            ) -> tuple[tuple[Any, ...], ...]:
    if len(paths) == 1:
        return tuple((v,) for v in values)
    out = []
    for k, v in enumerate(values):
        if not isinstance(v, list) or len(v) != len(paths):
            raise InputError(f"value {v!r} must be a list of {len(paths)} values, one per path",
                             file=file, field=f"{field}.values[{k}]")
        out.append(tuple(v))
    return tuple(out)


def _checked_axis(axis: Axis, base: dict[str, Any], file: str, field: str) -> Axis:
    """Check value kinds (one kind per path), subsets and span values."""
    from marsrelay.sweep.paths import parse_path

    values = list(axis.values)
    for j, text in enumerate(axis.paths):
        p = parse_path(text)
        column = [v[j] for v in values]
        kinds = {_value_kind(v) for v in column}
        if len(kinds) > 1:
            raise InputError(f"values of {text!r} mix kinds ({', '.join(sorted(kinds))})",
                             file=file, field=f"{field}.values", allowed="one kind per path")
        if p.kind == "span":
            if axis.low is not None and axis.low <= 0:
                raise InputError(f"span_days must be > 0, got min {axis.low}", file=file,
                                 field=f"{field}.min", allowed="> 0")
            bad = [v for v in column if _value_kind(v) != "number" or v <= 0]
            if bad:
                raise InputError(f"span_days must be a number > 0, got {bad[0]!r}", file=file,
                                 field=f"{field}.values", allowed="> 0")
        if p.kind == "subset":
            if axis.low is not None:
                raise InputError(f"{text!r} is a subset axis: give values (lists of names)",
                                 file=file, field=field)
            names = [e.get("name") for e in base.get(p.head, [])]
            for k, v in enumerate(column):
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise InputError(f"a {p.head} subset is a list of names, got {v!r}",
                                     file=file, field=f"{field}.values[{k}]",
                                     allowed=", ".join(map(str, names)))
                unknown = [x for x in v if x not in names]
                if unknown:
                    raise InputError(f"no {p.head} named {unknown[0]!r}", file=file,
                                     field=f"{field}.values[{k}]",
                                     allowed=", ".join(map(str, names)))
            # a subset is a set: its order does not make a different case
            values = [tuple(sorted(x) if i == j else x for i, x in enumerate(v))
                      for v in values]
    return Axis(axis.paths, tuple(values), axis.low, axis.high)


def _validate_values(axes: list[Axis], base: dict[str, Any], base_path: Path,
                     file: str) -> None:
    """Apply each distinct axis value alone to the base scenario and load it."""
    for i, axis in enumerate(axes):
        trials = list(axis.values) or [(axis.low,), (axis.high,)]
        seen: set[str] = set()
        for value in trials:
            params = tuple(zip(axis.paths, value, strict=True))
            key = _canonical_json([[p, _normalise(v)] for p, v in params])
            if key in seen:
                continue
            seen.add(key)
            case = Case("check", 0, params, base, base_path)
            try:
                case_scenario(case.scenario_data, base_path)
            except (ValueError, KeyError, TypeError) as err:
                shown = value[0] if len(value) == 1 else list(value)
                raise InputError(
                    f"value {shown!r} is rejected by the scenario loader: "
                    f"{describe_value_error(err)}",
                    file=file, field=f"axis[{i}] ({', '.join(axis.paths)})",
                ) from None


def _expand(axes: list[Axis], mode: str, samples: int | None, seed: int
            ) -> list[tuple[tuple[str, Any], ...]]:
    """Parameter tuples of every case, in a deterministic order."""
    if mode == "grid":
        out = []
        for combo in itertools.product(*(a.values for a in axes)):
            out.append(tuple((p, v) for a, vals in zip(axes, combo, strict=True)
                             for p, v in zip(a.paths, vals, strict=True)))
        return out
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(samples or 0):
        params: list[tuple[str, Any]] = []
        for a in axes:
            if a.values:
                pick = a.values[int(rng.integers(len(a.values)))]
            else:
                pick = (float(rng.uniform(a.low, a.high)),)
            params.extend(zip(a.paths, pick, strict=True))
        out.append(tuple(params))
    return out
