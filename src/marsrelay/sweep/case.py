"""One sweep case: its input (:class:`Case`), its figures (:class:`CaseResult`) and the default
evaluation (:func:`evaluate_case`) through the pipeline stages.

A case function is any ``Callable[[Case], CaseResult]`` importable by the Dask workers (a sweep
file names it as ``case = "module:function"``; the default is :func:`evaluate_case`). It must be
deterministic: the sweep engine relies on "same parameters, same figures" to resume and compare.

Per-sol figures are totals over the scenario span divided by the span in sols
(``(end - start) / 88775.244 s``); per-lander rows, one per lander of the case's scenario.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from marsrelay import contacts as contacts_stage
from marsrelay import links as links_stage
from marsrelay import schedule as schedule_stage
from marsrelay import simulation as simulation_stage
from marsrelay.constants import SOL_S
from marsrelay.contacts import ContactsConfig
from marsrelay.scenario import Scenario
from marsrelay.simulation import SimulationResult
from marsrelay.sweep.paths import apply_params, case_scenario

__all__ = [
    "CASE_FUNCTIONS",
    "FIGURES",
    "FIGURE_NAMES",
    "Case",
    "CaseFunction",
    "CaseResult",
    "Figure",
    "evaluate_case",
    "result_from_contacts",
    "simulation_figures",
]


@dataclass(frozen=True)
class Figure:
    """A figure a sweep can collect per case and lander: column name, unit and meaning."""

    name: str
    unit: str
    description: str
    stage: str


#: Figures a sweep file may list under ``figures`` (column names of ``results.parquet``).
FIGURES: tuple[Figure, ...] = (
    Figure("passes_per_sol", "1/sol", "proximity passes with any orbiter per sol", "contacts"),
    Figure("contact_min_per_sol", "min/sol", "proximity contact time per sol", "contacts"),
    Figure("max_gap_h", "h", "longest span without any proximity contact", "contacts"),
    Figure("dte_min_per_sol", "min/sol", "direct-to-Earth contact time per sol", "contacts"),
    Figure("capacity_mbit_per_sol", "Mbit/sol",
           "relay link capacity per sol: what the proximity passes could carry", "links"),
    Figure("delivered_mbit_per_sol", "Mbit/sol",
           "data returned per sol: what the simulation delivered to Earth",
           "simulation"),
    Figure("latency_p50_s", "s", "median latency lander -> Earth of delivered data",
           "simulation"),
)
FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in FIGURES)


@dataclass(frozen=True)
class Case:
    """The input of one case: its id, the swept parameter values and the scenario data.

    - ``case_id``: 16 hex digits, a hash of the parameter values (stable across runs).
    - ``index``: position in the sweep's case list.
    - ``params``: ``((path, value), ...)`` in axis order, e.g. ``(("lander[0].lat_deg", 18.2),)``.
    - ``base_data``: the base scenario file as parsed TOML; ``base_path`` its file (relative
      paths inside it, e.g. SPK files, are relative to that file's folder).
    - ``figures``: the figures the sweep collects (a case function may skip the others).

    :attr:`scenario_data` is the base with the parameters applied (a TOML-shaped dict, the same
    keys as a scenario file) and :meth:`scenario` loads it through :mod:`marsrelay.scenario`.
    Custom case functions may read :attr:`scenario_data` directly.
    """

    case_id: str
    index: int
    params: tuple[tuple[str, Any], ...]
    base_data: dict[str, Any]
    base_path: Path | None = None
    figures: tuple[str, ...] = FIGURE_NAMES

    @cached_property
    def scenario_data(self) -> dict[str, Any]:
        """The scenario file content of this case (a deep copy of the base, parameters set)."""
        return apply_params(copy.deepcopy(self.base_data), self.params)

    def scenario(self) -> Scenario:
        """The case's :class:`marsrelay.scenario.Scenario` (validated by the scenario loader)."""
        return case_scenario(self.scenario_data, self.base_path)

    def param(self, path: str) -> Any:
        """Value of the parameter ``path`` in this case (``KeyError`` if not swept)."""
        for p, v in self.params:
            if p == path:
                return v
        raise KeyError(path)


@dataclass(frozen=True)
class CaseResult:
    """Figures of one case, one entry per lander (NaN where a figure was not computed).

    Units are in the names (see :data:`FIGURES`); ``lat_deg``/``lon_east_deg`` are the lander's
    planetocentric latitude and east longitude in this case.
    """

    lander: tuple[str, ...]
    lat_deg: tuple[float, ...]
    lon_east_deg: tuple[float, ...]
    passes_per_sol: tuple[float, ...] = ()
    contact_min_per_sol: tuple[float, ...] = ()
    max_gap_h: tuple[float, ...] = ()
    dte_min_per_sol: tuple[float, ...] = ()
    capacity_mbit_per_sol: tuple[float, ...] = ()
    delivered_mbit_per_sol: tuple[float, ...] = ()
    latency_p50_s: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.lander)
        object.__setattr__(self, "lander", tuple(str(x) for x in self.lander))
        for f in fields(self):
            if f.name == "lander":
                continue
            v = tuple(float(x) for x in np.asarray(getattr(self, f.name), dtype=float).ravel())
            if not v and f.name in FIGURE_NAMES:
                v = (math.nan,) * n
            if len(v) != n:
                raise ValueError(f"CaseResult.{f.name} has {len(v)} values for {n} landers")
            object.__setattr__(self, f.name, v)

    def __len__(self) -> int:
        return len(self.lander)

    def figure(self, name: str) -> tuple[float, ...]:
        """Values of figure ``name`` (one of :data:`FIGURE_NAMES`), one per lander."""
        if name not in FIGURE_NAMES:
            raise KeyError(name)
        return getattr(self, name)


