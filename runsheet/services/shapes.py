"""The shapes of the JSON the service answers with, declared once as typed dictionaries.

``services.snapshot`` and ``services.history`` build dictionaries of these types, and the
API document (``transports.openapi``) takes their JSON Schema from here through pydantic,
so a key added to a shape (and filled where the shape is built) reaches the document
without a second description. Every shape forbids unknown keys: a response holding a key
its shape does not declare breaks the document, which the schemathesis run notices.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, TypeAdapter, with_config
from pydantic import Field as Rule
from pydantic.json_schema import GenerateJsonSchema

# Before Python 3.12 pydantic reads TypedDicts only from typing_extensions (its dependency).
from typing_extensions import TypedDict

from ..domain.ceremony import PHASES, RUN_KINDS, STAGE_SCREENS, TROUBLE_KINDS
from ..domain.deadlines import STATUSES as DEADLINE_STATUSES
from ..domain.plan import POINT_KINDS
from ..plans.schema import EVENT_FORMS

Schema = dict[str, Any]

Moment = Annotated[str, Rule(json_schema_extra={"format": "date-time"})]
Count = Annotated[int, Rule(ge=0)]
Seconds = Annotated[float, Rule(ge=0)]
SerialId = Annotated[int, Rule(ge=1)]
ByPoint = dict[str, Moment]  # a moment for each point id

# Literal[tuple] spells the same type as Literal[*tuple]: the domain's lists stay the source.
Phase = Literal[PHASES]
TroubleKind = Literal[TROUBLE_KINDS]
PointKind = Literal[POINT_KINDS]
EventForm = Literal[EVENT_FORMS]
StageScreen = Literal[STAGE_SCREENS]
RunKind = Literal[RUN_KINDS]
ItemStatus = Literal["pending", "live", "done", "skipped"]

CLOSED = ConfigDict(extra="forbid")


@with_config(CLOSED)
class StateEvent(TypedDict):
    """The event the ceremony belongs to."""

    slug: str
    title: str
    theme: str
    reference: str
    organizer: str
    standing_body: str
    form: EventForm
    starts_at: Moment
    planned_end: Moment
    timezone: str


@with_config(CLOSED)
class AgendaEntry(TypedDict):
    """One programme item, planned and as it went."""

    id: str
    title: str
    speaker: str
    prepared_by: str
    point_id: str | None
    planned_start: Moment
    planned_end: Moment
    planned_minutes: Annotated[int, Rule(ge=1)]
    minutes_estimated: bool
    status: ItemStatus
    started_at: Moment | None
    ended_at: Moment | None
    projected_start: Annotated[
        Moment | None,
        Rule(
            description=(
                "When it started (live, done), or should start now (pending: re-flowed from "
                "the live item's time left); null for an item passed over."
            )
        ),
    ]
    extended_seconds: Annotated[float, Rule(description="Seconds the MC added (or took off).")]
    standby: Standby | None


@with_config(CLOSED)
class Timing(TypedDict):
    """How the ceremony keeps to its plan, as of ``computed_at``."""

    computed_at: Moment
    item_elapsed_seconds: float | None
    item_planned_seconds: float | None
    item_over_seconds: float | None
    over_under_seconds: float
    start_delay_seconds: float | None
    drift_seconds: float | None
    projected_end: Moment
    planned_end: Moment
    item_remaining_seconds: Annotated[
        float | None, Rule(description="The live item's time left; negative when over.")
    ]
    item_warn_seconds: Annotated[
        Count | None, Rule(description="The countdown turns to warning below this.")
    ]
    reflow_seconds: Annotated[
        float,
        Rule(
            description=(
                "How much later than `agenda[].projected_start` (worked out as of the state's "
                "last change) the pending items start as of `computed_at`."
            )
        ),
    ]


@with_config(CLOSED)
class Standby(TypedDict):
    """A point's answer to its standby cue: ready for the coming item it delivers."""

    ready_at: Moment
    by: str


@with_config(CLOSED)
class Hold(TypedDict):
    """The live item's timer is on hold."""

    since: Moment


@with_config(CLOSED)
class StageChannel(TypedDict):
    """What the stage displays show besides the programme (public: it is on the screens)."""

    message: str | None
    blink: bool
    blackout: bool
    screen: StageScreen


@with_config(CLOSED)
class LinkHealth(TypedDict):
    """A point page's link: median and spread of its last measures (not in the public state)."""

    rtt_ms: Count
    jitter_ms: Count
    clock_offset_ms: int
    measured_at: Moment
    samples: Count


@with_config(CLOSED)
class PointTrouble(TypedDict):
    """A problem reported at a point."""

    kind: TroubleKind
    text: str
    since: Moment


@with_config(CLOSED)
class PointStatus(TypedDict):
    """One connection point: online, checked in, in trouble."""

    id: str
    name: str
    kind: PointKind
    online: bool
    last_seen_at: Moment | None
    checked_in_at: Moment | None
    checked_in_by: str | None
    present: Count | None
    note: str | None
    trouble: PointTrouble | None
    link: NotRequired[
        Annotated[LinkHealth | None, Rule(description="The MC's and the points' state only.")]
    ]


