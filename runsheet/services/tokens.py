"""Access tokens: one for the organizer, one for the MC, one per connection point.

A token is an HMAC of the installation's secret key, the event, a generation number and
the role, so it is unguessable without the key, the database holds only its SHA-256 hash,
and ``runsheet links`` can print it again from the key. Rotating tokens raises the
generation, which makes every earlier link stop working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field, replace

from ..domain.errors import OtherEvent, Unauthenticated
from ..domain.plan import Plan
from ..storage.store import Store


@dataclass(frozen=True)
class Actor:
    """Who is acting: the organizer, the MC, a connection point, or a public viewer."""

    role: str  # one of ROLES, or "public"
    point_id: str | None = None
    # The console's own name (e.g. "Laptop phòng A"), told by the page or the API caller;
    # not part of who the actor is, so it plays no part in comparing actors.
    console: str | None = field(default=None, compare=False)

    def at_console(self, console: str | None) -> Actor:
        """Return this actor, acting from the named console."""
        return replace(self, console=console or None)

    @property
    def runs_ceremony(self) -> bool:
        """Say whether this actor may do what the MC may (the MC and the organizer)."""
        return self.role in CEREMONY_ROLES

    @property
    def label(self) -> str:
        """Return a short name for logs and rooms, e.g. ``point:thoi-an``."""
        return f"point:{self.point_id}" if self.role == "point" else self.role


PUBLIC = Actor("public")

# The roles that hold a token. The organizer may do everything the MC may, and edit.
ROLES = ("organizer", "mc", "point")
ORGANIZER_ROLE = "organizer"
CEREMONY_ROLES = frozenset({"organizer", "mc"})


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


def derive_tokens(
    secret_key: str, plan: Plan, generation: int
) -> dict[tuple[str, str | None], str]:
    """Return the token of the organizer, the MC and every point of the plan."""
    roles: list[tuple[str, str | None]] = [("organizer", None), ("mc", None)]
    roles += [("point", point.id) for point in plan.points]
    slug = plan.event.slug
    return {
        (role, pid): derive_token(secret_key, slug, generation, role, pid) for role, pid in roles
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
    if not isinstance(token, str) or len(token) > 200:
        raise Unauthenticated("the token is not valid")
    holder = store.token_holder(hash_token(token))
    if holder is None:
        raise Unauthenticated("the token is not valid for this event")
    if holder.role == ORGANIZER_ROLE:
        return Actor(ORGANIZER_ROLE)
    if holder.event_id != event_id:
        link_event = store.event_heading(holder.event_id)
        active_event = store.event_heading(event_id)
        if link_event is None or active_event is None:  # deleted meanwhile
            raise Unauthenticated("the token is not valid for this event")
        raise OtherEvent(link_event, active_event)
    return Actor(holder.role, holder.point_id)
