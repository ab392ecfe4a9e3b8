"""The OpenAPI document: it lists every route the app serves, and a live server keeps to it.

The schemathesis run serves the real app on a free port (Werkzeug's threaded server; the
JSON API needs no Socket.IO), checks that it publishes the document the run is generated
from, and calls every operation with valid and invalid data, once with the MC's token and
once with a point's. Every answer must be documented: no server error, a documented status
and media type, a body that fits its schema, 401 without the token, 405 for other methods.
The ceremony's state changes as actions succeed, so the run also meets the refusals that
depend on it (no next item, a stale version...); the tests before it make sure of those.

The document repeats no declaration: routes come from the URL map and what each view
records, answers from ``services.shapes``, request bodies from the actions' payload fields,
the plan from its checks. The tests of "the document and the code" show that a route or a
key added in one place reaches the document.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, get_type_hints

import jsonschema_rs
import pydantic
import pytest
import requests
import schemathesis
from flask import Blueprint
from hypothesis import strategies as st
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from runsheet.domain.ceremony import TROUBLE_KINDS
from runsheet.domain.errors import InvalidInput
from runsheet.plans import default_plan
from runsheet.plans.schema import EVENT_FIELDS, POINT_FIELDS
from runsheet.plans.workbook import WORKBOOK_TYPE, workbook_bytes
from runsheet.services import shapes
from runsheet.services.actions import ACTIONS
from runsheet.services.payloads import Field
from runsheet.transports.api import performs
from runsheet.transports.openapi import build_document, field_schema, openapi_path
from runsheet.transports.operations import operation, operation_of
from tests.conftest import make_app
from tests.live_server import serve

# The routes the document covers: the JSON API, the health check and the calendar files.
DOCUMENTED = ("/api/", "/healthz", "/calendar/")
POINT = "thoi-an"
# The live server's database goes to memory when it can: the run makes about a thousand
# writes, and waiting for each to reach the disk would be most of its time.
SHARED_MEMORY = Path("/dev/shm")
FLASK_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
# The routes of a real app (on a throwaway database) for the documents built at import.
ROUTES = make_app("sqlite://")


def documented_operations(document: dict) -> set[tuple[str, str]]:
    """Return every (path, METHOD) the document lists."""
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def served_operations(app) -> set[tuple[str, str]]:  # noqa: ANN001
    """Return every (path, METHOD) the app routes under the documented prefixes."""
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED):
            continue
        path = FLASK_PARAMETER.sub(r"{\2}", rule.rule)
        served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return served


def response_validator(document: dict, path: str, method: str, status: int):  # noqa: ANN201
    """Return a validator for the JSON body the document gives a response."""
    response = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    # The document is the root, so the schema's "#/components/..." references resolve.
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": document["components"]}, validate_formats=True
    )


def fits(document: dict, path: str, method: str, response) -> Any:  # noqa: ANN001
    """Assert that a test-client response is documented for its operation; return its body."""
    body = response.get_json()
    validator = response_validator(document, path, method, response.status_code)
    errors = [str(error) for error in validator.iter_errors(body)]
    assert not errors, errors[:3]
    return body


# -- the document and the code ---------------------------------------------------------------


def schema_of(document: dict, name: str) -> dict:
    """Return the document's schema of that name."""
    return document["components"]["schemas"][name]


def test_the_document_lists_every_route_of_the_api_with_its_methods(app):
    document = build_document(app, default_plan())

    assert documented_operations(document) == served_operations(app)


