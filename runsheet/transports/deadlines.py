"""The deadlines board over HTTP: points submit documents, the organizer follows who did.

- ``POST /api/v1/points/<point>/deadlines/<deadline>``: that point's token; multipart
  ``file`` + ``note`` (a document, at most 20 MB, see ``uploads``), or JSON
  ``{"done": true, "note"}``. The caller and the deadline are checked before a byte of the
  body is read; a ``Content-Length`` over the limit is refused at once.
- ``GET /api/v1/points/<point>/deadlines``: that point's deadlines and submissions.
- ``GET /api/v1/deadlines`` and ``/api/v1/deadlines.csv``: the organizer's board.
- ``GET /api/v1/deadlines/documents/<id>``: a document, to the organizer or its point.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from ..domain.errors import Forbidden, InvalidInput, MissingDocument, NotFound, TooLarge
from ..i18n import DEFAULT_LANGUAGE, supported_language, translate
from ..services.actions import POINT_ID
from ..services.deadlines import (
    MAX_SUBMISSION_ID,
    deadline_board,
    deadline_for_point,
    document_for,
    mark_done,
    point_deadlines,
    submit_document,
)
from ..services.documents import ACCEPTED, MAX_DOCUMENT_BYTES
from ..services.payloads import Field
from ..services.tokens import Actor
from .auth import api_actor, services
from .operations import operation
from .uploads import UPLOAD_BODY_BYTES, stop_reading

bp = Blueprint("deadlines", __name__, url_prefix="/api/v1")

DEADLINE_ID = Field(str, max_length=64, description="The id of a deadline (`deadlines[].id`).")
SUBMISSION_ID = Field(
    int,
    minimum=1,
    maximum=MAX_SUBMISSION_ID,
    description="The id of a submission with a document.",
)
# The non-file parts of an upload: the note (a few kilobytes at most) and the framing.
MAX_FORM_FIELD_BYTES = 64 * 1024
MAX_FORM_PARTS = 8

UPLOAD_BODY = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "file": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": (
                    f"The document: {', '.join(t.name for t in ACCEPTED)}, at most 20 MB, "
                    "told by its content."
                ),
            },
            "note": {"type": "string", "maxLength": 2000},
        },
        "required": ["file"],
    },
    "application/json": {
        "type": "object",
        "properties": {"done": {"const": True}, "note": {"type": "string", "maxLength": 2000}},
        "required": ["done", "note"],
        "additionalProperties": False,
    },
}


class _CappedBuffer(io.BytesIO):
    """Where an uploaded file's bytes go while the form is parsed: memory, never disk."""

    def write(self, data: Any) -> int:  # noqa: ANN401
        if self.tell() + len(data) > MAX_DOCUMENT_BYTES:
            raise TooLarge("file: the document is larger than 20 MB", field="file")
        return super().write(data)


def _capped_buffer(*_args: Any, **_kwargs: Any) -> _CappedBuffer:  # noqa: ANN401
    return _CappedBuffer()


@bp.after_request
def _close_refused_uploads(response: Response) -> Response:
    # A refused upload's body is not read on: its connection is closed instead.
    if request.endpoint == "deadlines.submit" and response.status_code >= 400:
        stop_reading(request.environ)
    return response


