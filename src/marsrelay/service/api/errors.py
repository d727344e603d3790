"""Service-layer errors -> HTTP statuses, and the handlers that make sure no input ever
produces a 500: NotFoundError 404, ForbiddenError 403, InvalidInputError 422 (FastAPI's
``detail`` list naming the fields), ConflictError 409, TooLargeError 413, UnavailableError 503
(with ``Retry-After``). A path parameter that is not an id (``/requests/abc``) is an unknown
id: 404."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError

from marsrelay.errors import InputError
from marsrelay.service.db.uow import database_unavailable
from marsrelay.service.domain.errors import (
    InvalidInputError,
    ServiceError,
)

__all__ = ["ERROR_RESPONSES", "install_error_handlers"]

log = logging.getLogger("marsrelay.service")


class ErrorOut(BaseModel):
    """Every refusal: ``detail`` says why (a list of field problems for 422)."""

    detail: str | list[dict[str, Any]]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


#: The refusals any API route can answer, declared in the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed request (e.g. a Content-Length that is not a number)"),
    401: _error("Missing or invalid API token"),
    403: _error("The caller may not do this"),
    404: _error("No such record, or not visible to the caller"),
    405: _error("Method not allowed"),
    408: _error("The request body came too slowly"),
    409: _error("Stale version, a state that does not allow it, or an overlap"),
    413: _error("The body or file is over its size limit"),
    422: _error("The input does not validate (detail names each field)"),
    429: _error("Too many writes for this token: wait Retry-After seconds"),
    503: _error("The database cannot take the operation now (Retry-After)"),
}

def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = exc.http_status
    if isinstance(exc, InvalidInputError):
        return JSONResponse({"detail": jsonable_encoder(exc.errors)}, status_code=422)
    if status == 503:
        log.warning("%s %s: %s (%s)", request.method, request.url.path, exc.message,
                    getattr(exc, "log_detail", ""))
    headers = {"Retry-After": "1"} if status == 503 else None
    return JSONResponse({"detail": exc.message}, status_code=status, headers=headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("loc", ("",))[0] == "path" for e in errors):
        return JSONResponse({"detail": "no such record (the id is not a number)"}, status_code=404)
    cleaned = [
        {
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", "value_error"),
        }
        for e in errors
    ]
    return JSONResponse({"detail": cleaned}, status_code=422)


def _input_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    field = exc.field or "body"
    return JSONResponse(
        {
            "detail": [
                {
                    "loc": ["body", *field.split(".")],
                    "msg": " ".join(str(exc).split()),
                    "type": "value_error",
                }
            ]
        },
        status_code=422,
    )


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    err = database_unavailable(exc)
    log.warning("%s %s: %s (%s)", request.method, request.url.path, err.message,
                getattr(err, "log_detail", ""))
    return JSONResponse({"detail": err.message}, status_code=503, headers={"Retry-After": "1"})


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": f"internal error ({type(exc).__name__}); this is a bug"}, status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
