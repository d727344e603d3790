"""``/plan``: the service's live requests -> :mod:`marsrelay.schedule.shared_passes` -> a
proposal. With :mod:`marsrelay.service.predict`, the only module that calls the planning
stages. Acknowledged requests are commitments: they keep their windows (``fixed``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from marsrelay.schedule.shared_passes import PassRequest, SharedPassPlan, plan_shared_passes
from marsrelay.service.domain.volumes import Profile

__all__ = ["LiveRequest", "propose"]


@dataclass(frozen=True)
class LiveRequest:
    """What the optimiser needs of one live request (UTC ms, bits)."""

    id: int
    start_ms: int
    end_ms: int
    priority: int
    return_bits: int
    acknowledged: bool
    overflight_start_ms: int
    profile: Profile


def propose(requests: Sequence[LiveRequest], time_limit_s: float = 10.0) -> SharedPassPlan:
    """The optimiser's grants for ``requests`` (one orbiter), in input order."""
    passes = []
    for r in requests:
        offsets, bits = r.profile
        passes.append(
            PassRequest(
                id=r.id,
                start_ms=r.start_ms,
                end_ms=r.end_ms,
                priority=r.priority,
                return_bits=r.return_bits,
                profile_ms=tuple(r.overflight_start_ms + int(o) for o in offsets),
                profile_bits=tuple(int(b) for b in bits),
                fixed=r.acknowledged,
            )
        )
    return plan_shared_passes(passes, time_limit_s=time_limit_s)
