"""The contacts stage: every window in which two nodes can talk.

- :func:`find_contacts` (scenario -> :class:`ContactTable`), the stage's entry point;
- per-kind searches on plain geometry objects: :func:`find_proximity_windows`,
  :func:`find_orbiter_earth_windows`, :func:`find_direct_earth_windows`;
- :func:`run` (the stage as the pipeline runs it: windows and conjunction spans) and
  :func:`summarise_contacts` (per-pair figures);
- the generic window finder underneath: :mod:`marsrelay.contacts.finder`.
"""

from marsrelay.contacts.api import find_contacts, scenario_trajectories, search_contacts
from marsrelay.contacts.earth import find_direct_earth_windows, find_orbiter_earth_windows
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.passes import Passes
from marsrelay.contacts.proximity import find_proximity_windows
from marsrelay.contacts.stage import ContactsConfig, ContactsResult, run
from marsrelay.contacts.summary import PairSummary, summarise_contacts
from marsrelay.contacts.table import CONTACT_KINDS, ContactTable

__all__ = [
    "CONTACT_KINDS",
    "ContactTable",
    "ContactsConfig",
    "ContactsResult",
    "Intervals",
    "PairSummary",
    "Passes",
    "find_contacts",
    "find_direct_earth_windows",
    "find_orbiter_earth_windows",
    "find_proximity_windows",
    "run",
    "scenario_trajectories",
    "search_contacts",
    "summarise_contacts",
]
