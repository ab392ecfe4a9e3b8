"""Regenerate the pictures of the organizer's printables and audit log in docs/screenshots/.

Starts runsheet on a fresh database in a temporary folder (the built-in ceremony, with a
video conference for the event), plays a few actions so the audit log has something to
show (check-ins, Next, a refused move, a problem), and in Debian's Chromium:

- prints the link sheet and the invitation letters to A4 PDF (``--out``/print-*.pdf) and
  renders each PDF's first page to PNG with ``pdftoppm`` (poppler-utils) when it is
  installed, else photographs the first sheet of the print view;
- photographs the audit page at phone (390x844), laptop (1366x768) and stage (1920x1080).

    .venv/bin/python scripts/printables.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runsheet.domain.plan import Conference  # noqa: E402
from runsheet.plans import default_plan  # noqa: E402
from runsheet.services.plans import install_plan  # noqa: E402
from runsheet.services.tokens import Actor  # noqa: E402
from tests.conftest import SECRET  # noqa: E402
from tests.live_server import serve  # noqa: E402

SIZES = {"phone": (390, 844), "laptop": (1366, 768), "stage": (1920, 1080)}
ROOM = Conference("https://meet.example.org/quan-12", "Zoom", "812 3456 7890", "hoc2021")


def main() -> None:
    """Make the pictures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = serve(f"sqlite:///{Path(folder) / 'runsheet.sqlite3'}")
        live = next(server)
        try:
            _play(live)
            _photograph(live, options.chromium, options.out, Path(folder))
        finally:
            server.close()


def _play(live) -> None:  # noqa: ANN001
    svc = live.services
    plan = default_plan()
    plan = dataclasses.replace(plan, event=dataclasses.replace(plan.event, conference=ROOM))
    install_plan(svc.store, plan, SECRET, svc.ceremony.clock(), actor=Actor("organizer").via("cli"))
    ceremony = svc.ceremony
    for point in plan.points[:4]:
        ward = Actor("point", point.id).via("socket")
        ceremony.perform(ward, "checkin", {"by": "Nguyễn Văn A", "present": 20})
    mc = Actor("mc").via("socket").at_console("Bàn MC")
    ceremony.perform(mc, "advance", {})
    try:
        ceremony.perform(Actor("point", "thoi-an").via("http"), "advance", {})
    except Exception:  # noqa: BLE001 - refused on purpose, to show in the log
        pass
    ceremony.perform(
        Actor("point", "thoi-an").via("socket"), "trouble", {"kind": "no_sound", "text": "Rè"}
    )
    ceremony.perform(mc, "advance", {})


def _photograph(live, chromium: str, out: Path, folder: Path) -> None:  # noqa: ANN001
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.goto(f"{live.url}/organizer?token={live.tokens['organizer']}")
        for name in ("links", "invitations"):
            page.goto(f"{live.url}/organizer/print/{name}")
            pdf = folder / f"print-{name}.pdf"
            pdf.write_bytes(page.pdf(format="A4", prefer_css_page_size=True))
            _first_page_png(page, pdf, out / f"print-{name}.png")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{live.url}/organizer/audit")
            page.screenshot(path=str(out / f"audit-{size}.png"))
        browser.close()


def _first_page_png(page: Page, pdf: Path, png: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        stem = png.with_suffix("")
        subprocess.run(
            [pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, stem],
            check=True,
        )
        return
    page.emulate_media(media="print")
    page.locator(".sheet").first.screenshot(path=str(png))
    page.emulate_media(media="screen")


if __name__ == "__main__":
    main()
