"""The organizer's page in a real browser: the plan editor, its checks and its saves.

Same set-up as tests/test_browser.py (Debian's Chromium through Playwright, a real server,
every tab's console watched: an error fails the test, except the answers a test provokes
on purpose: a check that finds problems is a 422, a save on an old revision a 409, and
Chromium logs every such answer). The organizer edits through the page's own controls,
the mouse and the keyboard, as a person would; the MC console and the stage display are
open beside it and must show each save at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from runsheet.i18n import catalog
from tests.live_server import LiveServer, serve
from tests.test_browser import (
    AGENDA,
    CHROMIUM,
    CHROMIUM_ARGS,
    VI,
    WAIT_MS,
    Console,
    Tabs,
    online,
    settled,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EN = catalog("en")
AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
# Every screen shows a save within this long of the organizer's page hearing it is saved
# (the server pushes the new state before it answers the save).
PUSH_MS = 1000
PROGRAMME = [
    "Tuyên bố lý do, giới thiệu đại biểu",
    "Diễn văn khai mạc",
    "Phát biểu của đại diện các đơn vị cung ứng nhu cầu học tập",
    "Phát biểu hưởng ứng của người học tập",
    "Phát biểu của lãnh đạo Sở Giáo dục và Đào tạo",
    "Gửi thông điệp hưởng ứng Tuần lễ học tập suốt đời",
    "Kết thúc Lễ khai mạc",
]
NEW_ITEM = "Văn nghệ chào mừng"


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


@pytest.fixture
def windows(browser) -> Iterator:  # noqa: ANN201
    """Open browser windows on a server; fail if any of their tabs logged an error."""
    expect.set_options(timeout=WAIT_MS)
    opened: list[Tabs] = []

    def window(server: LiveServer, **options) -> Tabs:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, **options)
        context.set_default_timeout(WAIT_MS)
        tabs = Tabs(context, server, Console())
        opened.append(tabs)
        return tabs

    yield window
    problems = []
    for tabs in opened:
        tabs.context.close()
        problems += tabs.console.unexpected()
    assert problems == []


def routed(server: LiveServer, path: str) -> bool:
    """Say whether the app serves a path (the events and links APIs come from other branches)."""
    return any(rule.rule == path for rule in server.app.url_map.iter_rules())


def open_organizer(tabs: Tabs, lang: str | None = None) -> Page:
    """Open the organizer's page through the organizer's link; wait for the plan."""
    if not (routed(tabs.server, "/api/v1/events") and routed(tabs.server, "/api/v1/links")):
        tabs.console.expect_line("404 (NOT FOUND)")  # their panels say they are unavailable
    url = tabs.links().organizer + (f"&lang={lang}" if lang else "")
    page = tabs.open(url)
    expect(page.locator("body")).to_have_attribute("data-plan", "loaded")
    return page


def entry(page: Page, section: str, index: int):  # noqa: ANN201
    """Return the editor's entry at a position of a list (points, agenda, ...)."""
    return page.locator(f"#list-{section} > .org-entry").nth(index)


def field(page: Page, section: str, index: int, key: str):  # noqa: ANN201
    """Return the control of one field of a list's entry."""
    return entry(page, section, index).locator(
        f'.org-field[data-key="{key}"] input, .org-field[data-key="{key}"] select, '
        f'.org-field[data-key="{key}"] textarea'
    )


def titles(page: Page) -> list[str]:
    """Return the programme's titles as the editor lists them."""
    return page.locator("#list-agenda .org-entry-title").all_text_contents()


def checked(page: Page) -> None:
    """Wait until the server has checked the latest change."""
    expect(page.locator("#check-status")).not_to_have_attribute("data-state", "waiting")


def save(page: Page) -> None:
    """Press Save and wait until the page says the plan is saved."""
    page.locator("#save-plan").click()
    expect(page.locator("#save-status")).to_have_attribute("data-state", "saved")


def start(mc: Page) -> None:
    """Press Next on the MC console and wait for its answer."""
    mc.locator("#next").click()
    expect(mc.locator("#now-title")).to_have_text(AGENDA[0])
    settled(mc)


# -- editing the programme while the ceremony runs -------------------------------------------


