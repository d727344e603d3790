"""What a simulation returns: per-bundle status arrays, and the bit-conservation check."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.traffic import Bundles

__all__ = [
    "DROP_REASONS",
    "STATUS_DELIVERED",
    "STATUS_DROPPED",
    "STATUS_STORED",
    "ConservationError",
    "SimulationOutcome",
    "check_conservation",
    "paths",
    "storage_changes",
]

STATUS_STORED: int = 0
STATUS_DELIVERED: int = 1
STATUS_DROPPED: int = 2
#: Drop reasons, indexed by ``reason`` - 1.
DROP_REASONS: tuple[str, ...] = ("buffer_full", "expired", "lost_on_link")
REASON_BUFFER_FULL, REASON_EXPIRED, REASON_LOST = 1, 2, 3


class ConservationError(RuntimeError):
    """The bits generated do not equal delivered + stored + dropped (a simulator bug)."""


@dataclass
class SimulationOutcome:
    """Per-bundle results of :func:`~marsrelay.simulation.engine.simulate` (arrays indexed like
    the input bundles).

    - ``status``: :data:`STATUS_DELIVERED`, :data:`STATUS_DROPPED` or :data:`STATUS_STORED`.
    - ``reason``: 0, or 1 + index in :data:`DROP_REASONS` for dropped bundles.
    - ``node``: the station that received it, the node holding it at the end, or where it
      was dropped.
    - ``done_tdb_s``: delivery or drop time (NaN while stored).
    - ``hops``: contact indices (into ``plan``) the bundle was sent on, -1 padded;
      ``n_hops`` how many.
    - ``occupancy_*``: storage changes (time TDB s, node, delta bits), unsorted.
    """

    plan: ContactPlan
    bundles: Bundles
    start_tdb_s: float
    end_tdb_s: float
    storage_bits: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    node: np.ndarray
    done_tdb_s: np.ndarray
    hops: np.ndarray
    n_hops: np.ndarray
    occupancy_tdb_s: np.ndarray
    occupancy_node: np.ndarray
    occupancy_delta_bits: np.ndarray
    conservation: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def delivered(self) -> np.ndarray:
        """Mask of delivered bundles."""
        return self.status == STATUS_DELIVERED

    @property
    def latency_s(self) -> np.ndarray:
        """Delivery time minus creation time, s (NaN if not delivered)."""
        out = np.full(len(self.status), np.nan)
        m = self.delivered
        out[m] = self.done_tdb_s[m] - self.bundles.created_tdb_s[m]
        return out

    def path_nodes(self, i: int) -> list[str]:
        """Node names bundle ``i`` went through, source first."""
        names = self.plan.node_names
        out = [names[int(self.bundles.source[i])]]
        for c in self.hops[i, : int(self.n_hops[i])]:
            out.append(names[int(self.plan.to_node[c])])
        return out


def check_conservation(
    plan: ContactPlan,
    bits: np.ndarray,
    status: np.ndarray,
    reason: np.ndarray,
    node: np.ndarray,
    stored_bits: np.ndarray,
    delivered_bits_total: float,
    dropped_bits_total: list[float],
    residual_bits: np.ndarray,
) -> dict[str, float]:
    """Compare the per-bundle outcome with the simulator's running totals: ``stored_bits`` per
    node, bits delivered and dropped per reason, and the contacts' residual volumes (never above
    their volume). Raises :class:`ConservationError` naming every mismatch; returns the totals.
    """
    total = float(bits.sum())
    delivered = float(bits[status == STATUS_DELIVERED].sum())
    stored = float(bits[status == STATUS_STORED].sum())
    dropped = {r: float(bits[(status == STATUS_DROPPED) & (reason == k + 1)].sum())
               for k, r in enumerate(DROP_REASONS)}
    tol = 1e-6 * max(total, 1.0)
    problems = []
    if np.any((status == STATUS_DROPPED) != (reason > 0)):
        problems.append("a bundle is dropped without a reason (or has a reason and is not)")
    if abs(delivered + stored + sum(dropped.values()) - total) > tol:
        problems.append(f"generated {total} != delivered {delivered} + stored {stored} "
                        f"+ dropped {sum(dropped.values())}")
    if abs(delivered - delivered_bits_total) > tol:
        problems.append(f"delivered bits {delivered} != running total {delivered_bits_total}")
    for k, r in enumerate(DROP_REASONS):
        if abs(dropped[r] - dropped_bits_total[k]) > tol:
            problems.append(f"{r} bits {dropped[r]} != running total {dropped_bits_total[k]}")
    kept = status == STATUS_STORED
    per_node = np.bincount(node[kept], weights=bits[kept], minlength=len(stored_bits))
    if np.any(np.abs(per_node - stored_bits) > tol):
        worst = int(np.argmax(np.abs(per_node - stored_bits)))
        problems.append(f"node {plan.node_names[worst]!r} stores {per_node[worst]} bits "
                        f"but its storage counter says {stored_bits[worst]}")
    if np.any(residual_bits > plan.volume_bits[:, None] + tol):
        problems.append("a contact's residual volume exceeds its volume (double release)")
    if problems:
        raise ConservationError("; ".join(problems))
    return {"generated_bits": total, "delivered_bits": delivered, "stored_bits": stored,
            **{f"dropped_{r}_bits": v for r, v in dropped.items()}}


def paths(n_bundles: int, sent_contact: list[int], sent_bundles: list[np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray]:
    """``hops[i]``: the contacts bundle ``i`` was sent on, in order, -1 padded to a width of
    4, 8, 16...; ``n_hops[i]``: how many; from the log of sends (contact, bundles), in order."""
    sizes = [len(b) for b in sent_bundles]
    bundles = np.concatenate(sent_bundles) if sizes else np.zeros(0, np.int64)
    contacts = np.repeat(np.array(sent_contact, dtype=np.int32), sizes)
    sends = np.bincount(bundles, minlength=n_bundles)
    width = 4
    while width < (sends.max() if n_bundles else 0):
        width *= 2
    # a send's hop number: how many sends of its bundle came before (the log is in order)
    order = np.argsort(bundles, kind="stable")
    by_bundle = bundles[order]
    hop = np.arange(len(by_bundle)) - (np.cumsum(sends) - sends)[by_bundle]
    hops = np.full(n_bundles * width, -1, dtype=np.int32)
    hops[by_bundle * width + hop] = contacts[order]
    return hops.reshape(n_bundles, width), sends.astype(np.int16)


def storage_changes(times: list[np.ndarray], nodes: list[np.ndarray | int],
                    delta_bits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The storage log (per entry: times, one node or one per change, bit changes) as
    (time, node, delta bits) arrays."""
    if not delta_bits:
        return np.zeros(0), np.zeros(0, np.int32), np.zeros(0)
    if all(isinstance(n, int) for n in nodes):
        node = np.repeat(np.array(nodes, dtype=np.int32), [len(d) for d in delta_bits])
    else:
        node = np.concatenate([np.full(len(d), n, dtype=np.int32) if isinstance(n, int)
                               else n.astype(np.int32)
                               for n, d in zip(nodes, delta_bits, strict=True)])
    return np.concatenate(times).astype(float), node, np.concatenate(delta_bits).astype(float)
