"""Records -> the JSON shapes of the REST contract (the same dicts the pages render)."""

from __future__ import annotations

import json
from typing import Any

from marsrelay.service.db.models import AuditEntry, Event, Overflight, RelayRequest
from marsrelay.service.db.repository import Catalog
from marsrelay.service.timefmt import format_ms

__all__ = [
    "audit_view",
    "event_view",
    "file_view",
    "overflight_view",
    "request_snapshot",
    "request_view",
]


def overflight_view(ov: Overflight, cat: Catalog) -> dict[str, Any]:
    return {
        "id": ov.id,
        "orbiter": cat.assets[ov.orbiter_id].name,
        "lander": cat.assets[ov.lander_id].name,
        "start_utc": format_ms(ov.start_ms),
        "end_utc": format_ms(ov.end_ms),
        "duration_s": (ov.end_ms - ov.start_ms) / 1000.0,
        "max_elevation_deg": ov.max_elevation_deg,
        "predicted_bits": ov.predicted_bits,
        "trajectory_version": ov.trajectory_version,
        "superseded": bool(ov.superseded),
    }


def request_view(req: RelayRequest, cat: Catalog) -> dict[str, Any]:
    """The whole request, as ``GET /requests/{id}`` shows it."""
    return {
        "id": req.id,
        "version": req.version,
        "state": req.state,
        "lander": cat.assets[req.lander_id].name,
        "orbiter": cat.assets[req.orbiter_id].name,
        "lander_agency": cat.agencies[req.lander_agency_id],
        "orbiter_agency": cat.agencies[req.orbiter_agency_id],
        "overflight_id": req.overflight_id,
        "start_utc": format_ms(req.start_ms),
        "end_utc": format_ms(req.end_ms),
        "requested_start_utc": format_ms(req.requested_start_ms),
        "requested_end_utc": format_ms(req.requested_end_ms),
        "return_bits": req.return_bits,
        "forward_bits": req.forward_bits,
        "priority": req.priority,
        "predicted_bits": req.predicted_bits,
        # The contract's types: integers >= 0 and a boolean, also before any result.
        "returned_bits": 0 if req.returned_bits is None else req.returned_bits,
        "forward_delivered": bool(req.forward_delivered),
        "note": req.note,
        "reason": req.reason,
        "created_by": req.created_by,
        "created_utc": format_ms(req.created_ms),
        "updated_utc": format_ms(req.updated_ms),
    }


def request_snapshot(req: RelayRequest) -> dict[str, Any]:
    """The stored columns of a request (for the audit log's before/after)."""
    return {
        c: getattr(req, c)
        for c in (
            "id",
            "version",
            "state",
            "overflight_id",
            "orbiter_id",
            "lander_id",
            "start_ms",
            "end_ms",
            "requested_start_ms",
            "requested_end_ms",
            "return_bits",
            "forward_bits",
            "priority",
            "predicted_bits",
            "note",
            "reason",
            "returned_bits",
            "forward_delivered",
        )
    }


def event_view(ev: Event, cat: Catalog) -> dict[str, Any]:
    orbiter = cat.assets.get(ev.orbiter_id) if ev.orbiter_id is not None else None
    return {
        "id": ev.id,
        "time_utc": format_ms(ev.time_ms),
        "kind": ev.kind,
        "request_id": ev.request_id,
        "state": ev.state,
        "orbiter": orbiter.name if orbiter is not None else None,
        "version": ev.version,
        "detail": json.loads(ev.detail) if ev.detail else None,
    }


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time_utc": format_ms(entry.time_ms),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "before": json.loads(entry.before) if entry.before else None,
        "after": json.loads(entry.after) if entry.after else None,
    }


def file_view(row: Any, request_id: int) -> dict[str, Any]:
    """``row``: ``(id, filename, content_type, size, sha256, created_by, created_ms)``."""
    fid, filename, content_type, size, sha, created_by, created_ms = row
    return {
        "id": fid,
        "request_id": request_id,
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "sha256": sha,
        "created_by": created_by,
        "created_utc": format_ms(created_ms),
    }