def test_an_item_added_resized_and_reordered_shows_on_the_mc_console_and_the_stage_at_once(
    windows, server
):
    tabs = windows(server)
    tabs.console.expect_line("422")  # a check may find the new item still untitled
    mc = tabs.mc()
    stage = tabs.stage()
    start(mc)
    organizer = open_organizer(tabs)
    # The live item is read-only: no handle, no remove, its fields disabled.
    expect(entry(organizer, "agenda", 0)).to_have_attribute("data-locked", "yes")
    expect(entry(organizer, "agenda", 0).locator('[data-action="remove"]')).to_have_count(0)
    expect(field(organizer, "agenda", 0, "title")).to_be_disabled()

    organizer.locator("#add-agenda").click()
    expect(field(organizer, "agenda", 7, "title")).to_be_focused()
    field(organizer, "agenda", 7, "title").fill(NEW_ITEM)
    field(organizer, "agenda", 7, "planned_minutes").fill("7")
    field(organizer, "agenda", 2, "planned_minutes").fill("12")

    # The keyboard: Home on the new item's handle takes it to the first place it may have,
    # right after the live item, and says so.
    handle = entry(organizer, "agenda", 7).locator('[data-action="handle"]')
    handle.focus()
    organizer.keyboard.press("Home")
    expect(organizer.locator("#announcer")).to_contain_text(NEW_ITEM)
    expect(organizer.locator("#announcer")).to_contain_text("2")
    expect(entry(organizer, "agenda", 1).locator('[data-action="handle"]')).to_be_focused()
    # The mouse: drag "Phát biểu hưởng ứng..." above "Diễn văn khai mạc".
    dragged = entry(organizer, "agenda", 4).locator('[data-action="handle"]')
    dragged.drag_to(entry(organizer, "agenda", 2), target_position={"x": 40, "y": 4})
    expected = [
        PROGRAMME[0],
        NEW_ITEM,
        PROGRAMME[3],
        PROGRAMME[1],
        PROGRAMME[2],
        *PROGRAMME[4:],
    ]
    assert titles(organizer) == expected
    checked(organizer)
    expect(organizer.locator("#check-status")).to_have_attribute("data-state", "ok")

    save(organizer)
    expect(mc.locator("#runsheet .rs-title")).to_have_text(expected, timeout=PUSH_MS)
    expect(stage.locator("#stage-next-title")).to_have_text(NEW_ITEM, timeout=PUSH_MS)
    expect(stage.locator("#stage-title")).to_have_text(PROGRAMME[0])
    plan = server.services.ceremony.current().plan
    assert [item.title for item in plan.agenda] == expected
    assert plan.agenda[1].planned_minutes == 7
    assert [item.planned_minutes for item in plan.agenda if item.title == PROGRAMME[2]] == [12]
    assert server.services.ceremony.current().state.current_item_id == plan.agenda[0].id


def test_a_duplicated_item_gets_its_own_id_and_a_removed_one_leaves_every_screen(windows, server):
    tabs = windows(server)
    mc = tabs.mc()
    organizer = open_organizer(tabs)
    entry(organizer, "agenda", 1).locator('[data-action="duplicate"]').click()
    assert titles(organizer)[1:3] == [PROGRAMME[1], PROGRAMME[1]]
    entry(organizer, "agenda", 6).locator('[data-action="remove"]').click()
    expect(organizer.locator("#announcer")).to_contain_text(PROGRAMME[5])
    checked(organizer)
    save(organizer)

    expected = [PROGRAMME[0], PROGRAMME[1], *PROGRAMME[1:5], PROGRAMME[6]]
    expect(mc.locator("#runsheet .rs-title")).to_have_text(expected, timeout=PUSH_MS)
    ids = [item.id for item in server.services.ceremony.current().plan.agenda]
    assert len(set(ids)) == len(ids)


# -- two organizers at once -----------------------------------------------------------------


def test_a_second_organizer_tab_saving_on_the_old_revision_is_offered_the_latest_plan(
    windows, server
):
    tabs = windows(server)
    first = open_organizer(tabs)
    second = open_organizer(tabs)
    tabs.console.expect_line("409")  # Chromium logs the refused save

    field(second, "agenda", 3, "planned_minutes").fill("9")  # not saved yet
    first.bring_to_front()
    field(first, "agenda", 0, "title").fill("Khai mạc và giới thiệu đại biểu")
    checked(first)
    save(first)

    second.bring_to_front()
    # The pushed state already tells the second tab that its base is old.
    expect(second.locator("#stale-notice")).to_be_visible()
    second.locator("#save-plan").click()
    dialog = second.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(second.locator("#confirm-title")).to_have_text(VI["organizer.stale.title"])
    second.locator("#confirm-ok").click()

    expect(field(second, "agenda", 0, "title")).to_have_value("Khai mạc và giới thiệu đại biểu")
    expect(field(second, "agenda", 3, "planned_minutes")).to_have_value("5")
    expect(second.locator("#stale-notice")).to_be_hidden()
    assert server.services.ceremony.current().plan.agenda[3].planned_minutes == 5


