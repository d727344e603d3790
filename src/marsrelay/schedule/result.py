"""The schedule: chosen passes, why the others were dropped, delivered vs demanded per sol.

Tables are columnar (numpy arrays, one row per pass or per lander sol); :meth:`Schedule.tables`
gives the run folder's ``schedule`` and ``schedule_sols`` (:mod:`marsrelay.rundir.schema`).

Reason codes (:data:`REASONS`) of a pass not taken, or taken but not filled:

- ``demand_met``: its lander's sol already gets its whole demand;
- ``orbiter_busy``: the orbiter serves another lander then; ``lander_busy``: the lander talks to
  another orbiter then; ``min_gap``: too close to another pass of the orbiter;
- ``max_passes``: the orbiter has its maximum number of passes in that Mars sol;
- ``switch_time``: too close to another lander's part of a split pass on the orbiter (the
  orbiter's radio needs ``switch_time_s`` to hand over);
- ``capacity``: the orbiter cannot carry more home before the deadline;
- ``blackout``, ``forbidden``, ``no_volume``: excluded before the choice;
- ``not_chosen``: none of the above (only when the search stopped at its time limit).

A pass split between two landers (``status`` ``split``) is used for its share only; the rest of
the overflight went to the other lander (reason ``orbiter_busy`` unless another reason ranks
first), and ``detail`` names the other lander's pass.

A lander sol short of its demand gets a ``binding`` constraint: the one that accounts for most
of the missing volume, counting ``visibility`` for the demand that even all its passes together
could not carry, and each reason above for the unused volume of the passes it dropped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from marsrelay.geometry.time import tdb_to_utc
from marsrelay.rundir import schema
from marsrelay.rundir.tables import OutputTable, utc_column
from marsrelay.schedule.problem import KBIT, WEIGHT_SCALE, RelayProblem
from marsrelay.schedule.selection import Selection

__all__ = [
    "REASONS",
    "DemandShortfall",
    "PassPlan",
    "Schedule",
    "SolDelivery",
    "make_schedule",
]

REASONS: tuple[str, ...] = (
    "demand_met", "orbiter_busy", "lander_busy", "min_gap", "max_passes", "switch_time",
    "capacity", "blackout", "forbidden", "no_volume", "not_chosen",
)

@dataclass
class PassPlan:
    """Every candidate pass (columnar): names, window (TDB s), ``lander_sol``, ``volume_bits``
    it could carry, ``planned_bits`` the plan puts on it, ``selected`` (used, whole or split),
    ``reason``, ``detail``; for split passes the share's window ``share_start_tdb_s``/
    ``share_end_tdb_s`` (TDB s), ``share_volume_bits`` (NaN when not split) and ``split_with``
    (``pass_id`` of the other lander's pass on the rest of the overflight; 0 when not split,
    or when the rest of the pass is lost to the lander's own radio or a pass limit)."""

    lander: np.ndarray
    orbiter: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    lander_sol: np.ndarray
    volume_bits: np.ndarray
    planned_bits: np.ndarray
    selected: np.ndarray
    reason: np.ndarray
    detail: np.ndarray
    share_start_tdb_s: np.ndarray | None = None
    share_end_tdb_s: np.ndarray | None = None
    share_volume_bits: np.ndarray | None = None
    split_with: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.lander)
        for name in ("share_start_tdb_s", "share_end_tdb_s", "share_volume_bits"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, np.nan))
        if self.split_with is None:
            self.split_with = np.zeros(n, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.lander)

    @property
    def split(self) -> np.ndarray:
        """True where the pass is used for a share only (split with another lander)."""
        return np.isfinite(np.asarray(self.share_start_tdb_s, dtype=float))

    @property
    def status(self) -> np.ndarray:
        """``selected``, ``split`` or ``dropped`` per pass."""
        return np.where(self.split, "split", np.where(self.selected, "selected", "dropped"))

    @property
    def pass_id(self) -> np.ndarray:
        """1-based pass numbers (rows are sorted by start), as used in ``detail`` texts."""
        return np.arange(1, len(self) + 1)


@dataclass
class SolDelivery:
    """Per lander sol (columnar): window (TDB s, clipped to the horizon), ``deadline_tdb_s``,
    ``demand_bits`` (pro-rated at the horizon's edges), ``delivered_bits``, ``binding`` and
    ``detail``."""

    lander: np.ndarray
    sol: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    deadline_tdb_s: np.ndarray
    demand_bits: np.ndarray
    delivered_bits: np.ndarray
    binding: np.ndarray
    detail: np.ndarray

    @property
    def shortfall_bits(self) -> np.ndarray:
        """Demand not delivered, bits (>= 0; differences under 1 kbit are rounding)."""
        short = self.demand_bits - self.delivered_bits
        return np.where(short >= KBIT, short, 0.0)


