"""Transports: HTTP API, Socket.IO, pages and calendar files; each only translates."""

from __future__ import annotations

from flask import Flask

from . import (
    api,
    audit_log,
    calendar,
    deadline_pages,
    deadlines,
    events,
    links,
    openapi,
    organizer_pages,
    pages,
    plan_api,
    plan_files,
)
from .bodies import read_chunked_bodies
from .errors import register_error_handlers
from .sockets import init_sockets
from .sockets.wire import configure_wire
from .throttle import register_throttle


def register_transports(app: Flask) -> None:
    """Register every transport on the app."""
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.health)
    app.register_blueprint(events.bp)
    app.register_blueprint(deadlines.bp)
    app.register_blueprint(plan_api.bp)
    app.register_blueprint(plan_files.bp)
    app.register_blueprint(openapi.bp)
    init_sockets(app)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(deadline_pages.bp)
    app.register_blueprint(audit_log.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(organizer_pages.bp)
    configure_wire(app)
    # Last, so that ProxyFix wraps everything; its hook still runs before the blueprints'.
    register_throttle(app)
    read_chunked_bodies(app)  # outermost: every route, Socket.IO's too, sees whole bodies