def test_a_second_tab_without_changes_follows_the_other_tabs_save_by_itself(windows, server):
    tabs = windows(server)
    first = open_organizer(tabs)
    second = open_organizer(tabs)
    first.bring_to_front()
    field(first, "slogans", 0, "text").fill("Học tập suốt đời — chìa khóa của tương lai")
    checked(first)
    save(first)
    expect(field(second, "slogans", 0, "text")).to_have_value(
        "Học tập suốt đời — chìa khóa của tương lai"
    )
    expect(second.locator("#stale-notice")).to_be_hidden()


def test_the_page_loads_the_plan_once_and_a_reload_on_its_way_keeps_what_was_typed(windows, server):
    first = open_organizer(windows(server))
    other = windows(server)  # a second window, whose plan loads the test watches
    plan_loads: list[str] = []
    held: list[Route] = []

    def hold_reloads(route: Route) -> None:
        plan_loads.append(route.request.method)
        if len(plan_loads) == 1:
            route.continue_()
        else:
            held.append(route)  # the reload after the other tab's save, let through below

    other.context.route("**/api/v1/plan", hold_reloads)
    second = open_organizer(other)
    online(second)
    # The connection's first state is the one embedded in the page: no second load.
    second.wait_for_timeout(500)
    assert plan_loads == ["GET"]

    field(first, "slogans", 0, "text").fill("Học tập suốt đời — chìa khóa của tương lai")
    checked(first)
    save(first)
    for _ in range(100):
        if held:
            break
        second.wait_for_timeout(100)
    assert plan_loads == ["GET", "GET"], "the saved plan reached the second window"

    field(second, "agenda", 3, "planned_minutes").fill("9")  # typed while the reload is out
    held[0].continue_()
    expect(second.locator("#stale-notice")).to_be_visible()
    expect(field(second, "agenda", 3, "planned_minutes")).to_have_value("9")
    expect(second.locator("body")).to_have_attribute("data-dirty", "yes")


# -- checks as you type ------------------------------------------------------------------------


def test_problems_show_at_their_fields_as_the_organizer_types_and_go_when_fixed(windows, server):
    tabs = windows(server)
    tabs.console.expect_line("422")  # each check that finds a problem answers 422
    organizer = open_organizer(tabs)
    title = field(organizer, "agenda", 2, "title")
    minutes = field(organizer, "agenda", 4, "planned_minutes")
    title.fill("")
    minutes.fill("0")
    checked(organizer)

    title_problem = entry(organizer, "agenda", 2).locator('[data-key="title"] .org-problem')
    minutes_problem = entry(organizer, "agenda", 4).locator(
        '[data-key="planned_minutes"] .org-problem'
    )
    expect(title_problem).to_be_visible()
    expect(title_problem).to_contain_text("trống")
    expect(minutes_problem).to_be_visible()
    expect(title).to_have_attribute("aria-invalid", "true")
    assert title_problem.get_attribute("id") in title.get_attribute("aria-describedby")
    expect(organizer.locator("#check-status")).to_have_attribute("data-state", "problems")

    # Saving anyway is refused with the same problems, and nothing changes on the server.
    before = server.services.ceremony.current().version
    organizer.locator("#save-plan").click()
    expect(organizer.locator("#save-status")).to_have_attribute("data-state", "error")
    expect(title_problem).to_be_visible()
    assert server.services.ceremony.current().version == before

    title.fill("Phát biểu của đại diện các đơn vị")
    minutes.fill("6")
    checked(organizer)
    expect(title_problem).to_be_hidden()
    expect(minutes_problem).to_be_hidden()
    expect(organizer.locator("#check-status")).to_have_attribute("data-state", "ok")


def test_a_new_points_id_follows_its_name_and_a_repeated_id_is_shown_at_the_id(windows, server):
    tabs = windows(server)
    tabs.console.expect_line("422")
    organizer = open_organizer(tabs)
    organizer.locator("#add-points").click()
    field(organizer, "points", 13, "name").fill("Trường THCS Nguyễn Ảnh Thủ")
    expect(field(organizer, "points", 13, "id")).to_have_value("truong-thcs-nguyen-anh-thu")
    field(organizer, "points", 13, "id").fill("thoi-an")  # a ward's id
    checked(organizer)
    problem = entry(organizer, "points", 13).locator('[data-key="id"] .org-problem')
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("thoi-an")
    # The programme's point choices already offer the new point.
    options = field(organizer, "agenda", 0, "point").locator("option").all_text_contents()
    assert any("Nguyễn Ảnh Thủ" in option for option in options)


