"""The one place that reads and writes the database (SQLite by default, PostgreSQL too).

Each change is committed before the caller tells anyone about it. Saving the live state is
a compare-and-set on the ``version`` column, done by the database, so two processes (or
two threads) cannot both apply an action to the same version.

A plan does not change while it runs, but every action reads the state back: so the checked
plan is kept per event and plan revision (the ``plan_revision`` column rises with every
replacement), and an action reads only the state, the version and the revision.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Update,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    insert,
    inspect,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from ..domain.ceremony import ArchivedRun, CeremonyState
from ..domain.plan import Plan
from ..jsontext import dumps
from ..plans import plan_from_dict, plan_to_dict
from .codec import PointMemo, state_from_dict, state_to_dict
from .tables import (
    audit,
    calendar_components,
    connections,
    deadline_submissions,
    events,
    metadata,
    runs,
    settings,
    tokens,
)

# A change's statements, built once: each change only binds its values (building them
# anew cost more than SQLite's running them, for the 13-point plan's 9 KB state).
COMPARE_AND_SET = (  # stores a state only if the stored version is still the one it saw
    update(events)
    .where(events.c.id == bindparam("event_id"), events.c.version == bindparam("seen_version"))
    .values(
        state=bindparam("new_state"),
        version=bindparam("new_version"),
        updated_at=bindparam("changed_at"),
    )
    .returning(events.c.plan_revision)
)
# The same, for a change made on a claim (``save_state``'s ``held_by``): stored only if the
# caller's token still holds as it did and the event is still the active one.
COMPARE_AND_SET_HELD = COMPARE_AND_SET.where(
    events.c.is_active,
    select(tokens.c.id)
    .where(
        tokens.c.token_hash == bindparam("token_hash"),
        tokens.c.event_id == bindparam("holder_event_id"),
        tokens.c.role == bindparam("holder_role"),
        tokens.c.point_id.is_not_distinct_from(bindparam("holder_point_id", type_=String)),
    )
    .exists(),
)
ADD_AUDIT_ENTRY = insert(audit)  # its values: ``_audit_values`` of the entry
# The active event's version and a token's holder in one query, as every caller's request
# begins (the holder's columns are NULL when nobody holds the token).
ACTIVE_EVENT_AND_HOLDER = (
    select(
        events.c.id,
        events.c.version,
        tokens.c.event_id.label("holder_event_id"),
        tokens.c.role,
        tokens.c.point_id,
    )
    .select_from(events.outerjoin(tokens, tokens.c.token_hash == bindparam("token_hash")))
    .where(events.c.is_active)
)

# The execution option of the engine ``Store.reads`` reads with (see ``make_engine``).
READS_ONLY = "runsheet_reads_only"

# Checked plans kept per store: the active event's, plus a few others a CLI or a page may read.
PLANS_KEPT = 8

# The settings row the health check writes to show the database takes writes.
HEALTH_PROBE = "health:last-write-probe"


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its plan and its live state at one version."""

    id: int
    slug: str
    plan: Plan
    state: CeremonyState
    is_active: bool
    is_archived: bool = False


@dataclass(frozen=True)
class EventRow:
    """An event as listed: its slug, title and start as the plan says, and its standing."""

    id: int
    slug: str
    title: str
    starts_at: str  # ISO 8601 with the event's offset, as in the plan
    is_active: bool
    is_archived: bool


@dataclass(frozen=True)
class ArchivedRunRow:
    """An archived run as listed: which, what kind, when it started and ended (UTC)."""

    number: int
    kind: str
    started_at: datetime
    ended_at: datetime


