"""The four pages in a real browser (Debian's Chromium through Playwright) on a real server.

Each test opens the pages people use on the day, in tabs of one browser, through the
links the organizer hands out, and acts as they would: the MC presses Next, a ward
confirms its connection, someone switches the language. Every tab's console is watched:
an error or an uncaught exception there fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from runsheet.i18n import catalog
from runsheet.plans import parse_plan
from runsheet.services.plans import install_plan, role_links
from runsheet.services.tokens import Actor
from tests.conftest import SECRET
from tests.live_server import LiveServer, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 15_000
VI, EN = catalog("vi"), catalog("en")
AGENDA = [
    "Tuyên bố lý do, giới thiệu đại biểu",
    "Diễn văn khai mạc",
    "Phát biểu của đại diện các đơn vị cung ứng nhu cầu học tập",
]
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>&amp;'
PLAN_FILE = Path(__file__).resolve().parent.parent / "runsheet" / "plans" / "default.yaml"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Start headless Chromium once for the module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def server(database_url) -> Iterator[LiveServer]:
    """Serve a fresh runsheet with the default ceremony on a free port."""
    yield from serve(database_url)


@dataclass
class Console:
    """Every console error and uncaught exception of the tabs a test opened."""

    problems: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect_line(self, text: str) -> None:
        """Allow one console error the test provokes on purpose (matched by its text)."""
        self.expected.append(text)

    def unexpected(self) -> list[str]:
        """Return the errors no test asked for."""
        return [p for p in self.problems if not any(text in p for text in self.expected)]

    def watch(self, page: Page) -> Page:
        """Record the tab's console errors and page errors."""
        page.on(
            "console",
            lambda m: self.problems.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        return page


@dataclass
class Tabs:
    """One browser window of a test: opens role links in tabs and watches their consoles."""

    context: BrowserContext
    server: LiveServer
    console: Console

    def __post_init__(self) -> None:
        """Close the window before its server stops, whichever fixture stops first."""
        self.server.closing.append(self.context.close)

    def open(self, url: str, wait_online: bool = True) -> Page:
        """Open a page in a new tab; wait until it is drawn and, if asked, connected."""
        page = self.console.watch(self.context.new_page())
        page.goto(url)
        expect(page.locator("body")).to_have_attribute("data-ready", "yes")
        if wait_online:
            online(page)
        return page

    def links(self):  # noqa: ANN201
        """Return every role's link, with its token."""
        svc = self.server.services
        plan = svc.ceremony.current().plan
        return role_links(svc.store, plan, svc.secret_key, self.server.url)

    def mc(self) -> Page:
        """Open the MC console through the MC's link."""
        return self.open(self.links().mc)

    def point(self, point_id: str) -> Page:
        """Open a connection point's page through its link."""
        return self.open(self.links().points[point_id])

    def public(self) -> Page:
        """Open the public page."""
        return self.open(self.links().public)

    def stage(self) -> Page:
        """Open the stage display (it shows no connection pill)."""
        page = self.open(self.links().stage, wait_online=False)
        expect(page.locator("#clock")).not_to_have_text("")
        return page


@pytest.fixture
def tabs(browser, server) -> Iterator[Tabs]:
    """Return a fresh browser window on the server; fail if any tab logged an error."""
    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(WAIT_MS)
    console = Console()
    yield Tabs(context, server, console)
    context.close()
    assert console.unexpected() == []


def online(page: Page) -> None:
    """Wait until the page's live connection is up."""
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def settled(mc: Page) -> None:
    """Wait until the MC console has the answer to its last action.

    Every screen shows a change as soon as it is broadcast, a moment before the console
    gets its own answer; until then Next and Back are disabled, and a key does nothing.
    """
    expect(mc.locator("#next")).to_have_attribute("aria-busy", "false")


def tile(mc: Page, point_id: str):  # noqa: ANN201
    """Return the MC's check-in tile for a point."""
    return mc.locator(f"#board [data-key='{point_id}']")


# -- the run-sheet ---------------------------------------------------------------------------------


def test_next_on_the_mc_console_shows_the_new_item_on_a_point_page_and_the_stage(tabs):
    mc = tabs.mc()
    ward = tabs.point("thoi-an")
    stage = tabs.stage()
    for page in (ward, stage):
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    mc.bring_to_front()

    mc.locator("#next").click()

    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    expect(ward.locator("#now-title")).to_have_text(AGENDA[0])
    expect(stage.locator("#stage-title")).to_have_text(AGENDA[0])
    expect(stage.locator("#stage-next-title")).to_have_text(AGENDA[1])

    settled(mc)
    mc.locator("body").press("ArrowRight")  # the keyboard does the same

    expect(ward.locator("#now-title")).to_have_text(AGENDA[1])
    expect(stage.locator("#stage-title")).to_have_text(AGENDA[1])
    assert ward.evaluate("window.__sameDocument") is True
    assert stage.evaluate("window.__sameDocument") is True
    assert tabs.server.services.ceremony.current().state.current_item_id == "dien-van-khai-mac"


def test_a_double_click_on_next_moves_one_item_only(tabs):
    mc = tabs.mc()

    mc.locator("#next").dblclick()

    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    # The console has its answer, then a later action of its own is served: a second
    # advance, were one sent, went before it on the same connection.
    settled(mc)
    mc.locator("#message-text").fill("Các điểm cầu chuẩn bị")
    mc.locator("#message-send").click()
    expect(mc.locator("#messages .message").first).to_contain_text("Các điểm cầu chuẩn bị")
    state = tabs.server.services.ceremony.current().state
    assert state.current_item_id == "tuyen-bo-ly-do"
    assert list(state.spans) == ["tuyen-bo-ly-do"]
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])