@bp.post("/points/<point_id>/deadlines/<deadline_id>")
@operation(
    "deadlines",
    "The submission, now the current one.",
    answers="SubmissionEntry",
    callers="token",
    status=201,
    request_body=UPLOAD_BODY,
    parameters={"point_id": POINT_ID, "deadline_id": DEADLINE_ID},
    refusals=(
        "Invalid",
        "Unauthenticated",
        "Forbidden",
        "NotFound",
        "TooLarge",
        "UnsupportedMediaType",
        "MissingDocument",
    ),
)
def submit(point_id: str, deadline_id: str):  # noqa: ANN201
    """Submit a document for a deadline, or mark it done.

    Only that point's own token (a Bearer token, or its page's cookie with
    `X-Runsheet-Page: point:<id>`). A multipart body carries `file` (PDF, DOCX, XLSX, JPG
    or PNG, at most 20 MB, its type told by its content) and `note`; a JSON body
    `{"done": true, "note": ...}` says it was delivered otherwise. A later submission
    becomes the current one; every one stays on record.
    """
    svc = services()
    current = svc.ceremony.current()
    actor = api_actor()
    deadline = deadline_for_point(current.plan, actor, point_id, deadline_id)
    now = svc.ceremony.clock()
    mimetype = request.mimetype
    if mimetype == "application/json":
        payload = _small_json()
        entry = mark_done(svc.store, current.event_id, deadline, actor, current.state, payload, now)
        return jsonify(entry), 201
    if mimetype != "multipart/form-data":
        raise InvalidInput(
            "send the document as multipart/form-data (file, note), or JSON "
            '{"done": true, "note": ...}'
        )
    if request.content_length is not None and request.content_length > UPLOAD_BODY_BYTES:
        raise TooLarge("the document is larger than 20 MB", field="file")
    try:
        _, form, files = parse_form_data(
            request.environ,
            stream_factory=_capped_buffer,
            max_form_memory_size=MAX_FORM_FIELD_BYTES,
            max_content_length=UPLOAD_BODY_BYTES,
            max_form_parts=MAX_FORM_PARTS,
            silent=False,
        )
    except RequestEntityTooLarge:  # the whole body, the note or the number of parts
        raise TooLarge(
            "the upload is too large: one document of at most 20 MB and a short note"
        ) from None
    except ValueError:
        raise InvalidInput("the multipart body is malformed") from None
    upload = files.get("file")
    if upload is None:
        raise MissingDocument("file: is required (the document to submit)", field="file")
    content = upload.stream.getvalue()
    entry = submit_document(
        svc.store,
        current.event_id,
        deadline,
        actor,
        current.state,
        (content, upload.filename, upload.mimetype if upload.content_type else None),
        form.get("note", ""),
        now,
    )
    return jsonify(entry), 201


def _small_json() -> dict[str, Any]:
    """Return a JSON body, held to the app's small limit even on this large-body route.

    A chunked body reaches this route as a stream (``uploads``), which Werkzeug would cut
    at the limit without a word: it is read here, one byte past the limit at most.
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None:  # a length: Werkzeug reads exactly that much
        if request.content_length > limit:
            raise TooLarge("the request body is too large")
        raw = request.get_data(cache=True)
    else:  # chunked: the stream ends with the body
        raw = request.environ["wsgi.input"].read(limit + 1)
        if len(raw) > limit:
            raise TooLarge("the request body is too large")
    if not raw:
        return {}
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidInput("the request body must be a JSON object")
    return payload


@bp.get("/points/<point_id>/deadlines")
@operation(
    "deadlines",
    "The point's deadlines.",
    answers="PointDeadlines",
    callers="token",
    parameters={"point_id": POINT_ID},
    refusals=("Unauthenticated", "Forbidden", "NotFound"),
)
def get_point_deadlines(point_id: str):  # noqa: ANN201
    """Read a point's deadlines, the days left and what it submitted.

    That point's token, or the organizer's. Newest submission first; the first is the
    current one.
    """
    svc = services()
    current = svc.ceremony.current()
    actor = api_actor()
    if not (actor.role == "organizer" or (actor.role == "point" and actor.point_id == point_id)):
        raise Forbidden("only this point's own link, or the organizer's, may read this")
    if current.plan.point(point_id) is None:
        raise NotFound(f"there is no connection point {point_id[:80]!r}", field="point_id")
    body = point_deadlines(
        svc.store, current.event_id, current.plan, point_id, svc.ceremony.clock()
    )
    return jsonify(body)


def _organizer() -> Actor:
    actor = api_actor()
    if actor.role != "organizer":
        raise Forbidden("only the organizer may see the deadlines board")
    return actor


@bp.get("/deadlines")
@operation(
    "deadlines",
    "The board.",
    answers="DeadlineBoard",
    callers="token",
    refusals=("Unauthenticated", "Forbidden"),
)
def get_board():  # noqa: ANN201
    """Read the deadlines board: submitted, late, missing or pending, per deadline and point.

    The organizer only. "late": first submitted after the due date's end in the event's
    zone; "missing": nothing by then and the due date has passed; "pending": not yet, and
    the due date has not passed.
    """
    _organizer()
    svc = services()
    current = svc.ceremony.current()
    return jsonify(deadline_board(svc.store, current.event_id, current.plan, svc.ceremony.clock()))


@bp.get("/deadlines.csv")
@operation(
    "deadlines",
    "The board as CSV (UTF-8 with a byte-order mark), one row per deadline and point.",
    media_type="text/csv",
    callers="token",
    refusals=("Unauthenticated", "Forbidden"),
)
def get_board_csv():  # noqa: ANN201
    """Download the deadlines board as CSV.

    The organizer only. Column names and statuses in `?lang=vi|en` (default: the
    `runsheet_lang` cookie, else Vietnamese).
    """
    _organizer()
    return board_csv_response()


def board_language() -> str:
    """Return the language of a download: ``?lang``, else the page's cookie, else vi."""
    return (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get("runsheet_lang"))
        or DEFAULT_LANGUAGE
    )