def test_the_organizer_page_in_english(windows, server):
    tabs = windows(server)
    tabs.console.expect_line("422")
    organizer = open_organizer(tabs, lang="en")
    expect(organizer.locator("html")).to_have_attribute("lang", "en")
    expect(organizer.locator("#h-agenda")).to_have_text(EN["organizer.section.agenda"])
    expect(organizer.locator("#save-plan")).to_have_text(EN["organizer.save.save"])
    label = entry(organizer, "agenda", 0).locator('[data-key="planned_minutes"] label')
    expect(label).to_contain_text(EN["organizer.field.agenda.planned_minutes"])
    field(organizer, "agenda", 1, "title").fill("")
    checked(organizer)
    problem = entry(organizer, "agenda", 1).locator('[data-key="title"] .org-problem')
    expect(problem).to_contain_text("empty")
    assert VI["organizer.section.agenda"] not in organizer.locator("main").inner_text()


# -- accessibility ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_axe_finds_no_serious_accessibility_violation_on_the_organizer_page(windows, server, lang):
    assert AXE.exists(), "axe-core is missing: run npm ci --prefix tests/js"
    tabs = windows(server, bypass_csp=True)  # axe is injected as an inline script
    mc = tabs.mc()
    start(mc)  # a live, read-only item in the editor
    organizer = open_organizer(tabs, lang=lang)
    entry(organizer, "agenda", 2).locator("details.org-more summary").click()
    organizer.add_script_tag(path=str(AXE))
    violations = organizer.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
        }"""
    )
    assert violations == []


# -- spreadsheets ------------------------------------------------------------------------------


def test_a_workbook_downloaded_changed_and_uploaded_on_the_page_replaces_the_plan(
    windows, server, tmp_path
):
    tabs = windows(server)
    tabs.console.expect_line("422")  # the bad workbook's refusal
    mc = tabs.mc()
    organizer = open_organizer(tabs)
    with organizer.expect_download() as download:
        organizer.locator("#download-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = tmp_path / "plan.xlsx"
    download.value.save_as(workbook)

    book = openpyxl.load_workbook(workbook)
    agenda = book["Chương trình"]
    header = [cell.value for cell in agenda[1]]
    agenda.cell(row=5, column=header.index("Số phút") + 1).value = 0
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    before = server.services.ceremony.current().version
    organizer.locator("#upload-xlsx").set_input_files(bad)
    problems = organizer.locator("#sheet-problems")
    expect(problems).to_contain_text("Chương trình, dòng 5, cột Số phút")
    expect(organizer.locator("#sheet-status")).to_have_attribute("data-state", "error")
    assert server.services.ceremony.current().version == before

    agenda.cell(row=5, column=header.index("Số phút") + 1).value = 8
    agenda.cell(row=2, column=header.index("Nội dung") + 1).value = "Khai mạc, giới thiệu đại biểu"
    good = tmp_path / "good.xlsx"
    book.save(good)
    organizer.locator("#upload-xlsx").set_input_files(good)
    expect(organizer.locator("#sheet-status")).to_have_attribute("data-state", "ok")
    expect(problems).to_be_hidden()
    expect(field(organizer, "agenda", 0, "title")).to_have_value("Khai mạc, giới thiệu đại biểu")
    expect(field(organizer, "agenda", 3, "planned_minutes")).to_have_value("8")
    expect(mc.locator("#runsheet .rs-title").first).to_have_text("Khai mạc, giới thiệu đại biểu")


# -- events and links (their APIs come from the events and audit branches) ---------------------


def token_of(link: str) -> str:
    """Return the token a role's link carries."""
    return link.rsplit("token=", 1)[1]


def needs(server: LiveServer, *paths: str) -> None:
    """Skip a test on a build that does not serve these API paths yet."""
    missing = [path for path in paths if not routed(server, path)]
    if missing:
        pytest.skip(f"this build serves no {', '.join(missing)}")