def test_going_back_asks_first_and_cancel_is_the_safe_choice(tabs):
    mc = tabs.mc()
    mc.locator("#next").click()
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    settled(mc)
    mc.locator("body").press("ArrowRight")
    expect(mc.locator("#now-title")).to_have_text(AGENDA[1])

    settled(mc)
    mc.locator("body").press("ArrowLeft")
    dialog = mc.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(mc.locator("#confirm-cancel")).to_be_focused()
    mc.keyboard.press("Space")  # habit: Space lands on Cancel, nothing goes back
    expect(dialog).to_be_hidden()
    expect(mc.locator("#now-title")).to_have_text(AGENDA[1])

    mc.locator("#back").click()
    mc.locator("#confirm-ok").click()

    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])


def test_the_mc_can_jump_to_an_item(tabs):
    mc = tabs.mc()
    public = tabs.public()
    mc.bring_to_front()

    mc.locator("#runsheet [data-key='phat-bieu-nguoi-hoc'] [data-slot='jump']").click()
    mc.locator("#confirm-ok").click()

    expect(mc.locator("#now-title")).to_have_text("Phát biểu hưởng ứng của người học tập")
    expect(public.locator("#programme [data-key='phat-bieu-nguoi-hoc']")).to_have_attribute(
        "data-status", "live"
    )
    expect(public.locator("#now-title")).to_have_text("Phát biểu hưởng ứng của người học tập")


def test_the_mc_console_shows_a_banner_and_disables_next_while_its_connection_is_down(tabs):
    mc = tabs.console.watch(tabs.context.new_page())
    cable = Cable(mc)
    mc.goto(tabs.links().mc)
    online(mc)
    expect(mc.locator("#offline-banner")).to_be_hidden()

    cable.cut()

    expect(mc.locator("#offline-banner")).to_be_visible()
    expect(mc.locator("#next")).to_be_disabled()
    mc.locator("body").press("Space")
    assert tabs.server.services.ceremony.current().state.phase == "not_started"

    cable.mend()

    online(mc)
    expect(mc.locator("#offline-banner")).to_be_hidden()
    expect(mc.locator("#next")).to_be_enabled()
    mc.locator("#next").click()
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])


