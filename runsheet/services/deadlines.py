"""The deadlines board: points deliver their documents by the plan's deadlines.

A deadline names the points that must deliver (``deadlines[].points`` in the plan). Such a
point submits a document (checked by its content: ``services.documents``) or marks the
deadline done, each with a note; every submission is kept, the latest is the current one.
The organizer's board says, per deadline and per point, who delivered on time, late, not
yet, or not at all (``domain.deadlines``). Documents live in the database, so every process
of an installation serves the same ones. Each submission is recorded in the audit log
(``submit_document`` or ``mark_done``) in the transaction that stores it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime
from typing import Any

from ..domain.ceremony import CeremonyState
from ..domain.deadlines import STATUSES, days_left, due_end, local_today, status_of
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.plan import Deadline, Plan, Point
from ..storage.store import AuditEntry, Document, Store, Submission
from .audit import AuditNote, run_number_of
from .documents import check_document, safe_file_name
from .payloads import Field, parse_payload
from .tokens import Actor

# Submission ids stay within the database's 32-bit integer column; a larger one names none.
MAX_SUBMISSION_ID = 2**31 - 1
NOTE = Field(str, max_length=2000, description="What the organizer should know about it.")
DONE_FIELDS = {
    "done": Field(bool, required=True, description="true: the point delivered it otherwise."),
    "note": NOTE,
}


def document_path(submission_id: int) -> str:
    """Return the API path of a submitted document."""
    return f"/api/v1/deadlines/documents/{submission_id}"


def deadline_for_point(plan: Plan, actor: Actor, point_id: str, deadline_id: str) -> Deadline:
    """Return the deadline a point may submit for; raise Forbidden or NotFound.

    Called before the request body is read: a caller that may not submit is refused
    without the server reading its upload.
    """
    if actor.role != "point" or actor.point_id != point_id:
        raise Forbidden("only this point's own link may submit its documents")
    deadline = plan.deadline(deadline_id)
    if deadline is None:
        raise NotFound(f"there is no deadline {deadline_id[:80]!r}", field="deadline_id")
    if all(p.id != point_id for p in plan.delivering_points(deadline)):
        raise NotFound(
            f"the deadline {deadline_id!r} is not one this point delivers by",
            field="deadline_id",
        )
    return deadline


def check_note(note: Any) -> str:  # noqa: ANN401
    """Return a submission's note, checked (text of at most 2,000 characters)."""
    return parse_payload({"note": note}, {"note": NOTE})["note"] if note else ""


def _audit_entry(
    actor: Actor,
    action: str,
    summary: dict[str, Any],
    event_id: int,
    state: CeremonyState,
    now: datetime,
) -> AuditEntry:
    """Return the audit entry of a submission (the ceremony's state is left as it was)."""
    note = AuditNote.of(actor, action, summary)
    return note.entry(event_id, run_number_of(state), now, state.version, state.version)


def submit_document(
    store: Store,
    event_id: int,
    deadline: Deadline,
    actor: Actor,
    state: CeremonyState,
    upload: tuple[bytes, str | None, str | None],
    note: str,
    now: datetime,
) -> dict[str, Any]:
    """Record ``actor``'s document for a deadline; return the new (current) submission.

    ``upload`` is (content, file name, declared type); the type is told by the content.
    """
    content, file_name, declared_type = upload
    kind = check_document(content, file_name or "", declared_type)
    stored_name = safe_file_name(file_name, kind)
    digest = hashlib.sha256(content).hexdigest()
    note = check_note(note)
    summary = {"deadline_id": deadline.id, "file_name": stored_name, "size": len(content)}
    submission = store.add_submission(
        event_id,
        deadline.id,
        actor.point_id,
        now,
        note,
        document=(stored_name, kind.media_type, content, digest),
        audit_entry=_audit_entry(actor, "submit_document", summary, event_id, state, now),
    )
    return submission_entry(submission, current=True)


def mark_done(
    store: Store,
    event_id: int,
    deadline: Deadline,
    actor: Actor,
    state: CeremonyState,
    payload: Any,  # noqa: ANN401
    now: datetime,
) -> dict[str, Any]:
    """Record that ``actor``'s point delivered otherwise (``{"done": true, "note"}``)."""
    values = parse_payload(payload, DONE_FIELDS)
    if values["done"] is not True:
        raise InvalidInput("done: must be true (a submission cannot be taken back)", field="done")
    note = values.get("note", "")
    if not note:
        raise InvalidInput("note: say how and where it was delivered", field="note")
    summary = {"deadline_id": deadline.id, "done": True, "note": note}
    entry = _audit_entry(actor, "mark_done", summary, event_id, state, now)
    submission = store.add_submission(
        event_id, deadline.id, actor.point_id, now, note, audit_entry=entry
    )
    return submission_entry(submission, current=True)


