"""The live show in a real browser (issue 11): the speaker's countdown, the stage channel,
standby cues, the move guard, attention and its mute switch, and accessibility.

Same set-up as tests/test_browser.py (Debian's Chromium through Playwright, a real server,
every tab's console watched: an error fails the test). Pages are reached through the links
the organizer hands out; the MC acts through the console's own buttons.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from runsheet.plans import default_plan
from runsheet.services.plans import install_plan
from tests.conftest import SECRET
from tests.live_server import LiveServer, serve
from tests.test_browser import (
    AGENDA,
    CHROMIUM,
    CHROMIUM_ARGS,
    EN,
    VI,
    WAIT_MS,
    Console,
    Tabs,
    online,
    settled,
    tile,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
VIEWPORTS = {"phone": PHONE, "laptop": LAPTOP}
COUNTDOWN = re.compile(r"^\+?\d+:\d\d$")


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
    """Serve a fresh runsheet with the default ceremony (no move guard)."""
    yield from serve(database_url)


@pytest.fixture
def guarded(database_url) -> Iterator[LiveServer]:
    """Serve a runsheet that refuses a move within two seconds of the previous one."""
    yield from serve(database_url, MOVE_GUARD_SECONDS=2)


class RunningClock:
    """A clock that runs at normal speed from a chosen moment."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


@pytest.fixture
def half_an_hour_before(database_url) -> Iterator[LiveServer]:
    """Serve a runsheet whose clock reads half an hour before the ceremony's start."""
    starts_at = default_plan().event.starts_at
    yield from serve(database_url, CLOCK=RunningClock(starts_at - timedelta(minutes=30)))


def open_tabs(browser: Browser, server: LiveServer, viewport: dict, **options) -> Tabs:
    """Return a fresh browser window (its own storage: another computer) on the server."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(WAIT_MS)
    return Tabs(context, server, Console())


@pytest.fixture
def windows(browser) -> Iterator:  # noqa: ANN201
    """Open browser windows on a server; fail if any of their tabs logged an error."""
    expect.set_options(timeout=WAIT_MS)
    opened: list[Tabs] = []

    def window(server: LiveServer, viewport: dict = LAPTOP, **options) -> Tabs:
        tabs = open_tabs(browser, server, viewport, **options)
        opened.append(tabs)
        return tabs

    yield window
    problems = []
    for tabs in opened:
        tabs.context.close()
        problems += tabs.console.unexpected()
    assert problems == []


def ward_speaks(server: LiveServer) -> None:
    """Make the second item delivered from Thới An's point, as a plan reload would."""
    plan = default_plan()
    agenda = list(plan.agenda)
    agenda[1] = dataclasses.replace(agenda[1], point_id="thoi-an")
    svc = server.services
    install_plan(
        svc.store, dataclasses.replace(plan, agenda=tuple(agenda)), SECRET, svc.ceremony.clock()
    )


def seconds_of(text: str) -> int:
    """Return the seconds a countdown shows ("4:05" is 245, "+1:10" is -70)."""
    sign = -1 if text.startswith("+") else 1
    minutes, seconds = text.lstrip("+").split(":")[-2:]
    return sign * (int(minutes) * 60 + int(seconds))


def next_value(page: Page, selector: str, previous: str) -> str:
    """Wait until the element's text differs from ``previous`` and return it."""
    expect(page.locator(selector)).not_to_have_text(previous)
    return page.locator(selector).text_content()


def start(mc: Page) -> None:
    """Press Next on the MC console and wait for its answer."""
    mc.locator("#next").click()
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    settled(mc)


# -- the speaker's countdown ----------------------------------------------------------------------


def test_the_stage_countdown_goes_down_then_warns_then_counts_the_overtime_with_a_sign(
    windows, server
):
    tabs = windows(server)
    mc = tabs.mc()
    stage = tabs.stage()
    ward = tabs.point("thoi-an")
    mc.bring_to_front()
    start(mc)

    countdown = stage.locator("#countdown")
    expect(countdown).to_be_visible()
    expect(countdown).to_have_attribute("data-level", "normal")
    first = stage.locator("#countdown-value").text_content()
    assert COUNTDOWN.match(first) and seconds_of(first) > 120
    later = next_value(stage, "#countdown-value", first)
    assert 0 < seconds_of(later) < seconds_of(first)  # going down

    for _ in range(4):  # five minutes planned, four taken off: one minute left
        mc.locator("#less").click()
        settled(mc)
    expect(countdown).to_have_attribute("data-level", "warn")
    expect(stage.locator("#countdown-value")).to_have_text(re.compile(r"^[01]:\d\d$"))
    expect(mc.locator("#timer")).to_have_attribute("data-level", "warn")
    expect(ward.locator("#countdown")).to_have_attribute("data-level", "warn")

    mc.locator("#less").click()  # never below the time spoken: zero left, then overtime
    expect(countdown).to_have_attribute("data-level", "danger")
    over = stage.locator("#countdown-value").text_content()
    assert over.startswith("+")
    expect(countdown).to_have_attribute("data-blink", "yes")  # its first ten seconds
    expect(stage.locator("#countdown-label")).to_have_text(VI["countdown.over"])
    more = next_value(stage, "#countdown-value", over)
    assert more.startswith("+") and seconds_of(more) < seconds_of(over)  # counting up
    expect(mc.locator("#timer")).to_have_attribute("data-level", "danger")
    expect(ward.locator("#countdown")).to_have_attribute("data-level", "danger")
    expect(ward.locator("#countdown-value")).to_have_text(re.compile(r"^\+\d+:\d\d$"))


