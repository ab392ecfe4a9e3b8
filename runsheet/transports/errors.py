"""One way to report an error, for HTTP responses and Socket.IO acks alike."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..domain.errors import JustMoved, RunsheetError

STATUS = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "stale": 409,
    "just_moved": 409,
    "too_large": 413,
    "rate_limited": 429,
}


def error_body(error: RunsheetError) -> dict[str, Any]:
    """Return the JSON fields that describe an error."""
    body: dict[str, Any] = {"error": error.message, "kind": error.kind}
    if error.field:
        body["field"] = error.field
    if isinstance(error, JustMoved):
        moved = error.moved_by
        body["moved_by"] = {**moved, "at": moved["at"].isoformat()}
    return body


def status_of(error: RunsheetError) -> int:
    """Return the HTTP status for an error."""
    return STATUS.get(error.kind, 400)


def error_response(status: int, error: str, **extra: Any):  # noqa: ANN201
    """Return a JSON error response."""
    # The parameter is named like the body's key, so ``**error_body(e)`` can be passed.
    response = jsonify({"error": error, **extra})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every error with JSON on the API and never with a bare traceback."""

    @app.errorhandler(RunsheetError)
    def _runsheet_error(error: RunsheetError):  # noqa: ANN202
        return error_response(status_of(error), **error_body(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # noqa: ANN202
        if not _wants_json():
            return error
        message = {
            404: "there is nothing at this address",
            405: f"{request.method} is not allowed here",
            413: "the request body is too large",
        }.get(error.code, error.description or error.name)
        response = error_response(error.code or 500, message, kind=_kind(error.code))
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # noqa: ANN202
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "the service failed to handle this request", kind="internal")


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz")) or request.accept_mimetypes.best == (
        "application/json"
    )


def _kind(code: int | None) -> str:
    return {400: "invalid", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        code or 0, "error"
    )
