"""The audit log over HTTP, for the organizer: a page of it as JSON, or all of it as CSV.

``GET /api/v1/audit`` pages newest first (``before``, ``limit``) and filters by ``role``,
``point`` and ``run``; ``GET /api/v1/audit.csv`` exports every entry the filters match,
UTF-8 with a BOM so that Excel reads Vietnamese, headers in ``?lang=`` (else the page's
language cookie, else English).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, stream_with_context

from ..i18n import supported_language, translate
from ..services.audit_view import CSV_COLUMNS, QUERY_FIELDS, AuditQuery, audit_csv, audit_page
from .auth import services
from .links import ORGANIZER_REFUSALS, organizer_actor
from .operations import operation

bp = Blueprint("audit_log", __name__, url_prefix="/api/v1")

LANGUAGE_COOKIE = "runsheet_lang"  # the pages' language cookie (transports.pages)
CSV_QUERY = {name: field for name, field in QUERY_FIELDS.items() if name not in ("limit",)}


def request_language() -> str:
    """Return the language a download asks for: ``?lang=``, else the pages' cookie, else en."""
    return (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or "en"
    )


@bp.get("/audit")
@operation(
    "state",
    "A page of the audit log, newest first.",
    operation_id="get_audit_log",
    answers="AuditLog",
    callers="token",
    query=QUERY_FIELDS,
    refusals=("Invalid", *ORGANIZER_REFUSALS),
)
def get_audit_log():  # noqa: ANN201
    """Read the audit log (organizer).

    Every action, done or refused, of the active event: who (role, point, console), when,
    what (the action and its payload, trimmed), through which channel, and the state's
    version before and after. Newest first; `next_before` pages on to older entries.
    Refusals of token holders are logged (repeats of the same refusal within a minute are
    counted into the next one logged, as `summary.repeated`); those of callers without a
    token are not.
    """
    organizer_actor()
    query = AuditQuery.parse(request.args)
    svc = services()
    current = svc.ceremony.current()
    entries = query.entries(svc.store, current.event_id)
    return jsonify(audit_page(entries, query, current.plan.event.zone))


@bp.get("/audit.csv")
@operation(
    "state",
    "The audit log as CSV (UTF-8 with BOM).",
    operation_id="get_audit_log_csv",
    media_type="text/csv",
    callers="token",
    query=CSV_QUERY,
    refusals=("Invalid", *ORGANIZER_REFUSALS),
)
def get_audit_log_csv():  # noqa: ANN201
    """Download the audit log as CSV (organizer).

    Every entry the filters match, newest first, one row each; the payload summary as JSON.
    Headers in `?lang=vi|en`.
    """
    organizer_actor()
    query = AuditQuery.parse(request.args)
    svc = services()
    current = svc.ceremony.current()
    lang = request_language()
    headers = [translate(lang, f"audit.column.{column}") for column in CSV_COLUMNS]
    entries = query.every_entry(svc.store, current.event_id)
    body = audit_csv(entries, current.plan.event.zone, headers)
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"audit-{current.plan.event.slug}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