@dataclass(frozen=True)
class DemandShortfall:
    """One lander's unmet demand over the horizon and the constraint that binds it most."""

    lander: str
    sols_short: int
    sols: int
    demand_bits: float
    delivered_bits: float
    shortfall_bits: float
    binding: str
    detail: str


@dataclass
class Schedule:
    """A relay plan with its explanation.

    ``objective_bits`` is the weighted delivered volume (priority x bits); ``best_bound_bits``
    the solver's proven upper bound (NaN for greedy); ``gap`` their relative difference;
    ``greedy_objective_bits`` the greedy baseline's objective on the same problem.
    """

    passes: PassPlan
    sols: SolDelivery
    shortfalls: tuple[DemandShortfall, ...]
    solver: str
    status: str
    objective_bits: float
    best_bound_bits: float
    gap: float
    solve_s: float
    greedy_objective_bits: float
    landers: tuple[str, ...]

    def selected(self) -> np.ndarray:
        """Indices of the selected passes."""
        return np.flatnonzero(self.passes.selected)

    def lander_totals(self) -> list[tuple[str, float, float]]:
        """``(lander, demand_bits, delivered_bits)`` over the horizon, in scenario order."""
        out = []
        for name in self.landers:
            m = self.sols.lander == name
            out.append((name, float(self.sols.demand_bits[m].sum()),
                        float(self.sols.delivered_bits[m].sum())))
        return out

    def tables(self) -> tuple[OutputTable, ...]:
        """``schedule`` (one row per candidate pass; a split pass with its share's window, see
        :data:`marsrelay.rundir.schema.SCHEDULE`) and ``schedule_sols`` (per lander sol) for
        the run folder."""
        p, s = self.passes, self.sols
        split_with = np.asarray(p.split_with)
        passes = OutputTable(schema.SCHEDULE, {
            "pass_id": p.pass_id, "lander": p.lander, "orbiter": p.orbiter,
            "status": p.status.astype(object),
            "start_utc": utc_column(p.start_tdb_s), "end_utc": utc_column(p.end_tdb_s),
            "start_tdb_s": p.start_tdb_s, "end_tdb_s": p.end_tdb_s,
            "duration_s": p.end_tdb_s - p.start_tdb_s, "lander_sol": p.lander_sol,
            "volume_bits": p.volume_bits, "planned_bits": p.planned_bits,
            "reason": p.reason, "detail": p.detail,
            "share_start_utc": utc_column(p.share_start_tdb_s),
            "share_end_utc": utc_column(p.share_end_tdb_s),
            "share_start_tdb_s": p.share_start_tdb_s, "share_end_tdb_s": p.share_end_tdb_s,
            "share_volume_bits": p.share_volume_bits,
            "split_with": np.where(split_with > 0, split_with, np.nan),
        })
        sols = OutputTable(schema.SCHEDULE_SOLS, {
            "lander": s.lander, "sol": s.sol, "start_utc": utc_column(s.start_tdb_s),
            "end_utc": utc_column(s.end_tdb_s), "deadline_utc": utc_column(s.deadline_tdb_s),
            "demand_bits": s.demand_bits, "delivered_bits": s.delivered_bits,
            "shortfall_bits": s.shortfall_bits, "binding": s.binding, "detail": s.detail,
        })
        return passes, sols


def _mbit(bits: float) -> str:
    return f"{bits / 1e6:.1f} Mbit"


