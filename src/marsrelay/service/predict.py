"""Overflight prediction: the one place (with :mod:`marsrelay.service.plan`) where the service
calls marsrelay's planning stages.

An overflight is a ``proximity`` contact (source = lander, target = orbiter) found by the
contacts stage, with the volume the links stage predicts for it. ``predicted_bits`` is that
row's ``volume_bits`` (rounded to whole bits), so it equals what ``marsrelay contacts`` and
``marsrelay links`` give for the same scenario. Each overflight also keeps its cumulative volume
profile (the links stage's rate samples, integrated by the trapezoid rule and scaled to the
row's volume) so the share of a sub-window is exact to the sampling step.

Re-predicting one orbiter after a trajectory update runs the same stages on a copy of the
scenario holding only that orbiter (and no stations): proximity contacts and their volumes do
not depend on the other nodes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from marsrelay.contacts import find_contacts
from marsrelay.errors import InputError, TimeError, TrajectoryError
from marsrelay.geometry.orbits import MeanElements, OemTrajectory
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb
from marsrelay.links.compute import compute_links
from marsrelay.scenario import OrbiterSpec, Scenario, builtin_scenario_names, load_scenario
from marsrelay.service.timefmt import parse_ms

__all__ = [
    "NewTrajectory",
    "PredictedOverflight",
    "ScenarioSource",
    "elements_trajectory",
    "load_scenario_source",
    "oem_trajectory",
    "predict_overflights",
    "scenario_assets",
    "tdb_to_ms",
]

#: Errors of the planning stages that mean "this input cannot be used".
STAGE_INPUT_ERRORS: tuple[type[Exception], ...] = (InputError, TrajectoryError, TimeError)


def tdb_to_ms(tdb_s: float | np.ndarray) -> np.ndarray:
    """TDB seconds past J2000 -> UTC milliseconds since 1970 (via the UTC text at ms, exactly
    as the contacts stage writes its CSV)."""
    texts = np.atleast_1d(tdb_to_utc(np.atleast_1d(np.asarray(tdb_s, float)), digits=3))
    return np.asarray([parse_ms(str(t)) for t in texts], dtype=np.int64)


def utc_text_to_tdb(text: str) -> float:
    """UTC ISO 8601 text -> TDB seconds past J2000."""
    return float(utc_to_tdb(text))


@dataclass(frozen=True)
class ScenarioSource:
    """What ``service init`` was given: ``source`` (a built-in name or an absolute path), the
    file's text and its SHA-256 (the identity of "the same scenario")."""

    source: str
    text: str
    sha256: str


def read_scenario_source(name_or_path: str) -> tuple[Scenario, ScenarioSource]:
    """Load a scenario (built-in name or TOML path) and describe where it came from."""
    scenario = load_scenario(name_or_path)
    path = scenario.path
    text = path.read_text(encoding="utf-8") if path is not None else ""
    source = name_or_path if name_or_path in builtin_scenario_names() else str(path)
    return scenario, ScenarioSource(source, text, hashlib.sha256(text.encode()).hexdigest())


def load_scenario_source(source: str, text: str) -> Scenario:
    """The scenario a database was initialised with: the built-in or file it came from, or
    (if that file is gone) its stored text. Relative SPK/OEM paths need the original folder."""
    if source in builtin_scenario_names() or Path(source).is_file():
        return load_scenario(source)
    with tempfile.TemporaryDirectory(prefix="marsrelay-scenario-") as tmp:
        path = Path(tmp) / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        return load_scenario(path)


@dataclass(frozen=True)
class AssetRow:
    name: str
    kind: str  # orbiter | lander | station
    agency: str


def scenario_assets(scenario: Scenario) -> list[AssetRow]:
    """Every asset of the scenario with its agency (``""`` -> ``"unassigned"``)."""
    rows = [AssetRow(o.name, "orbiter", o.agency) for o in scenario.orbiters]
    rows += [AssetRow(la.name, "lander", la.agency) for la in scenario.landers]
    rows += [AssetRow(s.name, "station", s.agency) for s in scenario.stations]
    return [dataclasses.replace(r, agency=r.agency.strip() or "unassigned") for r in rows]


def scenario_span_ms(scenario: Scenario) -> tuple[int, int]:
    ms = tdb_to_ms([scenario.start_tdb_s, scenario.end_tdb_s])
    return int(ms[0]), int(ms[1])


@dataclass(frozen=True)
class PredictedOverflight:
    """One predicted pass: window (UTC ms, half-open), max elevation (deg), volume (bits) and
    the cumulative volume profile (offsets from the start, ms; cumulative bits)."""

    orbiter: str
    lander: str
    start_ms: int
    end_ms: int
    max_elevation_deg: float
    predicted_bits: int
    profile_offsets_ms: tuple[int, ...]
    profile_bits: tuple[int, ...]

    def profile_json(self) -> str:
        return json.dumps(
            [list(self.profile_offsets_ms), list(self.profile_bits)], separators=(",", ":")
        )


def _only(scenario: Scenario, orbiters: tuple[OrbiterSpec, ...]) -> Scenario:
    """The scenario with these orbiters, its landers and no stations (proximity only)."""
    keep = {o.name for o in orbiters} | {la.name for la in scenario.landers}
    links = scenario.links.model_copy(
        update={
            "spacecraft": {k: v for k, v in scenario.links.spacecraft.items() if k in keep},
            "stations": {},
        }
    )
    return dataclasses.replace(
        scenario, orbiters=orbiters, stations=(), station_blackouts={}, links=links
    )


