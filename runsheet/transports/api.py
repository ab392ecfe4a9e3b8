"""The HTTP JSON API (``/api/v1``): a mirror of the Socket.IO events, same actions and payloads."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ..domain.errors import InvalidInput, JustMoved, NotFound, RunsheetError, StaleVersion
from ..services.history import history, runs
from ..services.plans import database_reason
from ..services.snapshot import server_time, state_body
from ..services.tokens import PUBLIC
from .auth import PAGE_HEADER, api_actor, api_caller, api_claim, services
from .errors import error_body, error_response, status_of
from .operations import operation

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# What any action may be refused with (transports.openapi describes each).
ACTION_REFUSALS = ("Invalid", "Unauthenticated", "Forbidden", "NotFound", "Conflict", "TooLarge")


def performs(action: str, **details: Any):  # noqa: ANN201
    """Record for the API document that a route performs ``action`` (and takes its payload)."""
    return operation(
        "actions",
        "The new state, as the caller may see it.",
        action=action,
        answers="State",
        callers="token",
        refusals=ACTION_REFUSALS,
        **details,
    )


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

    A caller this process has looked up before is first taken on its claim, without a
    query (``CeremonyService.claim``): the change is stored only if its token still
    holds. Whatever else happens on a claim, the request is done again the checked way,
    from the start, so what a caller hears never rests on a claim.
    """
    ceremony = services().ceremony
    claimed = api_claim()
    if claimed is not None:
        claim, actor = claimed
        with contextlib.suppress(RunsheetError):  # a bad body: refused the checked way
            current = ceremony.perform_on_claim(claim, actor, name, payload_with(from_url))
            if current is not None:
                return jsonify(state_body(actor, current, ceremony.clock()))
    actor, seen = api_caller()
    payload = payload_with(from_url)
    try:
        current = ceremony.perform(actor, name, payload, seen)
    except (StaleVersion, JustMoved) as refused:  # answered with the state as it is now
        body = error_body(refused)
        body["state"] = state_body(actor, ceremony.current(), ceremony.clock())
        return error_response(status_of(refused), **body)
    return jsonify(state_body(actor, current, ceremony.clock()))


def payload_with(from_url: dict[str, Any]) -> dict[str, Any]:
    """Return the request's payload with the values in its URL (refused if it names others)."""
    payload = json_payload()
    for field, value in from_url.items():
        if payload.get(field, value) != value:
            raise InvalidInput(f"{field}: does not match the one in the URL", field=field)
        payload[field] = value
    return payload


@bp.get("/state")
@operation(
    "state",
    "The live state.",
    answers="State",
    callers="anyone_or_token",
    refusals=("Unauthenticated", "NotFound"),
)
def get_state():  # noqa: ANN201
    """Read the live state.

    Without a token: the public state. With the MC's token: also every message and the
    roll call's answers; with a point's token: the messages meant for it.
    """
    asks_as_holder = request.headers.get("Authorization") or request.headers.get(PAGE_HEADER)
    actor = api_actor(required=False) if asks_as_holder else PUBLIC
    ceremony = services().ceremony
    return jsonify(state_body(actor, ceremony.current(), ceremony.clock()))


@bp.get("/history")
@operation("state", "The timeline.", answers="History", refusals=("NotFound",))
def get_history():  # noqa: ANN201
    """Read when each item was live.

    Every stretch an item was live, in the order they started (an item the MC went back to
    has several), and each item's planned and actual seconds in all; the live item's counts
    until now. The state itself carries only each item's latest start and end.
    """
    svc = services()
    current, now = svc.ceremony.current(), svc.ceremony.clock()
    state = current.state
    if "run" in request.args:  # an archived run's: ?run=<number>
        number = request.args.get("run", type=int)
        state = svc.store.archived_record(current.event_id, number) if number else None
        if state is None:
            raise NotFound(f"no archived run {request.args['run'][:20]!r}", field="run")
    body = history(current.plan, state, now)
    body["server_time"] = server_time(current.plan, now)
    return jsonify(body)


