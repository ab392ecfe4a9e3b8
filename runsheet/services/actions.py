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

from ..domain.ceremony import STAGE_SCREENS, TROUBLE_KINDS, Ceremony, Mover
from ..domain.errors import Forbidden, InvalidInput, Unauthenticated
from ..domain.plan import MAX_ID_LENGTH
from .payloads import Field
from .tokens import Actor

NOT_BLANK = r"\S"  # text holding at least one character that is not white space

# Versions stay within the integers every JSON client can represent exactly.
VERSION = Field(
    int,
    minimum=0,
    maximum=2**53,
    nullable=True,
    description=(
        "The state version the caller was looking at. The action is refused (409, kind "
        "`stale`, with the current state) when the part of the state it acts on changed since."
    ),
)
POINT_ID = Field(
    str,
    max_length=MAX_ID_LENGTH,
    description="The id of a connection point (`points[].id` of the state).",
)
ITEM_ID = Field(
    str,
    required=True,
    max_length=MAX_ID_LENGTH,
    description="The id of a programme item (`agenda[].id` of the state).",
)

Apply = Callable[[Ceremony, Actor, dict[str, Any], datetime], None]


@dataclass(frozen=True)
class Action:
    """One action: its name, who may perform it, its payload fields and its rule."""

    name: str
    roles: frozenset[str]  # "mc" and/or "point"; the organizer may do what the MC may
    fields: dict[str, Field]
    apply: Apply
    own_point_only: bool = True  # a point may act only on itself

    def admit(self, actor: Actor) -> None:
        """Raise unless ``actor``'s role may perform this action at all."""
        if actor.role == "public":
            raise Unauthenticated(f"{self.name}: needs a token")
        as_role = "mc" if actor.runs_ceremony else actor.role
        if as_role not in self.roles:
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


def _mover(actor: Actor, args: dict[str, Any]) -> Mover:
    return Mover(actor.role, actor.console, bool(args.get("confirm")))


