"""The OpenAPI 3.1 document of the HTTP API, served at ``GET /api/v1/openapi.json``.

Nothing here repeats a shape the code declares elsewhere; the document is put together
from those declarations:

- the routes from the app's URL map, each with what its view records through
  ``transports.operations`` (summary and description from the view's docstring);
- an action's request body, path values and callers from the action (``services.actions``:
  its payload fields, with their meaning and rules, and its roles);
- the state, history and health answers from ``services.shapes`` (through pydantic);
- the plan's keys and values from the plan file format (``plans.schema``).

The one shape written here is the error body (``{error, kind, field?}``, built by
``transports.errors`` and declared nowhere else), its kinds taken from that module.

The answers' schemas admit no unknown keys, so the schemathesis run in
``tests/test_openapi.py`` fails as soon as a response and this document disagree.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify

from ..domain.errors import RunsheetError
from ..domain.plan import Plan
from ..plans.schema import (
    ACTIVITY_FIELDS,
    AGENDA_FIELDS,
    DEADLINE_FIELDS,
    EVENT_FIELDS,
    POINT_FIELDS,
    TEXT,
    TOP_LEVEL_KEYS,
    text_list,
)
from ..plans.schema import Field as PlanField
from ..services.actions import ACTIONS, Action
from ..services.payloads import Field
from ..services.shapes import RESPONSE_SHAPES, json_schemas
from .auth import services
from .errors import STATUS
from .operations import Operation, operation, operation_of, summary_and_description
from .throttle import UNTHROTTLED

Schema = dict[str, Any]

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

# A Flask route's variable part: <name> or <converter:name> (or <converter(args):name>).
ROUTE_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
INTEGER_CONVERTERS = {"int"}
UNDOCUMENTED_METHODS = {"HEAD", "OPTIONS"}  # Flask answers them for every route itself

# Kinds the app's error handlers add to those of the domain's errors (see transports.errors).
ERROR_KINDS = sorted({*STATUS, "method_not_allowed", "internal", "error"})

# The answers other than success a route may give (an Operation names them in refusals):
# the status, what it means, and the schema of its JSON body (None: no body).
REFUSALS: dict[str, tuple[int, str, str | None]] = {
    "NotModified": (304, "Not changed since the version the client holds.", None),
    "Invalid": (400, "The payload is malformed or breaks a rule (kind `invalid`).", "Error"),
    "Unauthenticated": (401, "No token, or one nobody holds (`unauthenticated`).", "Error"),
    "Forbidden": (403, "The token's role may not do this (`forbidden`).", "Error"),
    "NotFound": (404, "No such item, point, message or event (`not_found`).", "Error"),
    "Conflict": (
        409,
        "The action does not fit the ceremony's state now (`conflict`, e.g. no next item), "
        "or was made from an older state (`stale`, with the current `state`), or moves the "
        "run-sheet a moment after another move without `confirm` (`just_moved`, with `state` "
        "and `moved_by`).",
        "Conflict",
    ),
    "TooLarge": (413, "The request body is too large (`too_large`).", "Error"),
    "StalePlan": (
        409,
        "The plan was saved by someone else since `expected_revision` (`stale_plan`, with the "
        "current `revision`: reload and edit again), or kept changing (`conflict`).",
        "StalePlan",
    ),
    "InvalidPlan": (
        422,
        "The plan cannot be used (`invalid_plan`): `problems` lists every mistake, each with "
        "its `path` (and, from a spreadsheet, its `sheet`, `row` and `column`).",
        "InvalidPlan",
    ),
    "InvalidEvent": (
        422,
        "The event's slug, title or source cannot be used (`invalid_event`, with `field`).",
        "Error",
    ),
    "UnsupportedMediaType": (
        415,
        "The body, or a document, is not of a type this route accepts, or not the type its "
        "name or declared type says (`unsupported_media_type`).",
        "Error",
    ),
    "MissingDocument": (
        422,
        "The submission has no document, or an empty one (`missing_document`).",
        "Error",
    ),
    "RateLimited": (
        429,
        "Too many requests from this address or token (`rate_limited`); `Retry-After` says "
        "how many seconds to wait.",
        "Error",
    ),
    "Unavailable": (503, "The service cannot serve.", "Unavailable"),
}

SECURITY = {"anyone": [], "token": [{"token": []}], "anyone_or_token": [{}, {"token": []}]}


@bp.get("/openapi.json")
@operation("service", "This OpenAPI document.", operation_id="get_openapi_document")
def openapi_document():  # noqa: ANN201
    """Read this document."""
    try:
        plan = services().ceremony.current().plan
    except RunsheetError:  # no event loaded: the document holds without examples
        plan = None
    return jsonify(build_document(current_app, plan))


def build_document(app: Flask, plan: Plan | None = None) -> Schema:
    """Return the OpenAPI document of ``app``'s routes; ``plan`` supplies example ids."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "runsheet",
            "version": "1",
            "description": (
                "The JSON API of a live ceremony run-sheet. Every action here is also a "
                "Socket.IO event with the same name and payload. Actions need "
                "`Authorization: Bearer <token>` with the MC's or a point's token (see "
                "`runsheet links`). Every error is `{error, kind, field?}`; a 409 of kind "
                "`stale` also carries the current `state`."
            ),
        },
        "tags": [
            {"name": "state", "description": "Reading the ceremony"},
            {"name": "actions", "description": "Changing it"},
            {"name": "plan", "description": "Editing the plan, in JSON or as a spreadsheet"},
            {"name": "calendar", "description": "Calendar files to download or subscribe to"},
            {"name": "events", "description": "The installation's events (the organizer)"},
            {"name": "deadlines", "description": "Documents the points deliver by deadlines"},
            {"name": "service", "description": "The service itself"},
        ],
        "paths": _paths(app, plan),
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The MC's or a point's token, from `runsheet links`.",
                }
            },
            "schemas": {
                **_response_schemas(),
                **_plan_schemas(),
                **_error_schemas(),
            },
            "responses": _refusal_responses(),
        },
    }


