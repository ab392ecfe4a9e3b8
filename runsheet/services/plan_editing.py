"""Edit the active event's plan: read it as a caller may see it, check an edit, save it.

An edit is the whole plan, in the plan file's shape, made from one plan revision
(``events.plan_revision``). ``check_plan`` runs the plan loader's own checks and, while the
ceremony runs, the rules of ``domain.plan_edits``; ``save_plan`` stores the plan only if its
revision is still the one the edit was made from (compare-and-set in the database, so of
two organizers saving at once one wins and the other hears ``StalePlan``), fits the live
state to it (``Ceremony.adopt_plan``), raises the calendar SEQUENCEs of what changed and
publishes the new state to every screen, as an action does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..calendar.sequences import record_plan
from ..domain.ceremony import Ceremony, CeremonyState
from ..domain.errors import Conflict, Forbidden, RunsheetError
from ..domain.plan import Plan
from ..domain.plan_edits import live_edit_refusals
from ..plans import PlanError, Problem, plan_from_dict, plan_to_dict
from ..plans.workbook import plan_from_workbook, plan_with_agenda_csv
from .audit import AuditNote, run_number_of
from .ceremony import CeremonyService, Current
from .clock import reading_after
from .conference import without_passcodes
from .plans import plan_summary, store_plan_tokens
from .tokens import Actor

MAX_ATTEMPTS = 20
# People's e-mail addresses stay private: the plan as served to others leaves these out.
PRIVATE_PLAN_KEYS = ("organizer_email", "contact_email")


class StalePlan(Conflict):
    """An edit made from a plan revision that another save has replaced since."""

    kind = "stale_plan"

    def __init__(self, expected: int, revision: int) -> None:
        super().__init__(
            f"the plan was saved by someone else since revision {expected}; it is now at "
            f"revision {revision}: reload it and make the change again",
            field="expected_revision",
        )
        self.revision = revision


class InvalidPlan(RunsheetError):
    """An edited plan that cannot be used; ``problems`` lists every mistake."""

    kind = "invalid_plan"

    def __init__(self, problems: list[Problem]) -> None:
        count = len(problems)
        super().__init__(f"the plan has {count} problem{'s' if count != 1 else ''}")
        self.problems = problems


@dataclass(frozen=True)
class SavedPlan:
    """The state after a plan was saved, and the plan's new revision."""

    current: Current
    revision: int


def plan_as_seen_by(plan: Plan, actor: Actor) -> dict[str, Any]:
    """Return the plan in the file's shape as ``actor`` may see it.

    The organizer sees all of it; everyone else sees it without people's e-mail addresses
    and without the video conference's passcodes (``services.conference``).
    """
    data = plan_to_dict(plan)
    if actor.role == "organizer":
        return data
    data = without_passcodes(data)
    for section in (data.get("event", {}), *data.get("points", [])):
        for key in PRIVATE_PLAN_KEYS:
            section.pop(key, None)
    return data


def require_organizer(actor: Actor) -> None:
    """Refuse anyone but the organizer: only the organizer edits the plan."""
    if actor.role != "organizer":
        raise Forbidden("only the organizer may edit the plan")


def parse_edit(data: Any, source: str = "<edited plan>") -> Plan:  # noqa: ANN401
    """Check plan data with the plan loader's checks; raise InvalidPlan with every problem."""
    try:
        return plan_from_dict(data, source)
    except PlanError as error:
        raise InvalidPlan(error.problems) from None


def workbook_edit(content: bytes) -> Plan:
    """Read an edit from xlsx bytes; raise InvalidPlan (with cells) or NotAWorkbook."""
    try:
        return plan_from_workbook(content, "plan.xlsx")
    except PlanError as error:
        raise InvalidPlan(error.problems) from None


def agenda_csv_edit(plan: Plan, text: str) -> Plan:
    """Return ``plan`` with the programme of a CSV; raise InvalidPlan with rows and columns."""
    try:
        return plan_with_agenda_csv(plan, text, "agenda.csv")
    except PlanError as error:
        raise InvalidPlan(error.problems) from None


def check_plan(current: Current, plan: Plan) -> None:
    """Refuse (InvalidPlan) an edit that rewrites what the running ceremony has done."""
    refusals = edit_problems(current.plan, plan, current.state)
    if refusals:
        raise InvalidPlan(refusals)


def edit_problems(old: Plan, new: Plan, state: CeremonyState) -> list[Problem]:
    """Return, as plan problems, what the running ceremony refuses of an edit."""
    return [
        Problem(r.path, r.message, None, "", r.code, r.params)
        for r in live_edit_refusals(old, new, state)
    ]


def save_plan(
    ceremony: CeremonyService,
    actor: Actor,
    plan: Plan,
    expected_revision: int,
    secret_key: str,
) -> SavedPlan:
    """Store ``plan`` as the active event's next revision if it is still ``expected_revision``.

    Only the organizer saves (Forbidden for anyone else). Raise StalePlan when another save
    came first, InvalidPlan when the running ceremony refuses the change. The new state
    reaches every subscriber (every screen) at once. Every save of the editor, its JSON,
    workbook and CSV alike, comes through here: the audit log records it as ``save_plan`` by
    ``actor`` in the transaction that stores it, and a refused save with why.
    """
    try:
        require_organizer(actor)
        return _save_plan(ceremony, plan, expected_revision, secret_key, actor)
    except RunsheetError as error:
        ceremony.log_refusal(actor, "save_plan", plan_summary(plan), error)
        raise


def _save_plan(
    ceremony: CeremonyService, plan: Plan, expected_revision: int, secret_key: str, actor: Actor
) -> SavedPlan:
    store = ceremony.store
    event_id = ceremony.current().event_id
    for _ in range(MAX_ATTEMPTS):
        revision = store.plan_revision(event_id)
        if revision != expected_revision:
            raise StalePlan(expected_revision, revision)
        old_plan, state = store.load_state(event_id)
        if plan == old_plan:  # saved as it was: nothing to store, nobody to tell
            return SavedPlan(Current(event_id, old_plan, state), revision)
        check_plan(Current(event_id, old_plan, state), plan)
        seen_version = state.version
        run_number = run_number_of(state)
        now = reading_after(ceremony.clock, state.updated_at)
        Ceremony(plan, state).adopt_plan(now)
        with store.transaction() as conn:
            if not store.replace_plan(
                conn, event_id, plan, state, seen_version, now, seen_revision=revision
            ):
                conn.rollback()
                continue  # an action or a save came in between: look again
            record_plan(store, conn, event_id, plan, now)
            store_plan_tokens(store, conn, event_id, plan, secret_key, now)
            summary = {**plan_summary(plan), "revision": revision + 1}
            entry = AuditNote.of(actor, "save_plan", summary).entry(
                event_id, run_number, now, seen_version, state.version
            )
            store.add_audit_entry(conn, entry)
        current = Current(event_id, plan, state)
        ceremony.announce(current)
        return SavedPlan(current, revision + 1)
    raise Conflict("the ceremony kept changing while the plan was saved; try again")
