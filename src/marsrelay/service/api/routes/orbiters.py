"""``PUT /orbiters/{name}/trajectory``: publish a new trajectory (OEM or elements JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from marsrelay.service.api.deps import ServiceDep, WriterDep
from marsrelay.service.schemas import ElementsBody, TrajectoryOut

router = APIRouter(tags=["network"])

_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ElementsBody.model_json_schema()},
            "text/plain": {"schema": {"type": "string", "description": "a CCSDS OEM (KVN)"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


@router.put("/orbiters/{name}/trajectory", response_model=TrajectoryOut, openapi_extra=_DOC)
async def publish_trajectory(
    name: str, request: Request, actor: WriterDep, service: ServiceDep
) -> dict[str, Any]:
    """A planner of the orbiter's agency publishes a CCSDS OEM (as the body, or multipart
    ``file``) or mean elements JSON: new ``trajectory_version``, overflights re-predicted,
    live requests re-linked or made ``stale`` (with events). Says how long it took."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        content = b""
        try:
            form = await request.form(max_files=1, max_fields=4)
            part = form.get("file")
            if isinstance(part, UploadFile):
                content = await part.read()
            await form.close()
        except Exception:  # malformed multipart: refused as an unusable body (422) later
            content = b""
    else:
        content = await request.body()
    return await run_in_threadpool(service.publish_trajectory, actor, name, content, content_type)