def predict_overflights(
    scenario: Scenario,
    orbiter: OrbiterSpec | None = None,
    span_tdb_s: tuple[float, float] | None = None,
) -> list[PredictedOverflight]:
    """Every overflight of every lander by ``orbiter`` (default: by every orbiter) inside the
    scenario's span (or ``span_tdb_s``), time-ordered. Raises the stages' input errors."""
    orbiters = scenario.orbiters if orbiter is None else (orbiter,)
    if not orbiters or not scenario.landers:
        return []
    sc = _only(scenario, tuple(orbiters))
    if span_tdb_s is not None:
        sc = sc.with_overrides(start_tdb_s=span_tdb_s[0], end_tdb_s=span_tdb_s[1])
    contacts = find_contacts(sc, workers=1)
    linked = compute_links(sc, contacts)
    table = linked.contacts
    rows = np.nonzero(table.kind == "proximity")[0]
    if rows.size == 0:
        return []
    starts = tdb_to_ms(table.start_tdb_s[rows])
    ends = tdb_to_ms(table.end_tdb_s[rows])
    out = []
    for k, row in enumerate(rows):
        if ends[k] <= starts[k]:
            continue  # shorter than a millisecond once rounded: not a usable window
        volume = float(table.volume_bits[row])
        volume = volume if math.isfinite(volume) and volume > 0 else 0.0
        prof = linked.rate_profile(int(row))
        offsets, cum = _cumulative(prof.t_tdb_s, prof.rate_bps, table.start_tdb_s[row], volume)
        out.append(
            PredictedOverflight(
                orbiter=str(table.target[row]),
                lander=str(table.source[row]),
                start_ms=int(starts[k]),
                end_ms=int(ends[k]),
                max_elevation_deg=round(float(table.max_elevation_deg[row]), 6),
                predicted_bits=round(volume),
                profile_offsets_ms=offsets,
                profile_bits=cum,
            )
        )
    out.sort(key=lambda o: (o.start_ms, o.orbiter, o.lander))
    return out


def _cumulative(
    t_tdb_s: np.ndarray, rate_bps: np.ndarray, start_tdb_s: float, volume_bits: float
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    t = np.asarray(t_tdb_s, float)
    r = np.asarray(rate_bps, float)
    if t.size < 2:
        return (0,), (round(volume_bits),)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * np.diff(t))])
    if cum[-1] > 0:
        cum *= volume_bits / cum[-1]
    offsets = np.round((t - start_tdb_s) * 1000.0).astype(np.int64)
    return tuple(offsets.tolist()), tuple(round(x) for x in cum.tolist())


@dataclass(frozen=True)
class NewTrajectory:
    """A published trajectory, ready for :func:`predict_overflights`: the orbiter's spec and
    the part of the scenario's span it covers (TDB s and UTC ms)."""

    spec: OrbiterSpec
    span_tdb_s: tuple[float, float]
    span_ms: tuple[int, int]


def _covered(
    scenario: Scenario, spec: OrbiterSpec, lo: float, hi: float, field: str
) -> NewTrajectory:
    start, end = max(scenario.start_tdb_s, lo), min(scenario.end_tdb_s, hi)
    if not end > start:
        raise InputError(
            f"the trajectory covers TDB {lo:.0f}..{hi:.0f} s past J2000, nothing of the "
            f"scenario's span {scenario.start_utc} .. {scenario.end_utc}",
            field=field,
            allowed="a trajectory covering (part of) the scenario's span",
        )
    ms = tdb_to_ms([start, end])
    return NewTrajectory(spec, (start, end), (int(ms[0]), int(ms[1])))


def elements_trajectory(
    scenario: Scenario, orbiter: str, elements: dict[str, Any]
) -> NewTrajectory:
    """Mean elements (keys as in a scenario's ``[orbiter.elements]``; ``epoch`` UTC text,
    default the scenario start) -> the orbiter's new spec. Raises InputError/TrajectoryError."""
    base = _orbiter(scenario, orbiter)
    epoch_text = elements.get("epoch")
    epoch = scenario.start_tdb_s if epoch_text is None else utc_text_to_tdb(epoch_text)
    mean = MeanElements(
        epoch,
        float(elements["a_km"]),
        float(elements.get("e", 0.0)),
        float(elements["i_deg"]),
        float(elements.get("raan_deg", 0.0)),
        float(elements.get("argp_deg", 0.0)),
        float(elements.get("mean_anomaly_deg", 0.0)),
    )
    mean.validate()
    spec = dataclasses.replace(base, elements=mean, spk_path=None, naif_id=None, oem_path=None)
    return _covered(scenario, spec, -math.inf, math.inf, "elements")


def oem_trajectory(scenario: Scenario, orbiter: str, oem_path: Path) -> NewTrajectory:
    """A CCSDS OEM file (KVN) -> the orbiter's new spec; the file must stay until the
    prediction is done. Raises InputError/TrajectoryError for a file that cannot be used."""
    base = _orbiter(scenario, orbiter)
    try:
        traj = OemTrajectory(oem_path)
    except (ValueError, KeyError, IndexError) as exc:  # the reader's own errors included
        raise InputError(
            f"not a usable CCSDS OEM: {exc}",
            field="file",
            allowed="a CCSDS OEM (KVN) of the orbiter, Mars-centred",
        ) from None
    lo, hi = traj.coverage_tdb_s
    spec = dataclasses.replace(base, elements=None, spk_path=None, naif_id=None, oem_path=oem_path)
    return _covered(scenario, spec, lo, hi, "file")


def _orbiter(scenario: Scenario, name: str) -> OrbiterSpec:
    for spec in scenario.orbiters:
        if spec.name == name:
            return spec
    raise InputError(f"no orbiter {name!r} in scenario {scenario.name}", field="orbiter")
