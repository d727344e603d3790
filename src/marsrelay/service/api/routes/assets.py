"""``GET /assets`` and ``GET /overflights`` (visible to every user: the network is shared)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from marsrelay.service.api.deps import ActorDep, ServiceDep
from marsrelay.service.schemas import AssetOut, OverflightOut

router = APIRouter(tags=["network"])


@router.get("/assets", response_model=list[AssetOut])
def list_assets(_actor: ActorDep, service: ServiceDep) -> list[dict[str, Any]]:
    """Orbiters, landers and stations with their agencies (orbiters: trajectory version)."""
    return service.assets()


@router.get("/overflights", response_model=list[OverflightOut])
def list_overflights(
    _actor: ActorDep,
    service: ServiceDep,
    orbiter: str | None = None,
    lander: str | None = None,
    start: Annotated[str | None, Query(description="UTC; overflights ending after it")] = None,
    end: Annotated[str | None, Query(description="UTC; overflights starting before it")] = None,
    include_superseded: bool = False,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Predicted overflights of the current trajectories overlapping ``[start, end)``,
    time-ordered (``include_superseded`` adds those of older trajectories)."""
    return service.overflights(
        orbiter=orbiter,
        lander=lander,
        start=start,
        end=end,
        include_superseded=include_superseded,
        limit=limit,
        offset=offset,
    )


@router.get("/overflights/{overflight_id}", response_model=OverflightOut)
def get_overflight(overflight_id: int, _actor: ActorDep, service: ServiceDep) -> dict[str, Any]:
    """One overflight (also a superseded one)."""
    return service.overflight(overflight_id)
