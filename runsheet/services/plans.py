"""Install plans into the database, keep their tokens, and tell who holds which link."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..calendar.sequences import record_plan
from ..domain.ceremony import Ceremony, new_state
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.plan import Plan
from ..plans import PlanError, Problem
from ..storage.store import Store
from .audit import AuditNote, run_number_of
from .tokens import ROLES, SYSTEM, Actor, TokenGenerations, derive_tokens, hash_token

MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Installed:
    """What installing a plan did."""

    event_id: int
    slug: str
    created: bool


def _generation_key(slug: str) -> str:
    return f"tokens:{slug}:generation"


def _role_generations_key(slug: str) -> str:
    return f"tokens:{slug}:role-generations"


def token_generation(store: Store, slug: str, conn=None) -> int:  # noqa: ANN001
    """Return the current token generation of an event (1 until rotated)."""
    return int(store.setting(_generation_key(slug), conn) or 1)


def token_generations(store: Store, slug: str, conn=None) -> TokenGenerations:  # noqa: ANN001
    """Return the generation of every holder's token of an event."""
    roles = json.loads(store.setting(_role_generations_key(slug), conn) or "{}")
    return TokenGenerations(token_generation(store, slug, conn), roles)


def _store_generations(store: Store, conn, slug: str, generations: TokenGenerations) -> None:  # noqa: ANN001
    store.set_setting(conn, _generation_key(slug), str(generations.event))
    store.set_setting(conn, _role_generations_key(slug), json.dumps(dict(generations.roles)))


def plan_summary(plan: Plan) -> dict:
    """Return what the audit log says of a plan that was installed or saved."""
    return {
        "slug": plan.event.slug,
        "title": plan.event.title[:120],
        "points": len(plan.points),
        "items": len(plan.agenda),
    }


def install_plan(
    store: Store,
    plan: Plan,
    secret_key: str,
    now: datetime,
    activate: bool = True,
    only_new: bool = False,
    actor: Actor = SYSTEM,
) -> Installed:
    """Store a plan (new, or replacing the plan of the same slug) and its tokens.

    Raise PlanError, saying what the database answered, if the database refuses it, or if
    the plan would make an archived event active. With ``only_new``, raise Conflict if an
    event with the plan's slug exists already (it is left as it was). The audit log records
    it as ``load_plan`` by ``actor`` (e.g. the organizer on the command line), in the same
    transaction.
    """
    try:
        return _install(store, plan, secret_key, now, activate, only_new, actor)
    except SQLAlchemyError as error:
        if only_new and isinstance(error, IntegrityError):  # created between look and insert
            raise Conflict(f"an event with the slug {plan.event.slug!r} exists already") from None
        message = f"could not be stored in the database: {database_reason(error)}"
        problem = Problem("", message, None, plan.event.slug)
        raise PlanError([problem]) from None


