"""The OpenAPI 3.1 document of the HTTP API, served at ``GET /api/v1/openapi.json``.

It covers the JSON API (``/api/v1``, ``/healthz``) and the calendar files (``/calendar``).
What tends to drift is taken from the code: each action's request body and path parameters
come from its payload fields (``services.actions``), who may call it from the action's
roles, the plan's keys from the plan file format (``plans.schema``), error kinds from
``transports.errors``. The routes are listed here by hand and ``tests/test_openapi.py``
checks them against the app's URL map. The response schemas mirror ``services.snapshot``
and admit no unknown keys, so the schemathesis run in that test fails as soon as a response
and this document disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify

from ..domain.ceremony import PHASES, TROUBLE_KINDS
from ..domain.errors import RunsheetError
from ..domain.plan import POINT_KINDS, Plan
from ..plans.schema import (
    ACTIVITY_FIELDS,
    AGENDA_FIELDS,
    DEADLINE_FIELDS,
    EVENT_FIELDS,
    EVENT_FORMS,
    POINT_FIELDS,
)
from ..plans.schema import Field as PlanField
from ..services.actions import ACTIONS, Action
from ..services.payloads import Field
from .auth import services
from .errors import STATUS

Schema = dict[str, Any]

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

PATH_PARAMETER = re.compile(r"{(\w+)}")

# Kinds the app's error handlers add to those of the domain's errors (see transports.errors).
ERROR_KINDS = sorted({*STATUS, "method_not_allowed", "internal", "error"})

# The API hides these plan keys (see api.get_plan): people's e-mail addresses stay private.
HIDDEN_PLAN_KEYS = {"organizer_email", "contact_email"}


@dataclass(frozen=True)
class ActionRoute:
    """One HTTP route that performs an action: ``POST /api/v1/advance`` runs ``advance``."""

    method: str
    path: str
    action: str
    operation_id: str
    summary: str


ACTION_ROUTES = (
    ActionRoute("post", "/api/v1/advance", "advance", "advance", "Make the next item live"),
    ActionRoute("post", "/api/v1/back", "back", "back", "Go back one item"),
    ActionRoute("post", "/api/v1/finish", "finish", "finish", "End the ceremony"),
    ActionRoute("post", "/api/v1/reset", "reset", "reset", 'Return to "not started"'),
    ActionRoute("post", "/api/v1/goto/{item_id}", "goto", "goto", "Make the named item live"),
    ActionRoute("post", "/api/v1/extend", "extend", "extend", "Add time to the live item"),
    ActionRoute("post", "/api/v1/hold", "hold", "hold", "Stop the live item's timer"),
    ActionRoute("post", "/api/v1/resume", "resume", "resume", "Restart the live item's timer"),
    ActionRoute("post", "/api/v1/stage", "stage", "stage", "Set what the stage displays show"),
    ActionRoute(
        "post",
        "/api/v1/points/{point_id}/ready",
        "ready",
        "ready",
        "Tell the MC the point is ready for its coming item",
    ),
    ActionRoute(
        "post",
        "/api/v1/points/{point_id}/link",
        "link",
        "report_link",
        "Report a measure of the point page's round trip",
    ),
    ActionRoute(
        "post",
        "/api/v1/points/{point_id}/checkin",
        "checkin",
        "checkin",
        "Confirm a point's connection",
    ),
    ActionRoute(
        "post",
        "/api/v1/points/{point_id}/trouble",
        "trouble",
        "report_trouble",
        "Report a problem at a point",
    ),
    ActionRoute(
        "delete",
        "/api/v1/points/{point_id}/trouble",
        "clear_trouble",
        "clear_trouble",
        "Clear a point's problem",
    ),
    ActionRoute(
        "post",
        "/api/v1/points/{point_id}/trouble/clear",
        "clear_trouble",
        "clear_trouble_by_post",
        "Clear a point's problem (for clients that cannot send DELETE)",
    ),
    ActionRoute(
        "post", "/api/v1/messages", "message", "send_message", "Send a message to the points"
    ),
    ActionRoute(
        "post",
        "/api/v1/messages/{message_id}/ack",
        "ack_message",
        "ack_message",
        "Mark a message as read by the calling point",
    ),
    ActionRoute(
        "post",
        "/api/v1/roll-call",
        "roll_call",
        "roll_call",
        "Start a roll call (MC) or answer the open one (point)",
    ),
)

CALENDAR_FEEDS = (
    ("/calendar/ceremony.ics", "get_ceremony_calendar", "The ceremony as one event"),
    (
        "/calendar/points/{point_id}.ics",
        "get_point_calendar",
        "The ceremony as seen from one connection point",
    ),
    ("/calendar/agenda.ics", "get_agenda_calendar", "One event per programme item"),
    ("/calendar/week.ics", "get_week_calendar", "The week's activities and deadlines"),
)

# What each payload field means, for people reading the document; an (action, field) key
# is for a field whose meaning depends on the action.
FIELD_NOTES: dict[str | tuple[str, str], str] = {
    "expected_version": (
        "The state version the caller was looking at. The action is refused (409, kind "
        "`stale`, with the current state) when the part of the state it acts on changed since."
    ),
    "item_id": "The id of a programme item (`agenda[].id` of the state).",
    "point_id": "The id of a connection point (`points[].id` of the state).",
    "by": "The person on duty at the point; must not be blank.",
    "present": "How many people are present at the point.",
    "note": "A free note.",
    ("trouble", "kind"): "What is wrong.",
    ("trouble", "text"): "What is wrong, in words; must not be blank when kind is `other`.",
    ("message", "text"): "The message; must not be blank.",
    "clear": "`true` clears the point's problem instead of reporting one.",
    "to": "The point the message is for; null or left out: every point.",
    "message_id": "The id of a message meant for the calling point.",
    "seconds": "How long the roll call stays open (MC).",
    "roll_call_id": "The roll call being answered (point); informative.",
}

# Rules the domain applies on top of a field's shape that JSON Schema can state.
FIELD_RULES = {
    ("trouble", "kind"): {"enum": list(TROUBLE_KINDS)},
    ("checkin", "by"): {"pattern": r"\S"},  # not blank
    ("message", "text"): {"pattern": r"\S"},
}

TEXT: Schema = {"type": "string"}
MOMENT: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "format": "date"}
COUNT: Schema = {"type": "integer", "minimum": 0}
ID: Schema = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}

# The JSON type of each key of a plan file section (plans.schema lists the keys).
PLAN_VALUES: dict[str, Schema] = {
    "slug": ID,
    "id": ID,
    "title": TEXT,
    "theme": TEXT,
    "reference": TEXT,
    "organizer": TEXT,
    "standing_body": TEXT,
    "form": {"enum": list(EVENT_FORMS)},
    "description": TEXT,
    "starts_at": MOMENT,
    "timezone": TEXT,
    "reminder_minutes": COUNT,
    "warn_minutes": COUNT,
    "calendar_domain": TEXT,
    "name": TEXT,
    "kind": {"enum": list(POINT_KINDS)},
    "address": TEXT,
    "attendees": {"type": "array", "items": TEXT},
    "contact_name": TEXT,
    "speaker": TEXT,
    "prepared_by": TEXT,
    "point": ID,
    "planned_minutes": {"type": "integer", "minimum": 1},
    "minutes_estimated": {"type": "boolean"},
    "notes": TEXT,
    "starts_on": DAY,
    "ends_on": DAY,
    "due_on": DAY,
    "responsible": TEXT,
}


@bp.get("/openapi.json")
def openapi_document():  # noqa: ANN201
    """Return this API's OpenAPI document, with examples from the active plan."""
    try:
        plan = services().ceremony.current().plan
    except RunsheetError:  # no event loaded: the document holds without examples
        plan = None
    return jsonify(build_document(plan))