def submission_entry(submission: Submission, current: bool) -> dict[str, Any]:
    """Return a submission as the API shows it (``shapes.SubmissionEntry``)."""
    return {
        "id": submission.id,
        "deadline_id": submission.deadline_id,
        "point_id": submission.point_id,
        "submitted_at": submission.submitted_at.isoformat(),
        "kind": "document" if submission.has_document else "done",
        "note": submission.note,
        "current": current,
        "file_name": submission.file_name,
        "content_type": submission.content_type,
        "size": submission.size,
        "sha256": submission.sha256,
        "download_url": document_path(submission.id) if submission.has_document else None,
    }


def _facts(plan: Plan, deadline: Deadline, now: datetime) -> dict[str, Any]:
    zone = plan.event.zone
    return {
        "id": deadline.id,
        "title": deadline.title,
        "due_on": deadline.due_on.isoformat(),
        "due_end": due_end(deadline, zone).isoformat(),
        "days_left": days_left(deadline, now, zone),
        "responsible": deadline.responsible,
        "description": deadline.description,
    }


def _grouped(submissions: list[Submission]) -> dict[tuple[str, str], list[Submission]]:
    grouped: dict[tuple[str, str], list[Submission]] = defaultdict(list)
    for submission in submissions:  # oldest first
        grouped[(submission.deadline_id, submission.point_id)].append(submission)
    return grouped


def _cell(
    plan: Plan, deadline: Deadline, point: Point, history: list[Submission], now: datetime
) -> dict[str, Any]:
    first = history[0].submitted_at if history else None
    return {
        "deadline_id": deadline.id,
        "point_id": point.id,
        "status": status_of(deadline, first, now, plan.event.zone),
        "first_submitted_at": first.isoformat() if first else None,
        "current": submission_entry(history[-1], current=True) if history else None,
        "submissions": len(history),
    }


def _counts(cells: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for cell in cells:
        counts[cell["status"]] += 1
    return counts


def _times(plan: Plan, now: datetime) -> dict[str, str]:
    zone = plan.event.zone
    return {
        "today": local_today(now, zone).isoformat(),
        "timezone": plan.event.timezone,
        "server_time": now.astimezone(zone).isoformat(),
    }


def deadline_board(store: Store, event_id: int, plan: Plan, now: datetime) -> dict[str, Any]:
    """Return the organizer's board (``shapes.DeadlineBoard``): per deadline and per point."""
    grouped = _grouped(store.submissions(event_id))
    by_point: dict[str, list[dict[str, Any]]] = defaultdict(list)
    deadlines = []
    for deadline in plan.deadlines:
        cells = []
        for point in plan.delivering_points(deadline):
            cell = _cell(plan, deadline, point, grouped.get((deadline.id, point.id), []), now)
            cells.append(cell)
            by_point[point.id].append(cell)
        if cells:
            entry = _facts(plan, deadline, now)
            deadlines.append({**entry, "counts": _counts(cells), "points": cells})
    points = [
        {
            "id": point.id,
            "name": point.name,
            "kind": point.kind,
            "counts": _counts(by_point[point.id]),
            "deadlines": by_point[point.id],
        }
        for point in plan.points
        if by_point[point.id]
    ]
    every_cell = [cell for d in deadlines for cell in d["points"]]
    return {
        **_times(plan, now),
        "counts": _counts(every_cell),
        "deadlines": deadlines,
        "points": points,
    }


def point_deadlines(
    store: Store, event_id: int, plan: Plan, point_id: str, now: datetime
) -> dict[str, Any]:
    """Return a point's own deadlines and submissions (``shapes.PointDeadlines``)."""
    grouped = _grouped(store.submissions(event_id, point_id=point_id))
    deadlines = []
    for deadline in plan.deadlines_of(point_id):
        history = grouped.get((deadline.id, point_id), [])
        first = history[0].submitted_at if history else None
        deadlines.append(
            {
                **_facts(plan, deadline, now),
                "status": status_of(deadline, first, now, plan.event.zone),
                "first_submitted_at": first.isoformat() if first else None,
                "submissions": [
                    submission_entry(s, current=index == 0)
                    for index, s in enumerate(reversed(history))
                ],
            }
        )
    return {"point_id": point_id, **_times(plan, now), "deadlines": deadlines}


def document_for(store: Store, event_id: int, actor: Actor, submission_id: int) -> Document:
    """Return a submitted document to the organizer or the point that sent it."""
    if actor.role not in ("organizer", "point"):
        raise Forbidden("only the organizer and the point that sent it may download a document")
    in_range = 0 < submission_id <= MAX_SUBMISSION_ID
    document = store.document(event_id, submission_id) if in_range else None
    theirs = document is not None and (
        actor.role == "organizer" or document.submission.point_id == actor.point_id
    )
    if not theirs:
        # Another point's document is "not found" to a point: ids do not tell what exists.
        raise NotFound(f"there is no document {submission_id}", field="submission_id")
    return document
