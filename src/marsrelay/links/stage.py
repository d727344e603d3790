"""The links stage as the pipeline runs it: ``run(scenario, contacts, config) -> LinkedContacts``.

The result is the contact table with each window's mean rate and volume filled, per-contact
link figures, link capacity per lander and sol, Earth capacity per UTC day, and notes about
the link model (defaults taken, radios assumed); ``tables()`` gives ``contacts`` (with the link
columns) and ``volumes_per_sol`` for the run folder.
"""

from __future__ import annotations

import dataclasses

from marsrelay.config import LinksConfig
from marsrelay.contacts.stage import ContactsResult
from marsrelay.links.compute import LinkedContacts, compute_links
from marsrelay.progress import ProgressCallback, report
from marsrelay.scenario import Scenario

__all__ = ["run"]


def run(scenario: Scenario, contacts: ContactsResult, config: LinksConfig | None = None, *,
        progress: ProgressCallback | None = None) -> LinkedContacts:
    """Rates and volumes of every contact of ``contacts`` under ``config`` (default: the
    scenario's ``[links]`` table). Raises :class:`~marsrelay.errors.InputError` for bad link
    parameters."""
    sc = scenario if config is None else dataclasses.replace(scenario, links=config)
    report(progress, "links", 0, 1)
    linked = compute_links(sc, contacts.contacts)
    report(progress, "links", 1, 1)
    return linked