def make_schedule(
    pb: RelayProblem, sel: Selection, greedy_objective: int | None = None
) -> Schedule:
    """Turn a solver's selection into a :class:`Schedule`, explaining every dropped pass and
    every lander sol short of its demand. One row per whole pass: a pass whose share was chosen
    (a split pass) is reported on its whole pass's row with the share's window."""
    n = pb.n_whole
    lnames = np.array([x.name for x in pb.landers] + [""], dtype=object)[:-1]
    onames = np.array([x.name for x in pb.orbiters] + [""], dtype=object)[:-1]
    # The problem row that carries each pass's plan: the pass itself, or its chosen share.
    whole_of = np.where(pb.share_of >= 0, pb.share_of, np.arange(len(pb)))
    row_of = np.arange(n)
    for q in np.flatnonzero(sel.selected & (pb.share_of >= 0)).tolist():
        row_of[whole_of[q]] = q
    split = row_of != np.arange(n)
    taken = sel.selected[row_of]
    planned_kbit = sel.planned_kbit[row_of]
    planned_bits = planned_kbit.astype(float) * KBIT
    ngroups = len(pb.group_demand_kbit)
    delivered = np.bincount(pb.group, weights=sel.planned_kbit, minlength=ngroups)
    demand_met = delivered >= pb.group_demand_kbit
    caps_of, lims_of = pb.memberships()
    cap_used = np.array([sel.planned_kbit[w.members].sum() for w in pb.capacity])
    cap_full = np.array([cap_used[k] >= w.cap_kbit for k, w in enumerate(pb.capacity)], dtype=bool)
    lim_full = np.array([sel.selected[lim.members].sum() >= lim.limit for lim in pb.limits],
                        dtype=bool)
    nbrs = pb.neighbours()
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    split_with = np.zeros(n, dtype=np.int64)
    blockers: list[set[str]] = [set() for _ in range(n)]
    rank = {r: k for k, r in enumerate(REASONS)}

    def label(q: int) -> str:
        """``pass N (lander/orbiter)`` of problem row ``q`` (a share: its whole pass)."""
        return (f"pass {whole_of[q] + 1} ({lnames[pb.lander[q]]}/{onames[pb.orbiter[q]]})")

    for p in range(n):
        if pb.excluded[p]:
            reason[p], detail[p] = pb.excluded[p], pb.excluded_detail[p]
            continue
        r = int(row_of[p])
        partial = taken[p] and planned_kbit[p] < pb.volume_kbit[r]
        if taken[p] and not partial and not split[p]:
            continue
        g = int(pb.group[p])
        found: list[tuple[str, str]] = []
        if demand_met[g]:
            found.append(("demand_met", f"{lnames[pb.lander[p]]} sol {pb.group_sol[g]} demand "
                                        f"met ({_mbit(delivered[g] * KBIT)})"))
        if not taken[p] or split[p]:  # why not the whole pass
            for q in sorted(nbrs[p]):
                if sel.selected[q] and whole_of[q] != p:
                    kind = pb.conflict_kind(p, q)
                    blockers[p].add(str(lnames[pb.lander[q]]) if kind != "lander_busy"
                                    else str(onames[pb.orbiter[q]]))
                    found.append((kind, f"{kind} with {label(q)}"))
                    if split[p] and not split_with[p] and kind != "lander_busy":
                        split_with[p] = whole_of[q] + 1
            for k in lims_of[p]:
                if lim_full[k] and not (split[p] and k in lims_of[r]):
                    lim = pb.limits[k]
                    found.append(("max_passes", f"{onames[lim.orbiter]} has {lim.limit} passes "
                                                f"in Mars sol {lim.mtc_sol}"))
        split_text = ""
        if split[p]:
            other = f"with pass {split_with[p]}" if split_with[p] else "(rest of the pass unused)"
            split_text = (f"split {other}: share {_hms(pb.start_tdb_s[r])}-"
                          f"{_hms(pb.end_tdb_s[r])} ({_mbit(pb.volume_bits[r])} of "
                          f"{_mbit(pb.volume_bits[p])}), hand-over "
                          f"{pb.handover_s[pb.orbiter[p]]:.0f} s")
        for k in caps_of[r]:
            if cap_full[k]:
                w = pb.capacity[k]
                found.append(("capacity", f"{onames[w.orbiter]} downlink to Earth full until "
                                          f"{tdb_to_utc(w.deadline_tdb_s, digits=0)} "
                                          f"({_mbit(w.cap_kbit * KBIT)} from "
                                          f"{tdb_to_utc(w.start_tdb_s, digits=0)})"))
        if not found:
            found.append(("not_chosen", "not chosen (search stopped at its time limit)"))
        found.sort(key=lambda rd: rank[rd[0]])
        reason[p] = found[0][0]
        text = "; ".join(d for _, d in found)
        if partial:
            of = pb.volume_bits[r] if split[p] else pb.volume_bits[p]
            text = f"partly used ({_mbit(planned_bits[p])} of {_mbit(of)}): {text}"
        if split_text:
            text = f"{split_text}; {text}"
        detail[p] = text

    share_start = np.where(split, pb.start_tdb_s[row_of], np.nan)
    share_end = np.where(split, pb.end_tdb_s[row_of], np.nan)
    passes = PassPlan(
        lander=lnames[pb.lander[:n]] if n else np.empty(0, dtype=object),
        orbiter=onames[pb.orbiter[:n]] if n else np.empty(0, dtype=object),
        start_tdb_s=pb.start_tdb_s[:n], end_tdb_s=pb.end_tdb_s[:n],
        lander_sol=pb.group_sol[pb.group[:n]] if n else np.empty(0, dtype=np.int64),
        volume_bits=pb.volume_bits[:n], planned_bits=planned_bits, selected=taken.copy(),
        reason=reason, detail=detail, share_start_tdb_s=share_start, share_end_tdb_s=share_end,
        share_volume_bits=np.where(split, pb.volume_bits[row_of], np.nan),
        split_with=split_with,
    )
    sols = _sol_delivery(pb, passes, delivered * KBIT, blockers)
    shortfalls = _shortfalls(sols, [x.name for x in pb.landers])
    scale = KBIT / WEIGHT_SCALE  # objective units (weight x kbit) -> priority x bits
    return Schedule(
        passes=passes, sols=sols, shortfalls=shortfalls, solver=sel.solver, status=sel.status,
        objective_bits=sel.objective * scale, best_bound_bits=sel.best_bound * scale,
        gap=sel.gap, solve_s=sel.solve_s,
        greedy_objective_bits=(float("nan") if greedy_objective is None
                               else greedy_objective * scale),
        landers=tuple(x.name for x in pb.landers),
    )


