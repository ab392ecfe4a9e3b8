"""The organizer's own pages beside the workspace: the audit log, QR images, printables.

``/organizer/audit`` (the log as a table with filters, print-friendly),
``/organizer/qr.svg?link=mc|organizer|public|stage|point:<id>`` (a role's link as a QR
code), ``/organizer/print/links`` (one card per point, six to an A4 page, and the MC's and
the stage's) and ``/organizer/print/invitations`` (a letter of invitation per point, one A4
page each). Each needs the organizer's cookie, which ``/organizer?token=...`` sets; the
pages are rendered on the server, with QR codes as inline SVG (the CSP allows no inline
script or style, and an inline ``<svg>`` is neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request
from markupsafe import Markup

from ..calendar.links import calendar_links
from ..domain.errors import InvalidInput, Unauthenticated
from ..domain.plan import Conference, Plan, Point
from ..i18n import translate
from ..services.audit_view import AUDIT_ROLES, AuditQuery, entry_as_dict
from ..services.plans import Links, role_links
from ..services.qr import qr_svg, qr_svg_document
from ..storage.store import AuditEntry
from . import pages
from .auth import ORGANIZER_COOKIE, services, token_actor

bp = Blueprint("organizer_pages", __name__, url_prefix="/organizer")

# The pages' language and security headers, exactly as the other pages have them.
bp.before_request(pages._choose_language)  # noqa: SLF001
bp.after_request(pages._security_headers)  # noqa: SLF001
bp.after_request(pages._remember_language)  # noqa: SLF001 - ?lang= sticks, as on every page

CARDS_PER_SHEET = 6
MAX_PLACE_LENGTH = 80
# The organizer's name in a letter's date line: "Ủy ban nhân dân Quận 12" signs "Quận 12, ...".
PEOPLES_COMMITTEE = "Ủy ban nhân dân "


class NotOrganizer(Exception):
    """The request carries no organizer cookie that still holds."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@bp.errorhandler(NotOrganizer)
def _not_organizer(error: NotOrganizer) -> Response:
    return pages._notice(error.reason, error.status)  # noqa: SLF001


@bp.errorhandler(InvalidInput)
def _bad_filter(error: InvalidInput) -> Response:
    response = Response(error.message, status=400, mimetype="text/plain")
    return response


def _require_organizer() -> None:
    token = request.cookies.get(ORGANIZER_COOKIE)
    if not token:
        raise NotOrganizer("link_needed", 401)
    try:
        actor = token_actor(token)
    except Unauthenticated:
        raise NotOrganizer("link_expired", 401) from None
    if actor.role != "organizer":
        raise NotOrganizer("link_other_page", 403)


def _links(plan: Plan) -> Links:
    svc = services()
    return role_links(svc.store, plan, svc.secret_key, svc.base_url)


def _render(template: str, **values) -> Response:  # noqa: ANN003
    current = services().ceremony.current()
    html = render_template(
        template,
        page="organizer",
        plan=current.plan,
        event=current.plan.event,
        page_data=None,
        **values,
        **pages._template_helpers(),  # noqa: SLF001
    )
    return Response(html, mimetype="text/html")


# -- QR images ---------------------------------------------------------------------------------


def link_of(links: Links, name: str) -> str | None:
    """Return the link a QR request names (a role, or ``point:<id>``), or None."""
    if name.startswith("point:"):
        return links.points.get(name.removeprefix("point:"))
    return {
        "organizer": links.organizer,
        "mc": links.mc,
        "public": links.public,
        "stage": links.stage,
    }.get(name)


