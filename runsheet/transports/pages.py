"""The web pages: public page, MC console, connection-point pages and stage display.

Pages are rendered on the server with the state of the moment embedded as JSON, then kept
live by small JavaScript modules (``static/js``) over Socket.IO. A link opened with
``?token=`` has its token checked for that page's role, kept in the role's HttpOnly cookie
and dropped from the address by a redirect, so it never lingers in history or a Referer.
``?lang=vi|en`` sets the language cookie the same way. Every page is sent with a
Content-Security-Policy that allows no inline script or style.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from ..calendar.links import calendar_links
from ..domain.errors import OtherEvent, Unauthenticated
from ..domain.plan import Plan
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, supported_language, translate
from ..services.ceremony import Current
from ..services.snapshot import state_body
from ..services.tokens import PUBLIC, Actor, identify
from .auth import services, token_cookie_name

bp = Blueprint("pages", __name__)

LANGUAGE_COOKIE = "runsheet_lang"
LANGUAGE_MAX_AGE = 365 * 24 * 3600
# A link is handed out days before the ceremony and used on the day; a month covers both.
TOKEN_MAX_AGE = 31 * 24 * 3600


# -- requests: language, tokens, headers -----------------------------------------------------


@bp.before_request
def _choose_language() -> None:
    g.lang = (
        supported_language(request.args.get("lang"))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or DEFAULT_LANGUAGE
    )


@bp.after_request
def _security_headers(response: Response) -> Response:
    host = request.host
    policy = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            # 'self' covers ws(s) in current browsers; naming them keeps older ones working.
            f"connect-src 'self' ws://{host} wss://{host}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # Pages embed the live state (and private pages the MC's messages): never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _secure_cookies() -> bool:
    return request.is_secure or services().base_url.startswith("https://")


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",  # the Socket.IO handshake at /socket.io/ must carry it too
        httponly=True,
        samesite="Lax",
        secure=_secure_cookies(),
    )


def _clean_url() -> str:
    """Return the current address without the ``token`` and ``lang`` parameters."""
    rest = {k: v for k, v in request.args.items() if k not in ("token", "lang")}
    return url_for(request.endpoint, **(request.view_args or {}), **rest)


def _remember_language(response: Response) -> Response:
    if supported_language(request.args.get("lang")):
        _set_cookie(response, LANGUAGE_COOKIE, g.lang, LANGUAGE_MAX_AGE)
    return response


def _needs_cleaning() -> bool:
    return "token" in request.args or "lang" in request.args


def _clean_redirect() -> Response:
    return _remember_language(redirect(_clean_url(), code=303))


# -- pages ---------------------------------------------------------------------------------


@bp.get("/")
def public_page():  # noqa: ANN201
    """Show the event, its programme, now speaking, the points and calendar links."""
    if _needs_cleaning():
        return _clean_redirect()
    current = _current()
    return _render("public.html", "public", current, PUBLIC, calendar=_calendar(current.plan))


@bp.get("/stage")
def stage_page():  # noqa: ANN201
    """Show the stage display: now speaking, next, a clock; slogans when nothing is live."""
    if _needs_cleaning():
        return _clean_redirect()
    current = _current()
    # ?view=timer: the speaker's confidence monitor (the countdown alone).
    view = "timer" if request.args.get("view") == "timer" else "full"
    return _render("stage.html", "stage", current, PUBLIC, view=view)


@bp.get("/mc")
def mc_page():  # noqa: ANN201
    """Show the MC console to the holder of the MC token."""
    return _private_page("mc", None)


@bp.get("/organizer")
def organizer_page():  # noqa: ANN201
    """Show the organizer's workspace to the holder of the organizer token."""
    return _private_page("organizer", None)


@bp.get("/points/<point_id>")
def point_page(point_id: str):  # noqa: ANN201
    """Show a connection point's page to the holder of that point's token."""
    if _current().plan.point(point_id) is None:
        # A point of an event that is no longer active: its link says so, not "no such point".
        other = _other_event(
            request.args.get("token") or request.cookies.get(token_cookie_name("point", point_id))
        )
        return _other_event_notice(other) if other else _notice("not_found", 404)
    return _private_page("point", point_id)


def _private_page(page: str, point_id: str | None):  # noqa: ANN202
    """Check the token of a page that needs one, from ``?token=`` or the role's cookie."""
    current = _current()
    cookie = token_cookie_name(page, point_id)
    if "token" in request.args:
        try:
            actor = _identify(current, request.args["token"])
        except OtherEvent as other:
            return _other_event_notice(other)
        except Unauthenticated:
            return _notice("link_invalid", 401)
        if not _may_open(actor, page, point_id):
            return _notice("link_other_page", 403)
        response = _clean_redirect()
        _set_cookie(response, cookie, request.args["token"], TOKEN_MAX_AGE)
        return response
    if "lang" in request.args:
        return _clean_redirect()
    token = request.cookies.get(cookie)
    if not token:
        return _notice("link_needed", 401)
    try:
        actor = _identify(current, token)
    except OtherEvent as other:
        # Kept: the link works again if its event is made active again.
        return _other_event_notice(other)
    except Unauthenticated:
        actor = None
    if actor is None or not _may_open(actor, page, point_id):
        # The cookie outlived its token (tokens were rotated): forget it.
        response = _notice("link_expired", 401)
        response.delete_cookie(cookie, path="/", samesite="Lax", secure=_secure_cookies())
        return response
    template = {"mc": "mc.html", "organizer": "organizer.html"}.get(page, "point.html")
    # A point's calendar file fetched with its token carries the conference's passcode.
    calendar = _calendar(current.plan, point_id, token) if page == "point" else None
    return _render(template, page, current, actor, point_id=point_id, calendar=calendar)


