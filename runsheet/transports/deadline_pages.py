"""The deadlines board's pages: the organizer's board, and document downloads for pages.

A page cannot send ``X-Runsheet-Page`` with a plain link, so the board page, its CSV and
the documents behind its links are served here with the page's own token cookie, as the
other pages are (GET only: reading, never changing anything). The point page's section
calls the JSON API itself (``transports.deadlines``).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, g, render_template, request

from ..domain.errors import Unauthenticated
from ..domain.plan import Plan
from ..services.deadlines import deadline_board
from ..services.tokens import Actor
from . import pages
from .auth import services, token_actor, token_cookie_name
from .deadlines import board_csv_response, document_response

bp = Blueprint("deadline_pages", __name__)
# The pages' language choice and security headers apply here as on every page.
bp.before_request(pages._choose_language)
bp.after_request(pages._security_headers)


def _cookie_actor(page: str, point_id: str | None = None) -> Actor | None:
    """Return who holds the page's token cookie, or None when it has none or a stale one."""
    token = request.cookies.get(token_cookie_name(page, point_id))
    if not token:
        return None
    try:
        actor = token_actor(token)
    except Unauthenticated:
        return None
    if page == "organizer":
        return actor if actor.role == "organizer" else None
    return actor if actor.role == "point" and actor.point_id == point_id else None


@bp.get("/organizer/deadlines")
def board_page():  # noqa: ANN201
    """Show the organizer's deadlines board: per deadline and per point, print-friendly."""
    if "lang" in request.args:
        return pages._clean_redirect()
    if _cookie_actor("organizer") is None:
        return pages._notice("link_needed", 401)
    svc = services()
    current = svc.ceremony.current()
    plan = current.plan
    board = deadline_board(svc.store, current.event_id, plan, svc.ceremony.clock())
    html = render_template(
        "deadlines_board.html",
        page="deadlines",
        plan=plan,
        event=plan.event,
        board=board,
        points={p.id: p for p in plan.points},
        generated=pages._long_datetime(svc.ceremony.clock(), plan, g.lang),
        local_time=lambda moment: _local_time(moment, plan),
        **pages._template_helpers(),
    )
    return pages._remember_language(Response(html, mimetype="text/html"))


def _local_time(moment: str, plan: Plan) -> str:
    """Return an ISO moment as "HH:MM dd/mm/yyyy" in the event's zone."""
    local = datetime.fromisoformat(moment).astimezone(plan.event.zone)
    return local.strftime("%H:%M %d/%m/%Y")


@bp.get("/organizer/deadlines.csv")
def board_csv():  # noqa: ANN201
    """Download the board as CSV from the board page."""
    if _cookie_actor("organizer") is None:
        return pages._notice("link_needed", 401)
    return board_csv_response()


@bp.get("/organizer/deadlines/documents/<int:submission_id>")
def organizer_document(submission_id: int):  # noqa: ANN201
    """Download a document from the board page."""
    actor = _cookie_actor("organizer")
    if actor is None:
        return pages._notice("link_needed", 401)
    return document_response(actor, submission_id)


@bp.get("/points/<point_id>/documents/<int:submission_id>")
def point_document(point_id: str, submission_id: int):  # noqa: ANN201
    """Download one of the point's own documents from its page."""
    actor = _cookie_actor("point", point_id)
    if actor is None:
        return pages._notice("link_needed", 401)
    return document_response(actor, submission_id)