def openapi_path(rule: str) -> str:
    """Return a Flask route as an OpenAPI path: ``/goto/<item_id>`` as ``/goto/{item_id}``."""
    return ROUTE_VARIABLE.sub(r"{\2}", rule)


# -- operations ------------------------------------------------------------------------------


def _paths(app: Flask, plan: Plan | None) -> dict[str, Schema]:
    """Return an operation for each method of each route whose view records one."""
    paths: dict[str, Schema] = {}
    documented_views: set[str] = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        record = operation_of(view)
        if record is None:
            continue
        for method in sorted((rule.methods or set()) - UNDOCUMENTED_METHODS):
            if rule.endpoint in documented_views:
                # Each operation needs its own id (and summary): one view, one route.
                raise ValueError(
                    f"{rule.endpoint} serves several routes or methods; give each a view"
                )
            documented_views.add(rule.endpoint)
            variables = ROUTE_VARIABLE.findall(rule.rule)
            operation_schema = _operation(view, record, variables, plan)
            if not rule.rule.startswith(UNTHROTTLED):  # the HTTP throttle may refuse it
                operation_schema["responses"]["429"] = _ref_response("RateLimited")
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = operation_schema
    return paths


def _operation(
    view: Callable[..., Any],
    record: Operation,
    variables: list[tuple[str, str]],
    plan: Plan | None,
) -> Schema:
    summary, description = summary_and_description(view)
    action = ACTIONS[record.action] if record.action else None
    if action is not None:
        description = _join(_action_description(action), description)
    operation_schema: Schema = {
        "operationId": record.operation_id or view.__name__,
        "tags": [record.tag],
        "summary": summary,
    }
    description = _join(description, record.note)
    if description:
        operation_schema["description"] = description
    operation_schema["security"] = SECURITY[record.callers]
    if variables:
        fields = action.fields if action is not None else record.parameters
        operation_schema["parameters"] = [
            _path_parameter(name, converter, fields.get(name), plan)
            for converter, name in variables
        ]
    if record.query:
        operation_schema.setdefault("parameters", []).extend(
            _query_parameter(name, field) for name, field in record.query.items()
        )
    if action is not None:
        in_path = {name for _, name in variables}
        operation_schema["requestBody"] = _request_body(action, in_path)
    elif record.request_body is not None:
        content = {media: {"schema": dict(schema)} for media, schema in record.request_body.items()}
    elif record.body is not None or record.body_media_types:
        content: Schema = {}
        if isinstance(record.body, str):
            content["application/json"] = {"schema": _ref(record.body)}
        elif record.body is not None:
            content["application/json"] = {"schema": copy.deepcopy(dict(record.body))}
        for media_type in record.body_media_types:
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
        operation_schema["requestBody"] = {"required": True, "content": content}
    operation_schema["responses"] = {
        str(record.status): _success(record),
        **{str(REFUSALS[name][0]): _ref_response(name) for name in record.refusals},
    }
    return operation_schema


