"""The base of the service layer: the database, settings, the scenario, shared checks."""

from __future__ import annotations

import threading
from typing import Any

from marsrelay.scenario import Scenario
from marsrelay.service.config import Settings
from marsrelay.service.db.engine import Database
from marsrelay.service.db.models import RelayRequest
from marsrelay.service.db.repository import AssetInfo, Catalog
from marsrelay.service.db.uow import UnitOfWork
from marsrelay.service.domain.errors import InvalidInputError, NotFoundError, UnavailableError
from marsrelay.service.domain.permissions import Actor, sees
from marsrelay.service.timefmt import TimeFormatError, parse_ms

__all__ = ["ServiceCore", "parse_time_param"]


def parse_time_param(name: str, text: str | None) -> int | None:
    """A ``start``/``end`` query parameter -> UTC ms (None when absent); the error names it."""
    if text is None or text == "":
        return None
    try:
        return parse_ms(text)
    except TimeFormatError:
        raise InvalidInputError(
            name, "not a UTC ISO 8601 time such as 2030-11-01T12:00:00Z", location="query"
        ) from None


class ServiceCore:
    """Holds the database and settings; every operation opens its own unit of work."""

    def __init__(self, db: Database, settings: Settings | None = None) -> None:
        self.db = db
        self.settings = settings or Settings(db_url=db.url)
        self._scenario: Scenario | None = None
        self._scenario_lock = threading.Lock()

    def uow(self, *, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db, write=write)

    # -- the scenario the database was initialised with ----------------------------------
    def scenario(self, meta: dict[str, str]) -> Scenario:
        """The scenario (loaded once per process) for re-predictions."""
        from marsrelay.service import predict

        with self._scenario_lock:
            if self._scenario is None:
                if "scenario_source" not in meta:
                    raise UnavailableError(
                        "the database has no scenario: run `marsrelay service init SCENARIO` first"
                    )
                try:
                    self._scenario = predict.load_scenario_source(
                        meta["scenario_source"], meta.get("scenario_text", "")
                    )
                except predict.STAGE_INPUT_ERRORS as exc:
                    raise UnavailableError(
                        f"the database's scenario cannot be loaded: {exc}"
                    ) from None
            return self._scenario

    # -- shared lookups ------------------------------------------------------------------
    @staticmethod
    def visible_request(uow: UnitOfWork, actor: Actor, request_id: int) -> RelayRequest:
        """The request, or NotFoundError when it does not exist or ``actor`` may not see it."""
        req = uow.repo.request(request_id) if 0 < request_id < 2**31 else None
        if req is None:
            raise NotFoundError(f"request {request_id} does not exist")
        cat = uow.repo.catalog()
        if not sees(actor, cat.agencies[req.lander_agency_id], cat.agencies[req.orbiter_agency_id]):
            raise NotFoundError(f"request {request_id} does not exist")
        return req

    @staticmethod
    def named_asset(
        cat: Catalog, name: str | None, kind: str, field: str, location: str = "query"
    ) -> AssetInfo | None:
        """The asset called ``name`` of ``kind`` (None for no name); NotFoundError otherwise."""
        if name is None or name == "":
            return None
        asset = cat.asset_named(name, kind)
        if asset is None:
            raise NotFoundError(f"{field}: no {kind} called {name!r}")
        return asset

    @staticmethod
    def filter_asset(cat: Catalog, name: str | None, kind: str) -> tuple[bool, int | None]:
        """A list filter by asset name: ``(True, None)`` for no filter, ``(True, id)`` for a
        known asset, ``(False, None)`` for an unknown name (the list is then empty)."""
        if name is None or name == "":
            return True, None
        asset = cat.asset_named(name, kind)
        return (False, None) if asset is None else (True, asset.id)

    @staticmethod
    def agency_filter(actor: Actor, cat: Catalog) -> int | None:
        """None for admins (everything), else the caller's agency id (-1 if it has none)."""
        if actor.is_admin:
            return None
        found = cat.agency_id(actor.agency)
        return -1 if found is None else found

    @staticmethod
    def window_params(start: str | None, end: str | None) -> tuple[int | None, int | None]:
        a, b = parse_time_param("start", start), parse_time_param("end", end)
        return a, b

    def describe(self) -> dict[str, Any]:
        with self.uow() as uow:
            return uow.repo.meta()
