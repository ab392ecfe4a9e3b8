"""The plan editor's HTTP API: read the plan with its revision, check an edit, save it.

``GET /api/v1/plan`` is the plan in the file's shape plus its ``revision``;
``PUT /api/v1/plan`` (organizer) saves an edit made from ``expected_revision`` (a top-level
key of the body, or ``?expected_revision=n``); ``POST /api/v1/plan/check`` (organizer) runs
the same checks without saving, for the editor's checks as the organizer types. Problems
come as ``{"path", "message", "code"?}`` in ``?lang=vi|en`` (else the language cookie, else
English). The spreadsheet routes (``transports.plan_files``) share the answers built here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..domain.errors import InvalidInput
from ..domain.plan import Plan
from ..i18n import supported_language, translate
from ..plans import Problem
from ..plans.messages import problem_message
from ..plans.workbook import WORKBOOK_TYPE
from ..services.plan_editing import (
    InvalidPlan,
    SavedPlan,
    StalePlan,
    check_plan,
    parse_edit,
    plan_as_seen_by,
    require_organizer,
    save_plan,
)
from ..services.snapshot import state_body
from ..services.tokens import PUBLIC, Actor
from .api import json_payload
from .auth import PAGE_HEADER, api_actor, services
from .errors import error_response
from .operations import operation

bp = Blueprint("plan_api", __name__, url_prefix="/api/v1")

# A whole plan rides in one body: room for a national conference's (20,000 points fill
# about 4 MB as JSON), where every other request body stays within MAX_CONTENT_LENGTH.
MAX_PLAN_BODY_BYTES = 8 * 1024 * 1024
EDIT_REFUSALS = (
    "Invalid",
    "Unauthenticated",
    "Forbidden",
    "NotFound",
    "StalePlan",
    "TooLarge",
    "UnsupportedMediaType",
    "InvalidPlan",
)


@bp.before_request
def _allow_a_whole_plan() -> None:
    request.max_content_length = MAX_PLAN_BODY_BYTES


def problems_language() -> str:
    """Return the language problems are told in: ``?lang``, else the page's cookie, else en."""
    from .pages import LANGUAGE_COOKIE  # pages import the API modules

    return (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or "en"
    )


def problem_json(problem: Problem, language: str) -> dict[str, Any]:
    """Return one problem as the API tells it: path, message, and where in a spreadsheet.

    A spreadsheet's problem also names its sheet, row and column, and its message starts
    with them: "Chương trình, dòng 5, cột Số phút: ...".
    """
    message = problem_message(problem, language)
    body: dict[str, Any] = {"path": problem.path, "message": message}
    if problem.code:
        body["code"] = problem.code
    if problem.sheet:
        body["sheet"] = problem.sheet
        where = "plan.cell.sheet"
        if problem.row is not None:
            body["row"] = problem.row
            where = "plan.cell.row"
            if problem.column:
                body["column"] = problem.column
                where = "plan.cell.column"
        cell = {"sheet": problem.sheet, "row": problem.row, "column": problem.column}
        body["message"] = translate(language, where, **cell, message=message)
    return body


def invalid_plan_response(error: InvalidPlan, language: str) -> Response:
    """Answer 422 with every problem, each told in ``language``."""
    problems = [problem_json(problem, language) for problem in error.problems]
    return error_response(422, error.message, kind=error.kind, problems=problems)


def stale_plan_response(error: StalePlan) -> Response:
    """Answer 409 with the plan's current revision, for the editor's reload offer."""
    return error_response(
        409, error.message, kind=error.kind, field=error.field, revision=error.revision
    )


def expected_revision(body: dict[str, Any] | None = None) -> int:
    """Return the revision an edit was made from: the body's key or ``?expected_revision``."""
    in_url = request.args.get("expected_revision")
    in_body = (body or {}).get("expected_revision")
    values = [_revision(in_url)] if in_url is not None else []
    if in_body is not None:
        values.append(_revision(in_body))
    if not values:
        raise InvalidInput(
            "expected_revision: is required: the plan revision the edit was made from "
            "(GET /api/v1/plan says it)",
            field="expected_revision",
        )
    if len(set(values)) > 1:
        raise InvalidInput(
            "expected_revision: the body and the URL name different revisions",
            field="expected_revision",
        )
    return values[0]