@bp.get("/runs")
@operation("state", "Every run.", answers="RunList", refusals=("NotFound",))
def get_runs():  # noqa: ANN201
    """List the ceremony's runs.

    Every run in the order it started, rehearsals and real runs alike (numbered 1, 2, 3…):
    those archived (ended by `end_rehearsal` or a reset), with their start and end, and the
    one under way. `GET /api/v1/history?run=<number>` is an archived run's timeline.
    """
    svc = services()
    current = svc.ceremony.current()
    archived = svc.store.archived_runs(current.event_id)
    return jsonify(runs(current.state.run, archived, current.plan))


@bp.post("/advance")
@performs("advance")
def advance():  # noqa: ANN201
    """Make the next item live."""
    return perform("advance")


@bp.post("/back")
@performs("back")
def back():  # noqa: ANN201
    """Go back one item."""
    return perform("back")


@bp.post("/finish")
@performs("finish")
def finish():  # noqa: ANN201
    """End the ceremony."""
    return perform("finish")


@bp.post("/reset")
@performs("reset")
def reset():  # noqa: ANN201
    """Return to "not started" (after a rehearsal)."""
    return perform("reset")


@bp.post("/goto/<item_id>")
@performs("goto")
def goto(item_id: str):  # noqa: ANN201
    """Make the named item live."""
    return perform("goto", item_id=item_id)


@bp.post("/rehearse")
@performs("rehearse")
def rehearse():  # noqa: ANN201
    """Start a rehearsal: the first item goes live, as a rehearsal."""
    return perform("rehearse")


@bp.post("/end-rehearsal")
@performs("end_rehearsal")
def end_rehearsal():  # noqa: ANN201
    """End the rehearsal: archive its whole record and return to "not started", cleared."""
    return perform("end_rehearsal")


@bp.post("/extend")
@performs("extend")
def extend():  # noqa: ANN201
    """Add time to the live item, or take some off (never below what has elapsed)."""
    return perform("extend")


@bp.post("/hold")
@performs("hold")
def hold():  # noqa: ANN201
    """Stop the live item's timer."""
    return perform("hold")


@bp.post("/resume")
@performs("resume")
def resume():  # noqa: ANN201
    """Restart the live item's timer after a hold."""
    return perform("resume")


@bp.post("/stage")
@performs("stage")
def stage():  # noqa: ANN201
    """Set what the stage displays show: a message, blink, blackout, the screen."""
    return perform("stage")


@bp.post("/points/<point_id>/ready")
@performs("ready")
def ready(point_id: str):  # noqa: ANN201
    """Tell the MC that the point is ready for its coming item."""
    return perform("ready", point_id=point_id)


@bp.post("/points/<point_id>/link")
@performs("link")
def link(point_id: str):  # noqa: ANN201
    """Report one measure of the point page's round trip and clock offset."""
    return perform("link", point_id=point_id)


@bp.post("/points/<point_id>/checkin")
@performs("checkin")
def checkin(point_id: str):  # noqa: ANN201
    """Confirm a point's connection."""
    return perform("checkin", point_id=point_id)


@bp.post("/points/<point_id>/trouble")
@performs("trouble")
def report_trouble(point_id: str):  # noqa: ANN201
    """Report a problem at a point."""
    return perform("trouble", point_id=point_id)


@bp.delete("/points/<point_id>/trouble")
@performs("clear_trouble")
def clear_trouble(point_id: str):  # noqa: ANN201
    """Clear a point's problem."""
    return perform("clear_trouble", point_id=point_id)


@bp.post("/points/<point_id>/trouble/clear")
@performs("clear_trouble")
def clear_trouble_by_post(point_id: str):  # noqa: ANN201
    """Clear a point's problem (for clients that cannot send DELETE)."""
    return perform("clear_trouble", point_id=point_id)


@bp.post("/messages")
@performs("message")
def send_message():  # noqa: ANN201
    """Send a message to every point or to one (MC)."""
    return perform("message")


@bp.post("/messages/<int:message_id>/ack")
@performs("ack_message")
def ack_message(message_id: int):  # noqa: ANN201
    """Mark a message as read by the calling point."""
    return perform("ack_message", message_id=message_id)


@bp.post("/roll-call")
@performs("roll_call")
def roll_call():  # noqa: ANN201
    """Start a roll call (MC) or answer the open one (point)."""
    return perform("roll_call")


health = Blueprint("health", __name__)


@health.get("/healthz")
@operation(
    "service",
    "The database answers and an event is loaded.",
    operation_id="get_health",
    answers="Health",
    refusals=("Unavailable",),
)
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
