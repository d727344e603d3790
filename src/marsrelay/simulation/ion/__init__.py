"""ION contact plans (NASA JPL ION-DTN ``ionadmin`` commands, ionrc(5)) in and out.

- :mod:`.parse`: ``ionadmin`` text -> :class:`IonPlan` (contacts and ranges in ION's terms,
  POSIX seconds), with ION's rules: UTC times, ``@`` references, range directions.
- :mod:`.read`: :class:`IonPlan` -> :class:`~marsrelay.simulation.plan.ContactPlan`, node
  numbers named by ``--node``, the scenario's ``[ion.nodes]`` or marsrelay's ``# node``
  comments (:func:`read_ion`, :func:`from_ion`).
- :mod:`.write`: :class:`~marsrelay.simulation.plan.ContactPlan` -> ``ionadmin`` text rounded
  to what ION holds (:func:`export_ion`, :func:`to_ion`, :func:`write_ion`).

A plan read from ION and written again is the same plan; a marsrelay plan written to ION and
read back is the same plan on ION's grid (whole seconds, bytes/s, light seconds).

Worked example::

    >>> from marsrelay.simulation.ion import from_ion, to_ion
    >>> text = '''@ 2030/11/01-00:00:00
    ... a contact +60 +7260 1 2 10000
    ... a range +0 +86400 1 2 1'''
    >>> plan = from_ion(text, nodes={1: "Rosalind Franklin", 2: "TGO"})
    >>> plan.rate_bps[0], plan.owlt_s[0], round(plan.end_tdb_s[0] - plan.start_tdb_s[0], 3)
    (np.float64(80000.0), np.float64(1.0), np.float64(7200.0))
    >>> print(to_ion(plan).splitlines()[-2])
    a contact +0 +7200 1 2 10000
"""

from marsrelay.simulation.ion.parse import IonContact, IonPlan, IonRange, parse_ion
from marsrelay.simulation.ion.read import (
    IonReading,
    from_ion,
    merge_node_maps,
    parse_node_options,
    read_ion,
    resolve_ion,
    scenario_node_map,
)
from marsrelay.simulation.ion.write import IonExport, export_ion, to_ion, write_ion

__all__ = [
    "IonContact",
    "IonExport",
    "IonPlan",
    "IonRange",
    "IonReading",
    "export_ion",
    "from_ion",
    "merge_node_maps",
    "parse_ion",
    "parse_node_options",
    "read_ion",
    "resolve_ion",
    "scenario_node_map",
    "to_ion",
    "write_ion",
]
