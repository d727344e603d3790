"""A stand-in proximity window finder for the links tests and benchmark (1 s sampling).

Used only until the contacts stage's ``find_contacts`` exists: it samples every second, keeps
instants with the orbiter above the lander's elevation mask and within ``max_range_km``, and
returns the windows as a :class:`~marsrelay.contacts.table.ContactTable` (lander first).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marsrelay.contacts.table import ContactTable
from marsrelay.links.geometry import proximity_geometry


def proximity_windows(
    scenario: Any, t0_tdb_s: float, t1_tdb_s: float, landers: tuple[str, ...] | None = None,
    orbiters: tuple[str, ...] | None = None,
) -> ContactTable:
    """Lander-orbiter windows in ``[t0, t1]`` found on a 1 s grid."""
    t = np.arange(t0_tdb_s, t1_tdb_s, 1.0)
    cols: list[tuple] = []
    for la in scenario.landers:
        if landers is not None and la.name not in landers:
            continue
        for orb in scenario.orbiters:
            if orbiters is not None and orb.name not in orbiters:
                continue
            g = proximity_geometry(la.site, orb.trajectory(scenario.rotation), scenario.rotation, t)
            up = (g.elevation_deg >= la.site.elevation_mask_deg) & (g.range_km <= orb.max_range_km)
            edges = np.diff(np.r_[0, up.astype(np.int8), 0])
            starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1
            for a, b in zip(starts, ends, strict=True):
                if b <= a:
                    continue
                el = g.elevation_deg[a:b + 1]
                k = a + int(np.argmax(el))
                cols.append((la.name, orb.name, "proximity", t[a], t[b], float(el.max()), t[k],
                             float(g.range_km[a:b + 1].min()), float(g.range_km[a:b + 1].max()),
                             0.0))
    if not cols:
        return ContactTable.empty()
    columns = zip(*cols, strict=True)
    arrays = [np.array(c, dtype=object if i < 3 else float) for i, c in enumerate(columns)]
    return ContactTable.concat([ContactTable(*arrays)])