def _revision(value: Any) -> int:  # noqa: ANN401
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(
            "expected_revision: must be a whole number from 1", field="expected_revision"
        )
    return value


def saved_body(actor: Actor, saved: SavedPlan) -> dict[str, Any]:
    """Return the answer to a save: the new state as the organizer sees it, and the revision."""
    ceremony = services().ceremony
    return {**state_body(actor, saved.current, ceremony.clock()), "revision": saved.revision}


def save_edit(actor: Actor, read: Callable[[], Plan], revision: int, language: str):  # noqa: ANN201
    """Save the plan ``read`` returns, made from ``revision``; answer as ``PUT`` does."""
    svc = services()
    try:
        plan = read()
        saved = save_plan(svc.ceremony, actor.via("editor"), plan, revision, svc.secret_key)
    except InvalidPlan as error:
        return invalid_plan_response(error, language)
    except StalePlan as error:
        return stale_plan_response(error)
    return jsonify(saved_body(actor, saved))


@bp.get("/plan")
@operation(
    "plan",
    "The active plan and its revision.",
    answers="RevisedPlan",
    callers="anyone_or_token",
    refusals=("Unauthenticated", "NotFound"),
)
def get_plan():  # noqa: ANN201
    """Read the active plan.

    The plan as in a plan file, with `revision`: the number an edit is made from (it rises
    by one at every save). The organizer sees all of it; everyone else sees it without
    people's e-mail addresses and without the conference's passcodes.
    """
    asks_as_holder = request.headers.get("Authorization") or request.headers.get(PAGE_HEADER)
    actor = api_actor(required=False) if asks_as_holder else PUBLIC
    svc = services()
    current = svc.ceremony.current()
    body = plan_as_seen_by(current.plan, actor)
    body["revision"] = svc.store.plan_revision(current.event_id)
    return jsonify(body)


@bp.put("/plan")
@operation(
    "plan",
    "The new state, with the plan's new revision.",
    answers="PlanSaved",
    callers="token",
    body="EditedPlan",
    body_media_types=(WORKBOOK_TYPE,),
    refusals=EDIT_REFUSALS,
)
def put_plan():  # noqa: ANN201
    """Save the plan (organizer).

    The body is the whole plan in the file's shape (JSON) with `expected_revision`, the
    revision the edit was made from (or `?expected_revision=n`); or a workbook as
    `GET /api/v1/plan.xlsx` gives it, with `?expected_revision=n`. Saving makes one new
    revision and every screen gets the new state at once. 409 (`stale_plan`, with the
    current `revision`) when someone saved in between; 422 (`invalid_plan`) with every
    problem, in `?lang=vi|en`. While the ceremony runs, the items already done, their
    order and minutes, and the live item stay; what is still to come may change.
    """
    actor = api_actor()
    require_organizer(actor)
    if request.mimetype == WORKBOOK_TYPE:
        from .plan_files import put_workbook  # the spreadsheet routes import this module

        return put_workbook(actor)
    if request.mimetype not in ("application/json", ""):
        message = (
            "a plan is sent as application/json or as an xlsx workbook "
            f"({WORKBOOK_TYPE}), not {request.mimetype}"
        )
        return error_response(415, message, kind="unsupported_media_type")
    data = json_payload()
    revision = expected_revision(data)
    data.pop("expected_revision", None)
    return save_edit(actor, lambda: parse_edit(data), revision, problems_language())


@bp.post("/plan/check")
@operation(
    "plan",
    "The plan would be accepted.",
    answers="PlanCheck",
    callers="token",
    body="EditedPlan",
    refusals=("Invalid", "Unauthenticated", "Forbidden", "NotFound", "TooLarge", "InvalidPlan"),
)
def check_plan_edit():  # noqa: ANN201
    """Check a plan without saving it (organizer).

    The same checks as `PUT /api/v1/plan`, the running ceremony's rules included, for the
    editor's checks as the organizer types: 200 `{"ok": true, "problems": []}` or 422 with
    every problem, in `?lang=vi|en`. `expected_revision` may be left out.
    """
    actor = api_actor()
    require_organizer(actor)
    data = json_payload()
    data.pop("expected_revision", None)
    try:
        plan = parse_edit(data)
        check_plan(services().ceremony.current(), plan)
    except InvalidPlan as error:
        return invalid_plan_response(error, problems_language())
    return jsonify({"ok": True, "problems": []})