CaseFunction = Callable[[Case], CaseResult]


def result_from_contacts(
    landers: Sequence[str],
    lat_deg: Sequence[float],
    lon_east_deg: Sequence[float],
    contacts: Any,
    start_tdb_s: float,
    end_tdb_s: float,
) -> CaseResult:
    """Per-lander contact figures from a :class:`marsrelay.contacts.ContactTable`.

    ``landers`` with their latitude/longitude (deg) and the span (TDB s) give a
    :class:`CaseResult` with ``passes_per_sol`` (1/sol),
    ``contact_min_per_sol`` (min/sol), ``max_gap_h`` (h, longest time inside the span not
    covered by any proximity window, span edges included), ``dte_min_per_sol`` (min/sol) and
    ``capacity_mbit_per_sol`` (Mbit/sol, NaN when the table has no link volumes).
    """
    sols = (end_tdb_s - start_tdb_s) / SOL_S
    out = {k: np.full(len(landers), np.nan) for k in (
        "passes_per_sol", "contact_min_per_sol", "max_gap_h", "dte_min_per_sol",
        "capacity_mbit_per_sol")}
    src = np.asarray(contacts.source).astype(str)
    tgt = np.asarray(contacts.target).astype(str)
    kind = np.asarray(contacts.kind).astype(str)
    t0 = np.asarray(contacts.start_tdb_s, dtype=float)
    t1 = np.asarray(contacts.end_tdb_s, dtype=float)
    vol = np.asarray(contacts.volume_bits, dtype=float)
    for i, name in enumerate(landers):
        mine = (src == name) | (tgt == name)
        prox = mine & (kind == "proximity")
        a = np.clip(t0[prox], start_tdb_s, end_tdb_s)
        b = np.clip(t1[prox], start_tdb_s, end_tdb_s)
        out["passes_per_sol"][i] = prox.sum() / sols
        out["contact_min_per_sol"][i] = np.sum(b - a) / 60.0 / sols
        out["max_gap_h"][i] = _max_gap_s(a, b, start_tdb_s, end_tdb_s) / 3600.0
        dte = mine & (kind == "direct_earth")
        out["dte_min_per_sol"][i] = np.sum(t1[dte] - t0[dte]) / 60.0 / sols
        v = vol[prox]
        if v.size == 0 or np.all(np.isfinite(v)):
            out["capacity_mbit_per_sol"][i] = np.sum(v) / 1e6 / sols
    return CaseResult(lander=tuple(landers), lat_deg=tuple(lat_deg),
                      lon_east_deg=tuple(lon_east_deg), **out)


