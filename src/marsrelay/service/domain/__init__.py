"""The service's rules as plain Python (no HTTP, no SQL): request states and transitions,
who may do what, half-open millisecond windows and the conflicts between them."""

from marsrelay.service.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
    UnavailableError,
)
from marsrelay.service.domain.permissions import Action, Actor, Role, check_allowed, may, sees
from marsrelay.service.domain.states import LIVE_STATES, RequestState, next_state
from marsrelay.service.domain.windows import Window, overlapping_pairs

__all__ = [
    "LIVE_STATES",
    "Action",
    "Actor",
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "RequestState",
    "Role",
    "ServiceError",
    "UnavailableError",
    "Window",
    "check_allowed",
    "may",
    "next_state",
    "overlapping_pairs",
    "sees",
]