def test_every_route_under_the_api_and_the_calendar_records_what_the_document_says(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(DOCUMENTED):
            assert operation_of(app.view_functions[rule.endpoint]) is not None, rule.rule


def test_a_route_defined_with_its_record_is_documented_without_touching_the_document(app):
    notes = Blueprint("notes", __name__, url_prefix="/api/v1")

    @notes.get("/notes/<int:note_id>")
    @operation("state", "The note.", answers="State", refusals=("NotFound",))
    def get_note(note_id: int):  # noqa: ANN202
        """Read one note.

        A note the MC keeps.
        """

    @notes.post("/notes")
    @performs("message")
    def keep_note():  # noqa: ANN202
        """Keep a note."""

    app.register_blueprint(notes)
    document = build_document(app, default_plan())

    read = document["paths"]["/api/v1/notes/{note_id}"]["get"]
    assert (read["operationId"], read["summary"]) == ("get_note", "Read one note")
    assert read["description"] == "A note the MC keeps."
    assert read["parameters"][0]["schema"] == {"type": "integer"}
    assert set(read["responses"]) == {"200", "404", "429"}  # 429: the HTTP throttle
    kept = document["paths"]["/api/v1/notes"]["post"]
    body = kept["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == set(ACTIONS["message"].fields)
    assert documented_operations(document) == served_operations(app)


def test_one_view_behind_two_routes_is_refused_as_it_would_share_an_operation_id(app):
    twice = Blueprint("twice", __name__, url_prefix="/api/v1")

    @twice.get("/first")
    @twice.get("/second")
    @operation("state", "The same thing.")
    def read_twice():  # noqa: ANN202
        """Read the same thing twice."""

    app.register_blueprint(twice)
    with pytest.raises(ValueError, match="twice.read_twice serves several routes or methods"):
        build_document(app)


def test_path_parameters_have_the_type_the_route_converts_them_to(app):
    document = build_document(app, default_plan())
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED):
            continue
        path = FLASK_PARAMETER.sub(r"{\2}", rule.rule)
        for converter, name in FLASK_PARAMETER.findall(rule.rule):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                parameters = document["paths"][path][method.lower()]["parameters"]
                (schema,) = [p["schema"] for p in parameters if p["name"] == name]
                assert schema["type"] == ("integer" if converter == "int" else "string"), path


def test_every_action_is_documented_with_its_payload_fields(app):
    document = build_document(app)
    documented_actions = set()
    for rule in app.url_map.iter_rules():
        record = operation_of(app.view_functions[rule.endpoint])
        if record is None or record.action is None:
            continue
        documented_actions.add(record.action)
        (method,) = rule.methods - {"HEAD", "OPTIONS"}
        documented = document["paths"][openapi_path(rule.rule)][method.lower()]
        body = documented["requestBody"]["content"]["application/json"]["schema"]
        in_path = {p["name"] for p in documented.get("parameters", [])}
        fields = ACTIONS[record.action].fields
        assert set(body["properties"]) | in_path == set(fields), rule.rule
        assert set(body["required"]) == {n for n, f in fields.items() if f.required} - in_path
    assert documented_actions == set(ACTIONS)


def test_every_action_route_performs_the_action_its_view_records(app, client, mc, monkeypatch):
    performed = []

    def record(actor, name, payload=None, seen=None, claim=None):  # noqa: ANN001, ANN202
        performed.append(name)
        raise InvalidInput("recorded")

    monkeypatch.setattr(app.extensions["runsheet"].ceremony, "perform", record)
    examples = {"point_id": POINT, "item_id": "khai-mac", "message_id": "1"}
    for rule in app.url_map.iter_rules():
        record_of_view = operation_of(app.view_functions[rule.endpoint])
        if record_of_view is None or record_of_view.action is None:
            continue
        (method,) = rule.methods - {"HEAD", "OPTIONS"}
        url = FLASK_PARAMETER.sub(lambda m: examples[m.group(2)], rule.rule)

        response = client.open(url, method=method, headers=mc.headers)

        assert response.get_json()["error"] == "recorded", url
        assert performed.pop() == record_of_view.action, url


def test_a_payload_fields_meaning_and_rules_are_what_the_document_says_of_it(app):
    document = build_document(app)
    trouble = document["paths"]["/api/v1/points/{point_id}/trouble"]["post"]
    body = trouble["requestBody"]["content"]["application/json"]["schema"]

    assert body["properties"]["kind"]["enum"] == list(TROUBLE_KINDS)
    assert (
        body["properties"]["kind"]["description"] == ACTIONS["trouble"].fields["kind"].description
    )
    assert field_schema(Field(str, max_length=9, description="Loud.", pattern=r"\S")) == {
        "type": "string",
        "maxLength": 9,
        "pattern": r"\S",
        "description": "Loud.",
    }
    assert field_schema(Field(str, choices=("a", "b"), nullable=True))["enum"] == ["a", "b"]


def test_every_key_of_every_declared_shape_is_in_the_document_and_no_other(app):
    document = build_document(app)
    declared = [shapes.State, shapes.StateEvent, shapes.AgendaEntry, shapes.Timing]
    declared += [shapes.PointStatus, shapes.PointTrouble, shapes.RollCall, shapes.Message]
    declared += [shapes.History, shapes.HistorySpan, shapes.HistoryItem, shapes.Health]
    for shape in declared:
        schema = schema_of(document, shape.__name__)
        assert list(schema["properties"]) == list(get_type_hints(shape)), shape.__name__
        assert schema["additionalProperties"] is False


def test_a_key_added_to_a_shape_reaches_its_schema_required_and_typed():
    class PointWithVolume(shapes.PointStatus):
        volume: shapes.Count | None

    schemas = shapes.json_schemas([PointWithVolume], ref_template="#/components/schemas/{model}")
    schema = schemas["PointWithVolume"]

    assert schema["properties"]["volume"] == {
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]
    }
    assert "volume" in schema["required"]
    assert schema["additionalProperties"] is False
    assert (
        schemas["PointTrouble"]
        == shapes.json_schemas([shapes.State], ref_template="#/components/schemas/{model}")[
            "PointTrouble"
        ]
    )


def test_the_state_and_history_the_api_answers_with_are_exactly_their_declared_shapes(mc, ward):
    ward.post("/points/thoi-an/trouble", json={"kind": "no_sound"})
    mc.post("/messages", json={"text": "Chuẩn bị"})
    mc.post("/roll-call", json={"seconds": 60})
    mc.advance()
    state = mc.state()
    history = mc.client.get("/api/v1/history").get_json()

    assert state["messages"] and state["roll_call"] and state["points"][11]["trouble"]
    pydantic.TypeAdapter(shapes.State).validate_python(state, strict=True)
    pydantic.TypeAdapter(shapes.History).validate_python(history, strict=True)
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        pydantic.TypeAdapter(shapes.State).validate_python({**state, "volume": 3})


