"""The report of a run: JSON, CSV and xlsx for the organizer and the MC, a point's own part,
and the printable pages ``/report`` and ``/points/<id>/report``.

Only translation happens here: who is asking, which run, which language. The report itself
is ``services.report.build_report``; its tables ``services.report_exports``; its chart
``services.report_chart``. The run's audit log is read through ``store.audit_entries``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, render_template, request
from markupsafe import Markup

from ..domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from ..i18n import DEFAULT_LANGUAGE, catalog, supported_language, translate
from ..services.ceremony import Current
from ..services.payloads import Field
from ..services.report import (
    MAX_AUDIT_ENTRIES,
    RunRecord,
    build_report,
    choose_run,
)
from ..services.report_chart import ChartWords, timeline_svg
from ..services.report_exports import report_csv, report_xlsx
from ..services.tokens import Actor
from ..storage.store import AUDIT_PAGE_LIMIT as AUDIT_PAGE
from ..storage.store import AuditEntry
from . import pages
from .auth import api_actor, services, token_cookie_name
from .operations import operation

T = TypeVar("T")

bp = Blueprint("report", __name__)
bp.before_request(pages._choose_language)  # the pages' language and security headers
bp.after_request(pages._security_headers)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_REFUSALS = ("Invalid", "Unauthenticated", "Forbidden", "NotFound")
RUN_NOTE = (
    "`?run=<number>` names a run (see `GET /api/v1/runs`); without it, the latest real run "
    "(the one under way if it is real). `?lang=vi|en` chooses the language of the CSV and "
    "xlsx headers (default: the `runsheet_lang` cookie, else Vietnamese)."
)
SUMMARY_LENGTH = 240  # an audit entry's summary on the page
POINT_ID = Field(str, description="The id of a connection point (`points[].id` of the state).")


# -- API ----------------------------------------------------------------------------------------


@bp.get("/api/v1/report")
@operation(
    "state",
    "The report of the run.",
    answers="Report",
    callers="token",
    refusals=READ_REFUSALS,
    note=RUN_NOTE,
)
def get_report():  # noqa: ANN201
    """Read the report of a run (organizer, MC).

    Planned against actual for every item and the ceremony, every point's log (check-ins,
    troubles, online spans, link health, roll-call answers, messages read) and the run's
    audit log. Live while the run is under way (`run.final` false), final after it.
    """
    _ceremony_runner()
    current = services().ceremony.current()
    return jsonify(_report(current))


@bp.get("/api/v1/report.csv")
@operation(
    "state",
    "The report as CSV (UTF-8 with a byte-order mark), one section per part.",
    media_type="text/csv",
    callers="token",
    refusals=READ_REFUSALS,
    note=RUN_NOTE,
)
def get_report_csv():  # noqa: ANN201
    """Download the report of a run as CSV (organizer, MC)."""
    _ceremony_runner()
    report = _report(services().ceremony.current())
    body = off_the_loop(report_csv, report, _translator(_export_language()))
    return _download(body.encode("utf-8"), "text/csv; charset=utf-8", report, "csv")


@bp.get("/api/v1/report.xlsx")
@operation(
    "state",
    "The report as an xlsx workbook, one sheet per part.",
    media_type=XLSX,
    callers="token",
    refusals=READ_REFUSALS,
    note=RUN_NOTE,
)
def get_report_xlsx():  # noqa: ANN201
    """Download the report of a run as an xlsx workbook (organizer, MC)."""
    _ceremony_runner()
    report = _report(services().ceremony.current())
    body = off_the_loop(report_xlsx, report, _translator(_export_language()))
    return _download(body, XLSX, report, "xlsx")


@bp.get("/api/v1/points/<point_id>/report")
@operation(
    "state",
    "The point's part of the report.",
    answers="Report",
    callers="token",
    refusals=READ_REFUSALS,
    parameters={"point_id": POINT_ID},
    note=RUN_NOTE,
)
def get_point_report(point_id: str):  # noqa: ANN201
    """Read one point's part of the report (that point, the organizer or the MC).

    The ceremony and the programme, with that point's own log and the audit entries about
    it; another point's token is refused (403).
    """
    actor = api_actor()
    current = services().ceremony.current()
    if current.plan.point(point_id) is None:
        raise NotFound(f"no connection point with id {point_id[:64]!r}", field="point_id")
    if not _may_read_point(actor, point_id):
        raise Forbidden("a point may read only its own report")
    return jsonify(_report(current, point_id))


def _ceremony_runner() -> Actor:
    actor = api_actor()
    if not actor.runs_ceremony:
        raise Forbidden("the report is for the organizer and the MC")
    return actor


def _may_read_point(actor: Actor, point_id: str) -> bool:
    return actor.runs_ceremony or (actor.role == "point" and actor.point_id == point_id)


def _requested_run() -> int | None:
    if "run" not in request.args:
        return None
    number = request.args.get("run", type=int)
    if number is None or number < 1:
        raise InvalidInput("run: must be a run number (1, 2, 3…)", field="run")
    return number


def _chosen(current: Current) -> RunRecord:
    store = services().store
    return choose_run(
        current.state,
        store.archived_runs(current.event_id),
        lambda number: store.archived_record(current.event_id, number),
        _requested_run(),
    )


def _audit(current: Current, chosen: RunRecord) -> list[AuditEntry]:
    """Return every audit entry of the run (newest first: the report puts them in order)."""
    if chosen.run is None:  # no run yet: the record alone
        return []
    store = services().store
    entries: list[AuditEntry] = []
    before: int | None = None
    while len(entries) <= MAX_AUDIT_ENTRIES:
        page = store.audit_entries(
            current.event_id, run_number=chosen.run.number, before_id=before, limit=AUDIT_PAGE
        )
        entries.extend(page)
        if len(page) < AUDIT_PAGE:
            break
        before = min(entry.id for entry in page)
    return entries


def _report(current: Current, point_id: str | None = None) -> dict[str, Any]:
    chosen = _chosen(current)
    now = services().ceremony.clock()
    entries = _audit(current, chosen)
    return off_the_loop(build_report, current.plan, chosen, entries, now, point_id=point_id)


def off_the_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:  # noqa: ANN401
    """Run pure, CPU-bound work (a report, its workbook) so that it stalls no one else.

    Under eventlet (``runsheet serve``) every connection shares one OS thread: a second of
    building a workbook there would hold every screen's pushes for that second. The work
    goes to eventlet's pool of native threads instead, where the interpreter still switches
    back to the hub every few milliseconds. Elsewhere (threads, tests) it runs in place.
    """
    if eventlet_patched():
        from eventlet import tpool

        return tpool.execute(work, *args, **kwargs)
    return work(*args, **kwargs)


def eventlet_patched() -> bool:
    """Return whether eventlet has taken over the standard library's threads."""
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and patcher.is_monkey_patched("thread")