def test_a_held_timer_stands_still_and_says_so_on_stage(windows, server):
    tabs = windows(server)
    mc = tabs.mc()
    stage = tabs.stage()
    mc.bring_to_front()
    start(mc)

    mc.locator("#hold").click()

    expect(stage.locator("#countdown")).to_have_attribute("data-level", "held")
    expect(stage.locator("#countdown-label")).to_have_text(VI["countdown.on_hold"])
    expect(mc.locator("#hold")).to_have_attribute("aria-pressed", "true")
    frozen = stage.locator("#countdown-value").text_content()
    stage.wait_for_timeout(2200)  # two turns of the second: a running timer would move
    expect(stage.locator("#countdown-value")).to_have_text(frozen)

    mc.locator("#hold").click()

    expect(stage.locator("#countdown")).to_have_attribute("data-level", "normal")
    next_value(stage, "#countdown-value", frozen)


def test_the_timer_view_shows_the_countdown_the_title_small_and_the_stage_message(
    windows, half_an_hour_before
):
    tabs = windows(half_an_hour_before)
    mc = tabs.mc()
    timer = tabs.open(f"{tabs.links().stage}?view=timer", wait_online=False)
    expect(timer.locator("#stage")).to_have_attribute("data-view", "timer")
    expect(timer.locator("#countdown")).to_have_attribute("data-kind", "start")
    expect(timer.locator("#countdown-value")).to_have_text(re.compile(r"^(30:00|29:\d\d)$"))
    expect(timer.locator("#countdown-label")).to_have_text(VI["countdown.to_start"])
    mc.bring_to_front()
    start(mc)

    expect(timer.locator("#stage-title")).to_have_text(AGENDA[0])
    expect(timer.locator("#countdown-value")).to_have_text(COUNTDOWN)
    for hidden in ("#stage-speaker", ".stage-event", "#stage-next", "#stage-idle"):
        expect(timer.locator(hidden)).to_be_hidden()
    title_size = timer.locator("#stage-title").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    value_size = timer.locator("#countdown-value").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert value_size > 4 * title_size

    mc.locator("[data-quick='stagectl.quick_one_minute']").click()
    expect(timer.locator("#stage-message")).to_have_text(VI["stagectl.quick_one_minute"])
    mc.locator("#stage-screen").select_option("break")  # the room's screen, not the speaker's
    expect(mc.locator("#stage-now")).to_contain_text(VI["stagectl.screen_break"])
    expect(timer.locator("#countdown")).to_be_visible()

    timer.locator(".lang-switch a[data-lang='en']").click()  # the switch keeps the view

    expect(timer.locator("html")).to_have_attribute("lang", "en")
    assert "view=timer" in timer.url
    expect(timer.locator("#countdown-label")).to_have_text(EN["countdown.left"])
    # Connected again before the window closes (a socket cut mid-handshake logs an error).
    expect(timer.locator("body")).to_have_attribute("data-connection", "online")


def test_a_break_screen_and_a_stage_message_reach_two_stage_displays_within_a_second(
    windows, server
):
    tabs = windows(server)
    mc = tabs.mc()
    displays = [tabs.stage(), tabs.stage()]
    mc.bring_to_front()
    start(mc)

    mc.locator("#stage-screen").select_option("break")
    for display in displays:
        expect(display.locator("#stage-break")).to_be_visible(timeout=1000)
        expect(display.locator("#stage-break")).to_contain_text(VI["stage.break_title"])
        expect(display.locator("#stage-break")).to_contain_text(EN["stage.break_title"])
        expect(display.locator("#stage-programme")).to_be_hidden()

    mc.locator("#stage-screen").select_option("programme")
    mc.locator("#stage-blink").check()
    mc.locator("#stage-text").fill("Xin mời đại biểu phát biểu")
    mc.locator("#stage-show").click()
    for display in displays:
        message = display.locator("#stage-message")
        expect(message).to_have_text("Xin mời đại biểu phát biểu", timeout=1000)
        expect(message).to_have_attribute("data-blink", "yes")
        expect(display.locator("#stage-programme")).to_be_visible()

    mc.locator("#stage-blackout").check()
    for display in displays:
        expect(display.locator("#stage-blackout")).to_be_visible()
    mc.locator("#stage-blackout").uncheck()
    mc.locator("#stage-clear").click()
    for display in displays:
        expect(display.locator("#stage-blackout")).to_be_hidden()
        expect(display.locator("#stage-message")).to_be_hidden()