def _success(record: Operation) -> Schema:
    if record.media_type != "application/json":
        schema: Schema = {"type": "string"}
    elif record.answers:
        schema = _ref(record.answers)
    else:
        schema = {"type": "object"}
    return {"description": record.ok, "content": {record.media_type: {"schema": schema}}}


def _action_description(action: Action) -> str:
    return (
        f"The `{action.name}` action (the Socket.IO event of the same name takes the same "
        f"payload). Who may call it: {_callers(action)}. The body may be left out when it "
        "has no required field."
    )


def _callers(action: Action) -> str:
    who = {"mc": "the MC (or the organizer)", "point": "a point"}
    names = [who[role] for role in sorted(action.roles)]
    callers = " or ".join(names)
    if "point" in action.roles and action.own_point_only and "point_id" in action.fields:
        callers += " (a point only for itself)"
    return callers


def _request_body(action: Action, in_path: set[str]) -> Schema:
    in_body = {name: field for name, field in action.fields.items() if name not in in_path}
    body = _object(
        {name: field_schema(field) for name, field in in_body.items()},
        optional=tuple(name for name, field in in_body.items() if not field.required),
    )
    return {
        "required": any(field.required for field in in_body.values()),
        "content": {"application/json": {"schema": body}},
    }


def _path_parameter(name: str, converter: str, field: Field | None, plan: Plan | None) -> Schema:
    """Return a path value's parameter: as its payload field says, else as its route reads it."""
    if field is not None:
        schema = field_schema(field)
    elif converter in INTEGER_CONVERTERS:
        schema = {"type": "integer"}
    else:
        schema = {"type": "string"}
    if schema["type"] == "string":
        schema["minLength"] = 1  # an empty path segment names no route
    examples = _examples(name, plan)
    if examples:
        schema["examples"] = examples
    parameter: Schema = {"name": name, "in": "path", "required": True, "schema": schema}
    if "description" in schema:
        parameter["description"] = schema.pop("description")
    return parameter


def _query_parameter(name: str, field: Field) -> Schema:
    """Return a query value's parameter, as its field says (all are optional)."""
    schema = field_schema(field)
    parameter: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if "description" in schema:
        parameter["description"] = schema.pop("description")
    return parameter


def _examples(name: str, plan: Plan | None) -> list[str]:
    if plan is None:
        return []
    if name == "item_id":
        return [item.id for item in plan.agenda]
    if name == "point_id":
        return [point.id for point in plan.points]
    return []


def field_schema(field: Field) -> Schema:
    """Return the JSON Schema of one payload field, as ``services.payloads`` declares it."""
    if field.kind is bool:
        schema: Schema = {"type": "boolean"}
    elif field.kind is int:
        schema = {"type": "integer"}
        if field.minimum is not None:
            schema["minimum"] = field.minimum
        if field.maximum is not None:
            schema["maximum"] = field.maximum
    elif field.kind is str:
        schema = {"type": "string", "maxLength": field.max_length}
        if field.choices:
            schema["enum"] = list(field.choices)
        if field.pattern:
            schema["pattern"] = field.pattern
    else:
        raise TypeError(f"no JSON Schema for payload fields of kind {field.kind!r}")
    if field.nullable:
        schema["type"] = [schema["type"], "null"]
    if field.description:
        schema["description"] = field.description
    return schema


# -- schemas ---------------------------------------------------------------------------------


def _response_schemas() -> dict[str, Schema]:
    """Return the schemas of the answers ``services.shapes`` declares (a copy of each)."""
    return copy.deepcopy(_generated_response_schemas())