@with_config(CLOSED)
class RollCall(TypedDict):
    """The roll call, open or last held."""

    id: SerialId
    started_at: Moment
    closes_at: Moment
    answers: Annotated[ByPoint, Rule(description="When each point answered, by point id.")]


@with_config(CLOSED)
class Message(TypedDict):
    """A message from the MC to every point or to one."""

    id: SerialId
    text: str
    to: str | None
    sent_at: Moment
    read_by: Annotated[ByPoint, Rule(description="When each point read it, by point id.")]


@with_config(CLOSED)
class RunInfo(TypedDict):
    """The run under way: a rehearsal or the real (live) run, numbered in order of start."""

    kind: RunKind
    number: SerialId
    started_at: Moment


@with_config(CLOSED)
class StateSnapshot(TypedDict):
    """The live state as built for one version, before the time it is sent is stamped."""

    version: Count
    phase: Phase
    event: StateEvent
    agenda: list[AgendaEntry]
    current_item_id: str | None
    next_item_id: str | None
    started_at: Moment | None
    finished_at: Moment | None
    timing: Timing
    points: list[PointStatus]
    roll_call: RollCall | None
    slogans: list[str]
    hold: Hold | None
    stage: StageChannel
    run: Annotated[RunInfo | None, Rule(description="null before any run and after a reset.")]
    messages: NotRequired[
        Annotated[
            list[Message],
            Rule(description="Only for the MC (all) and a point (those meant for it)."),
        ]
    ]


class State(StateSnapshot):
    """The live state, as the caller may see it."""

    server_time: Moment


@with_config(CLOSED)
class HistorySpan(TypedDict):
    """One stretch an item was live."""

    item_id: str
    started_at: Moment
    ended_at: Moment | None
    seconds: Seconds


@with_config(CLOSED)
class HistoryItem(TypedDict):
    """One programme item's planned and actual time in all."""

    id: str
    planned_seconds: Annotated[int, Rule(ge=60)]
    actual_seconds: Seconds
    times_shown: Count


@with_config(CLOSED)
class Adjustment(TypedDict):
    """A change the MC made to the live item's clock."""

    kind: Literal["extend", "hold", "resume"]
    item_id: str
    at: Moment
    seconds: Annotated[
        float, Rule(description="extend: seconds added (negative: taken off); resume: held.")
    ]


@with_config(CLOSED)
class HistoryRecord(TypedDict):
    """The ceremony's timeline as built, before the time it is sent is stamped."""

    version: Count
    spans: list[HistorySpan]
    adjustments: list[Adjustment]
    items: list[HistoryItem]


class History(HistoryRecord):
    """The ceremony's timeline."""

    server_time: Moment


@with_config(CLOSED)
class RunEntry(TypedDict):
    """One run of the ceremony: archived (ended), or the one under way."""

    number: SerialId
    kind: RunKind
    started_at: Moment
    ended_at: Moment | None
    archived: bool


@with_config(CLOSED)
class RunList(TypedDict):
    """Every run of the ceremony, in the order they started."""

    runs: list[RunEntry]


@with_config(CLOSED)
class Health(TypedDict):
    """The service can serve: its database answers and an event is loaded."""

    status: Literal["ok"]
    event: str  # the active event's slug
    version: Count


@with_config(CLOSED)
class PlanProblem(TypedDict):
    """One mistake in an edited plan: where it is and what is wrong, in the caller's language."""

    path: Annotated[str, Rule(description='Like "agenda[2].title"; "" for the plan as a whole.')]
    message: str
    code: NotRequired[Annotated[str, Rule(description="Stable, for translation.")]]
    sheet: NotRequired[Annotated[str, Rule(description="From a spreadsheet: its sheet.")]]
    row: NotRequired[Annotated[int, Rule(ge=1, description="From a spreadsheet: its row.")]]
    column: NotRequired[
        Annotated[str, Rule(description="From a spreadsheet: the column's header.")]
    ]


@with_config(CLOSED)
class PlanCheck(TypedDict):
    """The edited plan would be accepted as it is."""

    ok: Literal[True]
    problems: list[PlanProblem]


class PlanSaved(State):
    """The new state after a plan was saved, with the plan's new revision."""

    revision: Annotated[int, Rule(ge=1)]


class EventEntry(TypedDict):
    """One event of the installation (``services.events``)."""

    slug: str
    title: str
    starts_at: Moment
    active: bool  # the one the pages, the API and the calendar files serve now
    archived: bool  # kept, but cannot be made active until restored


@with_config(CLOSED)
class EventList(TypedDict):
    """Every event of the installation, oldest first."""

    events: list[EventEntry]


# -- deadlines (services.deadlines builds these) ------------------------------------------

DeadlineStatus = Literal[DEADLINE_STATUSES]
Day = Annotated[str, Rule(json_schema_extra={"format": "date"})]


