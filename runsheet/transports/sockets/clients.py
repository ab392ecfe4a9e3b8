"""The connected clients: who each one is, the token it showed, and how fast it may send."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ...domain.errors import InvalidInput, RateLimited, Unauthenticated
from ...services.ceremony import CeremonyService, Current
from ...services.ratelimit import EventThrottle, TokenBucket, Verdict
from ...services.tokens import PUBLIC, Actor, holders, identify
from ...storage.store import Store
from ..auth import console_label, page_token


@dataclass
class Client:
    """One connected socket: who it is, the token it showed, and how fast it sends."""

    actor: Actor
    token: str | None
    throttle: EventThrottle
    lock: threading.Lock = field(default_factory=threading.Lock)
    event_id: int | None = None  # the event it was admitted to
    patches: bool = False  # it asked for patches (auth.patches: true) instead of states


class TooFast(RateLimited):
    """A client sent too fast; ``give_up`` says whether to close its connection."""

    def __init__(self, message: str, give_up: bool) -> None:
        super().__init__(message)
        self.give_up = give_up


class TokenLost(Unauthenticated):
    """A client's token no longer holds (rotated, or another event loaded): close it."""


class Clients:
    """The registry of this process's connected clients and their sending allowances."""

    def __init__(self, store: Store, settings: dict[str, Any]) -> None:
        self.store = store
        self.settings = settings
        self._clients: dict[str, Client] = {}
        self._lock = threading.Lock()
        # The sending allowance of each token holder, shared by all its connections, so that
        # connecting again does not bring a fresh burst: (events, patience, their lock).
        self._allowances: dict[Actor, tuple[TokenBucket, TokenBucket, threading.Lock]] = {}
        # The tokens' stamps at the last two checks of who still holds a token (revoked).
        self._stamps: tuple[Any, Any] = (None, None)

    def identify(self, event_id: int, auth: Any) -> tuple[Actor, str | None]:
        """Return who a connecting client is and the token it showed; raise if refused."""
        token, expected = credentials(auth)
        actor = identify(self.store, event_id, token)
        # The MC's page may be held by the organizer, who may do all the MC may.
        stands_in = expected == Actor("mc") and actor == Actor("organizer")
        if expected is not None and actor != expected and not stands_in:
            raise Unauthenticated("this page's link is not valid; ask the organizer for a new one")
        console = console_label(auth.get("console")) if isinstance(auth, dict) else None
        return actor.at_console(console), token

    def add(
        self,
        sid: str,
        actor: Actor,
        token: str | None,
        event_id: int | None = None,
        patches: bool = False,
    ) -> None:
        """Register a connected client (of ``event_id``) with its sending allowance."""
        throttle, lock = self._throttle_for(actor)
        with self._lock:
            self._clients[sid] = Client(actor, token, throttle, lock, event_id, patches)

    def of_other_events(self, event_id: int) -> list[str]:
        """Return the sids of clients admitted to another event than ``event_id``."""
        with self._lock:
            return [sid for sid, c in self._clients.items() if c.event_id not in (None, event_id)]

    def remove(self, sid: str) -> Client | None:
        """Forget a client; return it (None if it was not registered)."""
        with self._lock:
            return self._clients.pop(sid, None)

    def get(self, sid: str) -> Client | None:
        """Return a connected client, or None."""
        return self._clients.get(sid)

    def all(self) -> list[tuple[str, Client]]:
        """Return every connected client with its sid."""
        with self._lock:
            return list(self._clients.items())

    def _throttle_for(self, actor: Actor) -> tuple[EventThrottle, threading.Lock]:
        """Return a new connection's throttle, and the lock that guards it.

        A public viewer's connection has an allowance of its own. A token's connections
        share one: a client dropped for flooding that connects again finds the allowance it
        used up, not a new burst (each accepted event may change the state for everyone).
        Whether to give up on a client is decided per connection.
        """
        settings = self.settings
        throttle = EventThrottle(
            settings["SOCKET_EVENTS_PER_SECOND"],
            settings["SOCKET_EVENT_BURST"],
            settings["SOCKET_PATIENCE"],
        )
        if actor.role == "public":
            return throttle, threading.Lock()
        with self._lock:
            shared = self._allowances.setdefault(
                actor, (throttle.events, throttle.patience, threading.Lock())
            )
        throttle.events, throttle.patience, lock = shared
        return throttle, lock

    @staticmethod
    def check_rate(client: Client) -> None:
        """Raise ``TooFast`` if the client's next event exceeds its allowance."""
        with client.lock:
            verdict = client.throttle.check(time.monotonic())
        if verdict is Verdict.DISCONNECT:
            raise TooFast("too many events; this connection is being closed", give_up=True)
        if verdict is not Verdict.ALLOW:
            raise TooFast("too many events; slow down", give_up=False)

    def confirm(self, ceremony: CeremonyService, client: Client) -> tuple[Actor, Current]:
        """Return the client's actor and the active event if its token still holds.

        Read together, in one query (``CeremonyService.current_for``); ``TokenLost`` if
        the token no longer holds. The token is checked again on every event: rotated
        tokens or a newly loaded event end what an earlier connection was allowed to do.
        """
        try:
            actor, current = ceremony.current_for(client.token)
        except Unauthenticated as error:
            lost = TokenLost(error.message)
            lost.kind = error.kind  # e.g. "other_event": the page says which event is active
            raise lost from None
        if actor != client.actor:
            raise TokenLost("this connection's token changed hands; connect again")
        return client.actor, current  # the same holder, with the console it named on connecting

    def revoked(self, event_id: int) -> list[str]:
        """Return the sids of clients whose token no longer holds (one look-up for all).

        Every client's token was checked when it connected, so they are looked up again
        only when the tokens or the event changed (``Store.tokens_stamp``): at the first
        two calls after a change, the second for a client that connected while the first
        ran. Between changes a call is one small query, whatever the number of clients.
        """
        stamp = (event_id, self.store.tokens_stamp())
        unchanged = stamp == self._stamps[0] == self._stamps[1]
        self._stamps = (self._stamps[1], stamp)
        if unchanged:
            return []
        connected = [(sid, client) for sid, client in self.all() if client.token is not None]
        held = holders(self.store, event_id, {client.token for _, client in connected})
        return [sid for sid, client in connected if held.get(client.token) != client.actor]


def wants_patches(auth: Any) -> bool:
    """Say whether a connecting client asked for patches (``auth: {"patches": true}``)."""
    if not isinstance(auth, dict) or "patches" not in auth:
        return False
    if not isinstance(auth["patches"], bool):
        raise InvalidInput("patches: must be true or false", field="patches")
    return auth["patches"]


def credentials(auth: Any) -> tuple[str | None, Actor | None]:
    """Return the token a client shows and, for a page, the role its cookie must hold."""
    if auth is None:
        return None, None
    if not isinstance(auth, dict):
        raise InvalidInput("auth must be a JSON object", field="auth")
    if "token" in auth:
        return auth["token"], None
    page = auth.get("page", "public")
    if page == "public":
        return None, PUBLIC
    if page in ("mc", "organizer"):
        expected = Actor(page)
    elif page == "point":
        point_id = auth.get("point_id")
        if not isinstance(point_id, str) or not point_id:
            raise InvalidInput("point_id: is required for a point's page", field="point_id")
        expected = Actor("point", point_id)
    else:
        raise InvalidInput(
            f"page: must be organizer, mc, point or public, not {str(page)[:20]!r}", field="page"
        )
    token = page_token(page, expected.point_id)
    if token is None:
        raise Unauthenticated("this page's link is not valid; ask the organizer for a new one")
    return token, expected
