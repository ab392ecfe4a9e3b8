"""The database schema: one SQLAlchemy ``MetaData`` that every storage module shares."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

# One row per loaded plan. ``state`` is the live ceremony state as JSON and ``version``
# its version, kept in a column of its own so that compare-and-set is a single
# ``UPDATE ... WHERE version = :seen`` in the database.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("plan", JSON, nullable=False),
    # Rises by one whenever ``plan`` is replaced, so a process can keep the checked plan
    # and skip reading and checking it again while the revision stays the same.
    Column("plan_revision", Integer, nullable=False, default=1, server_default="1"),
    Column("state", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False, default=False),
    # An archived event is kept, listed as archived, and cannot be made active until it is
    # restored (the active one cannot be archived).
    Column("is_archived", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Access tokens, stored only as SHA-256 hashes. ``role`` is "mc" or "point".
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(10), nullable=False),
    Column("point_id", String(100), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Pages of connection points that are connected now, whichever process serves them;
# a process refreshes ``seen_at`` of its own rows, so rows of a dead process go stale.
connections = Table(
    "connections",
    metadata,
    Column("sid", String(100), primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("point_id", String(100), nullable=False),
    Column("process_id", String(100), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
)

# Key-value settings of the installation (e.g. the generated secret key).
settings = Table(
    "settings",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    UniqueConstraint("name"),
)

# Calendar components as last published (``runsheet.calendar.sequences`` decides what they
# hold; ``storage.store`` reads and writes them): one row
# per event and component key, with its SEQUENCE, the hashes that tell what changed, and the
# component itself, so an item removed from the plan can still be published as cancelled.
calendar_components = Table(
    "calendar_components",
    metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("sequence", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # time, place, title, status
    Column("content_hash", String(64), nullable=False),  # every fact
    Column("component", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revised_at", DateTime(timezone=True), nullable=False),  # last change of any fact
)

# Runs of the ceremony that ended (a rehearsal, or a run that was reset), each with its whole
# record: the live state as it stood when it ended. Nothing is ever deleted from here.
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("record", JSON, nullable=False),
    UniqueConstraint("event_id", "number"),
)

# What points delivered by the plan's deadlines: one row per submission, never replaced or
# deleted (a later one becomes the current one). A document is kept in ``content`` (SQLite
# BLOB, PostgreSQL bytea), so every process serves it; a "done" mark has no document.
deadline_submissions = Table(
    "deadline_submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("deadline_id", String(100), nullable=False),
    Column("point_id", String(100), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("file_name", String(255), nullable=True),
    Column("content_type", String(100), nullable=True),
    Column("size", Integer, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("content", LargeBinary, nullable=True),
    Index("ix_deadline_submissions_event_point", "event_id", "point_id"),
)

# Who did what, when, through which channel, and what it changed: one row per action done
# or refused (see ``services.audit``), written in the same transaction as the change it
# records, so a change is logged exactly when it is kept. ``run_number`` is the run the
# action belongs to (the run under way, else the one to come), so an archived rehearsal's
# entries stay its own. Nothing is ever updated here.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("run_number", Integer, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("role", String(20), nullable=False),  # organizer, mc, point, public, system
    Column("point_id", String(100), nullable=True),
    Column("console", String(100), nullable=True),
    Column("channel", String(20), nullable=False),  # http, socket, cli, editor, system
    Column("action", String(40), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("version_before", Integer, nullable=True),
    Column("version_after", Integer, nullable=True),
    Column("outcome", String(10), nullable=False),  # done, refused
    Column("error", Text, nullable=True),
    Column("error_kind", String(40), nullable=True),
    # The log is read newest first, for one event, often for one run, role or point.
    Index("audit_event_id", "event_id", "id"),
)