def _identify(current: Current, token: str) -> Actor:
    actor = identify(services().store, current.event_id, token)
    if actor.role == "public":
        raise Unauthenticated("the token is empty")
    return actor


def _other_event(token: str | None) -> OtherEvent | None:
    """Return the refusal of a token that belongs to another event, or None."""
    if not token:
        return None
    try:
        _identify(_current(), token)
    except OtherEvent as other:
        return other
    except Unauthenticated:
        return None
    return None


def _other_event_notice(other: OtherEvent) -> Response:
    """Return the notice that a link belongs to event X while event Y is active."""
    values = {"link_event": other.link_event[1], "active_event": other.active_event[1]}
    return _notice("link_other_event", 409, values)


def _may_open(actor: Actor, page: str, point_id: str | None) -> bool:
    if page == "organizer":
        return actor.role == "organizer"
    if page == "mc":  # the organizer may stand in for the MC
        return actor.runs_ceremony
    return actor.role == "point" and actor.point_id == point_id


def _current() -> Current:
    return services().ceremony.current()


# -- rendering -----------------------------------------------------------------------------


def _render(
    template: str,
    page: str,
    current: Current,
    actor: Actor,
    point_id: str | None = None,
    calendar: dict[str, str] | None = None,
    view: str | None = None,
) -> Response:
    plan = current.plan
    point = plan.point(point_id) if point_id else None
    data = {
        "page": page,
        "view": view,
        "pointId": point_id,
        "lang": g.lang,
        "messages": catalog(g.lang),
        "state": state_body(actor, current, services().ceremony.clock()),
    }
    if page in ("mc", "organizer"):
        # What the console shows of the live item beyond the state: plan facts that do not
        # change while it runs, so they ride in the page rather than in every push.
        data["details"] = {
            "notes": {item.id: item.notes for item in plan.agenda if item.notes},
            "attendees": {p.id: list(p.attendees) for p in plan.points if p.attendees},
        }
    html = render_template(
        template,
        page=page,
        plan=plan,
        event=plan.event,
        point=point,
        calendar=calendar,
        page_data=data,
        view=view,
        conference=plan.conference_for(point_id) if point_id else None,
        own_conference=point is not None and point.conference is not None,
        starts=_long_datetime(plan.event.starts_at, plan, g.lang),
        **_template_helpers(),
    )
    return _remember_language(Response(html, mimetype="text/html"))


def _notice(reason: str, status: int, values: dict[str, str] | None = None) -> Response:
    """Return a page that explains why this page cannot be shown, in the chosen language.

    ``values`` fill the notice's text (e.g. the names of two events).
    """
    html = render_template(
        "notice.html",
        reason=reason,
        page="notice",
        notice_values=values or {},
        **_template_helpers(),
    )
    response = Response(html, status=status, mimetype="text/html")
    return _remember_language(response)


def _template_helpers() -> dict[str, Any]:
    lang = g.lang

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    def lang_url(code: str) -> str:
        rest = {k: v for k, v in request.args.items() if k not in ("token", "lang")}
        return url_for(request.endpoint, **(request.view_args or {}), **rest, lang=code)

    def t_all(key: str) -> list[tuple[str, str]]:
        """Return (language, text) for every language, the page's own first."""
        order = [lang, *(code for code in LANGUAGES if code != lang)]
        return [(code, translate(code, key)) for code in order]

    return {"t": t, "t_all": t_all, "lang": lang, "languages": LANGUAGES, "lang_url": lang_url}


def _long_datetime(moment: datetime, plan: Plan, lang: str) -> str:
    """Return e.g. "08:00, thứ Sáu, 01/10/2021" in the event's time zone."""
    local = moment.astimezone(plan.event.zone)
    return translate(
        lang,
        "date.long",
        time=local.strftime("%H:%M"),
        weekday=translate(lang, f"weekday.{local.weekday()}"),
        day=str(local.day),
        dd=f"{local.day:02d}",
        mm=f"{local.month:02d}",
        month=translate(lang, f"month.{local.month}"),
        yyyy=str(local.year),
    )


def _calendar(plan: Plan, point_id: str | None = None, token: str | None = None) -> dict[str, str]:
    """Return the "Add to calendar" links (download, webcal, Google) for the page."""
    return calendar_links(plan, services().base_url, point_id=point_id, token=token)