CSV_COLUMNS = (
    "deadline_id",
    "deadline",
    "due_on",
    "point_id",
    "point",
    "status",
    "first_submitted_at",
    "current_submitted_at",
    "kind",
    "file_name",
    "size",
    "note",
    "submissions",
)


def board_csv_response() -> Response:
    """Return the board as a CSV download (used by the API and the board page)."""
    svc = services()
    current = svc.ceremony.current()
    plan = current.plan
    board = deadline_board(svc.store, current.event_id, plan, svc.ceremony.clock())
    lang = board_language()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([translate(lang, f"deadlines.csv.{column}") for column in CSV_COLUMNS])
    for deadline in board["deadlines"]:
        for cell in deadline["points"]:
            submission = cell["current"] or {}
            point = plan.point(cell["point_id"])
            writer.writerow(
                [
                    deadline["id"],
                    deadline["title"],
                    deadline["due_on"],
                    cell["point_id"],
                    point.name if point else "",
                    translate(lang, f"deadlines.status.{cell['status']}"),
                    cell["first_submitted_at"] or "",
                    submission.get("submitted_at", ""),
                    translate(lang, f"deadlines.kind.{submission['kind']}") if submission else "",
                    submission.get("file_name") or "",
                    submission.get("size") or "",
                    _spreadsheet_safe(submission.get("note", "")),
                    cell["submissions"],
                ]
            )
    body = "\ufeff" + out.getvalue()
    response = Response(body, mimetype="text/csv")
    response.charset = "utf-8"
    name = f"{plan.event.slug}-deadlines.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _spreadsheet_safe(text: str) -> str:
    # A note is the point's own text: one starting with = + - @ would run as a formula
    # in a spreadsheet that opens the CSV; a leading apostrophe keeps it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/deadlines/documents/<int:submission_id>")
@operation(
    "deadlines",
    "The document, as an attachment with its original name.",
    media_type="application/octet-stream",
    callers="token",
    parameters={"submission_id": SUBMISSION_ID},
    refusals=("Unauthenticated", "Forbidden", "NotFound"),
)
def get_document(submission_id: int):  # noqa: ANN201
    """Download a submitted document.

    The organizer, or the point that submitted it. Served with its type as detected on
    upload, `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`.
    """
    return document_response(api_actor(), submission_id)


def document_response(actor: Actor, submission_id: int) -> Response:
    """Return a document as a download, if ``actor`` may have it."""
    svc = services()
    document = document_for(svc.store, svc.ceremony.current().event_id, actor, submission_id)
    submission = document.submission
    response = Response(document.content, mimetype=submission.content_type)
    response.headers["Content-Disposition"] = content_disposition(submission.file_name or "")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def content_disposition(file_name: str) -> str:
    """Return an attachment header with the name in ASCII and in UTF-8 (RFC 6266, 5987)."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in file_name
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"
