"""The plan as files for spreadsheets: the xlsx workbook and the programme as CSV.

``GET /api/v1/plan.xlsx`` (organizer) gives the plan as a workbook, one sheet per section,
in ``?lang=vi|en`` (else the language cookie, else Vietnamese); ``?template=1`` a blank one
for a new event. A workbook comes back through ``PUT /api/v1/plan`` with its media type
(``put_workbook``). ``GET/PUT /api/v1/plan/agenda.csv`` carry the programme alone, as CSV
in UTF-8 with a byte-order mark so that Excel reads Vietnamese right. Every upload goes
through the same checks and the same save as the JSON editor (``services.plan_editing``).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..i18n import DEFAULT_LANGUAGE, supported_language
from ..plans.workbook import WORKBOOK_TYPE, NotAWorkbook, agenda_csv, workbook_bytes
from ..services.plan_editing import agenda_csv_edit, require_organizer, workbook_edit
from ..services.tokens import Actor
from .auth import api_actor, services
from .errors import error_response
from .operations import operation
from .plan_api import EDIT_REFUSALS, expected_revision, problems_language, save_edit

bp = Blueprint("plan_files", __name__, url_prefix="/api/v1")

CSV_TYPE = "text/csv"
FILE_REFUSALS = ("Unauthenticated", "Forbidden", "NotFound")


@bp.before_request
def _allow_a_whole_plan() -> None:
    from .plan_api import MAX_PLAN_BODY_BYTES

    request.max_content_length = MAX_PLAN_BODY_BYTES


def file_language() -> str:
    """Return the language of a downloaded file: ``?lang``, else the page's, else Vietnamese."""
    from .pages import LANGUAGE_COOKIE  # pages import the API modules

    return (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or DEFAULT_LANGUAGE
    )


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/plan.xlsx")
@operation(
    "plan",
    "The plan as an xlsx workbook.",
    media_type=WORKBOOK_TYPE,
    callers="token",
    refusals=FILE_REFUSALS,
)
def get_plan_workbook():  # noqa: ANN201
    """Download the plan as a workbook (organizer).

    One sheet per section (Sự kiện, Điểm cầu, Chương trình, Hoạt động, Hạn nộp, Khẩu hiệu;
    Event, Points, Programme, Activities, Deadlines, Slogans with `?lang=en`), headers in
    the same language. `?template=1`: a blank workbook to fill in for a new event. Edit it
    and send it back with `PUT /api/v1/plan`.
    """
    require_organizer(api_actor())
    language = file_language()
    if request.args.get("template") in ("1", "true", "yes"):
        return _download(workbook_bytes(None, language), WORKBOOK_TYPE, "runsheet-template.xlsx")
    plan = services().ceremony.current().plan
    return _download(workbook_bytes(plan, language), WORKBOOK_TYPE, f"{plan.event.slug}.xlsx")


def put_workbook(actor: Actor) -> Response:
    """Save the workbook the request carries as the plan (``PUT /api/v1/plan`` with xlsx)."""
    revision = expected_revision()
    content = request.get_data(cache=False)
    try:
        return save_edit(actor, lambda: workbook_edit(content), revision, problems_language())
    except NotAWorkbook as error:
        return error_response(415, f"the body {error}", kind="unsupported_media_type")


@bp.get("/plan/agenda.csv")
@operation(
    "plan",
    "The programme as CSV (UTF-8 with a byte-order mark).",
    media_type=CSV_TYPE,
    callers="token",
    refusals=FILE_REFUSALS,
)
def get_agenda_csv():  # noqa: ANN201
    """Download the programme as CSV (organizer).

    The columns of the workbook's programme sheet, headed in `?lang=vi|en`.
    """
    require_organizer(api_actor())
    plan = services().ceremony.current().plan
    text = agenda_csv(plan, file_language())
    return _download(text.encode("utf-8"), f"{CSV_TYPE}; charset=utf-8", f"{plan.event.slug}.csv")


@bp.put("/plan/agenda.csv")
@operation(
    "plan",
    "The new state, with the plan's new revision.",
    answers="PlanSaved",
    callers="token",
    body_media_types=(CSV_TYPE,),
    refusals=EDIT_REFUSALS,
)
def put_agenda_csv():  # noqa: ANN201
    """Replace the programme from CSV (organizer).

    The body is CSV as `GET /api/v1/plan/agenda.csv` gives it (headers in either language;
    commas, semicolons or tabs between cells), with `?expected_revision=n`; the rest of the
    plan stays. The same checks and answers as `PUT /api/v1/plan`, problems naming the
    row and column.
    """
    actor = api_actor()
    require_organizer(actor)
    revision = expected_revision()
    try:
        text = request.get_data(cache=False).decode("utf-8-sig")
    except UnicodeDecodeError:
        return error_response(
            415, "the body is not UTF-8 text; save the CSV as UTF-8", kind="unsupported_media_type"
        )
    plan = services().ceremony.current().plan
    return save_edit(actor, lambda: agenda_csv_edit(plan, text), revision, problems_language())