class Cable:
    """The network between one tab and the server's Socket.IO, which a test can cut."""

    def __init__(self, page: Page) -> None:
        self.down = False
        self.sockets: list[WebSocketRoute] = []
        page.route_web_socket(re.compile(r"/socket\.io/"), self._websocket)
        page.route(re.compile(r"/socket\.io/"), self._polling)

    def _websocket(self, ws: WebSocketRoute) -> None:
        if self.down:
            ws.close()
            return
        ws.connect_to_server()
        self.sockets.append(ws)

    def _polling(self, route) -> None:  # noqa: ANN001
        if self.down:
            route.abort()
        else:
            route.continue_()

    def cut(self) -> None:
        """Drop the live connection and refuse new ones."""
        self.down = True
        for ws in self.sockets:
            ws.close()
        self.sockets.clear()

    def mend(self) -> None:
        """Let the page connect again."""
        self.down = False


def test_elapsed_time_follows_the_server_even_when_the_browsers_clock_is_wrong(tabs):
    page = tabs.context.new_page()
    page.clock.install(time=datetime.now() + timedelta(hours=3))  # a laptop three hours ahead
    tabs.console.watch(page)
    page.goto(tabs.links().mc)
    online(page)

    page.locator("#next").click()

    expect(page.locator("#now-title")).to_have_text(AGENDA[0])
    expect(page.locator("#elapsed")).to_have_text(re.compile(r"^0:0\d$"))
    server_now = tabs.server.services.ceremony.clock().astimezone(
        tabs.server.services.ceremony.current().plan.event.zone
    )
    projected = page.locator("#projected-end").text_content()
    planned_end = server_now + timedelta(minutes=60)
    assert projected.split(" · ")[0] in {
        (planned_end + timedelta(minutes=delta)).strftime("%H:%M") for delta in (-1, 0, 1)
    }


# -- check-ins, problems, messages, roll call ------------------------------------------------


def test_a_point_confirming_its_connection_changes_its_tile_on_the_mc_console(tabs):
    mc = tabs.mc()
    expect(tile(mc, "thoi-an")).to_have_attribute("data-state", "unconfirmed")
    ward = tabs.point("thoi-an")

    ward.locator("#checkin-by").fill("Phạm Thu Dung")
    ward.locator("#checkin-present").fill("45")
    ward.locator("#checkin-note").fill("Dùng đường truyền dự phòng")
    ward.locator("#checkin-submit").click()

    expect(ward.locator("#connected")).to_be_visible()
    expect(ward.locator("#connected-detail")).to_contain_text("Phạm Thu Dung")
    expect(tile(mc, "thoi-an")).to_have_attribute("data-state", "online")
    expect(tile(mc, "thoi-an")).to_contain_text("Phạm Thu Dung")
    expect(tile(mc, "thoi-an")).to_contain_text("45")
    expect(mc.locator("#board-summary")).to_contain_text("1/13")

    ward.close()  # the ward's laptop goes away: confirmed, but offline

    expect(tile(mc, "thoi-an")).to_have_attribute("data-state", "offline")
    expect(tile(mc, "thoi-an")).to_contain_text("Phạm Thu Dung")


def test_the_point_page_refuses_a_check_in_without_the_person_on_duty(tabs):
    ward = tabs.point("an-phu-dong")

    ward.locator("#checkin-submit").click()

    expect(ward.locator("#checkin-error")).to_have_text(VI["point.by_missing"])
    assert tabs.server.services.ceremony.current().state.points["an-phu-dong"].checkin is None


