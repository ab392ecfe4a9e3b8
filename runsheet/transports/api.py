"""The HTTP JSON API (``/api/v1``): a mirror of the Socket.IO events, same actions and payloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ..domain.errors import InvalidInput, RunsheetError, StaleVersion
from ..plans import plan_to_dict
from ..services.ceremony import Current
from ..services.history import history
from ..services.plans import database_reason
from ..services.snapshot import snapshot_for
from ..services.tokens import PUBLIC, Actor
from .auth import api_actor, services
from .errors import error_body, error_response, status_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def state_body(actor: Actor, current: Current) -> dict[str, Any]:
    """Return the state JSON for ``actor``, stamped with the server's time."""
    now = services().ceremony.clock()
    body = snapshot_for(actor, current.plan, current.state, now)
    body["server_time"] = now.astimezone(current.plan.event.zone).isoformat()
    return body


def json_payload() -> dict[str, Any]:
    """Return the request's JSON object body ({} when there is none)."""
    if not request.get_data(cache=True):
        return {}
    try:
        payload = request.get_json(force=True, silent=True)
    except RecursionError:  # deeply nested arrays exhaust the JSON parser's stack
        payload = None
    if payload is None:
        raise InvalidInput("the request body is not valid JSON")
    if not isinstance(payload, dict):
        raise InvalidInput("the request body must be a JSON object")
    return payload


def perform(name: str, **from_url: Any):  # noqa: ANN201
    """Run an action for the caller and answer with the new state (or the error).

    The caller is identified before the body is read, so a request without a valid token
    is refused with 401 whatever its body. Values in the URL (an item or point id) go into
    the payload; a body naming another one is refused.
    """
    actor = api_actor()
    payload = json_payload()
    for field, value in from_url.items():
        if payload.get(field, value) != value:
            raise InvalidInput(f"{field}: does not match the one in the URL", field=field)
        payload[field] = value
    ceremony = services().ceremony
    try:
        current = ceremony.perform(actor, name, payload)
    except StaleVersion as stale:
        body = error_body(stale)
        body["state"] = state_body(actor, ceremony.current())
        return error_response(status_of(stale), **body)
    return jsonify(state_body(actor, current))


@bp.get("/state")
def get_state():  # noqa: ANN201
    """Return the live state (with private parts when a token is given)."""
    actor = api_actor(required=False) if request.headers.get("Authorization") else PUBLIC
    return jsonify(state_body(actor, services().ceremony.current()))


@bp.get("/history")
def get_history():  # noqa: ANN201
    """Return every stretch each item was live, and each item's planned and actual time."""
    current = services().ceremony.current()
    now = services().ceremony.clock()
    body = history(current.plan, current.state, now)
    body["server_time"] = now.astimezone(current.plan.event.zone).isoformat()
    return jsonify(body)


@bp.get("/plan")
def get_plan():  # noqa: ANN201
    """Return the active plan, without contacts' e-mail addresses."""
    plan = plan_to_dict(services().ceremony.current().plan)
    for point in plan.get("points", []):
        point.pop("contact_email", None)
    plan.get("event", {}).pop("organizer_email", None)
    return jsonify(plan)


@bp.post("/advance")
def advance():  # noqa: ANN201
    """Make the next item live."""
    return perform("advance")


@bp.post("/back")
def back():  # noqa: ANN201
    """Go back one item."""
    return perform("back")


@bp.post("/finish")
def finish():  # noqa: ANN201
    """End the ceremony."""
    return perform("finish")


@bp.post("/reset")
def reset():  # noqa: ANN201
    """Return to "not started" (after a rehearsal)."""
    return perform("reset")


@bp.post("/goto/<item_id>")
def goto(item_id: str):  # noqa: ANN201
    """Make the named item live."""
    return perform("goto", item_id=item_id)


@bp.post("/points/<point_id>/checkin")
def checkin(point_id: str):  # noqa: ANN201
    """Confirm a point's connection."""
    return perform("checkin", point_id=point_id)


@bp.post("/points/<point_id>/trouble")
def report_trouble(point_id: str):  # noqa: ANN201
    """Report a problem at a point."""
    return perform("trouble", point_id=point_id)


@bp.delete("/points/<point_id>/trouble")
@bp.post("/points/<point_id>/trouble/clear")
def clear_trouble(point_id: str):  # noqa: ANN201
    """Clear a point's problem."""
    return perform("clear_trouble", point_id=point_id)


@bp.post("/messages")
def send_message():  # noqa: ANN201
    """Send a message to every point or to one (MC)."""
    return perform("message")


@bp.post("/messages/<int:message_id>/ack")
def ack_message(message_id: int):  # noqa: ANN201
    """Mark a message as read by the calling point."""
    return perform("ack_message", message_id=message_id)


@bp.post("/roll-call")
def roll_call():  # noqa: ANN201
    """Start a roll call (MC) or answer the open one (point)."""
    return perform("roll_call")


health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():  # noqa: ANN201
    """Say whether the service can serve: the database reads and writes, an event is loaded."""
    svc = services()
    step = "read"
    try:
        svc.store.ping()
        current = svc.ceremony.current()
        step = "written"
        svc.store.probe_write(svc.ceremony.clock())
    except RunsheetError as error:
        return _unhealthy(error.message, error.message)
    except Exception as error:  # noqa: BLE001 - any failure here means "cannot serve"
        detail = database_reason(error) if isinstance(error, SQLAlchemyError) else repr(error)
        return _unhealthy(f"the database cannot be {step}", detail)
    return jsonify({"status": "ok", "event": current.plan.event.slug, "version": current.version})


def _unhealthy(reason: str, detail: str):  # noqa: ANN202
    # One line per failed probe, without a traceback: a load balancer probes every few
    # seconds, and the reason is the database's, not a bug here.
    current_app.logger.error("health check failed: %s (%s)", reason, detail)
    return error_response(503, reason, status="unavailable", kind="unavailable")
