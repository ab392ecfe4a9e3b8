"""The OpenAPI document: it lists every route the app serves, and a live server keeps to it.

The schemathesis run serves the real app on a free port (Werkzeug's threaded server; the
JSON API needs no Socket.IO), checks that it publishes the document the run is generated
from, and calls every operation with valid and invalid data, once with the MC's token and
once with a point's. Every answer must be documented: no server error, a documented status
and media type, a body that fits its schema, 401 without the token, 405 for other methods.
The ceremony's state changes as actions succeed, so the run also meets the refusals that
depend on it (no next item, a stale version...); the tests before it make sure of those.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from runsheet.plans import default_plan
from runsheet.services.actions import ACTIONS
from runsheet.transports.openapi import ACTION_ROUTES, build_document
from tests.live_server import serve

# The routes the document covers: the JSON API, the health check and the calendar files.
DOCUMENTED = ("/api/", "/healthz", "/calendar/")
POINT = "thoi-an"
# The live server's database goes to memory when it can: the run makes about a thousand
# writes, and waiting for each to reach the disk would be most of its time.
SHARED_MEMORY = Path("/dev/shm")
FLASK_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


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


def test_the_document_lists_every_route_of_the_api_with_its_methods(app):
    document = build_document(default_plan())

    assert documented_operations(document) == served_operations(app)


def test_path_parameters_have_the_type_the_route_converts_them_to(app):
    document = build_document(default_plan())
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED):
            continue
        path = FLASK_PARAMETER.sub(r"{\2}", rule.rule)
        for converter, name in FLASK_PARAMETER.findall(rule.rule):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                parameters = document["paths"][path][method.lower()]["parameters"]
                (schema,) = [p["schema"] for p in parameters if p["name"] == name]
                assert schema["type"] == ("integer" if converter == "int" else "string"), path


def test_every_action_is_documented_with_its_payload_fields():
    document = build_document()
    assert {route.action for route in ACTION_ROUTES} == set(ACTIONS)
    for route in ACTION_ROUTES:
        operation = document["paths"][route.path][route.method]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        in_path = {p["name"] for p in operation.get("parameters", [])}
        fields = ACTIONS[route.action].fields
        assert set(body["properties"]) | in_path == set(fields), route.path
        assert set(body["required"]) == {n for n, f in fields.items() if f.required} - in_path


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
    document = build_document(default_plan())
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
    document = build_document(default_plan())
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


# The document the run is generated from; the live server must publish the same one.
# (schemathesis.pytest.from_fixture, which would load it from the server, fails under
# pytest 9.2: its lazy loader sets Function._nodeid, which pytest no longer has.)
DOCUMENT = build_document(default_plan())
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