def build_document(plan: Plan | None = None) -> Schema:
    """Return the OpenAPI document; ``plan`` supplies example item and point ids."""
    paths: dict[str, Schema] = {
        "/api/v1/state": {"get": _get_state()},
        "/api/v1/history": {"get": _get_history()},
        "/api/v1/plan": {"get": _get_plan()},
        "/api/v1/openapi.json": {"get": _get_document()},
        "/healthz": {"get": _get_health()},
    }
    for route in ACTION_ROUTES:
        paths.setdefault(route.path, {})[route.method] = _action_operation(route, plan)
    for path, operation_id, summary in CALENDAR_FEEDS:
        paths[path] = {"get": _calendar_feed(path, operation_id, summary, plan)}
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
            {"name": "calendar", "description": "Calendar files to download or subscribe to"},
            {"name": "service", "description": "The service itself"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The MC's or a point's token, from `runsheet links`.",
                }
            },
            "schemas": {**_state_schemas(), **_plan_schemas(), **_error_schemas()},
            "responses": _responses(),
        },
    }


# -- operations ------------------------------------------------------------------------------


def _get_state() -> Schema:
    return {
        "operationId": "get_state",
        "tags": ["state"],
        "summary": "Read the live state",
        "description": (
            "Without a token: the public state. With the MC's token: also every message and "
            "the roll call's answers; with a point's token: the messages meant for it."
        ),
        "security": [{}, {"token": []}],
        "responses": {
            "200": _json("The live state.", _ref("State")),
            "401": _ref_response("Unauthenticated"),
            "404": _ref_response("NotFound"),
        },
    }