@functools.cache
def _generated_response_schemas() -> dict[str, Schema]:
    # The shapes are fixed once imported, and pydantic takes about 80 ms to generate them.
    return json_schemas(RESPONSE_SHAPES, ref_template="#/components/schemas/{model}")


def _plan_schemas() -> dict[str, Schema]:
    """Return the schemas of the plan JSON: the plan file format's sections."""
    record = {
        "PlanEvent": EVENT_FIELDS,
        "PlanPoint": POINT_FIELDS,
        "PlanItem": AGENDA_FIELDS,
        "PlanActivity": ACTIVITY_FIELDS,
        "PlanDeadline": DEADLINE_FIELDS,
    }
    schemas = {name: _plan_record(fields) for name, fields in record.items()}
    sections = {
        "event": _ref("PlanEvent"),
        "points": {"type": "array", "items": _ref("PlanPoint")},
        "agenda": {"type": "array", "items": _ref("PlanItem")},
        "activities": {"type": "array", "items": _ref("PlanActivity")},
        "deadlines": {"type": "array", "items": _ref("PlanDeadline")},
        "slogans": text_list.json_schema,  # type: ignore[attr-defined]
    }
    # A section added to the file format fails here until it is given its schema above.
    schemas["Plan"] = _object({key: sections[key] for key in TOP_LEVEL_KEYS})
    revision = {"type": "integer", "minimum": 1}
    schemas["RevisedPlan"] = _object(
        {**schemas["Plan"]["properties"], "revision": revision},
    )
    schemas["EditedPlan"] = _object(
        {**schemas["Plan"]["properties"], "expected_revision": revision},
        optional=tuple(TOP_LEVEL_KEYS) + ("expected_revision",),
    )
    return schemas


def _plan_record(fields: tuple[PlanField, ...]) -> Schema:
    # Optional keys are left out of the plan JSON when they hold their default (and
    # people's e-mail addresses for everyone but the organizer).
    return _object(
        {field.key: field.json_schema for field in fields},
        optional=tuple(field.key for field in fields if not field.required),
    )


def _error_schemas() -> dict[str, Schema]:
    error = _object(
        {
            "error": {"type": "string", "description": "What went wrong, in a sentence."},
            "kind": {"enum": ERROR_KINDS},
            "field": {"type": "string", "description": "The payload field at fault."},
        },
        optional=("field",),
    )
    conflict = _object(
        {
            **error["properties"],
            "kind": {"enum": ["conflict", "stale", "just_moved"]},
            "state": _ref("State"),
            "moved_by": {
                **_object(
                    {
                        "role": TEXT,
                        "console": {"anyOf": [TEXT, {"type": "null"}]},
                        "at": {"type": "string", "format": "date-time"},
                    }
                ),
                "description": "Who made the move a moment ago (kind `just_moved`).",
            },
        },
        optional=("field", "state", "moved_by"),
    )
    # A stale action, and a move right after another, are answered with the state now.
    conflict["if"] = {"properties": {"kind": {"enum": ["stale", "just_moved"]}}}
    conflict["then"] = {"required": ["state"]}
    return {
        "Error": error,
        "Conflict": conflict,
        "Unavailable": _object(
            {"error": TEXT, "kind": {"const": "unavailable"}, "status": {"const": "unavailable"}}
        ),
        "StalePlan": _object(
            {
                "error": TEXT,
                "kind": {"enum": ["stale_plan", "conflict"]},
                "field": TEXT,
                "revision": {"type": "integer", "minimum": 1},
            },
            optional=("field", "revision"),
        ),
        "InvalidPlan": _object(
            {
                "error": TEXT,
                "kind": {"const": "invalid_plan"},
                "problems": {"type": "array", "items": _ref("PlanProblem")},
            }
        ),
    }


def _refusal_responses() -> dict[str, Schema]:
    responses: dict[str, Schema] = {}
    for name, (_, description, schema) in REFUSALS.items():
        responses[name] = {"description": description}
        if schema is not None:
            responses[name]["content"] = {"application/json": {"schema": _ref(schema)}}
    return responses


# -- helpers ---------------------------------------------------------------------------------


def _object(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    """Return an object schema with exactly these keys, all required but ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _ref_response(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


def _join(*paragraphs: str) -> str:
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)
