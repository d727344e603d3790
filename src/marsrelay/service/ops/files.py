"""Forward products attached to a request: stored whole in the database with their SHA-256.

Upload: a planner of the lander's agency, while the request is live; the size limit is
``Settings.max_file_bytes`` (413 above); if the client sends the SHA-256 it computed, a
mismatch is refused (422). Download: anyone who sees the request; the stored bytes are checked
against the stored digest before they are served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from marsrelay.service.db.models import ForwardFile
from marsrelay.service.db.uow import UnitOfWork
from marsrelay.service.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
    UnavailableError,
)
from marsrelay.service.domain.permissions import Action, Actor, check_allowed
from marsrelay.service.domain.states import LIVE_STATES
from marsrelay.service.ops.core import ServiceCore
from marsrelay.service.ops.views import file_view
from marsrelay.service.timefmt import now_ms

__all__ = ["FileOps", "StoredFile", "TooLargeError"]


class TooLargeError(ServiceError):
    """A body or file over its size limit (413)."""

    http_status = 413


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    sha256: str
    content: bytes


class FileOps(ServiceCore):
    def attach_file(
        self,
        actor: Actor,
        request_id: int,
        *,
        filename: str | None,
        content_type: str | None,
        content: bytes | None,
        sha256: str | None = None,
    ) -> dict[str, Any]:
        return self.write(
            lambda uow: self._attach_file(
                uow, actor, request_id, filename, content_type, content, sha256
            )
        )

    def _attach_file(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request_id: int,
        filename: str | None,
        content_type: str | None,
        content: bytes | None,
        sha256: str | None,
    ) -> dict[str, Any]:
        req = self.visible_request(uow, actor, request_id)
        cat = uow.repo.catalog()
        check_allowed(
            actor,
            Action.ATTACH_FILE,
            lander_agency=cat.agencies[req.lander_agency_id],
            orbiter_agency=cat.agencies[req.orbiter_agency_id],
        )
        if content is None:
            raise InvalidInputError("file", "a multipart/form-data field 'file' is required")
        limit = self.settings.max_file_bytes
        if len(content) > limit:
            raise TooLargeError(
                f"file: {len(content)} bytes is over the limit of {limit} bytes"
            )
        digest = hashlib.sha256(content).hexdigest()
        if sha256 is not None and sha256.strip().lower() != digest:
            raise InvalidInputError(
                "sha256", f"the file's SHA-256 is {digest}, not {sha256.strip()}"
            )
        if req.state not in {s.value for s in LIVE_STATES}:
            raise ConflictError(
                f"files can be attached to live requests only; request {req.id} is {req.state}"
            )
        name = (filename or "file").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file"
        now = now_ms()
        row = ForwardFile(
            request_id=req.id,
            filename=name,
            content_type=(content_type or "application/octet-stream")[:255],
            size=len(content),
            sha256=digest,
            content=content,
            created_by=actor.name,
            created_ms=now,
        )
        uow.session.add(row)
        uow.session.flush()
        view = file_view(
            (
                row.id,
                row.filename,
                row.content_type,
                row.size,
                row.sha256,
                row.created_by,
                row.created_ms,
            ),
            req.id,
        )
        uow.repo.add_audit(
            actor=actor.name,
            user_id=actor.user_id,
            action="attach_file",
            entity="file",
            entity_id=row.id,
            before=None,
            after=view,
            time_ms=now,
        )
        return view

    def list_files(self, actor: Actor, request_id: int) -> list[dict[str, Any]]:
        with self.uow() as uow:
            req = self.visible_request(uow, actor, request_id)
            return [file_view(r, req.id) for r in uow.repo.files(req.id)]

    def get_file(self, actor: Actor, request_id: int, file_id: int) -> StoredFile:
        with self.uow() as uow:
            req = self.visible_request(uow, actor, request_id)
            row = uow.repo.file(req.id, file_id) if 0 < file_id < 2**31 else None
            if row is None:
                raise NotFoundError(f"file {file_id} of request {request_id} does not exist")
            if hashlib.sha256(row.content).hexdigest() != row.sha256:
                raise UnavailableError(
                    f"file {file_id} does not match its stored SHA-256: the "
                    "stored copy is damaged; restore it from a backup"
                )
            return StoredFile(row.filename, row.content_type, row.sha256, bytes(row.content))