# Tokens looked up in one query when many are checked at once (the heartbeat's check of
# every connected page's token: 1,750 per process at 3,500 points).
TOKENS_PER_QUERY = 500
# The setting that changes whenever tokens are replaced (Store.tokens_stamp).
TOKENS_STAMP = "tokens_stamp"


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what, when, through which channel, and its outcome.

    ``id`` is None until the entry is stored. ``version_before`` and ``version_after`` are
    the state's versions around the action (equal when it changed nothing, or was refused).
    """

    event_id: int
    run_number: int | None
    at: datetime  # UTC
    role: str  # "organizer", "mc", "point", "public" or "system"
    point_id: str | None
    console: str | None
    channel: str  # "http", "socket", "cli", "editor" or "system"
    action: str
    summary: dict[str, Any]
    version_before: int | None
    version_after: int | None
    outcome: str  # "done" or "refused"
    error: str | None = None
    error_kind: str | None = None
    id: int | None = None


# The most audit entries one read returns.
AUDIT_PAGE_LIMIT = 1000


@dataclass(frozen=True)
class CalendarRow:
    """A calendar component as last published: its SEQUENCE, hashes and content."""

    key: str
    sequence: int
    fingerprint: str  # of what raises SEQUENCE: time, place, title, status
    content_hash: str  # of every fact
    component: dict[str, Any]
    created_at: datetime  # UTC
    revised_at: datetime  # UTC: last change of any fact


@dataclass(frozen=True)
class Submission:
    """What a point delivered by a deadline: a document, or a "done" mark with a note."""

    id: int
    deadline_id: str
    point_id: str
    submitted_at: datetime  # UTC
    note: str
    file_name: str | None = None  # the document's original name (None: marked done)
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None

    @property
    def has_document(self) -> bool:
        """Say whether a document came with it (rather than only a "done" mark)."""
        return self.file_name is not None


@dataclass(frozen=True)
class Document:
    """A submitted document's bytes and what a download needs to describe them."""

    submission: Submission
    content: bytes


@dataclass(frozen=True)
class TokenHolder:
    """Who holds a token: the MC of an event, or one of its points."""

    event_id: int
    role: str  # "mc" or "point"
    point_id: str | None


