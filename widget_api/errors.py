"""The one place where domain errors become HTTP status codes; every error body is {"detail": ...}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.errors import Conflict, Forbidden, InvalidInput, MeetingsError, NotFound, ServiceUnavailable

STATUS_BY_ERROR: tuple[tuple[type[MeetingsError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidInput, 422),
    (ServiceUnavailable, 503),
)


def _status_for(error: MeetingsError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def _validation_detail(error: RequestValidationError) -> list[dict[str, object]]:
    # Pydantic's errors, minus the echoed input (it may be huge or hold what we refused).
    return [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
        for item in error.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MeetingsError)
    async def _domain_error(_request: Request, error: MeetingsError) -> JSONResponse:
        return JSONResponse(status_code=_status_for(error), content={"detail": error.detail})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _validation_detail(error)})

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, _error: PoolTimeout) -> JSONResponse:
        # Every database connection of this process stayed busy for the pool timeout.
        return JSONResponse(
            status_code=503,
            content={"detail": "the server is busy; nothing was changed, please retry"},
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, _error: OperationalError) -> JSONResponse:
        return JSONResponse(
            status_code=503,
            content={"detail": "the database is not answering; nothing was changed, please retry"},
            headers={"Retry-After": "5"},
        )

    # A value the database cannot hold (an id of 10**25, a NUL in text for PostgreSQL): the caller's input.
    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(_request: Request, _error: Exception) -> JSONResponse:
        # Shaped as a validation error, as the schema documents 422 for these parameters.
        reason = "a value in the request is out of range or cannot be stored"
        detail = [{"loc": [], "msg": reason, "type": "out_of_range"}]
        return JSONResponse(status_code=422, content={"detail": detail})
