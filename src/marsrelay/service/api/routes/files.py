"""Forward files of a request: upload (multipart ``file``), list, download."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from marsrelay.service.api.deps import ActorDep, ServiceDep, WriterDep
from marsrelay.service.schemas import FileOut

router = APIRouter(tags=["files"])

_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "sha256": {
                            "type": "string",
                            "description": "the SHA-256 (hex) you computed; "
                            "a mismatch is refused (422)",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/requests/{request_id}/files",
    status_code=201,
    response_model=FileOut,
    openapi_extra=_UPLOAD_DOC,
)
async def upload_file(
    request_id: int, request: Request, actor: WriterDep, service: ServiceDep
) -> dict[str, Any]:
    """Attach a forward product to a live request (a planner of the lander's agency). Stored
    whole; its SHA-256 is returned (and checked against ``sha256`` if sent). Size limit:
    ``MARSRELAY_MAX_FILE_BYTES``, default 16 MiB (16777216 bytes); 413 above."""
    content = filename = content_type = sha = None
    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception:  # malformed multipart: validated (422) after the 404/403 checks
        form = None
    if form is not None:
        part = form.get("file")
        if isinstance(part, UploadFile):
            content = await part.read(service.settings.max_file_bytes + 1)
            filename, content_type = part.filename, part.content_type
        claimed = form.get("sha256")
        sha = claimed if isinstance(claimed, str) and claimed else None
        await form.close()
    return await run_in_threadpool(
        lambda: service.attach_file(
            actor,
            request_id,
            filename=filename,
            content_type=content_type,
            content=content,
            sha256=sha,
        )
    )


@router.get("/requests/{request_id}/files", response_model=list[FileOut])
def list_files(request_id: int, actor: ActorDep, service: ServiceDep) -> list[dict[str, Any]]:
    return service.list_files(actor, request_id)


@router.get(
    "/requests/{request_id}/files/{file_id}",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_file(request_id: int, file_id: int, actor: ActorDep, service: ServiceDep) -> Response:
    """The file's bytes, checked against the stored SHA-256 (also sent as ``ETag`` and
    ``X-Checksum-SHA256``)."""
    stored = service.get_file(actor, request_id, file_id)
    safe = stored.filename.replace('"', "").encode("ascii", "replace").decode()
    return Response(
        stored.content,
        media_type=stored.content_type,
        headers={
            "ETag": f'"{stored.sha256}"',
            "X-Checksum-SHA256": stored.sha256,
            "Content-Disposition": f'attachment; filename="{safe}"',
        },
    )
