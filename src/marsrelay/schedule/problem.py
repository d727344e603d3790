"""The relay-pass selection problem, built once from a linked contact table.

Candidate passes are the ``proximity`` rows of a :class:`~marsrelay.contacts.table.ContactTable`
whose ``volume_bits`` the links stage has filled. The problem says which passes can be taken
together and how much each may carry:

- **radios**: an orbiter serves one lander at a time, and a lander talks to one orbiter at a
  time. Passes of one orbiter must also leave ``min_gap_s`` between them. Both rules are
  interval conflicts, stored as the maximal cliques of the interval graphs (exact, and the
  strongest linear form of "at most one of these").
- **sols and demand**: each lander's time is cut at its LMST midnights
  (:mod:`marsrelay.geometry.solar_time`); a pass belongs to the sol it starts in. Delivery
  counts up to
  the lander's demand per sol (pro-rated for the partial sols at the horizon's edges).
- **deadline and orbiter-to-Earth capacity**: data relayed during a lander's sol must be home
  by ``deadline_lmst_h`` of the next sol. For every orbiter and every window ``[a, b]`` where
  ``a`` is the start of a lander sol and ``b`` a deadline, the data of the passes that start in
  the window and are due by ``b`` cannot exceed what the orbiter can downlink in the window
  (its ``orbiter_earth`` contacts, one station at a time, times ``earth_share``). These are
  necessary conditions of a feasible downlink order (Hall's condition for
  earliest-deadline-first on the sol grid); windows that cannot bind are dropped, and so are
  windows that end after the horizon (downlink after it is unknown).
- **orbiter limits**: at most ``max_passes_per_sol`` passes per Mars sol (sols of Mars
  coordinated time, the LMST of longitude 0).
- **blackouts and fixed requests**: passes touching a lander's or orbiter's blackout and passes
  marked ``forbid`` are excluded (with that reason); passes marked ``require`` must be taken.

Volumes inside the optimiser are integers in kbit (``floor(bits / 1000)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from marsrelay.config.schedule import ScheduleConfig
from marsrelay.constants import SOL_S
from marsrelay.contacts.table import ContactTable
from marsrelay.errors import InputError
from marsrelay.geometry.solar_time import local_sol, sol_start_tdb_s
from marsrelay.geometry.time import tdb_to_utc, utc_to_tdb

__all__ = [
    "KBIT",
    "WEIGHT_SCALE",
    "CapacityWindow",
    "DownlinkFlow",
    "LanderNode",
    "OrbiterNode",
    "PassLimit",
    "RelayProblem",
    "build_problem",
]

#: Bits per optimiser volume unit.
KBIT: int = 1000
#: Priorities are turned into integer weights ``round(priority * WEIGHT_SCALE)``.
WEIGHT_SCALE: int = 1000

Windows = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LanderNode:
    """A lander as the scheduler sees it: name, east longitude (for its LMST), blackouts."""

    name: str
    lon_east_deg: float
    blackouts: Windows = ()


@dataclass(frozen=True)
class OrbiterNode:
    """An orbiter as the scheduler sees it: name and blackouts (TDB s windows)."""

    name: str
    blackouts: Windows = ()


@dataclass(frozen=True)
class CapacityWindow:
    """Orbiter ``orbiter`` can downlink at most ``cap_kbit`` during ``[start, deadline]``
    (TDB s); ``members`` are the pass indices bound by it."""

    orbiter: int
    start_tdb_s: float
    deadline_tdb_s: float
    cap_kbit: int
    members: np.ndarray


@dataclass(frozen=True)
class DownlinkFlow:
    """One orbiter's capacity windows in transport form (exactly equivalent, much smaller).

    Time is cut at ``edges_tdb_s``; segment ``k`` (between edges ``k`` and ``k + 1``) can carry
    ``segment_cap_kbit[k]``. Passes released at the same sol start and due at the same deadline
    form a class; class ``c`` (passes ``class_members[c]``) may use segments
    ``class_first[c] <= k < class_last[c]``. By Hall's theorem for interval supplies, flows
    exist exactly when every capacity window holds.
    """

    orbiter: int
    edges_tdb_s: np.ndarray
    segment_cap_kbit: np.ndarray
    class_members: tuple[np.ndarray, ...]
    class_first: np.ndarray
    class_last: np.ndarray


@dataclass(frozen=True)
class PassLimit:
    """At most ``limit`` of the passes ``members`` (one orbiter, one Mars sol)."""

    orbiter: int
    mtc_sol: int
    limit: int
    members: np.ndarray


@dataclass
class RelayProblem:
    """Everything the solvers and the explanation need, as arrays over candidate passes.

    Pass arrays (length ``n``): ``lander``/``orbiter`` (node indices), ``start_tdb_s``,
    ``end_tdb_s``, ``volume_bits`` (from the links stage), ``volume_kbit`` (optimiser units, 0
    for excluded passes), ``group`` (index of the lander sol it belongs to), ``mtc_sol``,
    ``fixed`` (+1 required, -1 forbidden, 0 free), ``excluded`` (reason code or ``""``) and
    ``excluded_detail``.

    Group arrays (one per lander sol inside the horizon): ``group_lander``, ``group_sol``
    (local sol number), ``group_start_tdb_s``/``group_end_tdb_s`` (clipped to the horizon),
    ``group_deadline_tdb_s``, ``group_demand_bits``, ``group_demand_kbit``.
    """

    landers: tuple[LanderNode, ...]
    orbiters: tuple[OrbiterNode, ...]
    config: ScheduleConfig
    horizon_start_tdb_s: float
    horizon_end_tdb_s: float
    lander: np.ndarray
    orbiter: np.ndarray
    start_tdb_s: np.ndarray
    end_tdb_s: np.ndarray
    volume_bits: np.ndarray
    volume_kbit: np.ndarray
    group: np.ndarray
    mtc_sol: np.ndarray
    fixed: np.ndarray
    excluded: np.ndarray
    excluded_detail: np.ndarray
    group_lander: np.ndarray
    group_sol: np.ndarray
    group_start_tdb_s: np.ndarray
    group_end_tdb_s: np.ndarray
    group_deadline_tdb_s: np.ndarray
    group_demand_bits: np.ndarray
    group_demand_kbit: np.ndarray
    lander_weight: np.ndarray
    min_gap_s: np.ndarray
    cliques: list[np.ndarray] = field(default_factory=list)
    limits: list[PassLimit] = field(default_factory=list)
    capacity: list[CapacityWindow] = field(default_factory=list)
    flows: list[DownlinkFlow] = field(default_factory=list)
    earth_capacity_modelled: bool = True

    def __len__(self) -> int:
        return len(self.lander)

    @property
    def active(self) -> np.ndarray:
        """Indices of the passes the solvers choose among (not excluded)."""
        return np.flatnonzero(self.excluded == "")

    @property
    def weight(self) -> np.ndarray:
        """Integer objective weight of each pass (its lander's)."""
        return self.lander_weight[self.lander]

    def neighbours(self) -> list[set[int]]:
        """For each pass, the passes it cannot be taken with (same clique)."""
        out: list[set[int]] = [set() for _ in range(len(self))]
        for clique in self.cliques:
            members = clique.tolist()
            for p in members:
                out[p].update(members)
        for p, s in enumerate(out):
            s.discard(p)
        return out

    def conflict_kind(self, p: int, q: int) -> str:
        """Why passes ``p`` and ``q`` exclude each other: ``orbiter_busy`` (same orbiter,
        overlapping), ``min_gap`` (same orbiter, too close) or ``lander_busy``."""
        overlap = (self.start_tdb_s[p] < self.end_tdb_s[q]) and (
            self.start_tdb_s[q] < self.end_tdb_s[p])
        if self.orbiter[p] == self.orbiter[q]:
            return "orbiter_busy" if overlap else "min_gap"
        return "lander_busy"

    def memberships(self) -> tuple[list[list[int]], list[list[int]]]:
        """For each pass, the indices of the capacity windows and of the pass limits it is in."""
        caps: list[list[int]] = [[] for _ in range(len(self))]
        lims: list[list[int]] = [[] for _ in range(len(self))]
        for k, w in enumerate(self.capacity):
            for p in w.members.tolist():
                caps[p].append(k)
        for k, lim in enumerate(self.limits):
            for p in lim.members.tolist():
                lims[p].append(k)
        return caps, lims


def _overlaps(start: np.ndarray, end: np.ndarray, windows: Windows) -> np.ndarray:
    """Index of the first window overlapping each ``[start, end)``, or -1."""
    hit = np.full(len(start), -1, dtype=np.int64)
    for k, (t0, t1) in enumerate(windows):
        m = (hit < 0) & (start < t1) & (end > t0)
        hit[m] = k
    return hit


def interval_cliques(start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """Maximal cliques (size >= 2) of the intervals ``[start, end)`` (touching ones do not
    overlap), as arrays of positions into ``start``. Sweep over sorted edges, O(n log n + out)."""
    n = len(start)
    if n < 2:
        return []
    # Events: (time, kind) with ends (0) before starts (1) at equal times.
    times = np.concatenate([end, start])
    kinds = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(n, dtype=np.int8)])
    ids = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((kinds, times))
    active: set[int] = set()
    out: list[np.ndarray] = []
    grew = False
    for e in order.tolist():
        if kinds[e] == 1:
            active.add(int(ids[e]))
            grew = True
        else:
            if grew and len(active) >= 2:
                out.append(np.array(sorted(active), dtype=np.int64))
            grew = False
            active.discard(int(ids[e]))
    return out


