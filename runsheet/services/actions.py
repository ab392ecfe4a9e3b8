"""Every action a client can ask for: who may do it, its payload, and the rule it applies.

The HTTP API, the Socket.IO handlers and the CLI all go through this one table (see
``CeremonyService.perform``), so an action has the same name, payload, validation and
permissions whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.ceremony import Ceremony
from ..domain.errors import Forbidden, InvalidInput, Unauthenticated
from ..domain.plan import MAX_ID_LENGTH
from .payloads import Field
from .tokens import Actor

# Versions stay within the integers every JSON client can represent exactly.
VERSION = Field(int, minimum=0, maximum=2**53, nullable=True)
POINT_ID = Field(str, max_length=MAX_ID_LENGTH)

Apply = Callable[[Ceremony, Actor, dict[str, Any], datetime], None]


@dataclass(frozen=True)
class Action:
    """One action: its name, who may perform it, its payload fields and its rule."""

    name: str
    roles: frozenset[str]  # "mc" and/or "point"
    fields: dict[str, Field]
    apply: Apply
    own_point_only: bool = True  # a point may act only on itself

    def admit(self, actor: Actor) -> None:
        """Raise unless ``actor``'s role may perform this action at all."""
        if actor.role == "public":
            raise Unauthenticated(f"{self.name}: needs a token")
        if actor.role not in self.roles:
            raise Forbidden(f"{self.name}: not allowed for {actor.label}")

    def authorize(self, actor: Actor, args: dict[str, Any]) -> None:
        """Raise unless ``actor`` may perform this action on what ``args`` names."""
        self.admit(actor)
        if actor.role == "point" and self.own_point_only:
            target = args.get("point_id")
            if target is not None and target != actor.point_id:
                raise Forbidden(f"{self.name}: a point can act only for itself")


def _target_point(actor: Actor, args: dict[str, Any]) -> str:
    """Return the point an action is about: the named one, else the actor's own."""
    point_id = args.get("point_id") or actor.point_id
    if point_id is None:
        raise InvalidInput("point_id: is required", field="point_id")
    return point_id


def _run(method: str) -> Apply:
    def apply(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
        getattr(ceremony, method)(now, args.get("expected_version"))

    return apply


def _goto(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.goto(args["item_id"], now, args.get("expected_version"))


def _checkin(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.check_in(
        _target_point(actor, args),
        by=args["by"],
        present=args.get("present", 0),
        note=args.get("note", ""),
        now=now,
        expected_version=args.get("expected_version"),
    )


def _trouble(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    point_id = _target_point(actor, args)
    if args.get("clear"):
        ceremony.clear_trouble(point_id, now, args.get("expected_version"))
        return
    if "kind" not in args:
        raise InvalidInput("kind: is required (or send clear: true)", field="kind")
    ceremony.report_trouble(
        point_id, args["kind"], args.get("text", ""), now, args.get("expected_version")
    )


def _clear_trouble(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.clear_trouble(_target_point(actor, args), now, args.get("expected_version"))


def _message(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.send_message(args["text"], args.get("to"), now)


def _ack_message(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.acknowledge_message(actor.point_id, args["message_id"], now)


def _roll_call(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    if actor.role == "mc":
        ceremony.start_roll_call(args.get("seconds", 60), now)
    else:
        ceremony.answer_roll_call(actor.point_id, now, args.get("roll_call_id"))


MC = frozenset({"mc"})
MC_OR_POINT = frozenset({"mc", "point"})
RUN_FIELDS = {"expected_version": VERSION}

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("advance", MC, RUN_FIELDS, _run("advance")),
        Action("back", MC, RUN_FIELDS, _run("back")),
        Action("finish", MC, RUN_FIELDS, _run("finish")),
        Action("reset", MC, RUN_FIELDS, _run("reset")),
        Action(
            "goto",
            MC,
            {"item_id": Field(str, required=True, max_length=MAX_ID_LENGTH), **RUN_FIELDS},
            _goto,
        ),
        Action(
            "checkin",
            MC_OR_POINT,
            {
                "point_id": POINT_ID,
                "by": Field(str, required=True, max_length=100),
                "present": Field(int, minimum=0, maximum=100_000),
                "note": Field(str, max_length=500),
                **RUN_FIELDS,
            },
            _checkin,
        ),
        Action(
            "trouble",
            MC_OR_POINT,
            {
                "point_id": POINT_ID,
                "kind": Field(str, max_length=20),
                "text": Field(str, max_length=500),
                "clear": Field(bool),
                **RUN_FIELDS,
            },
            _trouble,
        ),
        Action(
            "clear_trouble",
            MC_OR_POINT,
            {"point_id": POINT_ID, **RUN_FIELDS},
            _clear_trouble,
        ),
        Action(
            "message",
            MC,
            {
                "text": Field(str, required=True, max_length=1000),
                "to": Field(str, max_length=MAX_ID_LENGTH, nullable=True),
            },
            _message,
        ),
        Action(
            "ack_message",
            frozenset({"point"}),
            {"message_id": Field(int, required=True, minimum=1)},
            _ack_message,
        ),
        Action(
            "roll_call",
            MC_OR_POINT,
            {"seconds": Field(int, minimum=5, maximum=600), "roll_call_id": Field(int)},
            _roll_call,
        ),
    )
}
