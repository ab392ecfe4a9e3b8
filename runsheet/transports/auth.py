"""Find out who is calling: a Bearer token for the API, a cookie or ``auth`` for pages."""

from __future__ import annotations

from flask import current_app, request

from ..domain.errors import Unauthenticated
from ..services import Services
from ..services.ceremony import Claim, Current
from ..services.tokens import Actor

# Each role's page keeps its token in its own HttpOnly cookie, so one browser can hold the
# MC console and a point's page in two tabs without one token replacing the other.
MC_COOKIE = "runsheet_mc"
ORGANIZER_COOKIE = "runsheet_organizer"
POINT_COOKIE_PREFIX = "runsheet_point_"


def token_cookie_name(page: str, point_id: str | None = None) -> str:
    """Return the name of the cookie that keeps a page's token ("organizer", "mc", "point")."""
    if page == "organizer":
        return ORGANIZER_COOKIE
    return MC_COOKIE if page == "mc" else f"{POINT_COOKIE_PREFIX}{point_id}"


def page_token(page: str, point_id: str | None = None) -> str | None:
    """Return the token a page's cookie holds for the current request, or None."""
    if page not in ("organizer", "mc", "point") or (page == "point" and not point_id):
        return None
    return request.cookies.get(token_cookie_name(page, point_id))


def services() -> Services:
    """Return the services of the running app."""
    return current_app.extensions["runsheet"]


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


# The header in which an API caller names its console (e.g. "Stream Deck phòng A"), shown
# to the others when a move needs confirming.
CONSOLE_HEADER = "X-Runsheet-Console"
CONSOLE_MAX_LENGTH = 60


def console_label(value: object) -> str | None:
    """Return a console's name as told by a client, trimmed, or None."""
    if not isinstance(value, str):
        return None
    shown = "".join(c for c in value if c.isprintable()).strip()[:CONSOLE_MAX_LENGTH]
    return shown or None


# A page calling the HTTP API names itself in this header ("organizer", "mc" or
# "point:<id>") and is identified by that page's token cookie. A cross-site form or image
# cannot send a custom header (and no CORS is allowed for the API), so a cookie alone never
# authorizes a request: this header is the page's proof that it made the call itself.
PAGE_HEADER = "X-Runsheet-Page"


def page_header_token() -> str | None:
    """Return the token of the page named by ``X-Runsheet-Page``, from its cookie, or None."""
    named = request.headers.get(PAGE_HEADER)
    if not named:
        return None
    page, _, point_id = named.partition(":")
    if page not in ("organizer", "mc", "point") or (page == "point") != bool(point_id):
        raise Unauthenticated(f"{PAGE_HEADER} must be organizer, mc or point:<id>")
    token = page_token(page, point_id or None)
    if token is None:
        raise Unauthenticated("this page's link is not valid; ask the organizer for a new one")
    return token


def request_token() -> str | None:
    """Return the token of an API request: its Bearer header, else its page's cookie."""
    token = bearer_token()
    return token if token is not None else page_header_token()


def api_actor(required: bool = True) -> Actor:
    """Return the caller of an API request, by its Bearer token or its page's cookie."""
    return api_caller(required)[0]


def api_caller(required: bool = True) -> tuple[Actor, Current]:
    """Return the caller of an API request and the active event, read together."""
    token = request_token()
    if token is None and required:
        raise Unauthenticated("this needs a token: send 'Authorization: Bearer <token>'")
    actor, current = services().ceremony.current_for(token)
    console = console_label(request.headers.get(CONSOLE_HEADER))
    return actor.at_console(console).via("http"), current


def token_actor(token: str | None) -> Actor:
    """Return who holds ``token`` in the active event (a public viewer without one)."""
    return services().ceremony.current_for(token)[0]


def api_claim() -> tuple[Claim, Actor] | None:
    """Return the caller of an API request as this process knows it, without a query.

    The claim and its actor at the console the request names; None when there is no
    claim to make (see ``CeremonyService.claim``) or the request's token cannot be read.
    """
    try:
        token = request_token()
    except Unauthenticated:
        return None  # looked up the checked way, which says why
    claim = services().ceremony.claim(token)
    if claim is None:
        return None
    console = console_label(request.headers.get(CONSOLE_HEADER))
    return claim, claim.actor.at_console(console).via("http")
