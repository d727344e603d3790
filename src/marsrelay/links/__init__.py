"""Links stage: data rate and data volume of every contact.

- :mod:`marsrelay.links.budget` - link-budget arithmetic (free-space loss, P/N0, rates);
- :mod:`marsrelay.links.catalogue` - radios, spacecraft downlinks, stations, Proximity-1
  framing and session timings, the adaptive rate and the margin policy, with sources;
- :mod:`marsrelay.links.model` - a scenario's resolved link parameters (``[links]`` overrides;
  input checks in :mod:`marsrelay.links.checks`);
- :mod:`marsrelay.links.geometry` - geometry sampled inside contact windows;
- :mod:`marsrelay.links.proximity` - proximity passes as flown (hail, adaptive rate with lag,
  framing, go-back-N at the link's frame error rate);
- :mod:`marsrelay.links.compute` - volumes per contact (ADR and fixed rate); per sol and per day
  in :mod:`marsrelay.links.tables`;
- :mod:`marsrelay.links.stage` - :func:`run`, the stage as the pipeline runs it.
"""

from marsrelay.links.compute import (
    LinkedContacts,
    LinkResult,
    PerDayVolumes,
    PerSolVolumes,
    RateProfile,
    compute_links,
)
from marsrelay.links.model import LinkModel, ProximityOps, build_link_model
from marsrelay.links.stage import run

__all__ = [
    "LinkModel",
    "LinkResult",
    "LinkedContacts",
    "PerDayVolumes",
    "PerSolVolumes",
    "ProximityOps",
    "RateProfile",
    "build_link_model",
    "compute_links",
    "run",
]
