"""Find out who is calling: a Bearer token for the API, a cookie or ``auth`` for pages."""

from __future__ import annotations

from flask import current_app, request

from ..domain.errors import Unauthenticated
from ..services import Services
from ..services.tokens import Actor, identify

TOKEN_COOKIE = "runsheet_token"


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


def api_actor(required: bool = True) -> Actor:
    """Return the caller of an API request, identified by its Bearer token."""
    token = bearer_token()
    if token is None and required:
        raise Unauthenticated("this needs a token: send 'Authorization: Bearer <token>'")
    svc = services()
    return identify(svc.store, svc.ceremony.current().event_id, token)