def sqlite_url(instance_path: str | Path) -> str:
    """Return the default database URL: a SQLite file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'runsheet.sqlite3'}"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a generous busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, json_serializer=dumps
        )
    options: dict = {
        "connect_args": {"timeout": 30, "check_same_thread": False},
        "json_serializer": dumps,  # a change's state is written on its way to the screens
    }
    if url in ("sqlite://", "sqlite:///:memory:"):
        options["poolclass"] = StaticPool  # one shared in-memory database
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):  # noqa: ANN001
        # A writing transaction takes the write lock at BEGIN, so that concurrent writers
        # queue instead of failing. A read (``Store.reads``) begins deferred: it reads a
        # snapshot of the WAL without the write lock, so no read waits for a write, nor
        # a write for a read.
        reads_only = connection.get_execution_options().get(READS_ONLY)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

    return engine


class Store:
    """Read and write events, their state, tokens, live connections and settings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # (event id, plan revision): the checked plan, newest last.
        self._plans: OrderedDict[tuple[int, int], Plan] = OrderedDict()
        self._plans_lock = threading.Lock()
        # Each event's state as last read or stored, by (plan revision, version): a change
        # reads the version, not the whole state, when this process holds it already.
        self._records: dict[int, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._points = PointMemo()

    @property
    def engine(self) -> Engine:
        """Return the engine that writes (``engine.begin()``)."""
        return self._engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        self._engine = engine
        # Reads: the same engine and pool, whose transactions take no write lock on SQLite.
        self.reads = engine.execution_options(**{READS_ONLY: True})

    @classmethod
    def from_url(cls, url: str) -> Store:
        """Open the database at ``url``."""
        return cls(make_engine(url))

    def create_schema(self) -> None:
        """Create the tables that do not exist yet, and the columns added since."""
        metadata.create_all(self.engine)
        columns = {column["name"] for column in inspect(self.engine).get_columns("events")}
        if "plan_revision" not in columns:  # a database made before plan revisions
            with self.engine.begin() as conn:
                conn.execute(
                    text("ALTER TABLE events ADD COLUMN plan_revision INTEGER NOT NULL DEFAULT 1")
                )
        if "is_archived" not in columns:  # a database made before events could be archived
            with self.engine.begin() as conn:
                conn.execute(
                    text("ALTER TABLE events ADD COLUMN is_archived BOOLEAN NOT NULL DEFAULT FALSE")
                )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Open a transaction, committed on success and rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.reads.connect() as conn:
            conn.execute(select(1))

    def probe_write(self, now: datetime) -> None:
        """Raise if the database cannot commit a write (read-only, disk full, locked).

        A committed write, not one rolled back: a database can accept a change it would
        fail to make durable. The row is updated in place, so processes probing at once
        queue on it instead of racing to create it.
        """
        stamp = now.isoformat()
        try:
            with self.engine.begin() as conn:
                touched = conn.execute(
                    update(settings).where(settings.c.name == HEALTH_PROBE).values(value=stamp)
                )
                if touched.rowcount == 0:
                    conn.execute(insert(settings).values(name=HEALTH_PROBE, value=stamp))
        except IntegrityError:
            pass  # another process created the row at the same moment: writes work

    # -- events --------------------------------------------------------------------

    def active_event(self) -> StoredEvent | None:
        """Return the active event, or None if no plan was ever loaded."""
        with self.reads.connect() as conn:
            row = conn.execute(select(events).where(events.c.is_active)).first()
        return self._stored_event(row) if row else None

    def active_event_version(self) -> tuple[int, int] | None:
        """Return (id, version) of the active event, or None: a cheap freshness check."""
        with self.reads.connect() as conn:
            row = conn.execute(
                select(events.c.id, events.c.version).where(events.c.is_active)
            ).first()
        return (row.id, row.version) if row else None

    def active_event_and_holder(
        self, token_hash: str
    ) -> tuple[tuple[int, int] | None, TokenHolder | None]:
        """Return ``active_event_version()`` and ``token_holder(token_hash)``, in one query."""
        with self.reads.connect() as conn:
            row = conn.execute(ACTIVE_EVENT_AND_HOLDER, {"token_hash": token_hash}).first()
        if row is None:  # no event is active: the holder alone
            return None, self.token_holder(token_hash)
        holder = None
        if row.role is not None:
            holder = TokenHolder(row.holder_event_id, row.role, row.point_id)
        return (row.id, row.version), holder

    def event_by_slug(self, slug: str, conn: Connection | None = None) -> StoredEvent | None:
        """Return the event with this slug, or None."""
        with _using(self.reads, conn) as c:
            row = c.execute(select(events).where(events.c.slug == slug)).first()
        return self._stored_event(row) if row else None

    def event_heading(self, event_id: int) -> tuple[str, str] | None:
        """Return (slug, title) of an event, or None; its plan is read once per revision."""
        with self.reads.connect() as conn:
            row = conn.execute(
                select(events.c.slug, events.c.plan_revision).where(events.c.id == event_id)
            ).first()
            if row is None:
                return None
            plan = self._plan(event_id, row.plan_revision, conn)
        return row.slug, plan.event.title

    def list_events(self) -> list[tuple[str, str, bool]]:
        """Return (slug, title, is_active) of every stored event."""
        with self.reads.connect() as conn:
            rows = conn.execute(select(events.c.slug, events.c.plan, events.c.is_active))
            return [(r.slug, r.plan["event"]["title"], r.is_active) for r in rows]

    def event_rows(self, conn: Connection | None = None, slug: str | None = None) -> list[EventRow]:
        """Return every stored event (or the one with ``slug``), oldest first.

        The title and start come from the stored plans, read unchecked.
        """
        query = select(
            events.c.id, events.c.slug, events.c.plan, events.c.is_active, events.c.is_archived
        ).order_by(events.c.id)
        if slug is not None:
            query = query.where(events.c.slug == slug)
        with _using(self.reads, conn) as c:
            rows = c.execute(query).all()
        return [
            EventRow(
                id=row.id,
                slug=row.slug,
                title=row.plan["event"]["title"],
                starts_at=row.plan["event"]["starts_at"],
                is_active=row.is_active,
                is_archived=row.is_archived,
            )
            for row in rows
        ]

    def set_archived(self, conn: Connection, event_id: int, archived: bool) -> None:
        """Archive an event, or restore it."""
        conn.execute(update(events).where(events.c.id == event_id).values(is_archived=archived))

    def add_event(self, conn: Connection, plan: Plan, state: CeremonyState, now: datetime) -> int:
        """Store a new event and return its id."""
        result = conn.execute(
            insert(events).values(
                slug=plan.event.slug,
                plan=plan_to_dict(plan),
                state=state_to_dict(state),
                version=state.version,
                is_active=False,
                created_at=now,
                updated_at=now,
            )
        )
        return result.inserted_primary_key[0]

    def replace_plan(
        self,
        conn: Connection,
        event_id: int,
        plan: Plan,
        state: CeremonyState,
        seen_version: int,
        now: datetime,
        seen_revision: int | None = None,
    ) -> bool:
        """Replace an event's plan and state together if the version is still ``seen_version``.

        With ``seen_revision``, only if the plan is still at that revision too (an edit made
        from it), so that of two edits made from one revision only the first is stored.
        """
        unchanged = [events.c.id == event_id, events.c.version == seen_version]
        if seen_revision is not None:
            unchanged.append(events.c.plan_revision == seen_revision)
        result = conn.execute(
            update(events)
            .where(*unchanged)
            .values(
                plan=plan_to_dict(plan),
                plan_revision=events.c.plan_revision + 1,
                state=state_to_dict(state),
                version=state.version,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    def activate(self, conn: Connection, event_id: int) -> None:
        """Make this event the active one (and no other)."""
        conn.execute(update(events).values(is_active=events.c.id == event_id))

    def load_state(self, event_id: int) -> tuple[Plan, CeremonyState]:
        """Return an event's plan and its latest committed state."""
        plan, record = self.load_state_record(event_id)
        return plan, self.state_of(record)

    def state_of(self, record: dict[str, Any]) -> CeremonyState:
        """Return the state stored as ``record``, reusing the points decoded before."""
        return state_from_dict(record, self._points)

    def load_state_record(
        self, event_id: int, version: int | None = None
    ) -> tuple[Plan, dict[str, Any]]:
        """Return an event's plan and its latest committed state as stored (a JSON dict).

        With ``version``, the caller read the committed version a moment ago: when this
        process holds the state at that version, it is returned without asking the
        database. For a change only, whose compare-and-set then fails if the version moved
        on since (every write of a state, a new plan's too, raises its version).
        The dict is shared with later readers: it must not be altered.
        """
        kept = self._records.get(event_id)
        if version is not None and kept is not None and kept[0][1] == version:
            plan = self._kept_plan((event_id, kept[0][0]))
            if plan is not None:
                return plan, kept[1]
        with self.reads.connect() as conn:
            row = conn.execute(
                select(events.c.plan_revision, events.c.version).where(events.c.id == event_id)
            ).one()
            kept = self._records.get(event_id)
            if kept is not None and kept[0] == (row.plan_revision, row.version):
                record = kept[1]
            else:
                row = conn.execute(
                    select(events.c.plan_revision, events.c.version, events.c.state).where(
                        events.c.id == event_id
                    )
                ).one()
                record = row.state
                self._records[event_id] = ((row.plan_revision, row.version), record)
            plan = self._plan(event_id, row.plan_revision, conn)
        return plan, record

    def _plan(self, event_id: int, revision: int, conn: Connection) -> Plan:
        """Return an event's checked plan at ``revision``, read and checked only once."""
        key = (event_id, revision)
        plan = self._kept_plan(key)
        if plan is not None:
            return plan
        data = conn.execute(
            select(events.c.plan).where(events.c.id == event_id, events.c.plan_revision == revision)
        ).scalar_one_or_none()
        if data is None:  # replaced in between: read the row as it is now
            row = conn.execute(
                select(events.c.plan_revision, events.c.plan).where(events.c.id == event_id)
            ).one()
            key, data = (event_id, row.plan_revision), row.plan
        return self._keep(key, plan_from_dict(data))

    def _kept_plan(self, key: tuple[int, int]) -> Plan | None:
        """Return the checked plan kept for (event id, revision), the newest now; or None."""
        with self._plans_lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
        return plan

    def _keep(self, key: tuple[int, int], plan: Plan) -> Plan:
        with self._plans_lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > PLANS_KEPT:
                self._plans.popitem(last=False)
        return plan

    def _stored_event(self, row) -> StoredEvent:  # noqa: ANN001
        key = (row.id, row.plan_revision)
        with self._plans_lock:
            plan = self._plans.get(key)
        return StoredEvent(
            id=row.id,
            slug=row.slug,
            plan=plan or self._keep(key, plan_from_dict(row.plan)),
            state=state_from_dict(row.state),
            is_active=row.is_active,
            is_archived=row.is_archived,
        )

    def plan_data(self, conn: Connection, event_id: int) -> dict[str, Any]:
        """Return an event's stored plan as the dict it was stored as."""
        return conn.execute(select(events.c.plan).where(events.c.id == event_id)).scalar_one()

    def plan_revision(self, event_id: int, conn: Connection | None = None) -> int:
        """Return the revision of an event's plan: 1 as loaded, one more at each replacement."""
        with _using(self.reads, conn) as c:
            return c.execute(
                select(events.c.plan_revision).where(events.c.id == event_id)
            ).scalar_one()

    def current_version(self, event_id: int) -> int:
        """Return the committed version of an event's state."""
        with self.reads.connect() as conn:
            return conn.execute(
                select(events.c.version).where(events.c.id == event_id)
            ).scalar_one()

    def save_state(
        self,
        event_id: int,
        state: CeremonyState,
        seen_version: int,
        now: datetime,
        archive: ArchivedRun | None = None,
        audit_entry: AuditEntry | None = None,
        audit_entries: Sequence[AuditEntry] = (),
        held_by: tuple[str, TokenHolder] | None = None,
    ) -> bool:
        """Store ``state`` if the stored version is still ``seen_version``; say if it was.

        A run the change ended (``archive``) and the audit log's entries for the change
        (``audit_entry``, or several changes' ``audit_entries``) are stored with it, in one
        transaction, so they are kept exactly when the change is. ``held_by``: a token's
        hash and the holder it had when this process last looked it up; the state is then
        stored only if that token still holds as it did and the event is still the active
        one, checked by the compare-and-set itself (no query before it).
        """
        entries = [audit_entry, *audit_entries] if audit_entry else list(audit_entries)
        record = state_to_dict(state, self._points)
        values = {
            "event_id": event_id,
            "seen_version": seen_version,
            "new_state": record,
            "new_version": state.version,
            "changed_at": now,
        }
        compare_and_set = COMPARE_AND_SET
        if held_by is not None:
            compare_and_set = COMPARE_AND_SET_HELD
            token_hash, holder = held_by
            values["token_hash"] = token_hash
            values["holder_event_id"] = holder.event_id
            values["holder_role"] = holder.role
            values["holder_point_id"] = holder.point_id
        if archive is None and self.engine.dialect.name == "postgresql":
            revision = self._save_in_one_statement(compare_and_set, values, entries)
            if revision is None:
                return False
            self._records[event_id] = ((revision, state.version), record)
            return True
        with self.engine.begin() as conn:
            revision = conn.execute(compare_and_set, values).scalar_one_or_none()
            if revision is None:
                return False
            if archive is not None:
                conn.execute(
                    insert(runs).values(
                        event_id=event_id,
                        number=archive.run.number,
                        kind=archive.run.kind,
                        started_at=archive.run.started_at,
                        ended_at=archive.ended_at,
                        record=state_to_dict(archive.record),
                    )
                )
            for entry in entries:
                self.add_audit_entry(conn, entry)
        self._records[event_id] = ((revision, state.version), record)
        return True

    def _save_in_one_statement(
        self, compare_and_set: Update, values: dict[str, Any], entries: list[AuditEntry]
    ) -> int | None:
        """Run the compare-and-set and its audit entries as one statement; return the revision.

        On PostgreSQL, in autocommit: the row's lock is held only while PostgreSQL runs the
        statement, never across a round trip to this process. Under load a process may
        take a while to send a transaction's next statement, and every other process's
        change of the ceremony waited on the row that long (a check-in storm at 3,500
        points ran at two changes a second). The entries are inserted only if the row was.
        """
        changed = compare_and_set.cte("changed")
        statement = select(changed.c.plan_revision)
        if entries:
            names = list(_audit_values(entries[0]))
            columns = [audit.c[name] for name in names]
            rows = [
                select(*[literal(values[c.name], c.type) for c in columns]).where(
                    exists(select(changed.c.plan_revision))
                )
                for values in map(_audit_values, entries)
            ]
            logged = insert(audit).from_select(
                columns, union_all(*rows) if len(rows) > 1 else rows[0]
            )
            statement = statement.add_cte(logged.cte("logged"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return conn.execute(statement, values).scalar_one_or_none()

    def archived_runs(self, event_id: int) -> list[ArchivedRunRow]:
        """Return every archived run of an event (without its record), in order."""
        with self.reads.connect() as conn:
            rows = conn.execute(
                select(runs.c.number, runs.c.kind, runs.c.started_at, runs.c.ended_at)
                .where(runs.c.event_id == event_id)
                .order_by(runs.c.number)
            ).all()
        return [
            ArchivedRunRow(row.number, row.kind, _utc(row.started_at), _utc(row.ended_at))
            for row in rows
        ]

    def archived_record(self, event_id: int, number: int) -> CeremonyState | None:
        """Return the whole record of an archived run, or None if there is no such run."""
        with self.reads.connect() as conn:
            record = conn.execute(
                select(runs.c.record).where(runs.c.event_id == event_id, runs.c.number == number)
            ).scalar_one_or_none()
        return state_from_dict(record) if record is not None else None

    # -- the audit log -------------------------------------------------------------------

    def add_audit_entry(self, conn: Connection, entry: AuditEntry) -> int:
        """Store one audit entry within ``conn``'s transaction; return its id."""
        return conn.execute(ADD_AUDIT_ENTRY, _audit_values(entry)).inserted_primary_key[0]

    def record_audit_entry(self, entry: AuditEntry) -> int:
        """Store one audit entry in a transaction of its own (a refusal changes nothing)."""
        with self.engine.begin() as conn:
            return self.add_audit_entry(conn, entry)

    def audit_entries(
        self,
        event_id: int,
        *,
        run_number: int | None = None,
        role: str | None = None,
        point_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Return an event's audit entries, newest first, filtered and paged.

        ``before_id`` pages on: only entries older than that one. ``limit`` is capped at
        ``AUDIT_PAGE_LIMIT``.
        """
        query = select(audit).where(audit.c.event_id == event_id)
        if run_number is not None:
            query = query.where(audit.c.run_number == run_number)
        if role is not None:
            query = query.where(audit.c.role == role)
        if point_id is not None:
            query = query.where(audit.c.point_id == point_id)
        if before_id is not None:
            query = query.where(audit.c.id < before_id)
        limit = max(1, min(limit, AUDIT_PAGE_LIMIT))
        with self.reads.connect() as conn:
            rows = conn.execute(query.order_by(audit.c.id.desc()).limit(limit)).all()
        return [AuditEntry(**{**row._mapping, "at": _utc(row.at)}) for row in rows]

    # -- tokens --------------------------------------------------------------------

    def replace_tokens(
        self,
        conn: Connection,
        event_id: int,
        hashes: dict[tuple[str, str | None], str],
        now: datetime,
    ) -> None:
        """Replace every token of an event: {(role, point_id): sha256 hex digest}."""
        self.set_setting(conn, TOKENS_STAMP, secrets.token_hex(8))
        conn.execute(delete(tokens).where(tokens.c.event_id == event_id))
        if hashes:
            conn.execute(
                insert(tokens),
                [
                    {
                        "event_id": event_id,
                        "role": role,
                        "point_id": point_id,
                        "token_hash": digest,
                        "created_at": now,
                    }
                    for (role, point_id), digest in hashes.items()
                ],
            )

    def token_holder(self, token_hash: str) -> TokenHolder | None:
        """Return who holds the token with this hash, or None."""
        with self.reads.connect() as conn:
            row = conn.execute(
                select(tokens.c.event_id, tokens.c.role, tokens.c.point_id).where(
                    tokens.c.token_hash == token_hash
                )
            ).first()
        return TokenHolder(row.event_id, row.role, row.point_id) if row else None

    def token_holders(self, token_hashes: Iterable[str]) -> dict[str, TokenHolder]:
        """Return who holds each of these tokens, by hash (a hash nobody holds is absent)."""
        wanted = list(dict.fromkeys(token_hashes))
        found: dict[str, TokenHolder] = {}
        with self.reads.connect() as conn:
            for start in range(0, len(wanted), TOKENS_PER_QUERY):
                rows = conn.execute(
                    select(
                        tokens.c.token_hash, tokens.c.event_id, tokens.c.role, tokens.c.point_id
                    ).where(tokens.c.token_hash.in_(wanted[start : start + TOKENS_PER_QUERY]))
                )
                for row in rows:
                    found[row.token_hash] = TokenHolder(row.event_id, row.role, row.point_id)
        return found

    def tokens_stamp(self) -> str | None:
        """Return a value that changes whenever any event's tokens are replaced."""
        return self.setting(TOKENS_STAMP)

    def token_roles(self, event_id: int) -> set[tuple[str, str | None]]:
        """Return the (role, point_id) pairs that have a token for this event."""
        with self.reads.connect() as conn:
            rows = conn.execute(
                select(tokens.c.role, tokens.c.point_id).where(tokens.c.event_id == event_id)
            )
            return {(r.role, r.point_id) for r in rows}

    # -- live connections (presence across processes) ------------------------------

    def add_connection(
        self, sid: str, event_id: int, point_id: str, process_id: str, now: datetime
    ) -> None:
        """Record that a page of a point is connected to this process."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(connections).values(
                    sid=sid,
                    event_id=event_id,
                    point_id=point_id,
                    process_id=process_id,
                    seen_at=now,
                    closed=False,
                )
            )

    def close_connection(self, sid: str, now: datetime) -> None:
        """Record that a page disconnected; its point stays present for the grace period."""
        with self.engine.begin() as conn:
            conn.execute(
                update(connections).where(connections.c.sid == sid).values(seen_at=now, closed=True)
            )

    def touch_connections(self, process_id: str, now: datetime) -> None:
        """Mark every open connection of this process as still alive."""
        with self.engine.begin() as conn:
            conn.execute(
                update(connections)
                .where(connections.c.process_id == process_id, ~connections.c.closed)
                .values(seen_at=now)
            )

    def prune_connections(self, older_than: datetime) -> None:
        """Delete connections not seen since ``older_than`` (closed, or of dead processes)."""
        with self.engine.begin() as conn:
            conn.execute(delete(connections).where(connections.c.seen_at < older_than))

    def close_process_connections(self, process_id: str, now: datetime) -> None:
        """Close every connection a process held (it is stopping)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(connections)
                .where(connections.c.process_id == process_id, ~connections.c.closed)
                .values(seen_at=now, closed=True)
            )

    def connected_points(self, event_id: int, seen_since: datetime) -> set[str]:
        """Return the points with a page connected and seen since ``seen_since``."""
        with self.reads.connect() as conn:
            rows = conn.execute(
                select(connections.c.point_id)
                .where(connections.c.event_id == event_id, connections.c.seen_at >= seen_since)
                .distinct()
            )
            return {r.point_id for r in rows}

    # -- calendar components -------------------------------------------------------

    def lock_event(self, conn: Connection, event_id: int) -> None:
        """Hold an event's row until ``conn`` commits, so that writers of it queue up.

        SQLite already lets one writer in at a time; PostgreSQL locks the row.
        """
        conn.execute(select(events.c.id).where(events.c.id == event_id).with_for_update())

    def calendar_rows(self, event_id: int, conn: Connection | None = None) -> list[CalendarRow]:
        """Return every calendar component recorded for an event, ordered by key."""
        with _using(self.reads, conn) as c:
            rows = c.execute(
                select(calendar_components)
                .where(calendar_components.c.event_id == event_id)
                .order_by(calendar_components.c.key)
            ).all()
        return [
            CalendarRow(
                key=row.key,
                sequence=row.sequence,
                fingerprint=row.fingerprint,
                content_hash=row.content_hash,
                component=row.component,
                created_at=_utc(row.created_at),
                revised_at=_utc(row.revised_at),
            )
            for row in rows
        ]

    def save_calendar_row(self, conn: Connection, event_id: int, row: CalendarRow) -> None:
        """Store a calendar component's record, adding it or replacing the earlier one."""
        values = {
            "sequence": row.sequence,
            "fingerprint": row.fingerprint,
            "content_hash": row.content_hash,
            "component": row.component,
            "revised_at": row.revised_at,
        }
        result = conn.execute(
            update(calendar_components)
            .where(
                calendar_components.c.event_id == event_id,
                calendar_components.c.key == row.key,
            )
            .values(**values)
        )
        if result.rowcount == 0:
            conn.execute(
                insert(calendar_components).values(
                    event_id=event_id, key=row.key, created_at=row.created_at, **values
                )
            )

    # -- deadline submissions ------------------------------------------------------

    def add_submission(
        self,
        event_id: int,
        deadline_id: str,
        point_id: str,
        submitted_at: datetime,
        note: str,
        document: tuple[str, str, bytes, str] | None = None,
        audit_entry: AuditEntry | None = None,
    ) -> Submission:
        """Record a submission; ``document`` is (file name, content type, bytes, sha256).

        ``audit_entry``, if given, is stored in the same transaction.
        """
        values: dict[str, Any] = {
            "event_id": event_id,
            "deadline_id": deadline_id,
            "point_id": point_id,
            "submitted_at": submitted_at,
            "note": note,
        }
        if document is not None:
            file_name, content_type, content, digest = document
            values.update(
                file_name=file_name,
                content_type=content_type,
                size=len(content),
                sha256=digest,
                content=content,
            )
        with self.engine.begin() as conn:
            new_id = conn.execute(insert(deadline_submissions).values(**values))
            submission_id = new_id.inserted_primary_key[0]
            if audit_entry is not None:
                self.add_audit_entry(conn, audit_entry)
        values.pop("content", None)
        values.pop("event_id")
        return Submission(id=submission_id, **{**values, "submitted_at": _utc(submitted_at)})

    def submissions(self, event_id: int, point_id: str | None = None) -> list[Submission]:
        """Return an event's submissions (without their bytes), oldest first."""
        columns = [c for c in deadline_submissions.c if c.name not in ("content", "event_id")]
        query = select(*columns).where(deadline_submissions.c.event_id == event_id)
        if point_id is not None:
            query = query.where(deadline_submissions.c.point_id == point_id)
        query = query.order_by(deadline_submissions.c.submitted_at, deadline_submissions.c.id)
        with self.reads.connect() as conn:
            rows = conn.execute(query).all()
        return [_submission(row) for row in rows]

    def document(self, event_id: int, submission_id: int) -> Document | None:
        """Return a submitted document with its bytes, or None (no such one, or no file)."""
        with self.reads.connect() as conn:
            row = conn.execute(
                select(deadline_submissions).where(
                    deadline_submissions.c.event_id == event_id,
                    deadline_submissions.c.id == submission_id,
                    deadline_submissions.c.content.is_not(None),
                )
            ).first()
        return Document(_submission(row), bytes(row.content)) if row else None

    # -- settings ------------------------------------------------------------------

    def setting(self, name: str, conn: Connection | None = None) -> str | None:
        """Return a stored setting, or None."""
        with _using(self.reads, conn) as c:
            return c.execute(
                select(settings.c.value).where(settings.c.name == name)
            ).scalar_one_or_none()

    def set_setting(self, conn: Connection, name: str, value: str) -> None:
        """Store a setting, replacing any earlier value (in one statement: two at once are
        no conflict)."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(settings).values(name=name, value=value)
        conn.execute(upsert.on_conflict_do_update(index_elements=["name"], set_={"value": value}))


@contextlib.contextmanager
def _using(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    if conn is not None:
        yield conn
    else:
        with engine.connect() as own:
            yield own


def _submission(row) -> Submission:  # noqa: ANN001
    return Submission(
        id=row.id,
        deadline_id=row.deadline_id,
        point_id=row.point_id,
        submitted_at=_utc(row.submitted_at),
        note=row.note,
        file_name=row.file_name,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
    )


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    """Return an audit entry's column values: its fields, the id aside (the database's)."""
    return {f.name: getattr(entry, f.name) for f in fields(AuditEntry) if f.name != "id"}


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time is written in UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
