"""Who may see and do what (the spec's "Who may do what"), as plain functions.

- Assets, overflights and ``/busy`` windows are visible to every user: the network is shared.
- A request is visible to users of its lander's agency, of its orbiter's agency, and to
  admins; to anyone else it does not exist (404, checked before any 403).
- Create, cancel a request, attach its forward files: a planner of the lander's agency.
- Acknowledge, reject, record a result, publish a trajectory: a planner of the orbiter's
  agency.
- Ask for a plan of an orbiter (a proposal, read-only): any user of the orbiter's agency, and
  admins. Read the audit log: admins.
- Viewers only read; admins read everything but act only as what the list above says (an admin
  is not a planner). Anything else is forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from marsrelay.service.domain.errors import ForbiddenError

__all__ = ["Action", "Actor", "Role", "check_allowed", "may", "sees"]


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    VIEWER = "viewer"


class Action(StrEnum):
    CREATE = "create"
    CANCEL = "cancel"
    ATTACH_FILE = "attach_file"
    ACKNOWLEDGE = "acknowledge"
    REJECT = "reject"
    RECORD_RESULT = "record_result"
    PUBLISH_TRAJECTORY = "publish_trajectory"
    PLAN = "plan"
    READ_AUDIT = "read_audit"


#: Actions of the lander's planners and of the orbiter's planners.
LANDER_ACTIONS = frozenset({Action.CREATE, Action.CANCEL, Action.ATTACH_FILE})
ORBITER_ACTIONS = frozenset(
    {Action.ACKNOWLEDGE, Action.REJECT, Action.RECORD_RESULT, Action.PUBLISH_TRAJECTORY}
)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller: ``user_id`` None for the command line (system)."""

    name: str
    agency: str
    role: Role
    user_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def sees(actor: Actor, lander_agency: str, orbiter_agency: str) -> bool:
    """Whether ``actor`` may see a request between these agencies."""
    return actor.is_admin or actor.agency in (lander_agency, orbiter_agency)


def may(
    actor: Actor,
    action: Action,
    *,
    lander_agency: str | None = None,
    orbiter_agency: str | None = None,
) -> bool:
    """Whether ``actor`` may do ``action`` on a record of these agencies."""
    if action in LANDER_ACTIONS:
        return actor.role == Role.PLANNER and actor.agency == lander_agency
    if action in ORBITER_ACTIONS:
        return actor.role == Role.PLANNER and actor.agency == orbiter_agency
    if action == Action.PLAN:
        return actor.is_admin or actor.agency == orbiter_agency
    if action == Action.READ_AUDIT:
        return actor.is_admin
    return False


def check_allowed(
    actor: Actor,
    action: Action,
    *,
    lander_agency: str | None = None,
    orbiter_agency: str | None = None,
) -> None:
    """:class:`ForbiddenError` (with who may) unless :func:`may`."""
    if may(actor, action, lander_agency=lander_agency, orbiter_agency=orbiter_agency):
        return
    if action in LANDER_ACTIONS:
        who = f"a planner of {lander_agency} (the lander's agency)"
    elif action in ORBITER_ACTIONS:
        who = f"a planner of {orbiter_agency} (the orbiter's agency)"
    elif action == Action.PLAN:
        who = f"a user of {orbiter_agency} (the orbiter's agency) or an admin"
    else:
        who = "an admin"
    raise ForbiddenError(
        f"{action.value.replace('_', ' ')}: only {who} may; you are "
        f"{actor.name} ({actor.role.value} of {actor.agency})"
    )
