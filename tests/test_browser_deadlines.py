"""The point page's deadlines in a real browser (Debian's Chromium through Playwright).

A ward's technician opens the page from the ward's link, two days before the first due
date (frozen clock), sees both deadlines with the days left, uploads a PDF, then a
replacement, is told plainly when a file is not what its name says, and marks the other
deadline done with a note. The organizer's board page then shows it all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from runsheet.i18n import catalog
from runsheet.services.plans import role_links
from tests.conftest import FrozenClock
from tests.documents import pdf_bytes, png_bytes
from tests.live_server import LiveServer, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
WAIT_MS = 15_000
VI = catalog("vi")
WARD = "thoi-an"


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
    """Serve runsheet on 27/9/2021 at 10:00 in Ho Chi Minh City (frozen)."""
    yield from serve(database_url, CLOCK=FrozenClock(datetime(2021, 9, 27, 3, 0, tzinfo=UTC)))


def link(server: LiveServer, role: str) -> str:
    svc = server.services
    links = role_links(svc.store, svc.ceremony.current().plan, svc.secret_key, server.url)
    return links.organizer if role == "organizer" else links.points[role]


def watch(page: Page, problems: list[str]) -> Page:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


def test_a_ward_submits_replaces_and_marks_done_from_its_page(browser, server):
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = watch(context.new_page(), problems)
    page.goto(link(server, WARD).replace("http://127.0.0.1:5000", server.url))
    section = page.locator("#deadlines")
    expect(section).to_be_visible(timeout=WAIT_MS)
    items = section.locator(".dl-item")
    expect(items).to_have_count(2)
    plan_item, results_item = items.nth(0), items.nth(1)
    expect(plan_item.locator("[data-slot=days]")).to_have_text(
        VI["deadlines.days.left"].format(n=2)
    )
    expect(results_item.locator("[data-slot=days]")).to_have_text(
        VI["deadlines.days.left"].format(n=13)
    )
    expect(plan_item.locator("[data-slot=status]")).to_have_text(VI["deadlines.status.pending"])

    # a PDF, then a replacement
    plan_item.locator("input[type=file]").set_input_files(
        {"name": "Kế hoạch Thới An.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("v1")}
    )
    plan_item.locator("textarea").fill("Bản ký số")
    plan_item.locator("[data-slot=submit]").click()
    expect(plan_item.locator("[data-slot=current] a")).to_have_text(
        "Kế hoạch Thới An.pdf", timeout=WAIT_MS
    )
    expect(plan_item.locator("[data-slot=status]")).to_have_text(VI["deadlines.status.submitted"])
    expect(plan_item.locator("[data-slot=sent]")).to_contain_text("10:00 27/09/2021")
    # the form folded away once delivered; it opens again for a replacement
    expect(plan_item.locator("form")).to_be_hidden()
    plan_item.locator("[data-slot=form-title]").click()
    expect(plan_item.locator("[data-slot=submit]")).to_have_text(VI["deadlines.point.replace"])
    plan_item.locator("input[type=file]").set_input_files(
        {"name": "ke-hoach-v2.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("v2")}
    )
    plan_item.locator("[data-slot=submit]").click()
    expect(plan_item.locator("[data-slot=current] a")).to_have_text(
        "ke-hoach-v2.pdf", timeout=WAIT_MS
    )
    expect(plan_item.locator("[data-slot=history-title]")).to_have_text(
        f"{VI['deadlines.point.history']} (2)"
    )
    # the document downloads from the page with the page's own cookie
    with page.expect_download() as download:
        plan_item.locator("[data-slot=current] a").click()
    assert download.value.suggested_filename == "ke-hoach-v2.pdf"
    assert Path(download.value.path()).read_bytes() == pdf_bytes("v2")

    # a PNG that calls itself a PDF is refused in plain words; nothing changes
    results_item.locator("input[type=file]").set_input_files(
        {"name": "bao-cao.pdf", "mimeType": "application/pdf", "buffer": png_bytes()}
    )
    results_item.locator("[data-slot=submit]").click()
    expect(results_item.locator("[data-slot=error]")).to_have_text(
        VI["deadlines.error.unsupported_media_type"], timeout=WAIT_MS
    )
    expect(results_item.locator("[data-slot=current]")).to_be_hidden()

    # marking done needs a note
    results_item.locator("textarea").fill("")
    results_item.locator("[data-slot=done]").click()
    expect(results_item.locator("[data-slot=error]")).to_have_text(
        VI["deadlines.point.done_needs_note"]
    )
    results_item.locator("textarea").fill("Đã gửi bản giấy qua văn thư")
    results_item.locator("[data-slot=done]").click()
    expect(results_item.locator("[data-slot=current]")).to_contain_text(
        VI["deadlines.kind.done"], timeout=WAIT_MS
    )
    expect(results_item.locator("[data-slot=status]")).to_have_text(
        VI["deadlines.status.submitted"]
    )

    # the organizer's board shows it
    organizer = watch(context.new_page(), problems)
    organizer.goto(link(server, "organizer").replace("http://127.0.0.1:5000", server.url))
    organizer.goto(f"{server.url}/organizer/deadlines")
    row = organizer.locator(f"tr[data-point={WARD}]").first
    expect(row).to_have_attribute("data-status", "submitted")
    expect(row).to_contain_text("ke-hoach-v2.pdf")
    expect(
        organizer.locator(".dl-summary-item[data-status=submitted] .dl-summary-count")
    ).to_have_text("2")
    context.close()
    # the browser logs the refusal the test provoked; nothing else may appear
    assert [p for p in problems if "status of 415" not in p] == []
