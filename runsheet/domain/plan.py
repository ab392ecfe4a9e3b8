"""The ceremony plan: what is meant to happen, where, and in what order.

A plan is read from a plan file (see ``runsheet.plans``) and never changes while the
ceremony runs; the live state (``runsheet.domain.ceremony``) refers to its items and
points by id. Plain frozen dataclasses, no framework imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

POINT_KINDS = ("room", "ward")
# A point's group is a path of up to this many levels (province / district / commune),
# written with GROUP_SEPARATOR between them: "Tỉnh Lâm Đồng / Xã Đạ Huoai".
MAX_GROUP_LEVELS = 3
GROUP_SEPARATOR = " / "
# Who must deliver by a deadline, besides a list of point ids: every ward, or every point.
DELIVERY_GROUPS = ("all_wards", "all")
# The longest id of a point, item, activity or deadline: plan files, every action's payload
# and the database columns (String(100)) all accept it.
MAX_ID_LENGTH = 64

# Minutes before an item's planned end at which the speaker's countdown turns to warning,
# when neither the item nor the event says otherwise.
DEFAULT_WARN_MINUTES = 2


@dataclass(frozen=True)
class Conference:
    """A video conference to join: its platform, link, meeting id and passcode.

    The passcode is private to the points (and the organizer): what the public sees of a
    plan, and every calendar file served without a point's token, leave it out.
    """

    url: str  # http(s) link that opens the meeting
    platform: str = ""  # e.g. "Zoom", "Google Meet", "Microsoft Teams"
    meeting_id: str = ""
    passcode: str = ""

    def without_passcode(self) -> Conference:
        """Return the conference as anyone may see it."""
        return Conference(self.url, self.platform, self.meeting_id)


@dataclass(frozen=True)
class Event:
    """The ceremony itself: what it is, who holds it, when it starts."""

    slug: str
    title: str
    starts_at: datetime  # timezone-aware, in the event's zone
    timezone: str  # IANA name, e.g. "Asia/Ho_Chi_Minh"
    theme: str = ""
    reference: str = ""  # the plan's document number, e.g. "6040/KH-UBND-GDDT"
    organizer: str = ""
    standing_body: str = ""  # the unit that runs the ceremony for the organizer
    organizer_email: str | None = None
    form: str = "online"
    description: str = ""
    reminder_minutes: int = 15  # calendar reminder before the start
    warn_minutes: int | None = None  # countdown warning; None: DEFAULT_WARN_MINUTES
    calendar_domain: str = ""  # right-hand side of calendar UIDs; empty: from config
    conference: Conference | None = None  # where the points meet (a point may have its own)
    livestream_url: str = ""  # where the public watches the ceremony live

    @property
    def zone(self) -> ZoneInfo:
        """Return the event's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Point:
    """A connection point: a room at the central site or a remote site."""

    id: str
    name: str
    kind: str  # one of POINT_KINDS
    address: str = ""
    attendees: tuple[str, ...] = ()  # groups of people who attend there
    contact_name: str | None = None
    contact_email: str | None = None
    group: str | None = None  # e.g. "Tỉnh Lâm Đồng / Xã Đạ Huoai" (GROUP_SEPARATOR between)
    conference: Conference | None = None  # the point's own, replacing the event's

    @property
    def group_paths(self) -> tuple[str, ...]:
        """Return the paths of every group the point belongs to, outermost first.

        A point of "A / B" belongs to the group "A" and to its sub-group "A / B".
        """
        if not self.group:
            return ()
        levels = self.group.split(GROUP_SEPARATOR)
        return tuple(GROUP_SEPARATOR.join(levels[: n + 1]) for n in range(len(levels)))


@dataclass(frozen=True)
class AgendaItem:
    """One item of the programme."""

    id: str
    title: str
    planned_minutes: int
    speaker: str = ""  # person or role who speaks
    prepared_by: str = ""  # the unit that prepares it
    point_id: str | None = None  # the point it is delivered from
    minutes_estimated: bool = False  # the plan gave no duration; this is a guess
    notes: str = ""
    warn_minutes: int | None = None  # countdown warning; None: the event's


@dataclass(frozen=True)
class Activity:
    """An activity of the wider week around the ceremony (all-day dates)."""

    id: str
    title: str
    starts_on: date
    ends_on: date  # inclusive
    description: str = ""


