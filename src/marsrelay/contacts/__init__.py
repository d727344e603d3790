"""The contacts stage: every window in which two nodes can talk.

- :func:`find_contacts` (scenario -> :class:`ContactTable`), the stage's entry point;
- per-kind searches on plain geometry objects: :func:`find_proximity_windows`,
  :func:`find_orbiter_earth_windows`, :func:`find_direct_earth_windows`;
- :func:`write_contacts` (``contacts.csv`` and ``contacts.parquet``) and
  :func:`summarize_contacts` (per-pair figures);
- the generic window finder underneath: :mod:`marsrelay.contacts.finder`.
"""

from marsrelay.contacts.api import find_contacts, scenario_trajectories
from marsrelay.contacts.earth import find_direct_earth_windows, find_orbiter_earth_windows
from marsrelay.contacts.intervals import Intervals
from marsrelay.contacts.output import PairSummary, summarize_contacts, write_contacts
from marsrelay.contacts.passes import Passes
from marsrelay.contacts.proximity import find_proximity_windows
from marsrelay.contacts.table import CONTACT_KINDS, CSV_COLUMNS, ContactTable

__all__ = [
    "CONTACT_KINDS",
    "CSV_COLUMNS",
    "ContactTable",
    "Intervals",
    "PairSummary",
    "Passes",
    "find_contacts",
    "find_direct_earth_windows",
    "find_orbiter_earth_windows",
    "find_proximity_windows",
    "scenario_trajectories",
    "summarize_contacts",
    "write_contacts",
]