@with_config(CLOSED)
class SubmissionEntry(TypedDict):
    """One submission of a point for a deadline: a document, or a "done" mark with a note."""

    id: SerialId
    deadline_id: str
    point_id: str
    submitted_at: Moment
    kind: Literal["document", "done"]
    note: str
    current: bool  # the latest one: it replaces the earlier ones, which stay on record
    file_name: str | None
    content_type: str | None
    size: Count | None
    sha256: str | None
    download_url: str | None  # for the organizer and the point itself


@with_config(CLOSED)
class DeadlineCounts(TypedDict):
    """How many of the points that must deliver stand where."""

    submitted: Count
    late: Count
    missing: Count
    pending: Count


@with_config(CLOSED)
class DeadlineFacts(TypedDict):
    """A deadline as the plan states it, and the days left until it (event's zone)."""

    id: str
    title: str
    due_on: Day
    due_end: Moment  # the due date's end in the event's zone: later counts as late
    days_left: int  # 0 today, negative: that many days past
    responsible: str
    description: str


@with_config(CLOSED)
class DeliveryCell(TypedDict):
    """Where one point stands with one deadline."""

    deadline_id: str
    point_id: str
    status: DeadlineStatus
    first_submitted_at: Moment | None
    current: SubmissionEntry | None
    submissions: Count  # how many in all, the replaced ones too


@with_config(CLOSED)
class BoardDeadline(DeadlineFacts):
    """One deadline on the board, with each point that must deliver."""

    counts: DeadlineCounts
    points: list[DeliveryCell]


@with_config(CLOSED)
class BoardPoint(TypedDict):
    """One point on the board, with each deadline it must deliver by."""

    id: str
    name: str
    kind: PointKind
    counts: DeadlineCounts
    deadlines: list[DeliveryCell]


@with_config(CLOSED)
class DeadlineBoard(TypedDict):
    """Who delivered what by the plan's deadlines: per deadline and per point."""

    today: Day  # in the event's zone
    timezone: str
    server_time: Moment
    counts: DeadlineCounts
    deadlines: list[BoardDeadline]
    points: list[BoardPoint]


@with_config(CLOSED)
class PointDeadline(DeadlineFacts):
    """One deadline of a point, as its page shows it."""

    status: DeadlineStatus
    first_submitted_at: Moment | None
    submissions: list[SubmissionEntry]  # newest first; the first is the current one


@with_config(CLOSED)
class PointDeadlines(TypedDict):
    """A point's own deadlines and what it submitted."""

    point_id: str
    today: Day
    timezone: str
    server_time: Moment
    deadlines: list[PointDeadline]


@with_config(CLOSED)
class AuditLogEntry(TypedDict):
    """One action in the audit log: who, when, what, through which channel, and its outcome."""

    id: SerialId
    run: Annotated[int | None, Rule(description="The run it belongs to (its number).")]
    at: Moment
    role: Literal["organizer", "mc", "point", "public", "system"]
    point_id: str | None
    console: Annotated[str | None, Rule(description="The console's name, as it told it.")]
    channel: Literal["http", "socket", "cli", "editor", "system"]
    action: str
    summary: Annotated[dict[str, Any], Rule(description="The payload, trimmed.")]
    version_before: Count | None
    version_after: Count | None
    outcome: Literal["done", "refused"]
    error: Annotated[str | None, Rule(description="Why it was refused.")]
    error_kind: str | None


@with_config(CLOSED)
class AuditLog(TypedDict):
    """A page of the audit log, newest first."""

    entries: list[AuditLogEntry]
    next_before: Annotated[
        SerialId | None,
        Rule(description="Pass as `before` for the next (older) page; null: no more."),
    ]


@with_config(CLOSED)
class RoleLinks(TypedDict):
    """Every role's link, each carrying its token (as `runsheet links --json`)."""

    organizer: str
    mc: str
    points: dict[str, str]
    public: str
    stage: str


# The shapes the HTTP API answers with; the document names each one by its class.
RESPONSE_SHAPES: tuple[type, ...] = (
    State,
    History,
    RunList,
    Health,
    EventList,
    EventEntry,
    PlanProblem,
    PlanCheck,
    PlanSaved,
    DeadlineBoard,
    PointDeadlines,
    SubmissionEntry,
    AuditLog,
    RoleLinks,
)


class _WithoutFieldTitles(GenerateJsonSchema):
    """Leave out the title pydantic derives from each key's name: it only repeats the key."""

    def field_title_should_be_set(self, schema: Any) -> bool:  # noqa: ANN401
        return False


def json_schemas(shapes: Iterable[type], ref_template: str) -> dict[str, Schema]:
    """Return the JSON Schema of each shape and of every shape it holds, by class name.

    ``ref_template`` says how one schema refers to another, e.g.
    ``"#/components/schemas/{model}"`` for an OpenAPI document.
    """
    inputs = [(shape, "serialization", TypeAdapter(shape)) for shape in shapes]
    _, definitions = TypeAdapter.json_schemas(
        inputs, ref_template=ref_template, schema_generator=_WithoutFieldTitles
    )
    return definitions["$defs"]
