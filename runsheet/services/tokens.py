"""Access tokens: one for the organizer, one for the MC, one per connection point.

A token is an HMAC of the installation's secret key, the event, a generation number and
the role, so it is unguessable without the key, the database holds only its SHA-256 hash,
and ``runsheet links`` can print it again from the key. Rotating every token raises the
event's generation, which makes every earlier link stop working; rotating one role's (the
organizer's, the MC's, every point's, or one point's) gives that role a generation of its
own, so only its link changes. A holder's generation only ever rises, so no rotation can
bring an earlier link back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from ..domain.errors import OtherEvent, Unauthenticated
from ..domain.plan import Plan
from ..storage.store import Store, TokenHolder


@dataclass(frozen=True)
class Actor:
    """Who is acting: the organizer, the MC, a connection point, or a public viewer."""

    role: str  # one of ROLES, or "public"
    point_id: str | None = None
    # The console's own name (e.g. "Laptop phòng A"), told by the page or the API caller;
    # not part of who the actor is, so it plays no part in comparing actors.
    console: str | None = field(default=None, compare=False)
    # The way the action came in, for the audit log: one of CHANNELS. Not part of who the
    # actor is either: the MC on the HTTP API is the MC on a socket.
    channel: str | None = field(default=None, compare=False)

    def at_console(self, console: str | None) -> Actor:
        """Return this actor, acting from the named console."""
        return replace(self, console=console or None)

    def via(self, channel: str) -> Actor:
        """Return this actor, acting through ``channel`` (one of CHANNELS)."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        return replace(self, channel=channel)

    @property
    def runs_ceremony(self) -> bool:
        """Say whether this actor may do what the MC may (the MC and the organizer)."""
        return self.role in CEREMONY_ROLES

    @property
    def label(self) -> str:
        """Return a short name for logs and rooms, e.g. ``point:thoi-an``."""
        return f"point:{self.point_id}" if self.role == "point" else self.role


PUBLIC = Actor("public")
TOKEN_MAX_LENGTH = 200  # characters: anything longer is refused unread

# The roles that hold a token. The organizer may do everything the MC may, and edit.
ROLES = ("organizer", "mc", "point")
ORGANIZER_ROLE = "organizer"
CEREMONY_ROLES = frozenset({"organizer", "mc"})

# The ways an action comes in: the HTTP API, a socket, the command line, the organizer's plan
# editor, or the service itself (presence, for one).
CHANNELS = ("http", "socket", "cli", "editor", "system")
SYSTEM = Actor("system", channel="system")


def hash_token(token: str) -> str:
    """Return the hash under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def derive_token(
    secret_key: str, slug: str, generation: int, role: str, point_id: str | None
) -> str:
    """Return the token of one role of one event, safe in a URL."""
    message = f"runsheet-token:{slug}:{generation}:{role}:{point_id or ''}".encode()
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


@dataclass(frozen=True)
class TokenGenerations:
    """The generation each holder's token derives from: the event's, unless rotated alone.

    ``roles`` holds the generations of holders rotated on their own: "organizer", "mc",
    "point" (every point) or "point:<id>" (one point, ahead of "point").
    """

    event: int = 1
    roles: Mapping[str, int] = field(default_factory=dict)

    def of(self, role: str, point_id: str | None = None) -> int:
        """Return the generation of one holder's token."""
        if role == "point":
            return self.roles.get(f"point:{point_id}", self.roles.get("point", self.event))
        return self.roles.get(role, self.event)

    def rotated(self, role: str | None = None, point_id: str | None = None) -> TokenGenerations:
        """Return the generations after rotating one role's tokens (every token: no role).

        The new generation is above every one the rotated holders ever had, so none of
        their earlier links can come back.
        """
        if role is None:
            return TokenGenerations(max([self.event, *self.roles.values()]) + 1)
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        roles = dict(self.roles)
        if role == "point" and point_id is None:
            own = [g for key, g in roles.items() if key.startswith("point:")]
            roles = {key: g for key, g in roles.items() if not key.startswith("point:")}
            roles["point"] = max([self.of("point"), *own]) + 1
        elif role == "point":
            roles[f"point:{point_id}"] = self.of("point", point_id) + 1
        else:
            roles[role] = self.of(role) + 1
        return TokenGenerations(self.event, roles)


def derive_tokens(
    secret_key: str, plan: Plan, generation: int | TokenGenerations
) -> dict[tuple[str, str | None], str]:
    """Return the token of the organizer, the MC and every point of the plan."""
    if isinstance(generation, int):
        generation = TokenGenerations(generation)
    roles: list[tuple[str, str | None]] = [("organizer", None), ("mc", None)]
    roles += [("point", point.id) for point in plan.points]
    slug = plan.event.slug
    return {
        (role, pid): derive_token(secret_key, slug, generation.of(role, pid), role, pid)
        for role, pid in roles
    }


def identify(store: Store, event_id: int, token: str | None) -> Actor:
    """Return who holds ``token`` for this event; no token means a public viewer.

    The organizer runs the whole installation: an organizer token of any of its events is
    the organizer of the active one too, so the organizer's link survives a switch. Every
    other role's token holds for its own event only; one of another event is refused with
    ``OtherEvent``, which names both events.
    """
    if token is None or token == "":
        return PUBLIC
    return actor_holding(store, event_id, store.token_holder(token_digest(token)))


def token_digest(token: object) -> str:
    """Return the hash under which a token is stored; refuse what cannot be a token."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise Unauthenticated("the token is not valid")
    return hash_token(token)


def actor_holding(store: Store, event_id: int, holder: TokenHolder | None) -> Actor:
    """Return who a token's ``holder`` (as the store found it, or None) is for this event.

    Refused with ``Unauthenticated`` when nobody holds the token, with ``OtherEvent`` when
    it is another event's (see ``identify``).
    """
    if holder is None:
        raise Unauthenticated("the token is not valid for this event")
    actor = actor_of(holder, event_id)
    if actor is not None:
        return actor
    # Another event's token: say which event it is for, and which one is active.
    link_event = store.event_heading(holder.event_id)
    active_event = store.event_heading(event_id)
    if link_event is None or active_event is None:  # deleted meanwhile
        raise Unauthenticated("the token is not valid for this event")
    raise OtherEvent(link_event, active_event)


def holders(store: Store, event_id: int, tokens: Iterable[str]) -> dict[str, Actor | None]:
    """Return who holds each token for this event now, in one look-up for all.

    None for a token that no longer holds for it (rotated, deleted, another event's): the
    heartbeat checks every connected page's token this way, not one query per page.
    """
    hashes = {hash_token(token): token for token in tokens}
    found = store.token_holders(hashes)
    return {token: actor_of(found.get(digest), event_id) for digest, token in hashes.items()}


def actor_of(holder: TokenHolder | None, event_id: int) -> Actor | None:
    """Return the actor a token's holder is for this event, or None if it is no one here."""
    if holder is None:
        return None
    if holder.role == ORGANIZER_ROLE:
        return Actor(ORGANIZER_ROLE)  # the organizer's link holds for every event
    if holder.event_id != event_id:
        return None
    return Actor(holder.role, holder.point_id)
