"""The contact plan the simulator runs on: one row per unidirectional contact (arrays).

A contact is a window during which ``from_node`` can send to ``to_node`` at ``rate_bps``; data
sent at time t arrive at t + ``owlt_s`` (CCSDS 734.3-B-1 SABR section 2.3.1: contacts and range
intervals; here the range is joined to each contact). ``confidence`` is the probability that the
contact happens at all (ION's contact confidence); ``loss`` the probability that one bundle sent
on it is lost. ``band`` groups the contacts that share one transmitter of the sending node
(:data:`BAND_PROXIMITY` UHF relay, :data:`BAND_EARTH` X/Ka to Earth, :data:`BAND_OTHER`).

Nodes are named; ``node_kind`` says which are landers, orbiters and Earth stations. Every station
is an "Earth" sink: a bundle is delivered when it reaches any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.scenario import Scenario

__all__ = [
    "BAND_EARTH",
    "BAND_OTHER",
    "BAND_PROXIMITY",
    "NODE_KINDS",
    "ContactPlan",
]

BAND_PROXIMITY: int = 0
BAND_EARTH: int = 1
BAND_OTHER: int = 2

#: Allowed values of ``node_kind``.
NODE_KINDS: tuple[str, ...] = ("lander", "orbiter", "station", "node")

_ARRAYS = ("from_node", "to_node", "start_tdb_s", "end_tdb_s", "rate_bps", "owlt_s",
           "confidence", "loss", "band")


@dataclass
class ContactPlan:
    """A contact plan (columnar). Times are TDB seconds past J2000, rates bits per second.

    Rows are sorted by (start, from, to). ``node_names``/``node_kind`` index the nodes that
    ``from_node``/``to_node`` refer to.
    """

    node_names: tuple[str, ...]
    node_kind: tuple[str, ...]
    from_node: np.ndarray
    to_node: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    rate_bps: np.ndarray
    owlt_s: np.ndarray
    confidence: np.ndarray | None = None
    loss: np.ndarray | None = None
    band: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.node_names = tuple(str(n) for n in self.node_names)
        self.node_kind = tuple(str(k) for k in self.node_kind)
        if len(self.node_kind) != len(self.node_names):
            raise ValueError("node_kind must have one entry per node")
        bad = sorted(set(self.node_kind) - set(NODE_KINDS))
        if bad:
            raise ValueError(f"unknown node kind {bad[0]!r} (allowed: {', '.join(NODE_KINDS)})")
        if len(set(self.node_names)) != len(self.node_names):
            raise ValueError("node names must be unique")
        n = len(np.asarray(self.start_tdb_s))
        if self.confidence is None:
            self.confidence = np.ones(n)
        if self.loss is None:
            self.loss = np.zeros(n)
        if self.band is None:
            self.band = np.full(n, BAND_OTHER)
        for name in _ARRAYS:
            v = np.asarray(getattr(self, name))
            if len(v) != n:
                raise ValueError(f"column {name} has {len(v)} rows, expected {n}")
            dtype = np.int32 if name in ("from_node", "to_node", "band") else np.float64
            setattr(self, name, v.astype(dtype, copy=True))
        nn = len(self.node_names)
        for name in ("from_node", "to_node"):
            v = getattr(self, name)
            if n and (v.min() < 0 or v.max() >= nn):
                raise ValueError(f"{name} refers to a node outside 0..{nn - 1}")
        if n:
            if np.any(self.from_node == self.to_node):
                raise ValueError("a contact must join two different nodes")
            if not np.all(np.isfinite(self.start_tdb_s) & np.isfinite(self.end_tdb_s)):
                raise ValueError("contact times must be finite")
            if np.any(self.end_tdb_s < self.start_tdb_s):
                raise ValueError("a contact ends before it starts")
            if np.any(~np.isfinite(self.rate_bps) | (self.rate_bps < 0)):
                raise ValueError("contact rates must be finite and >= 0 bps")
            if np.any(~np.isfinite(self.owlt_s) | (self.owlt_s < 0)):
                raise ValueError("one-way light times must be finite and >= 0 s")
            if np.any((self.confidence <= 0) | (self.confidence > 1)):
                raise ValueError("contact confidence must be in (0, 1]")
            if np.any((self.loss < 0) | (self.loss > 1)):
                raise ValueError("loss probabilities must be in [0, 1]")
        order = np.lexsort((self.to_node, self.from_node, self.start_tdb_s))
        if np.any(order != np.arange(n)):
            for name in _ARRAYS:
                setattr(self, name, getattr(self, name)[order])

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.start_tdb_s)

    @property
    def volume_bits(self) -> np.ndarray:
        """Contact volume, bits: rate x duration (SABR 2.3.1)."""
        return self.rate_bps * (self.end_tdb_s - self.start_tdb_s)

    @property
    def is_sink(self) -> np.ndarray:
        """Per node: True for Earth stations (delivery points)."""
        return np.array([k == "station" for k in self.node_kind], dtype=bool)

    def node_index(self, name: str) -> int:
        """Index of node ``name`` (InputError if unknown)."""
        try:
            return self.node_names.index(name)
        except ValueError:
            raise InputError(f"unknown node {name!r}", field="node",
                             allowed=", ".join(self.node_names)) from None

    def take(self, index: np.ndarray) -> ContactPlan:
        """Rows ``index`` (integer or boolean array) as a new plan (same nodes)."""
        return ContactPlan(self.node_names, self.node_kind,
                           **{k: getattr(self, k)[index] for k in _ARRAYS})

    def clip(self, start_tdb_s: float, end_tdb_s: float) -> ContactPlan:
        """Contacts cut to [start, end]; those left empty are dropped."""
        s = np.maximum(self.start_tdb_s, start_tdb_s)
        e = np.minimum(self.end_tdb_s, end_tdb_s)
        keep = e > s
        cols = {k: getattr(self, k)[keep] for k in _ARRAYS}
        cols["start_tdb_s"], cols["end_tdb_s"] = s[keep], e[keep]
        return ContactPlan(self.node_names, self.node_kind, **cols)

    def equals(self, other: ContactPlan, atol: float = 0.0) -> bool:
        """Same nodes and contacts (times, rates, light times within ``atol``)."""
        if self.node_names != other.node_names or self.node_kind != other.node_kind:
            return False
        if len(self) != len(other):
            return False
        for f in fields(self):
            if f.name in _ARRAYS:
                a, b = getattr(self, f.name), getattr(other, f.name)
                if not np.allclose(a, b, rtol=0.0, atol=atol):
                    return False
        return True

    # ------------------------------------------------------------- constructors
    @classmethod
    def from_rows(
        cls,
        rows: Sequence[Sequence[Any]],
        node_kinds: dict[str, str],
    ) -> ContactPlan:
        """A plan from ``(from, to, start_s, end_s, rate_bps, owlt_s[, confidence, loss])``
        rows with node names; ``node_kinds`` maps every node name to its kind (in order)."""
        names = tuple(node_kinds)
        idx = {n: i for i, n in enumerate(names)}
        cols: dict[str, list[float]] = {k: [] for k in _ARRAYS}
        for row in rows:
            f, t = str(row[0]), str(row[1])
            if f not in idx or t not in idx:
                raise ValueError(f"contact {f!r} -> {t!r} names an unknown node")
            cols["from_node"].append(idx[f])
            cols["to_node"].append(idx[t])
            cols["start_tdb_s"].append(float(row[2]))
            cols["end_tdb_s"].append(float(row[3]))
            cols["rate_bps"].append(float(row[4]))
            cols["owlt_s"].append(float(row[5]))
            cols["confidence"].append(float(row[6]) if len(row) > 6 else 1.0)
            cols["loss"].append(float(row[7]) if len(row) > 7 else 0.0)
            kf, kt = node_kinds[f], node_kinds[t]
            band = BAND_EARTH if kt == "station" else (
                BAND_PROXIMITY if {kf, kt} == {"lander", "orbiter"} else BAND_OTHER)
            cols["band"].append(band)
        arrays = {k: np.asarray(v) for k, v in cols.items()}
        return cls(names, tuple(node_kinds[n] for n in names), **arrays)

    @classmethod
    def from_contact_table(
        cls,
        table: ContactTable,
        scenario: Scenario | None = None,
        config: Any | None = None,
    ) -> ContactPlan:
        """The plan of a :class:`~marsrelay.contacts.table.ContactTable`.

        ``proximity`` rows give lander -> orbiter contacts (and orbiter -> lander ones when
        ``config.proximity_return``); ``orbiter_earth`` rows orbiter -> station and
        ``direct_earth`` rows lander -> station. The rate is ``volume_bits / duration`` when the
        links stage filled the volume, else ``rate_bps_mean``, else the config's default rate
        for the kind. Rows with a zero rate are dropped. ``scenario`` (a
        :class:`marsrelay.scenario.Scenario`) fixes node order and kinds; without it they are
        taken from the table. ``config`` is a :class:`marsrelay.config.SimulationConfig`.
        """
        from marsrelay.config.simulation import SimulationConfig

        cfg = config if config is not None else SimulationConfig()
        if scenario is not None:
            names = [o.name for o in scenario.orbiters] + [la.name for la in scenario.landers] + [
                s.name for s in scenario.stations]
            kinds = (["orbiter"] * len(scenario.orbiters) + ["lander"] * len(scenario.landers)
                     + ["station"] * len(scenario.stations))
        else:
            kind_of: dict[str, str] = {}
            for src, tgt, k in zip(table.source, table.target, table.kind, strict=True):
                if k == "proximity":
                    kind_of.setdefault(str(src), "lander")
                    kind_of.setdefault(str(tgt), "orbiter")
                elif k == "orbiter_earth":
                    kind_of.setdefault(str(src), "orbiter")
                    kind_of.setdefault(str(tgt), "station")
                else:
                    kind_of.setdefault(str(src), "lander")
                    kind_of.setdefault(str(tgt), "station")
            names, kinds = list(kind_of), list(kind_of.values())
        idx = {n: i for i, n in enumerate(names)}
        n = len(table)
        dur = table.end_tdb_s - table.start_tdb_s
        vol = np.asarray(table.volume_bits, dtype=float)
        mean = np.asarray(table.rate_bps_mean, dtype=float)
        prox = table.kind == "proximity"
        default = np.where(prox, cfg.default_proximity_rate_bps, cfg.default_earth_rate_bps)
        with np.errstate(invalid="ignore", divide="ignore"):
            from_volume = np.where(dur > 0, vol / dur, 0.0)
        rate = np.where(np.isfinite(vol), from_volume, np.where(np.isfinite(mean), mean, default))
        unknown = sorted({str(x) for x in (*table.source, *table.target)} - set(idx))
        if unknown:
            raise InputError(f"contact table names node {unknown[0]!r} not in the scenario",
                             field="contacts")
        frm = np.array([idx[str(s)] for s in table.source], dtype=np.int32) if n else np.zeros(
            0, np.int32)
        to = np.array([idx[str(t)] for t in table.target], dtype=np.int32) if n else np.zeros(
            0, np.int32)
        band = np.where(prox, BAND_PROXIMITY, BAND_EARTH).astype(np.int32)
        owlt = np.where(prox, 0.0, np.nan_to_num(table.owlt_s, nan=0.0))
        conf = np.full(n, float(cfg.contact_confidence))
        loss = np.full(n, float(cfg.loss_probability))
        cols = {"from_node": frm, "to_node": to, "start_tdb_s": table.start_tdb_s,
                "end_tdb_s": table.end_tdb_s, "rate_bps": rate, "owlt_s": owlt,
                "confidence": conf, "loss": loss, "band": band}
        if cfg.proximity_return and np.any(prox):
            rev = {k: np.asarray(v)[prox] for k, v in cols.items()}
            rev["from_node"], rev["to_node"] = rev["to_node"], rev["from_node"]
            cols = {k: np.concatenate([np.asarray(v), rev[k]]) for k, v in cols.items()}
        keep = (cols["rate_bps"] > 0) & (cols["end_tdb_s"] > cols["start_tdb_s"])
        return cls(tuple(names), tuple(kinds), **{k: np.asarray(v)[keep] for k, v in cols.items()})
