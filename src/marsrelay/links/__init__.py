"""Links stage: data rate and data volume of every contact.

- :mod:`marsrelay.links.budget` - link-budget arithmetic (free-space loss, P/N0, rates);
- :mod:`marsrelay.links.catalogue` - radios, spacecraft downlinks and stations, with sources;
- :mod:`marsrelay.links.model` - a scenario's resolved link parameters (``[links]`` overrides);
- :mod:`marsrelay.links.geometry` - geometry sampled inside contact windows;
- :mod:`marsrelay.links.compute` - volumes per contact (ADR and fixed rate), per sol, per day;
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
from marsrelay.links.model import LinkModel, build_link_model
from marsrelay.links.stage import run

__all__ = [
    "LinkModel",
    "LinkResult",
    "LinkedContacts",
    "PerDayVolumes",
    "PerSolVolumes",
    "RateProfile",
    "build_link_model",
    "compute_links",
    "run",
]
