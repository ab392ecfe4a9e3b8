"""Regenerate the organizer page's screenshots in docs/screenshots/.

Starts runsheet on a fresh database (the clock set to the ceremony's morning, as
scripts/screenshots.py does), starts the ceremony so its first item is live, and
photographs the plan editor in Debian's Chromium as the organizer sees it while editing:
at phone (390x844) and laptop size (1366x768) a new item being added to the programme and
the problem found as it was typed, and at 1920x1080 the programme from its live item
(read-only) on. When the build serves the links API, the
links and QR codes at laptop size too.

    .venv/bin/python scripts/organizer_screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import (  # noqa: E402  (the other script's server and clock)
    CHROMIUM_ARGS,
    DESKTOP,
    MORNING,
    PHONE,
    PROJECTOR,
    ROOT,
    MorningClock,
    act,
    at,
    running_server,
)

from runsheet.services.plans import role_links  # noqa: E402
from runsheet.services.tokens import Actor  # noqa: E402


def organizer_tab(
    browser: Browser, url: str, viewport: dict, expected: tuple[str, ...]
) -> tuple[Any, Page, list[str]]:
    """Open the organizer's page in a fresh window; wait until its plan is loaded."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    # A check that finds a problem answers 422, which Chromium logs; nothing else may
    # (but a 404 on a build without the events or links API, whose panel says so).
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not any(code in m.text for code in expected)
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-plan='loaded']")
    page.wait_for_selector("#conn[data-state='online']")
    return context, page, errors


def edit_the_programme(page: Page) -> None:
    """Add an item, and leave one with zero minutes: the check's problem shows at its field."""
    page.locator("#add-agenda").click()
    last = page.locator("#list-agenda > .org-entry").last
    last.locator('[data-key="title"] input').fill("Văn nghệ chào mừng")
    last.locator('[data-key="speaker"] input').fill("Đội văn nghệ Trung tâm Văn hóa quận")
    last.locator('[data-key="planned_minutes"] input').fill("0")
    page.wait_for_selector("#check-status[data-state='problems']")


def save_shot(page: Page, path: Path, started: float) -> None:
    """Save a PNG of what the window shows now."""
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"wrote {shown} ({time.monotonic() - started:.1f} s)")


def main() -> None:
    """Start the ceremony and photograph the organizer's page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clock = MorningClock(MORNING)

    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp), clock) as app:
        svc = app.extensions["runsheet"]
        plan = svc.ceremony.current().plan
        link = role_links(svc.store, plan, svc.secret_key, svc.base_url).organizer
        at(clock, "08:00")
        act(app, Actor("mc"), "advance")  # the first item is live: read-only in the editor
        at(clock, "08:02")
        served = {rule.rule for rule in app.url_map.iter_rules()}
        whole = {"/api/v1/events", "/api/v1/links"} <= served
        expected = ("422",) if whole else ("422", "404")

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True
            )
            problems: list[str] = []
            for name, viewport, section in (
                ("phone", PHONE, "#sec-agenda"),
                ("desktop", DESKTOP, "#sec-agenda"),
                ("stage", PROJECTOR, "#sec-agenda"),
            ):
                started = time.monotonic()
                context, page, errors = organizer_tab(browser, link, viewport, expected)
                if section:
                    edit_the_programme(page)
                    page.locator(section).evaluate("(element) => element.scrollIntoView()")
                    if viewport is not PROJECTOR:  # the new item and its problem, in view
                        page.locator("#list-agenda > .org-entry").last.evaluate(
                            "(element) => element.scrollIntoView({block: 'center'})"
                        )
                save_shot(page, args.out / f"organizer-{name}.png", started)
                context.close()
                problems += errors
            if "/api/v1/links" in served:
                started = time.monotonic()
                context, page, errors = organizer_tab(browser, link, DESKTOP, expected)
                page.wait_for_selector("#links-list img")
                page.locator("#sec-links").evaluate("(element) => element.scrollIntoView()")
                save_shot(page, args.out / "organizer-links-desktop.png", started)
                context.close()
                problems += errors
            browser.close()
        if problems:
            raise SystemExit(f"the organizer page logged errors: {problems}")
    print(f"done at {datetime.now():%H:%M:%S}")


if __name__ == "__main__":
    main()