def _get_history() -> Schema:
    return _public_read(
        "get_history",
        "Read when each item was live",
        "Every stretch an item was live, in the order they started (an item the MC went back "
        "to has several), and each item's planned and actual seconds in all; the live item's "
        "counts until now. The state itself carries only each item's latest start and end.",
        _json("The timeline.", _ref("History")),
    )


def _get_plan() -> Schema:
    return _public_read(
        "get_plan",
        "Read the active plan",
        "The plan as in a plan file, without people's e-mail addresses.",
        _json("The active plan.", _ref("Plan")),
    )


def _public_read(operation_id: str, summary: str, description: str, ok: Schema) -> Schema:
    """Return a GET of the active event open to anyone: ``ok``, or 404 with no event loaded."""
    return {
        "operationId": operation_id,
        "tags": ["state"],
        "summary": summary,
        "description": description,
        "security": [],
        "responses": {"200": ok, "404": _ref_response("NotFound")},
    }


def _get_document() -> Schema:
    return {
        "operationId": "get_openapi_document",
        "tags": ["service"],
        "summary": "Read this document",
        "security": [],
        "responses": {"200": _json("This OpenAPI document.", {"type": "object"})},
    }


def _get_health() -> Schema:
    return {
        "operationId": "get_health",
        "tags": ["service"],
        "summary": "Say whether the service can serve",
        "security": [],
        "responses": {
            "200": _json("The database answers and an event is loaded.", _ref("Health")),
            "503": _json("The service cannot serve.", _ref("Unavailable")),
        },
    }


