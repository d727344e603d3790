"""Publishing a trajectory: new ``trajectory_version``, overflights re-predicted, requests
re-linked or made ``stale``.

The body is a CCSDS OEM (KVN text starting with ``CCSDS_OEM_VERS``) or mean elements as JSON
(``{"a_km", "i_deg", "e", "raan_deg", "argp_deg", "mean_anomaly_deg", "epoch"}``, optionally
wrapped as ``{"elements": {...}}``). The prediction runs outside the write transaction (it takes
a fraction of a second per orbiter-month); the write then checks nobody published meanwhile.

In the write: the orbiter's current overflights are marked superseded (kept: requests and
history point to them), the new ones inserted; every live request on the orbiter whose window
lies inside a new overflight of the same lander is re-linked to it (event ``trajectory``),
every other one becomes ``stale`` (event ``stale``); one ``trajectory`` event for the orbiter.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from marsrelay.service import predict
from marsrelay.service.db.models import Overflight, Trajectory
from marsrelay.service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from marsrelay.service.domain.permissions import Action, Actor, check_allowed
from marsrelay.service.domain.states import LIVE_STATES, RequestState, next_state
from marsrelay.service.domain.volumes import parse_profile, window_share_bits
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.ops.views import request_snapshot
from marsrelay.service.schemas import ElementsBody, invalid_from
from marsrelay.service.timefmt import format_ms, now_ms

__all__ = ["TrajectoryOps"]


def _is_oem(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("CCSDS_OEM_VERS")


class TrajectoryOps(ServiceCore):
    def publish_trajectory(
        self, actor: Actor, orbiter: str, content: bytes, content_type: str | None = None
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        with self.uow() as uow:
            cat = uow.repo.catalog()
            asset = cat.asset_named(orbiter, "orbiter")
            if asset is None:
                raise NotFoundError(f"no orbiter called {orbiter!r}")
            check_allowed(actor, Action.PUBLISH_TRAJECTORY, orbiter_agency=asset.agency)
            version_before = uow.repo.asset(orbiter).trajectory_version  # type: ignore[union-attr]
            meta = uow.repo.meta()
        scenario = self.scenario(meta)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(
                "body", "not UTF-8 text: send a CCSDS OEM (KVN) or elements JSON"
            ) from None
        with tempfile.TemporaryDirectory(prefix="marsrelay-oem-") as tmp:
            try:
                if _is_oem(text):
                    source, stored = "oem", text
                    path = Path(tmp) / "trajectory.oem"
                    path.write_text(text, encoding="utf-8")
                    new = predict.oem_trajectory(scenario, orbiter, path)
                else:
                    source = "elements"
                    elements = self._elements(text)
                    stored = json.dumps(elements, sort_keys=True)
                    new = predict.elements_trajectory(scenario, orbiter, elements)
                predicted = predict.predict_overflights(scenario, new.spec, new.span_tdb_s)
            except predict.STAGE_INPUT_ERRORS as exc:
                field = getattr(exc, "field", None) or ("file" if _is_oem(text) else "elements")
                raise InvalidInputError(
                    field, " ".join(str(getattr(exc, "problem", exc)).split())[:300]
                ) from None
        return self._apply(actor, orbiter, version_before, source, stored, new, predicted, t0)

    @staticmethod
    def _elements(text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except ValueError:
            raise InvalidInputError(
                "body",
                "neither a CCSDS OEM (KVN text starting with CCSDS_OEM_VERS) nor elements JSON",
            ) from None
        if isinstance(value, dict) and isinstance(value.get("elements"), dict):
            value = value["elements"]
        if not isinstance(value, dict):
            raise InvalidInputError("body", "elements JSON must be an object")
        try:
            body = ElementsBody.model_validate(value)
        except ValidationError as exc:
            raise invalid_from(exc) from None
        return body.model_dump(exclude_none=True)

    def _apply(
        self,
        actor: Actor,
        orbiter: str,
        version_before: int,
        source: str,
        stored: str,
        new: predict.NewTrajectory,
        predicted: list[predict.PredictedOverflight],
        t0: float,
    ) -> dict[str, Any]:
        now = now_ms()
        with self.uow(write=True) as uow:
            asset = uow.repo.asset(orbiter)
            assert asset is not None
            if asset.trajectory_version != version_before:
                raise ConflictError(
                    f"{orbiter}'s trajectory changed to version "
                    f"{asset.trajectory_version} meanwhile; publish again"
                )
            version = version_before + 1
            cat = uow.repo.catalog()
            before = {"trajectory_version": version_before}
            asset.trajectory_version = version
            uow.session.add(
                Trajectory(
                    orbiter_id=asset.id,
                    version=version,
                    source=source,
                    content=stored,
                    coverage_start_ms=new.span_ms[0],
                    coverage_end_ms=new.span_ms[1],
                    created_ms=now,
                    created_by=actor.name,
                )
            )
            old = uow.repo.overflights(orbiter_id=asset.id)
            for ov in old:
                ov.superseded = True
            fresh = []
            for p in predicted:
                lander = cat.asset_named(p.lander, "lander")
                if lander is None:
                    continue
                ov = Overflight(
                    orbiter_id=asset.id,
                    lander_id=lander.id,
                    start_ms=p.start_ms,
                    end_ms=p.end_ms,
                    max_elevation_deg=p.max_elevation_deg,
                    predicted_bits=p.predicted_bits,
                    trajectory_version=version,
                    superseded=False,
                    profile=p.profile_json(),
                )
                uow.session.add(ov)
                fresh.append(ov)
            uow.session.flush()
            relinked, stale = [], []
            for req in uow.repo.requests(
                agency_id=None, orbiter_id=asset.id, states=[s.value for s in LIVE_STATES]
            ):
                home = next(
                    (
                        ov
                        for ov in fresh
                        if ov.lander_id == req.lander_id
                        and ov.start_ms <= req.start_ms
                        and req.end_ms <= ov.end_ms
                    ),
                    None,
                )
                snap = request_snapshot(req)
                req.version += 1
                req.updated_ms = now
                if home is not None:
                    req.overflight_id = home.id
                    req.predicted_bits = window_share_bits(
                        parse_profile(home.profile), home.start_ms, req.start_ms, req.end_ms
                    )
                    kind = "trajectory"
                    relinked.append(req.id)
                else:
                    req.state = next_state(req.state, RequestState.STALE).value
                    kind = "stale"
                    stale.append(req.id)
                uow.session.flush()
                detail = {"trajectory_version": version, "overflight_id": req.overflight_id}
                uow.repo.add_event(kind, request=req, time_ms=now, detail=detail)
                uow.repo.add_audit(
                    actor=actor.name,
                    user_id=actor.user_id,
                    action="relink" if kind == "trajectory" else "stale",
                    entity="request",
                    entity_id=req.id,
                    before=snap,
                    after=request_snapshot(req),
                    time_ms=now,
                )
            after = {
                "trajectory_version": version,
                "source": source,
                "coverage_start_utc": format_ms(new.span_ms[0]),
                "coverage_end_utc": format_ms(new.span_ms[1]),
                "overflights": len(fresh),
                "superseded": len(old),
                "relinked": relinked,
                "stale": stale,
            }
            # Everyone sees this event: counts only, no request ids of other agencies.
            public = {k: v for k, v in after.items() if k not in ("relinked", "stale")}
            public |= {"relinked": len(relinked), "stale": len(stale)}
            uow.repo.add_event(
                "trajectory",
                orbiter_id=asset.id,
                orbiter_agency_id=asset.agency_id,
                version=version,
                detail=public,
                time_ms=now,
            )
            uow.repo.add_audit(
                actor=actor.name,
                user_id=actor.user_id,
                action="trajectory",
                entity="orbiter",
                entity_id=orbiter,
                before=before,
                after=after,
                time_ms=now,
            )
        return {
            "orbiter": orbiter,
            **after,
            "elapsed_ms": round((time.perf_counter() - t0) * 1000.0, 3),
        }
