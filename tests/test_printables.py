"""The printables printed by Chromium: the link sheet and the invitation letters, as PDF.

A real server serves the built-in ceremony, with a video conference for the event and one
point's own; Chromium (through Playwright) opens the pages with the organizer's cookie and
prints them to A4 PDF. The tests count the pages, read their text (pypdf), and decode every
QR code (zxing-cpp, from Chromium's pictures of the print view) to the link it must hold.
"""

from __future__ import annotations

import dataclasses
import io
import unicodedata
from collections.abc import Iterator

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from pypdf import PdfReader

from runsheet.domain.plan import Conference
from runsheet.i18n import catalog
from runsheet.plans import default_plan
from runsheet.services.plans import install_plan, role_links
from tests.conftest import SECRET
from tests.live_server import LiveServer, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
EVENT_ROOM = Conference("https://meet.example.org/quan-12", "Zoom", "812 3456 7890", "hoc2021")
THOI_AN_ROOM = Conference("https://meet.example.org/thoi-an", "Google Meet", "", "ta-2021")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def server(database_url) -> Iterator[LiveServer]:
    """Serve the built-in ceremony, with its video conference and Thới An's own."""
    for live in serve(database_url):
        plan = default_plan()
        points = tuple(
            dataclasses.replace(p, conference=THOI_AN_ROOM) if p.id == "thoi-an" else p
            for p in plan.points
        )
        event = dataclasses.replace(plan.event, conference=EVENT_ROOM)
        plan = dataclasses.replace(plan, event=event, points=points)
        svc = live.services
        install_plan(svc.store, plan, SECRET, svc.ceremony.clock())
        yield live


@pytest.fixture
def organizer_page(browser, server) -> Iterator[Page]:
    """Return a tab holding the organizer's cookie, at twice the pixels (sharp QR pictures)."""
    context = browser.new_context(device_scale_factor=2, viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    page.goto(f"{server.url}/organizer?token={server.tokens['organizer']}")
    yield page
    context.close()


def printed(page: Page, url: str) -> PdfReader:
    """Open ``url`` and print it to A4 the way the browser's print dialog would."""
    page.goto(url)
    return PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))


def decoded_qr_codes(page: Page, selector: str) -> list[str]:
    """Return what each QR code matching ``selector`` reads, as printed (print media)."""
    page.emulate_media(media="print")
    texts = []
    for element in page.locator(selector).all():
        picture = Image.open(io.BytesIO(element.screenshot()))
        results = zxingcpp.read_barcodes(picture)
        assert len(results) == 1, f"no single QR code in {selector}"
        texts.append(results[0].text)
    page.emulate_media(media="screen")
    return texts


def squashed(text: str) -> str:
    """Return text without white space: pypdf puts spaces around some Vietnamese letters."""
    return unicodedata.normalize("NFC", "".join(text.split()))


def page_texts(pdf: PdfReader) -> list[str]:
    """Return each printed page's text, squashed (compare with ``squashed`` texts)."""
    return [squashed(page.extract_text()) for page in pdf.pages]


def links_of(server: LiveServer):  # noqa: ANN201
    svc = server.services
    return role_links(svc.store, svc.ceremony.current().plan, svc.secret_key, svc.base_url)


def test_the_link_sheet_prints_six_cards_to_a_page_with_working_qr_codes(server, organizer_page):
    pdf = printed(organizer_page, f"{server.url}/organizer/print/links")
    assert len(pdf.pages) == 3  # the MC, the stage and 13 points: 6 + 6 + 3
    texts = page_texts(pdf)
    plan = server.services.ceremony.current().plan
    assert squashed("MC — Bảng điều khiển") in texts[0]
    assert squashed("Màn hình sân khấu") in texts[0]
    names = [point.name for point in plan.points]
    for page_number, name in ((0, names[0]), (0, names[3]), (1, names[4]), (2, names[12])):
        assert squashed(name) in texts[page_number], name
    confirm = squashed(catalog("vi")["point.confirm"])  # the button the card names
    assert all(confirm in text for text in texts[1:])
    for page in pdf.pages:  # A4: 595 x 842 points
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    links = links_of(server)
    expected = [links.mc, links.stage, *(links.points[p.id] for p in plan.points)]
    assert decoded_qr_codes(organizer_page, ".link-card-qr svg") == expected


def test_the_invitations_print_one_letter_per_point_with_its_conference(server, organizer_page):
    url = f"{server.url}/organizer/print/invitations?date=2021-09-28"
    pdf = printed(organizer_page, url)
    plan = server.services.ceremony.current().plan
    assert len(pdf.pages) == len(plan.points) == 13
    for point, text in zip(plan.points, page_texts(pdf), strict=True):
        for expected in (
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "THƯ MỜI",
            "Số: 6040/KH-UBND-GDDT",
            "Quận 12, ngày 28 tháng 09 năm 2021",
            "08:00",
            "01/10/2021",
            point.name,
            point.address,
            *point.attendees,
        ):
            assert squashed(expected) in text, (point.id, expected)
        room = THOI_AN_ROOM if point.id == "thoi-an" else EVENT_ROOM
        other = EVENT_ROOM if point.id == "thoi-an" else THOI_AN_ROOM
        assert squashed(room.url) in text and squashed(f"Mật khẩu: {room.passcode}") in text
        assert other.passcode not in text
    links = links_of(server)
    pages = [links.points[p.id] for p in plan.points]
    calendars = [
        f"{server.services.base_url}/calendar/points/{p.id}.ics?token={url.split('?token=')[1]}"
        for p, url in zip(plan.points, pages, strict=True)
    ]
    assert decoded_qr_codes(organizer_page, "[data-qr=page] svg") == pages
    assert decoded_qr_codes(organizer_page, "[data-qr=calendar] svg") == calendars