def _calendar_feed(path: str, operation_id: str, summary: str, plan: Plan | None) -> Schema:
    operation: Schema = {
        "operationId": operation_id,
        "tags": ["calendar"],
        "summary": summary,
        "description": (
            "An iCalendar file. It carries an ETag and Last-Modified, so a subscribed calendar "
            "app that sends If-None-Match or If-Modified-Since gets 304 until it changed."
        ),
        "security": [],
        "responses": {
            "200": {
                "description": "The calendar file.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            },
            "304": {"description": "Not changed since the version the client holds."},
            "404": _ref_response("NotFound"),
        },
    }
    if "{point_id}" in path:
        schema: Schema = {"type": "string", "minLength": 1}
        examples = _examples("point_id", plan)
        if examples:
            schema["examples"] = examples
        operation["parameters"] = [
            {
                "name": "point_id",
                "in": "path",
                "required": True,
                "schema": schema,
                "description": FIELD_NOTES["point_id"],
            }
        ]
    return operation


def _action_operation(route: ActionRoute, plan: Plan | None) -> Schema:
    action = ACTIONS[route.action]
    in_path = PATH_PARAMETER.findall(route.path)
    in_body = {name: field for name, field in action.fields.items() if name not in in_path}
    body = _object(
        {name: _field_schema(action, name, field) for name, field in in_body.items()},
        optional=tuple(name for name, field in in_body.items() if not field.required),
    )
    operation: Schema = {
        "operationId": route.operation_id,
        "tags": ["actions"],
        "summary": route.summary,
        "description": (
            f"The `{action.name}` action (the Socket.IO event of the same name takes the same "
            f"payload). Who may call it: {_callers(action)}. The body may be left out when "
            "it has no required field."
        ),
        "security": [{"token": []}],
        "requestBody": {
            "required": any(field.required for field in in_body.values()),
            "content": {"application/json": {"schema": body}},
        },
        "responses": {
            "200": _json("The new state, as the caller may see it.", _ref("State")),
            "400": _ref_response("Invalid"),
            "401": _ref_response("Unauthenticated"),
            "403": _ref_response("Forbidden"),
            "404": _ref_response("NotFound"),
            "409": _ref_response("Conflict"),
            "413": _ref_response("TooLarge"),
        },
    }
    if in_path:
        operation["parameters"] = [
            _path_parameter(action, name, action.fields[name], plan) for name in in_path
        ]
    return operation


def _callers(action: Action) -> str:
    who = {"mc": "the MC", "point": "a point"}
    names = [who[role] for role in sorted(action.roles)]
    callers = " or ".join(names)
    if "point" in action.roles and action.own_point_only and "point_id" in action.fields:
        callers += " (a point only for itself)"
    return callers


def _path_parameter(action: Action, name: str, field: Field, plan: Plan | None) -> Schema:
    schema = _field_schema(action, name, field)
    if field.kind is str:
        schema["minLength"] = 1  # an empty path segment names no route
    examples = _examples(name, plan)
    if examples:
        schema["examples"] = examples
    parameter: Schema = {"name": name, "in": "path", "required": True, "schema": schema}
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


def _field_schema(action: Action, name: str, field: Field) -> Schema:
    """Return the JSON Schema of one payload field, as ``services.payloads`` checks it."""
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
    else:
        raise TypeError(f"no JSON Schema for payload fields of kind {field.kind!r}")
    if field.nullable:
        schema["type"] = [schema["type"], "null"]
    schema.update(FIELD_RULES.get((action.name, name), {}))
    note = _note(action, name)
    if note:
        schema["description"] = note
    return schema


def _note(action: Action, name: str) -> str | None:
    return FIELD_NOTES.get((action.name, name)) or FIELD_NOTES.get(name)


# -- schemas ---------------------------------------------------------------------------------


def _state_schemas() -> dict[str, Schema]:
    """Return the schemas of the state JSON (``services.snapshot``)."""
    return {
        "State": _object(
            {
                "version": COUNT,
                "server_time": MOMENT,
                "phase": {"enum": list(PHASES)},
                "event": _ref("StateEvent"),
                "agenda": {"type": "array", "items": _ref("AgendaEntry")},
                "current_item_id": _or_null(TEXT),
                "next_item_id": _or_null(TEXT),
                "started_at": _or_null(MOMENT),
                "finished_at": _or_null(MOMENT),
                "timing": _ref("Timing"),
                "points": {"type": "array", "items": _ref("PointStatus")},
                "roll_call": _or_null(_ref("RollCall")),
                "slogans": {"type": "array", "items": TEXT},
                "hold": _or_null(_object({"since": MOMENT})),
                "stage": _object(
                    {
                        "message": _or_null(TEXT),
                        "blink": {"type": "boolean"},
                        "blackout": {"type": "boolean"},
                        "screen": {"enum": ["programme", "break", "clock"]},
                    }
                ),
                "messages": {
                    "type": "array",
                    "items": _ref("Message"),
                    "description": "Only for the MC (all) and a point (those meant for it).",
                },
            },
            optional=("messages",),
        ),
        "StateEvent": _object(
            {
                "slug": TEXT,
                "title": TEXT,
                "theme": TEXT,
                "reference": TEXT,
                "organizer": TEXT,
                "standing_body": TEXT,
                "form": {"enum": list(EVENT_FORMS)},
                "starts_at": MOMENT,
                "planned_end": MOMENT,
                "timezone": TEXT,
            }
        ),
        "AgendaEntry": _object(
            {
                "id": TEXT,
                "title": TEXT,
                "speaker": TEXT,
                "prepared_by": TEXT,
                "point_id": _or_null(TEXT),
                "planned_start": MOMENT,
                "planned_end": MOMENT,
                "planned_minutes": {"type": "integer", "minimum": 1},
                "minutes_estimated": {"type": "boolean"},
                "notes": TEXT,
                "status": {"enum": ["pending", "live", "done", "skipped"]},
                "started_at": _or_null(MOMENT),
                "ended_at": _or_null(MOMENT),
                "projected_start": _or_null(MOMENT),
                "extended_seconds": {"type": "number"},
                "standby": _or_null(_object({"ready_at": MOMENT, "by": TEXT})),
            }
        ),
        "History": _object(
            {
                "version": COUNT,
                "server_time": MOMENT,
                "spans": {"type": "array", "items": _ref("HistorySpan")},
                "adjustments": {
                    "type": "array",
                    "items": _object(
                        {
                            "kind": {"enum": ["extend", "hold", "resume"]},
                            "item_id": TEXT,
                            "at": MOMENT,
                            "seconds": {"type": "number"},
                        }
                    ),
                },
                "items": {"type": "array", "items": _ref("HistoryItem")},
            }
        ),
        "HistorySpan": _object(
            {
                "item_id": TEXT,
                "started_at": MOMENT,
                "ended_at": _or_null(MOMENT),
                "seconds": {"type": "number", "minimum": 0},
            }
        ),
        "HistoryItem": _object(
            {
                "id": TEXT,
                "planned_seconds": {"type": "integer", "minimum": 60},
                "actual_seconds": {"type": "number", "minimum": 0},
                "times_shown": COUNT,
            }
        ),
        "Timing": _object(
            {
                "computed_at": MOMENT,
                "item_elapsed_seconds": _or_null({"type": "number"}),
                "item_planned_seconds": _or_null({"type": "number"}),
                "item_over_seconds": _or_null({"type": "number"}),
                "over_under_seconds": {"type": "number"},
                "start_delay_seconds": _or_null({"type": "number"}),
                "drift_seconds": _or_null({"type": "number"}),
                "projected_end": MOMENT,
                "planned_end": MOMENT,
                "item_remaining_seconds": _or_null({"type": "number"}),
                "item_warn_seconds": _or_null(COUNT),
            }
        ),
        "PointStatus": _object(
            {
                "id": TEXT,
                "name": TEXT,
                "kind": {"enum": list(POINT_KINDS)},
                "attendees": {"type": "array", "items": TEXT},
                "link": _or_null(
                    _object(
                        {
                            "rtt_ms": COUNT,
                            "jitter_ms": COUNT,
                            "clock_offset_ms": {"type": "integer"},
                            "measured_at": MOMENT,
                            "samples": COUNT,
                        }
                    )
                ),
                "online": {"type": "boolean"},
                "last_seen_at": _or_null(MOMENT),
                "checked_in_at": _or_null(MOMENT),
                "checked_in_by": _or_null(TEXT),
                "present": _or_null(COUNT),
                "note": _or_null(TEXT),
                "trouble": _or_null(
                    _object({"kind": {"enum": list(TROUBLE_KINDS)}, "text": TEXT, "since": MOMENT})
                ),
            },
            optional=("link",),  # the MC's state only
        ),
        "RollCall": _object(
            {
                "id": {"type": "integer", "minimum": 1},
                "started_at": MOMENT,
                "closes_at": MOMENT,
                "answers": {
                    "type": "object",
                    "additionalProperties": MOMENT,
                    "description": "When each point answered, by point id.",
                },
            }
        ),
        "Message": _object(
            {
                "id": {"type": "integer", "minimum": 1},
                "text": TEXT,
                "to": _or_null(TEXT),
                "sent_at": MOMENT,
                "read_by": {
                    "type": "object",
                    "additionalProperties": MOMENT,
                    "description": "When each point read it, by point id.",
                },
            }
        ),
    }


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
    schemas["Plan"] = _object(
        {
            "event": _ref("PlanEvent"),
            "points": {"type": "array", "items": _ref("PlanPoint")},
            "agenda": {"type": "array", "items": _ref("PlanItem")},
            "activities": {"type": "array", "items": _ref("PlanActivity")},
            "deadlines": {"type": "array", "items": _ref("PlanDeadline")},
            "slogans": {"type": "array", "items": TEXT},
        }
    )
    return schemas


def _plan_record(fields: tuple[PlanField, ...]) -> Schema:
    # Optional keys are left out of the plan JSON when they hold their default.
    shown = [field for field in fields if field.key not in HIDDEN_PLAN_KEYS]
    return _object(
        {field.key: PLAN_VALUES[field.key] for field in shown},
        optional=tuple(field.key for field in shown if not field.required),
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
            "kind": {"enum": ["conflict", "stale"]},
            "state": _ref("State"),
        },
        optional=("field", "state"),
    )
    conflict["if"] = {"properties": {"kind": {"const": "stale"}}}
    conflict["then"] = {"required": ["state"]}
    return {
        "Error": error,
        "Conflict": conflict,
        "Health": _object({"status": {"const": "ok"}, "event": TEXT, "version": COUNT}),
        "Unavailable": _object({"error": TEXT, "status": {"const": "unavailable"}}),
    }


def _responses() -> dict[str, Schema]:
    error = _ref("Error")
    return {
        "Invalid": _json("The payload is malformed or breaks a rule (kind `invalid`).", error),
        "Unauthenticated": _json("No token, or one nobody holds (`unauthenticated`).", error),
        "Forbidden": _json("The token's role may not do this (`forbidden`).", error),
        "NotFound": _json("No such item, point, message or event (`not_found`).", error),
        "Conflict": _json(
            "The action does not fit the ceremony's state now (`conflict`, e.g. no next "
            "item), or was made from an older state (`stale`, with the current `state`).",
            _ref("Conflict"),
        ),
        "TooLarge": _json("The request body is too large (`too_large`).", error),
    }


# -- helpers ---------------------------------------------------------------------------------


def _object(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    """Return an object schema with exactly these keys, all required but ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _or_null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _ref_response(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