def _run(method: str) -> Apply:
    def apply(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
        getattr(ceremony, method)(now, args.get("expected_version"), _mover(actor, args))

    return apply


def _reset(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.reset(now, args.get("expected_version"))


def _end_rehearsal(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.end_rehearsal(now, args.get("expected_version"))


def _goto(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.goto(args["item_id"], now, args.get("expected_version"), _mover(actor, args))


def _extend(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.extend(args["seconds"], now)


def _hold(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.hold(now)


def _resume(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.resume(now)


def _stage(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    if not args:
        raise InvalidInput("name at least one of message, blink, blackout, screen")
    changes = {key: args[key] for key in ("blink", "blackout", "screen") if key in args}
    if "message" in args:
        changes["message"] = args["message"]
    ceremony.set_stage(now, **changes)


def _ready(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.mark_ready(actor.point_id, args.get("by", ""), now, args.get("item_id"))


def _link(ceremony: Ceremony, actor: Actor, args: dict[str, Any], now: datetime) -> None:
    ceremony.report_link(actor.point_id, args["rtt_ms"], args.get("clock_offset_ms", 0), now)


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
    if actor.runs_ceremony:
        ceremony.start_roll_call(args.get("seconds", 60), now)
    else:
        ceremony.answer_roll_call(actor.point_id, now, args.get("roll_call_id"))


MC = frozenset({"mc"})
POINT = frozenset({"point"})
MC_OR_POINT = frozenset({"mc", "point"})
RUN_FIELDS = {"expected_version": VERSION}
# A move of the run-sheet may confirm that it follows another one on purpose.
MOVE_FIELDS = {
    **RUN_FIELDS,
    "confirm": Field(
        bool,
        description=(
            "`true`: move even though the run-sheet moved a moment ago (within "
            "`RUNSHEET_MOVE_GUARD_SECONDS`); without it such a move is refused with 409, kind "
            "`just_moved`, `moved_by` and the current state."
        ),
    ),
}

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("advance", MC, MOVE_FIELDS, _run("advance")),
        Action("back", MC, MOVE_FIELDS, _run("back")),
        Action("finish", MC, MOVE_FIELDS, _run("finish")),
        Action("reset", MC, RUN_FIELDS, _reset),
        Action("rehearse", MC, MOVE_FIELDS, _run("rehearse")),
        Action("end_rehearsal", MC, RUN_FIELDS, _end_rehearsal),
        Action(
            "goto",
            MC,
            {"item_id": ITEM_ID, **MOVE_FIELDS},
            _goto,
        ),
        Action(
            "extend",
            MC,
            {
                "seconds": Field(
                    int,
                    required=True,
                    minimum=-86_400,
                    maximum=86_400,
                    description=(
                        "Seconds added to the live item's planned time (negative: taken off; "
                        "never below what has elapsed); not 0."
                    ),
                )
            },
            _extend,
        ),
        Action("hold", MC, {}, _hold),
        Action("resume", MC, {}, _resume),
        Action(
            "stage",
            MC,
            {
                "message": Field(
                    str,
                    max_length=200,
                    nullable=True,
                    description="A message the stage displays show; null clears it.",
                ),
                "blink": Field(bool, description="`true`: the stage message blinks."),
                "blackout": Field(bool, description="`true`: the stage displays go black."),
                "screen": Field(
                    str,
                    max_length=20,
                    choices=STAGE_SCREENS,
                    description=(
                        "What the stage displays show: the programme, a please-wait "
                        "(break) screen, or a big clock."
                    ),
                ),
            },
            _stage,
        ),
        Action(
            "ready",
            POINT,
            {
                "point_id": POINT_ID,
                "item_id": Field(
                    str,
                    max_length=MAX_ID_LENGTH,
                    description="The coming item the point is ready for; left out: the next.",
                ),
                "by": Field(str, max_length=100, description="Who at the point says so."),
            },
            _ready,
        ),
        Action(
            "link",
            POINT,
            {
                "point_id": POINT_ID,
                "rtt_ms": Field(
                    int,
                    required=True,
                    minimum=0,
                    maximum=120_000,
                    description="The page's measured round trip to the server, in milliseconds.",
                ),
                "clock_offset_ms": Field(
                    int,
                    minimum=-(2**40),
                    maximum=2**40,
                    description="How far the page's clock is behind the server's (ms).",
                ),
            },
            _link,
        ),
        Action(
            "checkin",
            MC_OR_POINT,
            {
                "point_id": POINT_ID,
                "by": Field(
                    str,
                    required=True,
                    max_length=100,
                    pattern=NOT_BLANK,
                    description="The person on duty at the point; must not be blank.",
                ),
                "present": Field(
                    int,
                    minimum=0,
                    maximum=100_000,
                    description="How many people are present at the point.",
                ),
                "note": Field(str, max_length=500, description="A free note."),
                **RUN_FIELDS,
            },
            _checkin,
        ),
        Action(
            "trouble",
            MC_OR_POINT,
            {
                "point_id": POINT_ID,
                "kind": Field(
                    str, max_length=20, choices=TROUBLE_KINDS, description="What is wrong."
                ),
                "text": Field(
                    str,
                    max_length=500,
                    description=(
                        "What is wrong, in words; must not be blank when kind is `other`."
                    ),
                ),
                "clear": Field(
                    bool, description="`true` clears the point's problem instead of reporting one."
                ),
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
                "text": Field(
                    str,
                    required=True,
                    max_length=1000,
                    pattern=NOT_BLANK,
                    description="The message; must not be blank.",
                ),
                "to": Field(
                    str,
                    max_length=MAX_ID_LENGTH,
                    nullable=True,
                    description="The point the message is for; null or left out: every point.",
                ),
            },
            _message,
        ),
        Action(
            "ack_message",
            frozenset({"point"}),
            {
                "message_id": Field(
                    int,
                    required=True,
                    minimum=1,
                    description="The id of a message meant for the calling point.",
                )
            },
            _ack_message,
        ),
        Action(
            "roll_call",
            MC_OR_POINT,
            {
                "seconds": Field(
                    int,
                    minimum=5,
                    maximum=600,
                    description="How long the roll call stays open (MC).",
                ),
                "roll_call_id": Field(
                    int, description="The roll call being answered (point); informative."
                ),
            },
            _roll_call,
        ),
    )
}