def _export_language() -> str:
    return (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get(pages.LANGUAGE_COOKIE))
        or DEFAULT_LANGUAGE
    )


def _translator(lang: str):  # noqa: ANN202
    return lambda key: translate(lang, key)


def _download(body: bytes, mimetype: str, report: dict[str, Any], extension: str) -> Response:
    run = report["run"]
    name = f"report-{report['event']['slug']}" + (f"-run-{run['number']}" if run else "")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# -- pages -------------------------------------------------------------------------------------


@bp.get("/report")
def report_page():  # noqa: ANN201
    """Show the report of a run, to print, to the organizer or the MC."""
    opened = _open_with_token(("organizer", "mc"), None)
    if isinstance(opened, Response):
        return opened
    current = services().ceremony.current()
    return _render_report(current, opened, None)


@bp.get("/points/<point_id>/report")
def point_report_page(point_id: str):  # noqa: ANN201
    """Show one point's report, to print and attach to its own report (that point, organizer)."""
    current = services().ceremony.current()
    if current.plan.point(point_id) is None:
        return pages._notice("not_found", 404)
    opened = _open_with_token(("point", "organizer"), point_id)
    if isinstance(opened, Response):
        return opened
    return _render_report(current, opened, point_id)


def _open_with_token(roles: tuple[str, ...], point_id: str | None) -> Actor | Response:
    """Return who opens a report page (by ``?token=`` or a role's cookie), or the refusal.

    A link with ``?token=`` keeps the token in its role's cookie and redirects to the clean
    address, as the other private pages do. Of the cookies, the first role's that holds a
    valid token for this page wins.
    """
    current = services().ceremony.current()
    if "token" in request.args:
        try:
            actor = pages._identify(current, request.args["token"])
        except Unauthenticated:
            return pages._notice("link_invalid", 401)
        if not _may_open(actor, roles, point_id):
            return pages._notice("link_other_page", 403)
        response = pages._clean_redirect()
        cookie = token_cookie_name(actor.role, actor.point_id)
        pages._set_cookie(response, cookie, request.args["token"], pages.TOKEN_MAX_AGE)
        return response
    if "lang" in request.args:
        return pages._clean_redirect()
    found_any = False
    for role in roles:
        token = request.cookies.get(token_cookie_name(role, point_id))
        if not token:
            continue
        found_any = True
        try:
            actor = pages._identify(current, token)
        except Unauthenticated:
            continue
        if _may_open(actor, roles, point_id):
            return actor
    return pages._notice("link_expired" if found_any else "link_needed", 401)