def test_a_problem_reported_by_a_point_shows_on_the_mc_board_until_cleared(tabs):
    mc = tabs.mc()
    ward = tabs.point("thanh-xuan")

    ward.locator("[data-trouble='no_sound']").click()

    expect(tile(mc, "thanh-xuan")).to_have_attribute("data-state", "trouble")
    expect(tile(mc, "thanh-xuan")).to_contain_text(VI["trouble.no_sound"])
    expect(ward.locator("#trouble-active")).to_be_visible()

    ward.locator("#trouble-text").fill("Máy chiếu tắt")
    ward.locator("#trouble-other").click()
    expect(tile(mc, "thanh-xuan")).to_contain_text("Máy chiếu tắt")

    ward.locator("#trouble-clear").click()

    expect(tile(mc, "thanh-xuan")).to_have_attribute("data-state", "unconfirmed")
    expect(ward.locator("#trouble-active")).to_be_hidden()


def test_a_quick_report_keeps_what_the_technician_is_typing(tabs):
    ward = tabs.point("thanh-xuan")
    ward.locator("#trouble-text").fill("Máy chiếu tắt")

    ward.locator("[data-trouble='no_sound']").click()

    expect(ward.locator("#trouble-what")).to_contain_text(VI["trouble.no_sound"])
    # A later action of the same page is answered (a check-in's answer moves the focus to
    # Edit): the answer to the quick report, sent before it, has come back too.
    ward.locator("#checkin-by").fill("Lê Hoàng Cường")
    ward.locator("#checkin-submit").click()
    expect(ward.locator("#checkin-edit")).to_be_focused()
    expect(ward.locator("#trouble-text")).to_have_value("Máy chiếu tắt")

    ward.locator("#trouble-other").click()

    expect(ward.locator("#trouble-what")).to_contain_text("Máy chiếu tắt")
    expect(ward.locator("#trouble-text")).to_have_value("")


def test_a_message_stays_on_the_point_page_until_read_and_the_mc_sees_who_read_it(tabs):
    mc = tabs.mc()
    ward = tabs.point("hiep-thanh")
    mc.bring_to_front()

    mc.locator("#message-to").select_option("hiep-thanh")
    mc.locator("#message-text").fill("Hiệp Thành chuẩn bị phát biểu")
    mc.locator("#message-send").click()

    inbox = ward.locator("#inbox")
    expect(inbox).to_be_visible()
    expect(inbox).to_contain_text("Hiệp Thành chuẩn bị phát biểu")
    sent = mc.locator("#messages .message").first
    expect(sent).to_contain_text(VI["messages.not_read"])

    ward.bring_to_front()
    ward.locator("#unread [data-slot='ack']").click()

    expect(inbox).to_be_hidden()
    expect(ward.locator("#read-messages")).to_contain_text("Hiệp Thành chuẩn bị phát biểu")
    expect(sent).to_have_attribute("data-read", "all")


def test_a_roll_call_is_answered_with_one_tap(tabs):
    mc = tabs.mc()
    ward = tabs.point("thanh-loc")
    mc.bring_to_front()

    mc.locator("#rollcall-seconds").fill("30")
    mc.locator("#rollcall-start").click()

    expect(ward.locator("#rollcall")).to_be_visible()
    ward.bring_to_front()
    ward.locator("#rollcall-answer").click()

    expect(ward.locator("#rollcall-done")).to_be_visible()
    expect(tile(mc, "thanh-loc").locator("[data-slot='rollcall']")).to_be_visible()
    expect(mc.locator("#rollcall-status")).to_contain_text("1/13")


# -- language and text ---------------------------------------------------------------------------


def test_the_language_switch_changes_the_pages_words(tabs):
    public = tabs.public()
    expect(public.locator("#now-heading")).to_have_text(VI["common.now_speaking"])
    expect(public.locator("html")).to_have_attribute("lang", "vi")

    public.locator(".lang-switch a[data-lang='en']").click()

    expect(public.locator("html")).to_have_attribute("lang", "en")
    expect(public.locator("#now-heading")).to_have_text(EN["common.now_speaking"])
    expect(public.locator("#phase-line")).to_have_text(EN["phase.not_started"])
    online(public)
    mc = tabs.mc()  # the choice is the browser's, for every page
    expect(mc.locator("#next-label")).to_have_text(EN["mc.start"])

    mc.locator(".lang-switch a[data-lang='vi']").click()

    expect(mc.locator("#next-label")).to_have_text(VI["mc.start"])