def _hms(tdb_s: float) -> str:
    """``HH:MM:SSZ`` of a TDB instant (the date is the pass's)."""
    return str(tdb_to_utc(tdb_s, digits=0))[11:]


def _sol_delivery(pb: RelayProblem, passes: PassPlan, delivered_bits: np.ndarray,
                  blockers: list[set[str]]) -> SolDelivery:
    ngroups = len(pb.group_demand_kbit)
    demand = pb.group_demand_kbit.astype(float) * KBIT
    binding = np.full(ngroups, "", dtype=object)
    detail = np.full(ngroups, "", dtype=object)
    whole_group = pb.group[:len(passes)]
    for g in np.flatnonzero(demand - delivered_bits >= KBIT).tolist():
        members = np.flatnonzero(whole_group == g)
        vols = passes.volume_bits[members]
        usable = vols[pb.excluded[members] == ""].sum()
        unused: dict[str, float] = defaultdict(float)
        who: dict[str, set[str]] = defaultdict(set)
        if vols.sum() < demand[g] - KBIT:
            unused["visibility"] = demand[g] - vols.sum()
        for p in members.tolist():
            left = passes.volume_bits[p] - passes.planned_bits[p]
            if left >= KBIT and passes.reason[p]:
                if usable >= demand[g] and pb.excluded[p]:
                    continue  # enough without the excluded passes: they do not bind
                unused[passes.reason[p]] += left
                who[passes.reason[p]].update(blockers[p])
        if not unused:
            binding[g], detail[g] = "not_chosen", "search stopped at its time limit"
            continue
        ranked = sorted(unused.items(), key=lambda kv: -kv[1])
        binding[g] = ranked[0][0]
        detail[g] = ", ".join(
            f"{r} {_mbit(v)}" + (f" ({', '.join(sorted(who[r]))})" if who[r] else "")
            for r, v in ranked)
    return SolDelivery(
        lander=np.array([pb.landers[i].name for i in pb.group_lander], dtype=object),
        sol=pb.group_sol.copy(), start_tdb_s=pb.group_start_tdb_s,
        end_tdb_s=pb.group_end_tdb_s, deadline_tdb_s=pb.group_deadline_tdb_s,
        demand_bits=demand, delivered_bits=np.asarray(delivered_bits, dtype=float),
        binding=binding, detail=detail,
    )


def _shortfalls(sols: SolDelivery, landers: list[str]) -> tuple[DemandShortfall, ...]:
    out = []
    short = sols.shortfall_bits
    for name in landers:
        m = sols.lander == name
        idx = np.flatnonzero(m & (short > 0))
        if idx.size == 0:
            continue
        by: dict[str, float] = defaultdict(float)
        sols_by: dict[str, list[int]] = defaultdict(list)
        for g in idx.tolist():
            by[sols.binding[g]] += short[g]
            sols_by[sols.binding[g]].append(int(sols.sol[g]))
        ranked = sorted(by.items(), key=lambda kv: -kv[1])
        detail = "; ".join(f"{r}: {_mbit(v)} in sols {_ranges(sols_by[r])}" for r, v in ranked)
        out.append(DemandShortfall(
            lander=name, sols_short=int(idx.size), sols=int(m.sum()),
            demand_bits=float(sols.demand_bits[m].sum()),
            delivered_bits=float(sols.delivered_bits[m].sum()),
            shortfall_bits=float(short[m].sum()), binding=ranked[0][0], detail=detail,
        ))
    return tuple(out)


def _ranges(values: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    values = sorted(values)
    parts, start, prev = [], values[0], values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)