def _may_open(actor: Actor, roles: tuple[str, ...], point_id: str | None) -> bool:
    if actor.role == "point":
        return "point" in roles and actor.point_id == point_id
    if actor.role == "mc":
        return "mc" in roles
    return actor.role == "organizer"


def _render_report(current: Current, actor: Actor, point_id: str | None) -> Response:
    report = _report(current, point_id)
    helpers = pages._template_helpers()
    t = helpers["t"]
    chart = timeline_svg(
        report,
        ChartWords(
            title=t("report.chart.title"),
            planned=t("report.chart.planned"),
            actual=t("report.chart.actual"),
            over=t("report.chart.over"),
            skipped=t("report.status.skipped"),
        ),
    )
    store = services().store
    runs = [{"number": r.number, "kind": r.kind} for r in store.archived_runs(current.event_id)]
    if current.state.run is not None:
        runs.append({"number": current.state.run.number, "kind": current.state.run.kind})
    zone = current.plan.event.zone
    words = catalog(g.lang)
    html = render_template(
        "report.html",
        page="report",
        report=report,
        point_id=point_id,
        chart=Markup(chart),  # noqa: S704 - drawn by report_chart, every text escaped there
        runs=runs,
        actor=actor,
        when=lambda value: _local(value, zone, "%H:%M:%S"),
        day=lambda value: _local(value, zone, "%d/%m/%Y %H:%M"),
        duration=_duration,
        signed=_signed_duration,
        page_data=None,
        word=lambda key, fallback: words[key] if key in words else fallback,
        summary_text=_summary_text,
        **helpers,
    )
    return pages._remember_language(Response(html, mimetype="text/html"))


def _summary_text(summary: dict[str, Any]) -> str:
    """Return an audit entry's summary as one line: "key: value · key: value"."""
    parts = []
    for key, value in summary.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown}")
    text = " · ".join(parts)
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _local(value: str | None, zone, pattern: str) -> str:  # noqa: ANN001
    if not value:
        return "–"
    return datetime.fromisoformat(value).astimezone(zone).strftime(pattern)


def _duration(seconds: float | None) -> str:
    """Return e.g. "4:05" (minutes:seconds) or "1:02:03"; "–" for none."""
    if seconds is None:
        return "–"
    whole = round(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"-{text}" if seconds < 0 and whole else text


def _signed_duration(seconds: float | None) -> str:
    """Return e.g. "+1:30" (over) or "−0:45" (under); "±0:00" on time."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole == 0:
        return "±0:00"
    return ("+" if whole > 0 else "−") + _duration(abs(whole))