# -- standby cues ---------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_the_point_that_speaks_next_gets_its_cue_and_its_ready_reaches_the_mc(
    windows, server, viewport
):
    ward_speaks(server)
    tabs = windows(server, VIEWPORTS[viewport])
    mc = tabs.mc()
    ward = tabs.point("thoi-an")
    ward.locator("#checkin-by").fill("Lê Thị Bảy")
    ward.locator("#checkin-submit").click()
    expect(ward.locator("#connected")).to_be_visible()
    expect(ward.locator("#cue")).to_be_hidden()
    mc.bring_to_front()

    start(mc)  # the item before Thới An's goes live

    expect(ward.locator("#cue-title")).to_have_text(VI["point.cue_next"])
    expect(ward.locator("#cue-what")).to_have_text(AGENDA[1])
    expect(ward.locator("body")).to_have_attribute("data-alerting", "yes")
    standby = mc.locator("#standby")
    expect(standby).to_have_attribute("data-ready", "no")
    expect(standby).to_contain_text("Thới An")

    ward.bring_to_front()
    ward.locator("#ready").click()

    expect(standby).to_have_attribute("data-ready", "yes")
    expect(standby).to_contain_text("✓")
    expect(ward.locator("#cue-done")).to_be_visible()
    expect(ward.locator("#ready")).to_be_hidden()

    mc.bring_to_front()
    mc.locator("#next").click()

    expect(ward.locator("#cue-title")).to_have_text(VI["point.cue_live"])
    expect(ward.locator("#now-title")).to_have_text(AGENDA[1])
    expect(ward.locator("#countdown-value")).to_have_text(COUNTDOWN)
    # On a phone the countdown comes before everything else on the page.
    countdown_top = ward.locator("#countdown").bounding_box()["y"]
    checkin_top = ward.locator("#checkin").bounding_box()["y"]
    assert countdown_top < checkin_top


# -- the move guard -------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_a_second_next_a_moment_after_the_first_asks_before_moving(windows, guarded, viewport):
    tabs = windows(guarded, VIEWPORTS[viewport])
    mc = tabs.mc()
    start(mc)

    mc.wait_for_timeout(300)  # a second press 300 ms after the first, well inside the guard
    mc.locator("#next").click()

    refusal = mc.locator("#action-error")
    expect(refusal).to_have_attribute("data-kind", "just_moved")
    expect(refusal).to_contain_text(VI["mc.moved_by_this_console"])
    settled(mc)
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    assert guarded.services.ceremony.current().state.current_item_id == "tuyen-bo-ly-do"

    mc.locator("body").press("ArrowRight")  # pressed again: confirmed

    expect(mc.locator("#now-title")).to_have_text(AGENDA[1])
    expect(refusal).to_be_hidden()


def test_a_second_console_pressing_next_a_moment_later_is_told_who_moved(windows, guarded):
    first = windows(guarded).mc()
    second = windows(guarded).mc()  # another computer: another console name
    first_name = first.locator("#console-name").text_content()
    assert first_name and first_name != second.locator("#console-name").text_content()

    first.locator("#next").click()
    expect(second.locator("#now-title")).to_have_text(AGENDA[0])
    second.wait_for_timeout(300)
    second.locator("#next").click()

    refusal = second.locator("#action-error")
    expect(refusal).to_contain_text(first_name)
    expect(refusal).to_have_attribute("data-kind", "just_moved")
    settled(second)
    assert guarded.services.ceremony.current().state.current_item_id == "tuyen-bo-ly-do"

    second.locator("#next").click()

    expect(first.locator("#now-title")).to_have_text(AGENDA[1])
    expect(second.locator("#now-title")).to_have_text(AGENDA[1])


# -- attention ------------------------------------------------------------------------------------