def database_reason(error: SQLAlchemyError) -> str:
    """Return the first line of what the database said, without SQL or parameters."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _install(
    store: Store,
    plan: Plan,
    secret_key: str,
    now: datetime,
    activate: bool,
    only_new: bool,
    actor: Actor,
) -> Installed:
    for _ in range(MAX_ATTEMPTS):
        with store.transaction() as conn:
            existing = store.event_by_slug(plan.event.slug, conn)
            if existing is not None and only_new:
                raise Conflict(f"an event with the slug {plan.event.slug!r} exists already")
            if existing is not None and activate and existing.is_archived:
                message = (
                    "is an archived event; restore it first (`runsheet restore SLUG`), "
                    "or load it with --no-activate"
                )
                raise PlanError([Problem("event.slug", message, None, plan.event.slug)])
            if existing is None:
                state = new_state(plan)
                state.version = 1
                state.run_version = 1
                state.updated_at = now
                event_id = store.add_event(conn, plan, state, now)
                seen_version, run_number = None, run_number_of(state)
            else:
                event_id, state = existing.id, existing.state
                seen_version, run_number = state.version, run_number_of(state)
                Ceremony(plan, state).adopt_plan(now)
                if not store.replace_plan(conn, event_id, plan, state, seen_version, now):
                    conn.rollback()
                    continue  # the ceremony changed meanwhile: adapt the newer state
            record_plan(store, conn, event_id, plan, now)
            generations = token_generations(store, plan.event.slug, conn)
            _store_token_hashes(store, conn, event_id, plan, secret_key, generations, now)
            if activate:
                store.activate(conn, event_id)
            summary = {**plan_summary(plan), "created": existing is None, "activated": activate}
            note = AuditNote.of(actor, "load_plan", summary)
            entry = note.entry(event_id, run_number, now, seen_version, state.version)
            store.add_audit_entry(conn, entry)
        return Installed(event_id, plan.event.slug, existing is None)
    raise Conflict("the ceremony kept changing while the plan was loading; try again")


def rotate_tokens(
    store: Store,
    slug: str,
    secret_key: str,
    now: datetime,
    role: str | None = None,
    point_id: str | None = None,
    actor: Actor = SYSTEM,
) -> TokenGenerations:
    """Replace tokens of an event, so that their earlier links stop working.

    Every token when ``role`` is None; else only that role's ("organizer", "mc", or
    "point": every point's, or only ``point_id``'s). Every other link keeps working. The
    audit log records it as ``rotate_tokens`` by ``actor``, in the same transaction.
    """
    if role is None and point_id is not None:
        raise InvalidInput("point_id: needs role point", field="point_id")
    if role is not None and role not in ROLES:
        raise InvalidInput(f"role: must be one of {', '.join(ROLES)}", field="role")
    if point_id is not None and role != "point":
        raise InvalidInput("point_id: only the point role has one", field="point_id")
    with store.transaction() as conn:
        stored = store.event_by_slug(slug, conn)
        if stored is None:
            raise NotFound(f"no event with slug {slug!r}")
        if point_id is not None and point_id not in {p.id for p in stored.plan.points}:
            raise NotFound(f"no point {point_id[:60]!r} in this event", field="point_id")
        store.lock_event(conn, stored.id)  # two rotations at once both count
        generations = _rotate(store, conn, stored, secret_key, now, role, point_id)
        if role == "organizer":
            # An organizer token of any event opens the active one: rotate them all, or the
            # organizer's old link of another event would still get in.
            for other in store.event_rows(conn):
                if other.slug != slug:
                    _rotate(
                        store, conn, store.event_by_slug(other.slug, conn), secret_key, now, role
                    )
        summary = {"role": role or "all", "point_id": point_id}
        version = stored.state.version
        entry = AuditNote.of(actor, "rotate_tokens", summary).entry(
            stored.id, run_number_of(stored.state), now, version, version
        )
        store.add_audit_entry(conn, entry)
    return generations


def _rotate(store, conn, stored, secret_key, now, role, point_id=None) -> TokenGenerations:  # noqa: ANN001
    generations = token_generations(store, stored.slug, conn).rotated(role, point_id)
    _store_generations(store, conn, stored.slug, generations)
    _store_token_hashes(store, conn, stored.id, stored.plan, secret_key, generations, now)
    return generations


def ensure_token_hashes(store: Store, secret_key: str, now: datetime) -> None:
    """Store the missing tokens of every event (a role added since it was loaded).

    Tokens derive from the key and the generation, so the ones already handed out stay
    valid; only the roles without a stored hash gain one.
    """
    for slug, _title, _active in store.list_events():
        event = store.event_by_slug(slug)
        generation = token_generations(store, slug)
        expected = set(derive_tokens(secret_key, event.plan, generation))
        if expected - store.token_roles(event.id):
            with store.transaction() as conn:
                _store_token_hashes(store, conn, event.id, event.plan, secret_key, generation, now)


def store_plan_tokens(
    store: Store, conn: Connection, event_id: int, plan: Plan, secret_key: str, now: datetime
) -> None:
    """Store the token hashes of a changed plan's roles (a point added gains one).

    Each role keeps its generation (one rotated alone keeps its own), so no link changes.
    """
    generations = token_generations(store, plan.event.slug, conn)
    _store_token_hashes(store, conn, event_id, plan, secret_key, generations, now)


def _store_token_hashes(store, conn, event_id, plan, secret_key, generation, now) -> None:  # noqa: ANN001
    if isinstance(generation, int):
        # Given the event's generation alone (as callers did before roles could be rotated
        # one by one): the roles rotated alone keep their own, or their old links would
        # work again.
        generation = token_generations(store, plan.event.slug, conn)
    tokens = derive_tokens(secret_key, plan, generation)
    hashes = {role: hash_token(token) for role, token in tokens.items()}
    store.replace_tokens(conn, event_id, hashes, now)


@dataclass(frozen=True)
class Links:
    """Every role's link to its page, each carrying its token."""

    organizer: str
    mc: str
    points: dict[str, str]
    public: str
    stage: str

    def as_dict(self) -> dict:
        """Return the links in the shape of ``runsheet links --json``."""
        return {
            "organizer": self.organizer,
            "mc": self.mc,
            "points": dict(self.points),
            "public": self.public,
            "stage": self.stage,
        }


def role_links(store: Store, plan: Plan, secret_key: str, base_url: str) -> Links:
    """Return the link of every role of an event."""
    base = base_url.rstrip("/")
    tokens = derive_tokens(secret_key, plan, token_generations(store, plan.event.slug))

    def with_token(path: str, role: str, point_id: str | None = None) -> str:
        return f"{base}{path}?token={quote(tokens[(role, point_id)])}"

    return Links(
        organizer=with_token("/organizer", "organizer"),
        mc=with_token("/mc", "mc"),
        points={p.id: with_token(f"/points/{p.id}", "point", p.id) for p in plan.points},
        public=f"{base}/",
        stage=f"{base}/stage",
    )
