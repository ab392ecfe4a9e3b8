"""The report and the rehearsal banner in a real browser (Chromium through Playwright).

The printed report is really printed: Chromium's ``page.pdf()`` on A4, read back with pypdf.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pypdf import PdfReader

from runsheet.plans import default_plan
from runsheet.services.plans import role_links
from runsheet.services.tokens import Actor
from tests.conftest import FrozenClock
from tests.live_server import LiveServer, serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, Console

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MC, WARD = Actor("mc"), Actor("point", "thoi-an")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def server(database_url, clock) -> Iterator[LiveServer]:
    yield from serve(database_url, clock=clock)


@pytest.fixture
def console() -> Iterator[Console]:
    watched = Console()
    yield watched
    assert watched.unexpected() == []


@pytest.fixture
def open_page(browser, console):  # noqa: ANN201
    """Open a page in a fresh browser window of its own (its own cookies)."""
    expect.set_options(timeout=WAIT_MS)
    contexts = []

    def opener(url: str, viewport: dict | None = None) -> Page:
        context = browser.new_context(viewport=viewport or {"width": 1366, "height": 900})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = console.watch(context.new_page())
        page.goto(url)
        return page

    yield opener
    for context in contexts:
        context.close()


def links(server: LiveServer):  # noqa: ANN201
    svc = server.services
    return role_links(svc.store, svc.ceremony.current().plan, svc.secret_key, server.url)


def act(server: LiveServer, actor: Actor, name: str, payload: dict | None = None) -> None:
    server.services.ceremony.perform(actor, name, payload or {})


def test_every_page_says_rehearsal_while_one_runs(server, open_page, clock):
    urls = links(server)
    pages = {
        "public": open_page(urls.public),
        "stage": open_page(urls.stage),
        "mc": open_page(urls.mc),
        "point": open_page(urls.points["thoi-an"]),
    }
    for page in pages.values():
        expect(page.locator("body")).to_have_attribute("data-ready", "yes")
        expect(page.locator("#rehearsal-banner")).to_be_hidden()

    act(server, MC, "rehearse")

    for name, page in pages.items():
        banner = page.locator("#rehearsal-banner")
        expect(banner, name).to_be_visible()
        expect(banner.locator(".rehearsal-word"), name).to_have_text("TỔNG DUYỆT")
        expect(banner, name).to_contain_text("lần chạy 1")
    organizer = open_page(urls.organizer)  # its page is drawn with the state of the moment
    expect(organizer.locator("#rehearsal-banner")).to_be_visible()
    english = open_page(urls.public + "?lang=en")
    expect(english.locator("#rehearsal-banner .rehearsal-word")).to_have_text("REHEARSAL")

    clock.advance(minutes=3)
    act(server, MC, "end_rehearsal")
    for name, page in pages.items():
        expect(page.locator("#rehearsal-banner"), name).to_be_hidden()
    act(server, MC, "advance")  # the real run: no banner
    expect(pages["public"].locator("#rehearsal-banner")).to_be_hidden()
    expect(pages["public"].locator("body")).to_have_attribute("data-run", "live")


def play_ceremony(server: LiveServer, clock: FrozenClock) -> None:
    """Hold the default ceremony with an extension, a hold, a trouble and a skipped item."""
    act(server, WARD, "checkin", {"by": "Kỹ thuật viên", "present": 12})
    act(server, MC, "advance")
    clock.advance(minutes=2)
    act(server, WARD, "trouble", {"kind": "no_sound", "text": "Mất tiếng"})
    act(server, MC, "extend", {"seconds": 60})
    clock.advance(minutes=4)
    act(server, WARD, "clear_trouble")
    act(server, MC, "advance")
    clock.advance(minutes=16)
    act(server, MC, "goto", {"item_id": "phat-bieu-nguoi-hoc"})  # the third is skipped
    for _ in range(3):
        clock.advance(minutes=6)
        act(server, MC, "advance")
    clock.advance(minutes=5)
    act(server, MC, "finish")


def test_the_printed_report_has_the_chart_and_every_item(server, open_page, clock):
    play_ceremony(server, clock)
    page = open_page(links(server).organizer.replace("/organizer", "/report"))
    expect(page.locator("#report")).to_have_attribute("data-final", "yes")
    titles = [item.title for item in default_plan().agenda]
    rows = page.locator(".report-items tbody tr")
    expect(rows).to_have_count(len(titles))
    expect(page.locator(".report-items tr[data-status='skipped']")).to_have_count(1)
    chart = page.locator("svg.report-chart")
    expect(chart.locator(".bar-planned")).to_have_count(len(titles))
    expect(chart.locator(".bar-actual")).to_have_count(len(titles) - 1)

    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5  # A4: 210 x 297 mm in points
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "Báo cáo kết quả tổ chức buổi lễ" in text
    assert "Biểu đồ thời gian" in text and "Kế hoạch" in text  # the chart and its legend
    assert "08:00" in text  # the chart's time axis
    for title in titles:
        assert title in text, title
    assert "bỏ qua" in text  # the skipped item is marked
    assert "In báo cáo" not in text  # the page's tools are not printed


def test_a_points_report_page_is_its_own_and_refuses_another_points_link(
    server, open_page, clock, console
):
    play_ceremony(server, clock)
    urls = links(server)
    own = urls.points["thoi-an"].replace("/points/thoi-an", "/points/thoi-an/report")
    page = open_page(own)
    expect(page.locator(".report-point")).to_have_count(1)
    expect(page.locator(".report-point h3")).to_have_text("Ủy ban nhân dân phường Thới An")
    expect(page.locator(".report-point")).to_contain_text("Mất tiếng")

    other_link = urls.points["phong-hop-a"].replace("/points/phong-hop-a", "/points/thoi-an/report")
    console.expect_line("403")  # the refusal's own status, as the browser logs it
    refused = open_page(other_link)
    expect(refused.locator("h1")).to_contain_text("trang khác")  # "this link is for another page"
    assert refused.locator(".report-point").count() == 0
