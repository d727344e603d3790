"""What can go wrong in a service operation, named by meaning; each class names the one HTTP
status both front ends (API and pages) answer it with, ``http_status`` (NotFoundError 404,
ForbiddenError 403, InvalidInputError 422, ConflictError 409, UnavailableError 503)."""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "ServiceError",
    "UnavailableError",
]


class ServiceError(Exception):
    """Base of the service's expected failures: ``message`` is one line for the user."""

    http_status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    """The record does not exist, or the caller may not see it (the two look the same)."""

    http_status = 404


class ForbiddenError(ServiceError):
    """The caller sees the record but may not do this to it."""

    http_status = 403


class InvalidInputError(ServiceError):
    """Input that does not validate: ``field`` names where (dotted path, e.g. ``start_utc``)."""

    http_status = 422

    def __init__(
        self, field: str, message: str, *, location: str = "body", errors: list[dict] | None = None
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.location = location
        self.problem = message
        #: Every problem found, as ``{"loc": [location, *path], "msg", "type"}`` items.
        self.errors = errors or [
            {"loc": [location, *field.split(".")], "msg": message, "type": "value_error"}
        ]


class ConflictError(ServiceError):
    """The action does not fit the record's current state: stale version, a state that does
    not allow it, or a window that overlaps an acknowledged one."""

    http_status = 409


class UnavailableError(ServiceError):
    """The store cannot take the operation now (busy, read-only, disk full): try again."""

    http_status = 503