def send(mc: Page, text: str, to: str) -> None:
    """Send a message from the MC console to one point."""
    mc.locator("#message-to").select_option(to)
    mc.locator("#message-text").fill(text)
    mc.locator("#message-send").click()
    expect(mc.locator("#messages .message").first).to_contain_text(text)


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_a_muted_point_page_flashes_its_title_but_stays_silent_and_remembers(
    windows, server, viewport
):
    tabs = windows(server, VIEWPORTS[viewport])
    mc = tabs.mc()
    ward = tabs.point("hiep-thanh")
    ward.bring_to_front()
    ward.locator("#mute").click()
    expect(ward.locator("#mute")).to_have_attribute("aria-pressed", "true")

    send(mc, "Hiệp Thành kiểm tra micro", "hiep-thanh")
    expect(mc.locator("#message-to")).to_have_value("")  # back to all points

    expect(ward.locator("#inbox")).to_be_visible()
    expect(ward.locator("body")).to_have_attribute("data-alerting", "yes")
    expect(ward).to_have_title(re.compile(VI["attention.title"]))
    assert ward.locator("body").get_attribute("data-chimes") == "0"

    ward.reload()
    expect(ward.locator("body")).to_have_attribute("data-ready", "yes")
    expect(ward.locator("#mute")).to_have_attribute("aria-pressed", "true")  # remembered
    ward.locator("#mute").click()
    expect(ward.locator("#mute")).to_have_attribute("aria-pressed", "false")
    online(ward)

    send(mc, "Hiệp Thành chuẩn bị", "hiep-thanh")

    expect(ward.locator("body")).to_have_attribute("data-chimes", "1")
    ward.locator("#unread [data-slot='ack']").first.click()  # seen: the title calms down
    expect(ward.locator("body")).to_have_attribute("data-alerting", "no")


def test_a_trouble_report_draws_the_mcs_attention_and_the_mc_can_clear_it(windows, server):
    tabs = windows(server)
    mc = tabs.mc()
    ward = tabs.point("thanh-xuan")

    ward.locator("[data-trouble='no_picture']").click()

    expect(tile(mc, "thanh-xuan")).to_have_attribute("data-state", "trouble")
    expect(mc.locator("body")).to_have_attribute("data-alerting", "yes")
    tile(mc, "thanh-xuan").locator("[data-slot='clear']").click()
    expect(tile(mc, "thanh-xuan")).to_have_attribute("data-state", "unconfirmed")
    expect(ward.locator("#trouble-active")).to_be_hidden()


def test_a_point_page_reports_its_link_and_the_mc_board_shows_it(windows, server):
    tabs = windows(server)
    mc = tabs.mc()
    tabs.point("thoi-an")

    link = tile(mc, "thoi-an").locator("[data-slot='link']")
    expect(link).to_have_text(re.compile(r"\d+ ms"))
    expect(tile(mc, "thoi-an")).to_have_attribute("data-link", "good")


def test_the_public_page_marks_skipped_items_and_shows_projected_times(windows, server):
    tabs = windows(server, PHONE)
    mc = tabs.mc()
    public = tabs.public()
    mc.bring_to_front()

    mc.locator("#runsheet [data-key='phat-bieu-don-vi-cung-ung'] [data-slot='jump']").click()
    mc.locator("#confirm-ok").click()

    skipped = public.locator("#programme [data-key='tuyen-bo-ly-do']")
    expect(skipped).to_have_attribute("data-status", "skipped")
    expect(skipped.locator("[data-slot='badge']")).to_have_text(VI["status.skipped"])
    expect(mc.locator("#runsheet [data-key='dien-van-khai-mac']")).to_have_attribute(
        "data-status", "skipped"
    )
    # Today is not the plan's day: every item still to come starts far from its plan.
    coming = public.locator("#programme [data-key='ket-thuc'] [data-slot='projected']")
    expect(coming).to_have_text(re.compile(VI["agenda.projected"].replace("{time}", r"\d\d:\d\d")))


# -- accessibility --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("page_name", ["mc", "point", "public", "stage"])
def test_axe_finds_no_serious_accessibility_violation(windows, server, page_name, lang):
    assert AXE.exists(), "axe-core is missing: run npm ci --prefix tests/js"
    ward_speaks(server)
    tabs = windows(server, bypass_csp=True)  # axe is injected as an inline script
    mc = tabs.mc()
    ward = tabs.point("thoi-an")
    start(mc)  # a live item, Thới An on standby, a message and a problem on the board
    send(mc, "Thới An chuẩn bị phát biểu", "thoi-an")
    ward.locator("[data-trouble='no_sound']").click()
    expect(tile(mc, "thoi-an")).to_have_attribute("data-state", "trouble")

    url = {
        "mc": tabs.links().mc,
        "point": tabs.links().points["thoi-an"],
        "public": tabs.links().public,
        "stage": tabs.links().stage,
    }[page_name]
    page = tabs.open(
        f"{url}{'&' if '?' in url else '?'}lang={lang}", wait_online=page_name != "stage"
    )
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
        }"""
    )
    assert violations == []
