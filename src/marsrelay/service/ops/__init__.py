"""The service layer: every operation the API, the command line and the web pages perform,
as methods of one :class:`RelayService` (one unit of work each). They return plain dicts in
the REST contract's shapes and raise :mod:`marsrelay.service.domain.errors`."""

from marsrelay.service.ops.admin import AdminOps, backup_database
from marsrelay.service.ops.files import FileOps, StoredFile, TooLargeError
from marsrelay.service.ops.planning import PlanningOps
from marsrelay.service.ops.reads import ReadOps
from marsrelay.service.ops.requests import RequestOps
from marsrelay.service.ops.trajectory import TrajectoryOps
from marsrelay.service.ops.web import WebOps

__all__ = ["RelayService", "StoredFile", "TooLargeError", "backup_database"]


class RelayService(
    AdminOps, ReadOps, RequestOps, FileOps, PlanningOps, TrajectoryOps, WebOps
):
    """All operations on one database (see the mixins' modules)."""
