"""Photograph the pages of a national conference (3,500 points) in docs/screenshots/.

Serves a generated plan (bench.national_plan) on a fresh database, checks in a few
hundred points (one in trouble), and photographs the MC's board (a province open, then a
search) and the public page (a province open) at phone (390x844), laptop (1366x768) and
stage (1920x1080) size.

    .venv/bin/python scripts/screenshots_national.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from bench.national_plan import national_plan_dict, point_id
from runsheet.plans import plan_from_dict
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan, role_links
from tests.conftest import make_app
from tests.live_server import serve

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"phone": (390, 844), "laptop": (1366, 768), "stage": (1920, 1080)}


def main() -> int:
    """Serve the national conference and photograph its MC board and public page."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/national.sqlite3"
        app = make_app(url)
        svc = app.extensions["runsheet"]
        install_plan(svc.store, plan_from_dict(national_plan_dict()), svc.secret_key, utc_now())
        served = serve(url)
        server = next(served)
        try:
            session = requests.Session()
            for n in range(2, 420):
                pid = point_id(n)
                session.post(
                    f"{server.url}/api/v1/points/{pid}/checkin",
                    headers={"Authorization": f"Bearer {server.tokens[pid]}"},
                    json={"by": "Kỹ thuật viên", "present": 20},
                    timeout=10,
                )
            trouble = point_id(40)
            session.post(
                f"{server.url}/api/v1/points/{trouble}/trouble",
                headers={"Authorization": f"Bearer {server.tokens[trouble]}"},
                json={"kind": "no_sound", "text": "Mất tiếng ở hội trường"},
                timeout=10,
            )
            links = role_links(svc.store, svc.ceremony.current().plan, svc.secret_key, server.url)
            photograph(args.chromium, links, out)
        finally:
            served.close()
    return 0


def photograph(chromium: str, links, out: Path) -> None:  # noqa: ANN001
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for size, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(links.mc)
            page.wait_for_selector("#board .board-group")
            page.locator("#board [data-key='group:Tỉnh 05'] button").click()
            page.locator("#board-heading").scroll_into_view_if_needed()
            page.screenshot(path=out / f"national-mc-board-{size}.png")
            page.locator("#board-search").fill("xa 003")
            page.wait_for_timeout(300)
            page.locator("#board-heading").scroll_into_view_if_needed()
            page.screenshot(path=out / f"national-mc-search-{size}.png")
            page.close()
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(links.public)
            page.locator("#public-groups [data-key='Tỉnh 02'] summary").click()
            page.wait_for_selector("#public-groups [data-key='Tỉnh 02'] .point-row")
            page.locator("#points-heading").scroll_into_view_if_needed()
            page.screenshot(path=out / f"national-public-{size}.png")
            page.close()
        browser.close()


if __name__ == "__main__":
    raise SystemExit(main())
