"""Request states and the transitions between them (the spec's state machine).

::

    requested    -> acknowledged | rejected | cancelled | stale
    acknowledged -> implemented  | cancelled | stale
    rejected, cancelled, implemented, stale: final

Every change bumps the request's ``version`` by one (1 on creation).
"""

from __future__ import annotations

from enum import StrEnum

from marsrelay.service.domain.errors import ConflictError

__all__ = ["LIVE_STATES", "TRANSITIONS", "RequestState", "next_state"]


class RequestState(StrEnum):
    REQUESTED = "requested"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    IMPLEMENTED = "implemented"
    STALE = "stale"


#: Live requests hold (or ask for) orbiter time: they take part in conflicts and plans.
LIVE_STATES: frozenset[RequestState] = frozenset(
    {RequestState.REQUESTED, RequestState.ACKNOWLEDGED}
)

#: Windows that occupy the orbiter (``/busy``, and the overlap check of acknowledge).
BUSY_STATES: frozenset[RequestState] = frozenset(
    {RequestState.ACKNOWLEDGED, RequestState.IMPLEMENTED}
)

#: (state, target) pairs allowed; the key is the action's target state.
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    RequestState.ACKNOWLEDGED: frozenset({RequestState.REQUESTED}),
    RequestState.REJECTED: frozenset({RequestState.REQUESTED}),
    RequestState.CANCELLED: frozenset({RequestState.REQUESTED, RequestState.ACKNOWLEDGED}),
    RequestState.IMPLEMENTED: frozenset({RequestState.ACKNOWLEDGED}),
    RequestState.STALE: frozenset({RequestState.REQUESTED, RequestState.ACKNOWLEDGED}),
}


def next_state(current: RequestState | str, target: RequestState | str) -> RequestState:
    """``target`` if the state machine allows ``current -> target``, else :class:`ConflictError`."""
    cur, tgt = RequestState(current), RequestState(target)
    allowed_from = TRANSITIONS.get(tgt, frozenset())
    if cur not in allowed_from:
        froms = " or ".join(sorted(s.value for s in allowed_from)) or "no state"
        raise ConflictError(
            f"a {cur.value} request cannot become {tgt.value} (only a {froms} request can)"
        )
    return tgt
