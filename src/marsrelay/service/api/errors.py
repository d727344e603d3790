"""Service-layer errors -> HTTP statuses, and the handlers that make sure no input ever
produces a 500: NotFoundError 404, ForbiddenError 403, InvalidInputError 422 (FastAPI's
``detail`` list naming the fields), ConflictError 409, TooLargeError 413, UnavailableError 503
(with ``Retry-After``). A path parameter that is not an id (``/requests/abc``) is an unknown
id: 404."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from marsrelay.errors import InputError
from marsrelay.service.db.uow import database_unavailable
from marsrelay.service.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceError,
    UnavailableError,
)
from marsrelay.service.ops import TooLargeError

__all__ = ["install_error_handlers"]

log = logging.getLogger("marsrelay.service")

STATUS: dict[type[ServiceError], int] = {
    NotFoundError: 404,
    ForbiddenError: 403,
    InvalidInputError: 422,
    ConflictError: 409,
    TooLargeError: 413,
    UnavailableError: 503,
}


def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    if isinstance(exc, InvalidInputError):
        return JSONResponse({"detail": jsonable_encoder(exc.errors)}, status_code=422)
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


def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    err = database_unavailable(exc)
    log.warning("database unavailable: %s", err.message)
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
