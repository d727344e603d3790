"""Parameter paths: how a sweep axis addresses a field of the scenario file.

A path names a key of the scenario TOML, with list entries chosen by index, by name or all::

    lander[0].lat_deg                      first [[lander]] table, key lat_deg
    lander["Rosalind Franklin"].lon_east_deg
    lander[*].elevation_mask_deg           every lander (masks)
    orbiter["TGO"].elements.raan_deg       a key of a nested table
    station[*].elevation_mask_deg
    scenario.end                           a key of [scenario]
    span_days                              shortcut: scenario.end = scenario.start + value days
    station                                subset: value is a list of station names to keep
    orbiter / lander                       subsets likewise
    links.<field>                          a field of a stage's config section (same for traffic,
                                           schedule, simulation)

Overrides are applied to the parsed TOML in this order: keys (indices refer to the base file's
order), then ``span_days``, then subsets; the scenario loader validates the result.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from marsrelay.errors import InputError
from marsrelay.scenario import Scenario, scenario_from_data
from marsrelay.scenario.file_schema import ScenarioFile

__all__ = [
    "CONFIG_SECTIONS",
    "NODE_LISTS",
    "ParamPath",
    "apply_params",
    "case_scenario",
    "check_path",
    "parse_path",
]

#: Lists of node tables in a scenario file, and the keys a sweep may set on each
#: (scenario.md plus the optional keys of the scenario API; ``name`` is never swept).
NODE_LISTS: dict[str, tuple[str, ...]] = {
    "lander": ("agency", "lat_deg", "lon_east_deg", "height_km", "elevation_mask_deg", "radio",
               "direct_to_earth", "blackouts"),
    "orbiter": ("agency", "max_range_km", "radio", "blackouts", "elements", "spk", "oem"),
    "station": ("agency", "lat_deg", "lon_east_deg", "height_m", "elevation_mask_deg", "dish_m",
                "blackouts"),
}
#: Keys of nested node tables.
_NESTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("orbiter", "elements"): ("epoch", "a_km", "e", "i_deg", "raan_deg", "argp_deg",
                              "mean_anomaly_deg"),
    ("orbiter", "spk"): ("path", "naif_id"),
    ("orbiter", "oem"): ("path",),
}
#: Keys of ``[scenario]`` a sweep may set.
SCENARIO_KEYS: tuple[str, ...] = ("start", "end", "rotation_model", "conjunction_sep_deg",
                                  "grazing_height_km", "description")
#: Stage configuration sections (pydantic models in :mod:`marsrelay.config`).
CONFIG_SECTIONS: tuple[str, ...] = ("links", "traffic", "schedule", "simulation", "ion")
_SHORTCUTS = ("span_days",)

_PATH_RE = re.compile(
    r"""^(?P<head>[A-Za-z_][A-Za-z0-9_]*)
        (?:\[\s*(?P<sel>\*|-?\d+|"[^"]*"|'[^']*')\s*\])?
        (?P<rest>(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class ParamPath:
    """A parsed parameter path.

    ``kind`` is ``"span"`` (the ``span_days`` shortcut), ``"subset"`` (a node list without a
    selector: keep the named nodes), ``"node"`` (a key of selected node tables) or
    ``"table"`` (a key of ``[scenario]`` or of a config section). ``selector`` is an index
    (int), a name (str) or ``None`` for all entries (``[*]``).
    """

    text: str
    head: str
    kind: str
    selector: int | str | None
    keys: tuple[str, ...]


@lru_cache(maxsize=4096)
def parse_path(text: str) -> ParamPath:
    """Parse a path (see the module docstring); ``ValueError`` with the reason if malformed."""
    m = _PATH_RE.match(text.strip())
    if m is None:
        raise ValueError(
            f"malformed path {text!r}: expected e.g. lander[0].lat_deg, "
            'orbiter["TGO"].elements.raan_deg, scenario.end, span_days or station'
        )
    head, sel, rest = m["head"], m["sel"], m["rest"]
    keys = tuple(k for k in rest.split(".") if k)
    selector: int | str | None = None
    if sel is not None:
        if sel == "*":
            selector = None
        elif sel[0] in "\"'":
            selector = sel[1:-1]
        else:
            selector = int(sel)
    if head in NODE_LISTS:
        if sel is None and not keys:
            kind = "subset"
        elif sel is None:
            raise ValueError(f"path {text!r}: choose {head} entries with [index], "
                             f'["name"] or [*] before .{keys[0]}')
        elif not keys:
            raise ValueError(f"path {text!r}: name a key after {head}[...], "
                             f"e.g. .{NODE_LISTS[head][1]}")
        else:
            kind = "node"
    elif sel is not None:
        raise ValueError(f"path {text!r}: only {', '.join(NODE_LISTS)} take a [selector]")
    elif head in _SHORTCUTS:
        if keys:
            raise ValueError(f"path {text!r}: {head} takes no keys")
        kind = "span"
    else:
        if not keys:
            raise ValueError(f"path {text!r}: name a key of [{head}], e.g. {head}.<key>")
        kind = "table"
    return ParamPath(text=text.strip(), head=head, kind=kind, selector=selector, keys=keys)


def _entries(data: dict[str, Any], p: ParamPath) -> list[dict[str, Any]]:
    """The node tables of ``data`` a node path selects (raises ``LookupError``)."""
    items = data.get(p.head, [])
    if p.selector is None:
        return list(items)
    if isinstance(p.selector, int):
        if not -len(items) <= p.selector < len(items):
            raise LookupError(f"{p.head}[{p.selector}]: the scenario has {len(items)} "
                              f"{p.head} entries")
        return [items[p.selector]]
    found = [it for it in items if it.get("name") == p.selector]
    if not found:
        names = ", ".join(repr(it.get("name")) for it in items)
        raise LookupError(f"no {p.head} named {p.selector!r} (names: {names or 'none'})")
    return found


def check_path(text: str, base: dict[str, Any]) -> ParamPath:
    """Parse ``text`` and check it addresses an existing, sweepable field of ``base`` (parsed
    scenario TOML). Raises ``ValueError`` naming the problem, with the allowed keys."""
    p = parse_path(text)
    if p.kind == "span":
        return p
    if p.kind == "subset":
        return p
    if p.kind == "node":
        try:
            entries = _entries(base, p)
        except LookupError as err:
            raise ValueError(str(err)) from None
        present = {k for e in entries for k in e if k != "name"}
        allowed = sorted(set(NODE_LISTS[p.head]) | present)
        key = p.keys[0]
        if key not in allowed:
            raise ValueError(f"unknown {p.head} key {key!r} (allowed: {', '.join(allowed)})")
        nested = _NESTED.get((p.head, key))
        if nested is not None or any(isinstance(e.get(key), dict) for e in entries):
            if len(p.keys) != 2:
                raise ValueError(f"{p.head} key {key!r} is a table: name one of its keys, "
                                 f"e.g. {p.text}.{(nested or ('<key>',))[0]}")
            missing = [e.get("name", "?") for e in entries if not isinstance(e.get(key), dict)]
            if missing:
                raise ValueError(f"{p.head} {', '.join(map(repr, missing))} has no [{key}] table")
            sub_allowed = sorted(set(nested or ()) | {k for e in entries for k in e[key]})
            if p.keys[1] not in sub_allowed:
                raise ValueError(f"unknown {p.head}.{key} key {p.keys[1]!r} "
                                 f"(allowed: {', '.join(sub_allowed)})")
        elif len(p.keys) != 1:
            raise ValueError(f"{p.head} key {key!r} is not a table")
        return p
    if p.head == "scenario":
        if len(p.keys) != 1 or p.keys[0] not in SCENARIO_KEYS:
            raise ValueError(f"unknown [scenario] key {'.'.join(p.keys)!r} "
                             f"(allowed: {', '.join(SCENARIO_KEYS)})")
        return p
    if p.head in CONFIG_SECTIONS:
        _check_config_keys(p)
        return p
    heads = [*_SHORTCUTS, "scenario", *NODE_LISTS, *CONFIG_SECTIONS]
    raise ValueError(f"unknown path start {p.head!r} (allowed: {', '.join(heads)})")


def _check_config_keys(p: ParamPath) -> None:
    """Walk the pydantic config model of section ``p.head`` along ``p.keys``."""
    model: Any = ScenarioFile.model_fields[p.head].annotation
    for depth, key in enumerate(p.keys):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ValueError(f"[{p.head}] {'.'.join(p.keys[:depth])} is not a table")
        names = list(model.model_fields)
        if key not in names:
            raise ValueError(f"unknown [{p.head}] key {'.'.join(p.keys[:depth + 1])!r} "
                             f"(allowed: {', '.join(names) or 'none yet'})")
        model = model.model_fields[key].annotation


def _format_utc(t: dt.datetime) -> str:
    """UTC ISO 8601 with a Z suffix (milliseconds only when needed)."""
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}"
    return text + "Z"


def _parse_utc(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else (
            value.astimezone(dt.UTC).replace(tzinfo=None))
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1]
    return dt.datetime.fromisoformat(text)


def apply_params(data: dict[str, Any], params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """Set the parameters on ``data`` (parsed scenario TOML, modified in place and returned).

    Order: keys first (node indices refer to the base file's order), then ``span_days``
    (``end = start + value`` days of 86400 s, UTC calendar), then subsets.
    """
    parsed = [(parse_path(path), value) for path, value in params]
    for p, value in parsed:
        if p.kind == "node":
            for entry in _entries(data, p):
                target = entry
                for key in p.keys[:-1]:
                    target = target.setdefault(key, {})
                target[p.keys[-1]] = value
        elif p.kind == "table":
            target = data.setdefault(p.head, {})
            for key in p.keys[:-1]:
                target = target.setdefault(key, {})
            target[p.keys[-1]] = value
    for p, value in parsed:
        if p.kind == "span":
            scen = data.setdefault("scenario", {})
            start = _parse_utc(scen["start"])
            scen["end"] = _format_utc(start + dt.timedelta(days=float(value)))
    for p, value in parsed:
        if p.kind == "subset":
            keep = set(value)
            data[p.head] = [e for e in data.get(p.head, []) if e.get("name") in keep]
    return data


def case_scenario(data: dict[str, Any], base_path: Path | None = None) -> Scenario:
    """A sweep case's :class:`~marsrelay.scenario.Scenario` from its parsed scenario TOML.

    Every check of the scenario loader applies; its errors name the base file (``<name> (sweep
    case)``). Relative file paths are taken relative to ``base_path``'s folder.
    """
    label = f"{base_path.name if base_path else 'scenario'} (sweep case)"
    return scenario_from_data(data, file=label, base_path=base_path)


def describe_value_error(err: Exception) -> str:
    """The user-facing part of an error raised while loading a case's scenario."""
    if isinstance(err, InputError):
        field = f"{err.field}: " if err.field else ""
        allowed = f" (allowed: {err.allowed})" if err.allowed else ""
        return f"{field}{err.problem}{allowed}"
    return str(err)
