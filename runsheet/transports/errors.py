"""One way to report an error, for HTTP responses and Socket.IO acks alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..domain.errors import JustMoved, RunsheetError
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, supported_language, translate
from ..services.plans import database_reason

STATUS = {
    "invalid": 400,
    "unauthenticated": 401,
    "other_event": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "stale": 409,
    "just_moved": 409,
    "too_large": 413,
    "invalid_event": 422,
    "stale_plan": 409,
    "invalid_plan": 422,
    "unsupported_media_type": 415,
    "missing_document": 422,
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


def error_response(code: int, /, error: str, **extra: Any):  # noqa: ANN201
    """Return a JSON error response with HTTP status ``code``."""
    # ``error`` is named like the body's key, so ``**error_body(e)`` can be passed; ``code``
    # is positional only, so the body may carry a "status" key of its own.
    response = jsonify({"error": error, **extra})
    response.status_code = code
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

    @app.errorhandler(SQLAlchemyError)
    def _database_error(error: SQLAlchemyError):  # noqa: ANN202
        # The database is down, full or read-only: not a bug in this code, so one line
        # in the log per request, not a traceback.
        app.logger.error(
            "database error on %s %s: %s", request.method, request.path, database_reason(error)
        )
        if not _wants_json():
            return error_page("unavailable", 503)
        message = "the database does not answer; try again in a moment"
        return error_response(503, message, kind="unavailable")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # noqa: ANN202
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if not _wants_json():
            return error_page("failed", 500)
        return error_response(500, "the service failed to handle this request", kind="internal")


def error_page(reason: str, code: int) -> Response:
    """Return the HTML page that says a page cannot be shown now, in the reader's language.

    Rendered without the database (which may be what failed), with the notice template of
    the other "cannot show this page" pages.
    """
    from .pages import LANGUAGE_COOKIE  # pages import this module

    lang = (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or DEFAULT_LANGUAGE
    )

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    def lang_url(code: str) -> str:
        return f"{request.path}?{urlencode({'lang': code})}"

    html = render_template(
        "notice.html",
        reason=reason,
        page="notice",
        t=t,
        lang=lang,
        languages=LANGUAGES,
        lang_url=lang_url,
    )
    response = Response(html, status=code, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if code == 503:
        response.headers["Retry-After"] = "10"
    return response


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz")) or request.accept_mimetypes.best == (
        "application/json"
    )


def _kind(code: int | None) -> str:
    return {400: "invalid", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        code or 0, "error"
    )