def _max_gap_s(a: np.ndarray, b: np.ndarray, t_start: float, t_end: float) -> float:
    """Longest part of ``[t_start, t_end]`` outside the union of the windows ``[a, b]``, s."""
    if a.size == 0:
        return t_end - t_start
    order = np.argsort(a)
    a, b = a[order], b[order]
    covered_until = np.maximum.accumulate(b)
    gaps = np.concatenate([[a[0] - t_start], a[1:] - covered_until[:-1],
                           [t_end - covered_until[-1]]])
    return float(max(gaps.max(), 0.0))


#: Figures that need the links stage, and those that need the simulation.
_LINK_FIGURES = frozenset({"capacity_mbit_per_sol", "delivered_mbit_per_sol", "latency_p50_s"})
_SIMULATION_FIGURES = frozenset({"delivered_mbit_per_sol", "latency_p50_s"})
_EARTH_FIGURES = frozenset({"dte_min_per_sol"}) | _SIMULATION_FIGURES


def evaluate_case(case: Case) -> CaseResult:
    """The default case function: scenario -> contacts (-> links -> schedule -> simulation),
    running only the stages the case's figures need.

    Without an Earth figure (``dte_min_per_sol`` or a simulation figure) the stations are left
    out of the contact search (proximity windows do not depend on them). The contact search
    runs in one process: the sweep's workers are the parallelism. The schedule runs only when
    the simulation uses it (``[simulation] use_schedule``).
    """
    need = set(case.figures)
    sc = case.scenario()
    if not need & _EARTH_FIGURES:
        sc = sc.with_overrides(stations=(), station_blackouts={})
    found = contacts_stage.run(sc, ContactsConfig(workers=1))
    table = found.contacts
    linked = None
    if need & _LINK_FIGURES:
        linked = links_stage.run(sc, found)
        table = linked.contacts
    names = [lander.name for lander in sc.landers]
    result = result_from_contacts(
        names,
        [lander.site.lat_deg for lander in sc.landers],
        [lander.site.lon_east_deg for lander in sc.landers],
        table, sc.start_tdb_s, sc.end_tdb_s,
    )
    if linked is not None and need & _SIMULATION_FIGURES:
        schedule = schedule_stage.run(sc, linked) if sc.simulation.use_schedule else None
        delivered, p50 = simulation_figures(simulation_stage.run(sc, linked, schedule), names)
        result = dataclasses.replace(result, delivered_mbit_per_sol=delivered,
                                     latency_p50_s=p50)
    return result


def simulation_figures(sim: SimulationResult, landers: Sequence[str]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per lander: data delivered to Earth per sol (Mbit/sol over the span) and the median
    latency of its delivered bundles (s, NaN if none)."""
    outcome = sim.outcome
    sols = (outcome.end_tdb_s - outcome.start_tdb_s) / SOL_S
    names = list(outcome.plan.node_names)
    bundles = outcome.bundles
    delivered = np.zeros(len(landers))
    p50 = np.full(len(landers), np.nan)
    ok = np.asarray(outcome.delivered, dtype=bool)
    latency = np.asarray(outcome.latency_s, dtype=float)
    for i, lander in enumerate(landers):
        if lander not in names:
            continue
        mine = ok & (np.asarray(bundles.source) == names.index(lander))
        delivered[i] = float(np.sum(np.asarray(bundles.bits)[mine])) / 1e6 / sols
        if mine.any():
            p50[i] = float(np.median(latency[mine]))
    return delivered, p50


#: marsrelay's own case functions, by the names a sweep file's ``case`` may use.
CASE_FUNCTIONS: dict[str, CaseFunction] = {
    "pipeline": evaluate_case,
    "marsrelay.sweep.case:evaluate_case": evaluate_case,
}
