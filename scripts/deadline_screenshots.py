"""Regenerate the deadlines board's screenshots in docs/screenshots/ (and print the board).

Starts runsheet on a fresh database in a temporary folder with a clock set to 10:00 on
30/9/2021 in Ho Chi Minh City, the day after the wards' plans were due: most wards sent
theirs on time (Thới An sent a corrected one too), two sent it a day late, three did not;
two have already reported their results, due on 10/10. Then photographs Thới An's page's
deadlines section at phone (390x844) and laptop (1366x768) width, and the organizer's
board at 390x844, 1366x768 and 1920x1080, and prints the board to PDF (A4) as Chromium
prints it.

    .venv/bin/python scripts/deadline_screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from runsheet import create_app
from runsheet.services.plans import role_links

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
STAGE = {"width": 1920, "height": 1080}
PLAN_DEADLINE = "phuong-gui-ke-hoach"
RESULTS_DEADLINE = "phuong-bao-cao-ket-qua"


class SetClock:
    """A clock that shows the time it was last set to."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        """Keep the output to what the script does."""


def minimal_pdf(text: str, padding: int = 0) -> bytes:
    """Return a one-page PDF (a few hundred bytes, or more with padding)."""
    stream = b"BT /F1 12 Tf 72 720 Td (" + text.encode("ascii", "replace") + b") Tj ET"
    body = (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> "
        b"endobj\n4 0 obj << /Length "
        + str(len(stream)).encode()
        + b" >> stream\n"
        + stream
        + b"\nendstream endobj\n"
    )
    return body + b"%" + b"0" * padding + b"\n%%EOF\n"


def submit(
    url: str, token: str, point: str, deadline: str, name: str, note: str, size: int
) -> None:
    """Submit a document for a point, as its page would."""
    response = requests.post(
        f"{url}/api/v1/points/{point}/deadlines/{deadline}",
        files={"file": (name, minimal_pdf(name, size), "application/pdf")},
        data={"note": note},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()


def main() -> None:
    """Fill the board and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    clock = SetClock(datetime(2021, 9, 28, 2, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as workdir:
        server = make_server("127.0.0.1", 0, None, threaded=True, request_handler=_Quiet)
        url = f"http://127.0.0.1:{server.server_port}"
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(workdir) / 'deadlines.sqlite3'}",
                "SECRET_KEY": "deadline-screenshots-" + "x" * 32,
                "BASE_URL": url,
                "CLOCK": clock,
                "HTTP_REQUESTS_PER_SECOND": 0,
            }
        )
        server.app = app
        threading.Thread(target=server.serve_forever, daemon=True).start()
        svc = app.extensions["runsheet"]
        plan = svc.ceremony.current().plan
        links = role_links(svc.store, plan, svc.secret_key, url)
        token = {pid: link.split("?token=")[1] for pid, link in links.points.items()}
        wards = [p.id for p in plan.points if p.kind == "ward"]
        on_time, late = wards[:6], wards[6:8]  # the last three send nothing
        for index, point in enumerate(on_time):
            submit(
                url,
                token[point],
                point,
                PLAN_DEADLINE,
                f"Kế hoạch {point}.pdf",
                "",
                180_000 * (index + 1),
            )
        clock.now = datetime(2021, 9, 29, 9, 30, tzinfo=UTC)
        submit(
            url,
            token["thoi-an"],
            "thoi-an",
            PLAN_DEADLINE,
            "Kế hoạch Thới An.pdf",
            "Bản ký số của UBND phường",
            420_000,
        )
        clock.now = datetime(2021, 9, 29, 15, 0, tzinfo=UTC)
        submit(
            url,
            token["thoi-an"],
            "thoi-an",
            PLAN_DEADLINE,
            "Kế hoạch Thới An (sửa).pdf",
            "Bổ sung danh sách tủ sách lớp học",
            460_000,
        )
        clock.now = datetime(2021, 9, 30, 1, 15, tzinfo=UTC)
        for point in late:
            submit(
                url,
                token[point],
                point,
                PLAN_DEADLINE,
                "ke-hoach.pdf",
                "Gửi chậm do mất điện",
                90_000,
            )
        for point in wards[:2]:
            submit(url, token[point], point, RESULTS_DEADLINE, "bao-cao-ket-qua.pdf", "", 250_000)
        clock.now = datetime(2021, 9, 30, 3, 0, tzinfo=UTC)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=options.chromium, args=CHROMIUM_ARGS
            )
            for name, viewport in (("phone", PHONE), ("desktop", LAPTOP)):
                context = browser.new_context(viewport=viewport, locale="vi-VN")
                page = context.new_page()
                page.goto(links.points["thoi-an"])
                section = page.locator("#deadlines")
                section.wait_for(state="visible")
                page.locator("#deadlines .dl-item").nth(1).wait_for()
                section.scroll_into_view_if_needed()
                path = options.out / f"point-deadlines-{name}.png"
                section.screenshot(path=str(path))
                print(path)
                context.close()
            context = browser.new_context(viewport=LAPTOP, locale="vi-VN")
            page = context.new_page()
            page.goto(links.organizer)
            for name, viewport in (("phone", PHONE), ("desktop", LAPTOP), ("stage", STAGE)):
                page.set_viewport_size(viewport)
                page.goto(f"{url}/organizer/deadlines")
                path = options.out / f"deadlines-board-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
            pdf = options.out / "deadlines-board.pdf"
            page.emulate_media(media="print")
            page.pdf(path=str(pdf), format="A4", print_background=True)
            print(pdf)
            context.close()
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