@dataclass(frozen=True)
class Deadline:
    """A date by which someone must deliver something."""

    id: str
    title: str
    due_on: date
    responsible: str = ""
    description: str = ""
    # Which points deliver through runsheet: point ids, or one of DELIVERY_GROUPS;
    # None: nobody does (the deadline is only shown in the calendar).
    points: tuple[str, ...] | str | None = None


@dataclass(frozen=True)
class PlannedSlot:
    """Where an item sits on the planned timeline."""

    item: AgendaItem
    start: datetime
    end: datetime


def _group_sort_key(path: str, first_seen: dict[str, int]) -> tuple[int, ...]:
    """Sort a group by where each level of its path first appears in the plan."""
    levels = path.split(GROUP_SEPARATOR)
    return tuple(first_seen[GROUP_SEPARATOR.join(levels[: n + 1])] for n in range(len(levels)))


@dataclass(frozen=True)
class Plan:
    """A whole ceremony: event, points, programme, week and slogans."""

    event: Event
    points: tuple[Point, ...]
    agenda: tuple[AgendaItem, ...]
    activities: tuple[Activity, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    slogans: tuple[str, ...] = ()
    _points_by_id: dict[str, Point] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _items_by_id: dict[str, AgendaItem] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _groups: dict[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _deadlines_by_id: dict[str, Deadline] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._points_by_id.update((p.id, p) for p in self.points)
        self._items_by_id.update((i.id, i) for i in self.agenda)
        self._deadlines_by_id.update((d.id, d) for d in self.deadlines)
        members: dict[str, list[str]] = {}
        for point in self.points:
            for path in point.group_paths:
                members.setdefault(path, []).append(point.id)
        # Each group right after its parent: "A", "A / B", "A / C", then "D".
        # Python dicts keep insertion order: the position of a path's first point.
        first_seen = {path: position for position, path in enumerate(members)}
        order = sorted(members, key=lambda path: _group_sort_key(path, first_seen))
        self._groups.update((path, tuple(members[path])) for path in order)

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Return every group's path with the ids of its points (its sub-groups' too).

        Groups come in the order of their first point in the plan, each sub-group after its
        parent; a plan whose points name no group has none.
        """
        return self._groups

    def point(self, point_id: str) -> Point | None:
        """Return the point with this id, or None."""
        return self._points_by_id.get(point_id)

    def item(self, item_id: str) -> AgendaItem | None:
        """Return the programme item with this id, or None."""
        return self._items_by_id.get(item_id)

    def conference_for(self, point_id: str) -> Conference | None:
        """Return the conference a point joins: its own, else the event's (or None)."""
        point = self.point(point_id)
        if point is not None and point.conference is not None:
            return point.conference
        return self.event.conference

    def deadline(self, deadline_id: str) -> Deadline | None:
        """Return the deadline with this id, or None."""
        return self._deadlines_by_id.get(deadline_id)

    def delivering_points(self, deadline: Deadline) -> tuple[Point, ...]:
        """Return the points that must deliver by ``deadline``, in the plan's order."""
        if deadline.points is None:
            return ()
        if deadline.points == "all":
            return self.points
        if deadline.points == "all_wards":
            return tuple(p for p in self.points if p.kind == "ward")
        named = set(deadline.points)
        return tuple(p for p in self.points if p.id in named)

    def deadlines_of(self, point_id: str) -> tuple[Deadline, ...]:
        """Return the deadlines by which this point must deliver, in the plan's order."""
        return tuple(
            d for d in self.deadlines if any(p.id == point_id for p in self.delivering_points(d))
        )

    def item_index(self, item_id: str) -> int:
        """Return the position of an item in the programme (it must exist)."""
        return [i.id for i in self.agenda].index(item_id)

    def warn_seconds(self, item: AgendaItem) -> int:
        """Return how long before its planned end an item's countdown shows a warning."""
        minutes = item.warn_minutes
        if minutes is None:
            minutes = self.event.warn_minutes
        return 60 * (DEFAULT_WARN_MINUTES if minutes is None else minutes)

    @property
    def planned_minutes(self) -> int:
        """Return the planned length of the whole ceremony in minutes."""
        return sum(i.planned_minutes for i in self.agenda)

    @property
    def planned_end(self) -> datetime:
        """Return when the ceremony is planned to end."""
        return self.event.starts_at + timedelta(minutes=self.planned_minutes)

    def schedule(self) -> list[PlannedSlot]:
        """Return each item's planned start and end, back to back from the start."""
        slots = []
        start = self.event.starts_at
        for item in self.agenda:
            end = start + timedelta(minutes=item.planned_minutes)
            slots.append(PlannedSlot(item, start, end))
            start = end
        return slots