def test_markup_in_plan_check_ins_and_messages_shows_as_text(tabs, clock):
    svc = tabs.server.services
    hostile_plan = (
        PLAN_FILE.read_text(encoding="utf-8")
        .replace("title: Diễn văn khai mạc", f"title: '{HOSTILE}'", 1)
        .replace("speaker: Người dẫn chương trình", f"speaker: '{HOSTILE}'", 1)
    )
    install_plan(svc.store, parse_plan(hostile_plan), SECRET, svc.ceremony.clock())
    svc.ceremony.perform(Actor("point", "thoi-an"), "checkin", {"by": HOSTILE, "note": HOSTILE})
    mc = tabs.mc()
    ward = tabs.point("thoi-an")
    public = tabs.public()
    stage = tabs.stage()
    mc.bring_to_front()

    mc.locator("#message-text").fill(HOSTILE)
    mc.locator("#message-send").click()
    mc.locator("#next").click()
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    settled(mc)
    mc.locator("body").press("ArrowRight")

    expect(stage.locator("#stage-title")).to_have_text(HOSTILE)
    expect(ward.locator("#now-title")).to_have_text(HOSTILE)
    expect(ward.locator("#unread [data-slot='text']")).to_have_text(HOSTILE)
    expect(tile(mc, "thoi-an").locator("[data-slot='detail']")).to_contain_text(HOSTILE)
    expect(mc.locator("#messages [data-slot='text']")).to_have_text(HOSTILE)
    expect(
        public.locator("#programme [data-key='dien-van-khai-mac'] [data-slot='title']")
    ).to_have_text(HOSTILE)
    for page in (mc, ward, public, stage):
        assert page.locator("main img, main script").count() == 0
        assert page.evaluate("window.__pwned") is None


# -- every page, error-free ------------------------------------------------------------------------


def test_the_pages_log_no_errors_through_a_whole_ceremony(tabs):
    mc = tabs.mc()
    public = tabs.public()
    stage = tabs.stage()
    ward = tabs.point("tan-thoi-nhat")
    ward.locator("#checkin-by").fill("Lê Hoàng Cường")
    ward.locator("#checkin-submit").click()
    expect(tile(mc, "tan-thoi-nhat")).to_have_attribute("data-state", "online")
    mc.bring_to_front()

    for title in [*AGENDA, *([None] * 4)]:
        mc.locator("#next").click()
        if title:
            expect(public.locator("#now-title")).to_have_text(title)
    expect(mc.locator("#next-label")).to_have_text(VI["mc.finish"])
    mc.locator("#next").click()
    mc.locator("#confirm-ok").click()

    expect(stage.locator("#stage-idle-label")).to_have_text(VI["stage.finished"])
    expect(public.locator("#phase-line")).to_have_text(VI["phase.finished"])
    expect(public.locator("#programme [data-status='done']")).to_have_count(7)
    expect(mc.locator("#next")).to_be_disabled()
    # The console watcher (the tabs fixture) fails the test on any error logged above.


def test_a_private_page_opened_without_its_link_explains_what_to_do(tabs):
    page = tabs.console.watch(tabs.context.new_page())
    # Chromium reports the page's own 401 status in the console; nothing else may appear.
    tabs.console.expect_line("the server responded with a status of 401")

    response = page.goto(f"{tabs.server.url}/mc")

    assert response.status == 401
    assert len(tabs.console.problems) <= 1
    expect(page.locator("h1")).to_have_text(VI["notice.link_needed.title"])
    expect(page.locator(".notice-text")).to_have_text(VI["notice.link_needed.text"])