@bp.get("/qr.svg")
def qr_image():  # noqa: ANN201
    """Draw a role's link as a QR code (SVG), for the organizer's page."""
    _require_organizer()
    name = request.args.get("link", "")
    link = link_of(_links(services().ceremony.current().plan), name[:100])
    if link is None:
        message = "link: must be organizer, mc, public, stage or point:<id> of this event"
        return Response(message, status=404, mimetype="text/plain")
    response = Response(qr_svg_document(link), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"  # it holds a token
    return response


# -- the audit log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    """One entry of the log as the table shows it."""

    id: int
    time: str
    date: str
    run: int | None
    who: str
    console: str | None
    channel: str
    action: str
    details: str
    versions: str
    refused: bool
    outcome: str
    error: str | None


@bp.get("/audit")
def audit_page():  # noqa: ANN201
    """Show the audit log as a table, newest first, with filters (organizer)."""
    _require_organizer()
    query = AuditQuery.parse(request.args)
    svc = services()
    current = svc.ceremony.current()
    plan = current.plan
    entries = query.entries(svc.store, current.event_id)
    rows = [_audit_row(entry, plan) for entry in entries]
    filters = {k: v for k, v in (("role", query.role), ("point", query.point), ("run", query.run))}
    filters = {k: v for k, v in filters.items() if v is not None}
    older = None
    if len(entries) == query.limit and entries:
        older = "?" + urlencode({**filters, "before": entries[-1].id})
    csv_url = "/api/v1/audit.csv?" + urlencode({**filters, "lang": g.lang})
    return _render(
        "audit.html",
        rows=rows,
        query=query,
        roles=AUDIT_ROLES,
        runs=_run_choices(current),
        older=older,
        newer="?" + urlencode(filters) if query.before else None,
        csv_url=csv_url,
        extra_css="css/audit.css",
    )


def _run_choices(current) -> list[tuple[int, str]]:  # noqa: ANN001
    lang = g.lang
    archived = services().store.archived_runs(current.event_id)
    choices = [(run.number, _run_label(lang, run.number, run.kind)) for run in reversed(archived)]
    state = current.state
    if state.run is not None:
        choices.insert(0, (state.run.number, _run_label(lang, state.run.number, state.run.kind)))
    else:
        coming = state.runs_started + 1
        choices.insert(0, (coming, translate(lang, "audit.run_coming", number=coming)))
    return choices


def _run_label(lang: str, number: int, kind: str) -> str:
    kind_text = translate(lang, f"audit.run_kind.{kind}") if kind in ("rehearsal", "live") else kind
    return translate(lang, "audit.run_label", number=number, kind=kind_text)


def _audit_row(entry: AuditEntry, plan: Plan) -> AuditRow:
    lang = g.lang
    shown = entry_as_dict(entry, plan.event.zone)
    local = entry.at.astimezone(plan.event.zone)
    who = _label(lang, f"audit.role.{entry.role}", entry.role)
    if entry.point_id:
        point = plan.point(entry.point_id)
        who = f"{who}: {point.name if point else entry.point_id}"
    summary = dict(shown["summary"])
    repeated = summary.pop("repeated", None)
    details = "; ".join(f"{key}: {_value(value)}" for key, value in summary.items())
    if repeated:
        details = _join(details, translate(lang, "audit.repeated", count=repeated))
    before, after = entry.version_before, entry.version_after
    if after is None:
        versions = ""
    elif before is None or before == after:
        versions = str(after)  # the first state, or a refusal or rotation that changed none
    else:
        versions = f"{before} → {after}"
    return AuditRow(
        id=entry.id or 0,
        time=local.strftime("%H:%M:%S"),
        date=local.strftime("%d/%m/%Y"),
        run=entry.run_number,
        who=who,
        console=entry.console,
        channel=_label(lang, f"audit.channel.{entry.channel}", entry.channel),
        action=_label(lang, f"audit.action.{entry.action}", entry.action),
        details=details,
        versions=versions,
        refused=entry.outcome == "refused",
        outcome=_label(lang, f"audit.outcome.{entry.outcome}", entry.outcome),
        error=entry.error,
    )


def _label(lang: str, key: str, fallback: str) -> str:
    try:
        return translate(lang, key)
    except KeyError:
        return fallback


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


# -- printables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCard:
    """One card of the link sheet."""

    title: str
    subtitle: str
    link: str
    qr: Markup
    lines: tuple[str, str, str]


@bp.get("/print/links")
def print_links():  # noqa: ANN201
    """Show the link sheet: the MC's and the stage's cards, then one card per point."""
    _require_organizer()
    lang = g.lang
    plan = services().ceremony.current().plan
    links = _links(plan)

    def lines(prefix: str) -> tuple[str, str, str]:
        return tuple(translate(lang, f"print.links.{prefix}_line{n}") for n in (1, 2, 3))  # type: ignore[return-value]

    cards = [
        _card(translate(lang, "print.links.mc"), plan.event.title, links.mc, lines("mc")),
        _card(translate(lang, "print.links.stage"), plan.event.title, links.stage, lines("stage")),
    ]
    for point in plan.points:
        cards.append(_card(point.name, point.address, links.points[point.id], lines("point")))
    sheets = [cards[i : i + CARDS_PER_SHEET] for i in range(0, len(cards), CARDS_PER_SHEET)]
    return _render("print_links.html", sheets=sheets, extra_css="css/printables.css")


def _card(title: str, subtitle: str, link: str, lines: tuple[str, str, str]) -> LinkCard:
    return LinkCard(title, subtitle, link, Markup(qr_svg(link, title=title)), lines)


@dataclass(frozen=True)
class Invitation:
    """One letter: the point it invites, and what is said of it."""

    point: Point
    attendees: tuple[str, ...]
    conference: Conference | None
    calendar_qr: Markup
    page_qr: Markup
    calendar_link: str
    page_link: str


@bp.get("/print/invitations")
def print_invitations():  # noqa: ANN201
    """Show one letter of invitation per point, each on an A4 page."""
    _require_organizer()
    lang = g.lang
    plan = services().ceremony.current().plan
    links = _links(plan)
    signed_on = _signing_date(plan)
    place = request.args.get("place", "")[:MAX_PLACE_LENGTH].strip() or _place_of(plan)
    values = {"dd": f"{signed_on.day:02d}", "mm": f"{signed_on.month:02d}", "yyyy": signed_on.year}
    if place:
        dateline = translate(lang, "print.invitations.place_date", place=place, **values)
    else:
        dateline = translate(lang, "print.invitations.date_only", **values)
    letters = []
    for point in plan.points:
        page_link = links.points[point.id]
        token = page_link.split("?token=", 1)[1]
        download = calendar_links(plan, services().base_url, point.id)["download"]
        calendar_link = f"{download}?token={token}"
        letters.append(
            Invitation(
                point=point,
                attendees=point.attendees,
                conference=_conference_of(plan, point),
                calendar_qr=Markup(qr_svg(calendar_link, title=point.name)),
                page_qr=Markup(qr_svg(page_link, title=point.name)),
                calendar_link=calendar_link,
                page_link=page_link,
            )
        )
    form_key = f"print.invitations.form.{plan.event.form.replace('-', '_')}"
    return _render(
        "print_invitations.html",
        letters=letters,
        dateline=dateline,
        starts=pages._long_datetime(plan.event.starts_at, plan, lang),  # noqa: SLF001
        form=_label(lang, form_key, plan.event.form),
        extra_css="css/printables.css",
    )


def _conference_of(plan: Plan, point: Point) -> Conference | None:
    """Return the conference a point joins: its own, else the event's (None: not yet set).

    With its passcode: the letter goes to the point's own attendees.
    """
    return point.conference or plan.event.conference


def _signing_date(plan: Plan) -> date:
    text = request.args.get("date")
    if text:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise InvalidInput("date: must be YYYY-MM-DD", field="date") from None
    return services().ceremony.clock().astimezone(plan.event.zone).date()


def _place_of(plan: Plan) -> str:
    organizer = plan.event.organizer
    if organizer.startswith(PEOPLES_COMMITTEE):
        return organizer.removeprefix(PEOPLES_COMMITTEE)
    return ""