def test_each_plan_key_in_the_document_carries_the_schema_its_check_records(client):
    document = build_document(client.application, default_plan())

    for name, fields in (("PlanEvent", EVENT_FIELDS), ("PlanPoint", POINT_FIELDS)):
        properties = schema_of(document, name)["properties"]
        for field in fields:
            if field.key in properties:
                assert properties[field.key] == field.json_schema
    assert schema_of(document, "PlanPoint")["properties"]["kind"]["enum"] == ["room", "ward"]
    fits(document, "/api/v1/plan", "get", client.get("/api/v1/plan"))


def test_the_server_publishes_a_valid_openapi_31_document_with_the_plans_ids(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    errors = [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert not errors, errors[:3]
    checkin = document["paths"]["/api/v1/points/{point_id}/checkin"]["post"]
    (point_id,) = checkin["parameters"]
    assert POINT in point_id["schema"]["examples"]
    assert len(point_id["schema"]["examples"]) == len(default_plan().points)


def test_refusals_that_depend_on_the_ceremonys_state_are_documented(client, mc, ward):
    document = build_document(client.application, default_plan())
    version = mc.state()["version"]
    for _ in default_plan().agenda:
        assert mc.advance().status_code == 200

    past_the_end = fits(document, "/api/v1/advance", "post", mc.advance())
    stale = fits(document, "/api/v1/back", "post", mc.back(expected_version=version))
    no_problem = fits(
        document,
        "/api/v1/points/{point_id}/trouble/clear",
        "post",
        ward.post("/points/thoi-an/trouble/clear"),
    )

    assert past_the_end["kind"] == "conflict" and "state" not in past_the_end
    assert stale["kind"] == "stale" and stale["state"]["version"] > version
    assert no_problem["kind"] == "conflict"


def test_a_stale_refusal_without_its_state_would_break_the_document(client, mc):
    document = build_document(client.application, default_plan())
    mc.advance()
    response = mc.advance(expected_version=0)
    body = fits(document, "/api/v1/advance", "post", response)
    del body["state"]

    validator = response_validator(document, "/api/v1/advance", "post", 409)
    assert not validator.is_valid(body)


# -- schemathesis against a live server ------------------------------------------------------


def prepare(url: str, tokens: dict[str, str]) -> None:
    """Give the point something to act on: a message for it and an open roll call."""
    mc = {"Authorization": f"Bearer {tokens['mc']}"}
    for body in ({"text": "Kiểm tra âm thanh", "to": POINT}, {"text": "Chuẩn bị"}):
        assert requests.post(f"{url}/api/v1/messages", json=body, headers=mc, timeout=10).ok
    response = requests.post(
        f"{url}/api/v1/roll-call", json={"seconds": 600}, headers=mc, timeout=10
    )
    assert response.ok


# A workbook upload's body is raw bytes (the document says "binary"): schemathesis sends a
# real workbook or bytes that are none, and the server must answer each as documented.
schemathesis.openapi.media_type(
    WORKBOOK_TYPE,
    st.one_of(st.just(workbook_bytes(default_plan(), "vi")), st.binary(max_size=64)),
)

# The document the run is generated from; the live server must publish the same one.
# (schemathesis.pytest.from_fixture, which would load it from the server, fails under
# pytest 9.2: its lazy loader sets Function._nodeid, which pytest no longer has.)
DOCUMENT = build_document(ROUTES, default_plan())
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "request-timeout": 10,
            "generation": {"mode": "all", "max-examples": 30, "database": "none"},
            # Every built-in check runs (no server error; documented status, media type,
            # body and headers; 401 without the token; 405 for other methods; invalid data
            # refused), but one.
            "checks": {
                # Off: valid-looking input is refused on purpose where JSON Schema cannot say
                # so, e.g. 3.0 for a whole number (JSON Schema calls it an integer; the
                # payload checks want 3), or text "other" trouble without a description.
                "positive_data_acceptance": {"enabled": False},
            },
        }
    ),
)


@pytest.fixture(scope="module", params=["mc", POINT])
def live_api(request, tmp_path_factory):
    """Serve a fresh app for one caller; return its URL and the caller's auth header."""
    folder = Path(tempfile.mkdtemp(dir=SHARED_MEMORY)) if SHARED_MEMORY.is_dir() else None
    folder = folder or tmp_path_factory.mktemp("openapi")
    server = serve(f"sqlite:///{folder / 'runsheet.sqlite3'}")
    live = next(server)
    prepare(live.url, live.tokens)
    published = requests.get(f"{live.url}/api/v1/openapi.json", timeout=10).json()
    assert published == DOCUMENT
    yield live.url, {"Authorization": f"Bearer {live.tokens[request.param]}"}
    server.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@schema.parametrize()
def test_the_live_server_keeps_to_its_openapi_document(case, live_api):
    url, auth = live_api
    case.call_and_validate(base_url=url, headers=auth)