def _downlink_cumulative(
    contacts: ContactTable,
    orbiter: OrbiterNode,
    station_blackouts: Mapping[str, Windows],
    share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (TDB s) and cumulative downlink volume (bits) of one orbiter.

    Simultaneous Earth contacts do not add up (one downlink at a time): on each elementary
    interval the best rate among the contacts covering it counts. Blackouts of the orbiter or
    of the station remove their share of a contact (volume spread evenly over the window).
    """
    rows = contacts.select(kind="orbiter_earth")
    mine = (rows.source == orbiter.name) | (rows.target == orbiter.name)
    rows = rows.take(mine)
    if len(rows) == 0:
        return np.array([0.0, 1.0]), np.zeros(2)
    s, e = rows.start_tdb_s, rows.end_tdb_s
    dur = np.maximum(e - s, 1e-9)
    rate = np.nan_to_num(rows.volume_bits / dur) * share
    station = np.where(rows.source == orbiter.name, rows.target, rows.source)
    edges = [s, e] + [np.asarray(w, dtype=float).ravel() for w in orbiter.blackouts]
    for name in set(station.tolist()):
        edges += [np.asarray(w, dtype=float).ravel() for w in station_blackouts.get(name, ())]
    t = np.unique(np.concatenate(edges))
    mid = 0.5 * (t[:-1] + t[1:])
    cover = (s[None, :] <= mid[:, None]) & (mid[:, None] < e[None, :])
    for name, windows in station_blackouts.items():
        for t0, t1 in windows:
            dark = (mid >= t0) & (mid < t1)
            cover[np.ix_(dark, station == name)] = False
    best = np.where(cover, rate[None, :], 0.0).max(axis=1)
    for t0, t1 in orbiter.blackouts:
        best[(mid >= t0) & (mid < t1)] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(best * np.diff(t))])
    return t, cum


def _resolve(name: str, names: Sequence[str], field_name: str) -> int:
    if name not in names:
        raise InputError(f"unknown name {name!r}", field=field_name, allowed=", ".join(names))
    return list(names).index(name)


def build_problem(
    contacts: ContactTable,
    landers: Sequence[LanderNode],
    orbiters: Sequence[OrbiterNode],
    config: ScheduleConfig,
    start_tdb_s: float,
    end_tdb_s: float,
    station_blackouts: Mapping[str, Windows] | None = None,
) -> RelayProblem:
    """Build the pass-selection problem over ``[start_tdb_s, end_tdb_s)`` (TDB s).

    ``contacts`` must carry link volumes (``volume_bits``); proximity rows whose lander and
    orbiter are both among ``landers``/``orbiters`` starting inside the horizon are the
    candidates. Raises :class:`~marsrelay.errors.InputError` for names the config refers to that
    are not nodes, fixed requests that match no pass, contradictory fixed requests, or missing
    link volumes.
    """
    cfg = config
    landers, orbiters = tuple(landers), tuple(orbiters)
    lnames = [n.name for n in landers]
    onames = [n.name for n in orbiters]
    station_blackouts = dict(station_blackouts or {})

    prox = contacts.select(kind="proximity")
    src_l = np.isin(prox.source, lnames) & np.isin(prox.target, onames)
    tgt_l = np.isin(prox.target, lnames) & np.isin(prox.source, onames)
    keep = (src_l | tgt_l) & (prox.start_tdb_s >= start_tdb_s) & (prox.start_tdb_s < end_tdb_s)
    prox = prox.take(keep)
    src_l = src_l[keep]
    if np.isnan(prox.volume_bits).any():
        raise InputError("proximity contacts have no link volumes (volume_bits is NaN): "
                         "run the links stage first", field="contacts.volume_bits")
    lname = np.where(src_l, prox.source, prox.target)
    oname = np.where(src_l, prox.target, prox.source)
    lidx = np.array([lnames.index(x) for x in lname], dtype=np.int64)
    oidx = np.array([onames.index(x) for x in oname], dtype=np.int64)
    n = len(prox)
    start, end = prox.start_tdb_s.copy(), prox.end_tdb_s.copy()
    order = np.lexsort((oidx, lidx, start))
    lidx, oidx, start, end = lidx[order], oidx[order], start[order], end[order]
    vol_bits = prox.volume_bits[order]

    # Demand and weights per lander.
    demand_bits = np.full(len(landers), cfg.default_bits_per_sol)
    priority = np.ones(len(landers))
    for k, d in enumerate(cfg.demand):
        i = _resolve(d.lander, lnames, f"schedule.demand[{k}].lander")
        demand_bits[i], priority[i] = d.bits_per_sol, d.priority
    weight = np.maximum(np.round(priority * WEIGHT_SCALE), 1).astype(np.int64)
    min_gap = np.zeros(len(orbiters))
    max_passes: dict[int, int] = {}
    for k, lim in enumerate(cfg.orbiter_limits):
        j = _resolve(lim.orbiter, onames, f"schedule.orbiter_limits[{k}].orbiter")
        min_gap[j] = lim.min_gap_s
        if lim.max_passes_per_sol is not None:
            max_passes[j] = lim.max_passes_per_sol

    # Lander sols (groups) inside the horizon.
    g_l, g_sol, g_s, g_e, g_full_end = [], [], [], [], []
    group = np.zeros(n, dtype=np.int64)
    for i, node in enumerate(landers):
        s0 = int(local_sol(start_tdb_s, node.lon_east_deg))
        s1 = int(local_sol(np.nextafter(end_tdb_s, -np.inf), node.lon_east_deg))
        sols = np.arange(s0, s1 + 1)
        edges = sol_start_tdb_s(np.arange(s0, s1 + 2), node.lon_east_deg)
        mine = lidx == i
        if mine.any():
            ps = local_sol(start[mine], node.lon_east_deg)
            group[mine] = len(g_l) + np.clip(ps - s0, 0, len(sols) - 1)
        g_l += [i] * len(sols)
        g_sol += sols.tolist()
        g_s += np.maximum(edges[:-1], start_tdb_s).tolist()
        g_e += np.minimum(edges[1:], end_tdb_s).tolist()
        g_full_end += edges[1:].tolist()
    group_lander = np.array(g_l, dtype=np.int64)
    group_start = np.array(g_s)
    group_end = np.array(g_e)
    group_deadline = np.array(g_full_end) + cfg.deadline_lmst_h / 24.0 * SOL_S
    frac = np.clip((group_end - group_start) / SOL_S, 0.0, 1.0)
    group_demand_bits = demand_bits[group_lander] * frac
    group_demand_kbit = np.round(group_demand_bits / KBIT).astype(np.int64)

    # Exclusions: links, blackouts, forbidden requests; required requests.
    excluded = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    vol_kbit = np.floor(np.maximum(vol_bits, 0.0) / KBIT).astype(np.int64)
    low = (vol_kbit <= 0) | (vol_bits < cfg.min_pass_bits)
    excluded[low] = "no_volume"
    detail[low] = [f"pass carries {v / 1e6:.3f} Mbit" for v in vol_bits[low]]
    for kind, nodes, idx in (("lander", landers, lidx), ("orbiter", orbiters, oidx)):
        for j, node in enumerate(nodes):
            if not node.blackouts:
                continue
            mine = np.flatnonzero((idx == j) & (excluded == ""))
            hit = _overlaps(start[mine], end[mine], node.blackouts)
            for p, k in zip(mine[hit >= 0].tolist(), hit[hit >= 0].tolist(), strict=True):
                t0, t1 = node.blackouts[k]
                excluded[p] = "blackout"
                detail[p] = (f"{kind} {node.name} unavailable "
                             f"{tdb_to_utc(t0)} to {tdb_to_utc(t1)}")
    fixed = np.zeros(n, dtype=np.int8)
    for k, fx in enumerate(cfg.fixed):
        where = f"schedule.fixed[{k}]"
        i = _resolve(fx.lander, lnames, where + ".lander")
        j = _resolve(fx.orbiter, onames, where + ".orbiter")
        t = float(utc_to_tdb(fx.start))
        hit = np.flatnonzero((lidx == i) & (oidx == j) & (start - cfg.fixed_match_tolerance_s <= t)
                             & (t <= end))
        if hit.size == 0:
            raise InputError(f"no {fx.lander}-{fx.orbiter} pass at {fx.start}",
                             field=where + ".start")
        p = int(hit[0])
        want = 1 if fx.action == "require" else -1
        if fixed[p] == -want:
            raise InputError(f"pass at {fx.start} is both required and forbidden", field=where)
        fixed[p] = want
        if want < 0 and excluded[p] == "":
            excluded[p], detail[p] = "forbidden", f"forbidden by {where}"
        if want > 0 and excluded[p] != "":
            raise InputError(f"required pass at {fx.start} cannot be taken: {excluded[p]} "
                             f"({detail[p]})", field=where)
    vol_kbit[excluded != ""] = 0

    # Radio conflicts: lander intervals, and orbiter intervals widened by the minimum gap.
    act = excluded == ""
    cliques: list[np.ndarray] = []
    for i in range(len(landers)):
        ids = np.flatnonzero(act & (lidx == i))
        cliques += [ids[c] for c in interval_cliques(start[ids], end[ids])]
    for j in range(len(orbiters)):
        ids = np.flatnonzero(act & (oidx == j))
        cliques += [ids[c] for c in interval_cliques(start[ids], end[ids] + min_gap[j])]

    # Orbiter passes per Mars sol (coordinated time: LMST at longitude 0).
    mtc = local_sol(start, 0.0) if n else np.zeros(0, dtype=np.int64)
    limits: list[PassLimit] = []
    for j, m in max_passes.items():
        for s in np.unique(mtc[act & (oidx == j)]).tolist():
            ids = np.flatnonzero(act & (oidx == j) & (mtc == s))
            if len(ids) > m:
                limits.append(PassLimit(j, int(s), m, ids))

    problem = RelayProblem(
        landers=landers, orbiters=orbiters, config=cfg,
        horizon_start_tdb_s=float(start_tdb_s), horizon_end_tdb_s=float(end_tdb_s),
        lander=lidx, orbiter=oidx, start_tdb_s=start, end_tdb_s=end,
        volume_bits=vol_bits, volume_kbit=vol_kbit, group=group, mtc_sol=mtc,
        fixed=fixed, excluded=excluded, excluded_detail=detail,
        group_lander=group_lander, group_sol=np.array(g_sol, dtype=np.int64),
        group_start_tdb_s=group_start, group_end_tdb_s=group_end,
        group_deadline_tdb_s=group_deadline, group_demand_bits=group_demand_bits,
        group_demand_kbit=group_demand_kbit, lander_weight=weight, min_gap_s=min_gap,
        cliques=cliques, limits=limits,
    )
    _check_required(problem)
    has_earth = bool((contacts.kind == "orbiter_earth").any())
    problem.earth_capacity_modelled = has_earth
    if has_earth:
        earth = contacts.select(kind="orbiter_earth")
        if np.isnan(earth.volume_bits).any():
            raise InputError("orbiter_earth contacts have no link volumes (volume_bits is NaN): "
                             "run the links stage first", field="contacts.volume_bits")
        problem.capacity, problem.flows = _capacity_model(problem, contacts, station_blackouts)
    return problem


def _check_required(pb: RelayProblem) -> None:
    req = np.flatnonzero(pb.fixed > 0)
    req_set = set(req.tolist())
    for clique in pb.cliques:
        both = [p for p in clique.tolist() if p in req_set]
        if len(both) > 1:
            p, q = both[:2]
            raise InputError(
                f"required passes conflict ({pb.conflict_kind(p, q)}): "
                f"{_label(pb, p)} and {_label(pb, q)}", field="schedule.fixed")
    for lim in pb.limits:
        if len(req_set.intersection(lim.members.tolist())) > lim.limit:
            raise InputError(
                f"more required passes of {pb.orbiters[lim.orbiter].name} in Mars sol "
                f"{lim.mtc_sol} than max_passes_per_sol = {lim.limit}", field="schedule.fixed")


def _label(pb: RelayProblem, p: int) -> str:
    return (f"{pb.landers[pb.lander[p]].name}/{pb.orbiters[pb.orbiter[p]].name} "
            f"{tdb_to_utc(pb.start_tdb_s[p], digits=0)}")


def _capacity_model(
    pb: RelayProblem, contacts: ContactTable, station_blackouts: Mapping[str, Windows]
) -> tuple[list[CapacityWindow], list[DownlinkFlow]]:
    """The Hall-condition windows of each orbiter that can bind (see the module docstring) and,
    for each orbiter with at least one, the equivalent transport formulation."""
    windows: list[CapacityWindow] = []
    flows: list[DownlinkFlow] = []
    act = pb.excluded == ""
    pass_deadline = pb.group_deadline_tdb_s[pb.group]
    for j, node in enumerate(pb.orbiters):
        ids = np.flatnonzero(act & (pb.orbiter == j))
        if ids.size == 0:
            continue
        t, cum = _downlink_cumulative(contacts, node, station_blackouts, pb.config.earth_share)

        def kbit_until(x: np.ndarray, t: np.ndarray = t, cum: np.ndarray = cum) -> np.ndarray:
            """Downlink volume from the start until ``x``, whole kbit."""
            return np.floor(np.interp(x, t, cum) / KBIT).astype(np.int64)

        groups = np.unique(pb.group[ids])
        a_all = np.unique(pb.group_start_tdb_s[groups])
        b_all = np.unique(pb.group_deadline_tdb_s[groups])
        b_all = b_all[b_all <= pb.horizon_end_tdb_s]
        ps, pd, pg = pb.start_tdb_s[ids], pass_deadline[ids], pb.group[ids]
        pv = pb.volume_kbit[ids]
        seen: dict[bytes, int] = {}
        first = len(windows)
        cap_a, cap_b = kbit_until(a_all), kbit_until(b_all)
        for ia, a in enumerate(a_all.tolist()):
            for ib, b in enumerate(b_all.tolist()):
                if b <= a:
                    continue
                m = (ps >= a) & (pd <= b)
                if not m.any():
                    continue
                cap = int(cap_b[ib] - cap_a[ia])
                # Most the members can ever carry: per group, min(demand, passes' volume).
                per_group = np.bincount(pg[m], weights=pv[m], minlength=len(pb.group_demand_kbit))
                if np.minimum(per_group, pb.group_demand_kbit).sum() <= cap:
                    continue
                key = m.tobytes()
                if key in seen:  # same passes, keep the tighter window
                    k = seen[key]
                    if cap < windows[k].cap_kbit:
                        windows[k] = CapacityWindow(j, a, b, cap, windows[k].members)
                    continue
                seen[key] = len(windows)
                windows.append(CapacityWindow(j, a, b, cap, ids[m]))
        if len(windows) == first or b_all.size == 0:
            continue
        # Transport form: a pass is released at the last sol start (of any lander) at or before
        # its start and is due at its deadline; passes due after the horizon are free.
        edges = np.unique(np.concatenate([a_all, b_all]))
        release = a_all[np.searchsorted(a_all, ps, side="right") - 1]
        due = pd <= pb.horizon_end_tdb_s
        keys = np.stack([release[due], pd[due]], axis=1)
        uniq, cls = np.unique(keys, axis=0, return_inverse=True)
        cls = cls.ravel()
        flows.append(DownlinkFlow(
            orbiter=j, edges_tdb_s=edges, segment_cap_kbit=np.diff(kbit_until(edges)),
            class_members=tuple(ids[due][cls == c] for c in range(len(uniq))),
            class_first=np.searchsorted(edges, uniq[:, 0]),
            class_last=np.searchsorted(edges, uniq[:, 1]),
        ))
    return windows, flows
