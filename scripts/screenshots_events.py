"""Photograph the video conference and event-switch screens for docs/screenshots/.

Starts runsheet on a fresh database (the built-in ceremony with a Zoom meeting for every
point, Phòng họp B's own Google Meet, and a livestream), then in Debian's Chromium: a point's
page with its conference box and the public page with "Xem trực tiếp", each at phone
(390x844) and laptop (1366x768) width; and the notice an old event's point link shows after
the organizer made another event active (phone).

    .venv/bin/python scripts/screenshots_events.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import (  # noqa: E402
    CHROMIUM_ARGS,
    DESKTOP,
    MORNING,
    PHONE,
    ROOT,
    MorningClock,
    running_server,
    shoot,
)

from runsheet.domain.plan import Conference  # noqa: E402
from runsheet.plans import default_plan  # noqa: E402
from runsheet.services import events  # noqa: E402
from runsheet.services.plans import install_plan, role_links  # noqa: E402

MEETING = Conference(
    url="https://zoom.us/j/81401234567?pwd=QkVxNnB4",
    platform="Zoom",
    meeting_id="814 0123 4567",
    passcode="482193",
)
OWN_MEETING = Conference(
    url="https://meet.google.com/abc-defg-hij", platform="Google Meet", meeting_id="abc-defg-hij"
)
LIVESTREAM = "https://www.youtube.com/live/khai-mac-hoc-tap-suot-doi"


def conference_plan():  # noqa: ANN201
    """Return the built-in plan with its meeting, a point's own meeting and a livestream."""
    plan = default_plan()
    points = tuple(
        dataclasses.replace(p, conference=OWN_MEETING) if p.id == "phong-hop-b" else p
        for p in plan.points
    )
    event = dataclasses.replace(plan.event, conference=MEETING, livestream_url=LIVESTREAM)
    return dataclasses.replace(plan, event=event, points=points)


def shoot_section(browser, url: str, selector: str, path: Path, viewport: dict) -> None:  # noqa: ANN001
    """Open ``url`` and photograph the screen scrolled to ``selector``, as a person sees it."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='yes']")
    page.wait_for_selector("#conn[data-state='online']")
    page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    page.screenshot(path=str(path))
    context.close()
    if errors:
        raise SystemExit(f"{url} logged errors: {errors}")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    """Serve the ceremony with its conference and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clock = MorningClock(MORNING)

    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp), clock) as app:
        svc = app.extensions["runsheet"]
        install_plan(svc.store, conference_plan(), svc.secret_key, clock())
        links = role_links(svc.store, svc.ceremony.current().plan, svc.secret_key, app.url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True
            )
            for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                point_file = args.out / f"point-conference-{size}.png"
                shoot_section(browser, links.points["thoi-an"], "#conference", point_file, viewport)
                # What the public page shows first: Watch live is in its header.
                public_file = args.out / f"public-watch-live-{size}.png"
                shoot(browser, links.public, public_file, viewport, full_page=False)

            request = events.parse_new_event({"slug": "hop-mat", "title": "Họp mặt cuối năm"})
            events.create_event(svc.store, svc.secret_key, request, clock())
            events.activate_event(svc.store, svc.ceremony, "hop-mat")
            context = browser.new_context(viewport=PHONE, device_scale_factor=1)
            page = context.new_page()
            page.goto(links.points["thoi-an"])
            page.screenshot(path=str(args.out / "notice-other-event-phone.png"), full_page=True)
            context.close()
            print("wrote docs/screenshots/notice-other-event-phone.png")
            browser.close()


if __name__ == "__main__":
    main()