def test_the_organizer_creates_an_event_and_switches_to_it_after_a_confirmation(windows, server):
    needs(server, "/api/v1/events")
    tabs = windows(server)
    public = tabs.public()
    organizer = open_organizer(tabs)
    organizer.locator("#event-slug").fill("le-khai-giang-2026")
    organizer.locator("#event-title").fill("Lễ khai giảng năm học 2026")
    organizer.locator("#event-from").select_option("duplicate")
    expect(organizer.locator("#event-source-field")).to_be_visible()
    organizer.locator("#event-create button[type=submit]").click()
    row = organizer.locator('#events-list [data-key="le-khai-giang-2026"]')
    expect(row).to_contain_text("Lễ khai giảng năm học 2026")
    expect(row).to_have_attribute("data-active", "no")

    row.locator(".button-secondary").click()
    expect(organizer.locator("#confirm-text")).to_contain_text("Lễ khai giảng năm học 2026")
    organizer.locator("#confirm-cancel").click()  # on second thought: nothing switches
    assert server.services.ceremony.current().plan.event.slug != "le-khai-giang-2026"

    row.locator(".button-secondary").click()
    organizer.locator("#confirm-ok").click()
    expect(organizer.locator(".topbar-event")).to_have_text("Lễ khai giảng năm học 2026")
    expect(organizer.locator('#events-list [data-key="le-khai-giang-2026"]')).to_have_attribute(
        "data-active", "yes"
    )
    expect(public.locator(".hero-title")).to_contain_text("Lễ khai giảng năm học 2026")
    # The reloaded pages are whole and live again (not cut off mid-load by the test's end).
    expect(public.locator("body")).to_have_attribute("data-ready", "yes")
    online(public)
    online(organizer)
    expect(organizer.locator("body")).to_have_attribute("data-plan", "loaded")


def test_rotating_the_mcs_link_on_the_page_stops_the_old_link_at_once_and_keeps_the_others(
    windows, server
):
    needs(server, "/api/v1/links")
    tabs = windows(server)
    old_mc = tabs.links().mc
    mc = tabs.mc()
    organizer = open_organizer(tabs)
    row = organizer.locator('#links-list [data-key="mc"]')
    expect(row.locator("input")).to_have_value(re.compile(f"token={re.escape(token_of(old_mc))}$"))
    expect(row.locator("img")).to_be_visible()
    row.locator(".button-danger").click()
    expect(organizer.locator("#confirm-text")).to_contain_text("ngay lập tức")
    organizer.locator("#confirm-ok").click()

    expect(row.locator("input")).not_to_have_value(re.compile(re.escape(token_of(old_mc))))
    expect(organizer.locator("#links-status")).to_have_attribute("data-state", "ok")
    assert token_of(row.locator("input").input_value()) == token_of(tabs.links().mc)
    expect(mc.locator("#refused-banner")).to_be_visible()
    ward = organizer.locator('#links-list [data-key="point:thoi-an"] input')
    assert token_of(ward.input_value()) == token_of(tabs.links().points["thoi-an"])


def test_the_video_conference_is_edited_on_the_page_and_a_bad_link_is_named_at_its_field(
    windows, server
):
    tabs = windows(server)
    tabs.console.expect_line("422")
    organizer = open_organizer(tabs)
    url = organizer.locator('#event-conference-fields [data-key="conference.url"] input')
    url.fill("zoom phòng họp")
    checked(organizer)
    problem = organizer.locator('#event-conference-fields [data-key="conference.url"] .org-problem')
    expect(problem).to_be_visible()

    url.fill("https://zoom.us/j/84512345678")
    organizer.locator('[data-key="conference.platform"] input').first.fill("Zoom")
    organizer.locator('[data-key="conference.meeting_id"] input').first.fill("845 1234 5678")
    organizer.locator('[data-key="conference.passcode"] input').first.fill("hoctap2021")
    organizer.locator('[data-key="livestream_url"] input').fill("https://youtube.com/live/q12")
    ward = entry(organizer, "points", 11)  # Thới An joins another meeting
    ward.locator('[data-action="toggle"]').click()
    ward.locator("details.org-more summary").click()
    ward.locator('[data-key="conference.url"] input').fill("https://meet.google.com/abc-defg-hij")
    checked(organizer)
    expect(problem).to_be_hidden()
    save(organizer)

    plan = server.services.ceremony.current().plan
    assert plan.event.conference.url == "https://zoom.us/j/84512345678"
    assert plan.event.conference.passcode == "hoctap2021"
    assert plan.event.livestream_url == "https://youtube.com/live/q12"
    assert plan.point("thoi-an").conference.url == "https://meet.google.com/abc-defg-hij"
