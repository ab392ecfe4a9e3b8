"""Regenerate the report's screenshots in docs/screenshots/ (report-*.png).

Starts runsheet on a fresh database, rehearses the default ceremony for a few minutes, then
holds the real one from 08:02 (a late start) to its end on a clock set to the ceremony's
morning: most points connect and check in (one twice), Tân Thới Nhất's link is slow, Thới
An reports no sound for four minutes, a roll call is answered by all but one point, the MC
sends messages (some read), adds time to the opening speech, holds it once and passes over
the third item. Then it photographs the report at laptop (1366x768) and phone (390x844)
width, the chart alone, Thới An's own report, the rehearsal's banner (public page, MC console,
stage display), and prints the report to PDF (A4) and renders
its first pages to PNG (with pypdfium2 and Pillow, if installed: ``pip install pypdfium2
pillow``).

    .venv/bin/python scripts/report_screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from screenshots import (
    CHROMIUM_ARGS,
    DESKTOP,
    MORNING,
    PHONE,
    PROJECTOR,
    ROOT,
    MorningClock,
    act,
    at,
    connect_points,
    report_links,
    running_server,
    shoot,
)

from runsheet.services.plans import role_links
from runsheet.services.tokens import Actor
from runsheet.transports.sockets import EXTENSION

MC = Actor("mc")
LATE_POINT = "thanh-xuan"  # does not answer the roll call
PDF_PAGES = 2


def move(app, clock: MorningClock, hhmm: str | None = None, seconds: float = 0) -> None:  # noqa: ANN001
    """Move the clock (to a time of the morning, or on by ``seconds``); the open pages stay.

    The clock jumps, so the pages' heartbeat is run at once: without it, every page would
    look gone for a moment after each jump.
    """
    if hhmm is not None:
        at(clock, hhmm)
    clock.set(clock() + timedelta(seconds=seconds))
    app.extensions[EXTENSION].presence.tick()


def play(app, clock: MorningClock, during_rehearsal=lambda: None) -> list:  # noqa: ANN001
    """Rehearse, then hold the ceremony; return the points' open connections."""
    svc = app.extensions["runsheet"]
    plan = svc.ceremony.current().plan
    links = role_links(svc.store, plan, svc.secret_key, app.url)
    tokens = {pid: url.split("?token=")[1] for pid, url in links.points.items()}
    point_ids = [p.id for p in plan.points]
    online = [pid for pid in point_ids if pid != "an-phu-dong"]

    move(app, clock, "07:30")  # the rehearsal: three minutes, then ended
    act(app, MC, "rehearse")
    act(app, Actor("point", "thoi-an"), "checkin", {"by": "Tổng duyệt", "present": 2})
    move(app, clock, "07:31")
    during_rehearsal()
    move(app, clock, "07:33")
    act(app, MC, "end_rehearsal")

    move(app, clock, "07:45")
    clients = connect_points(app.url, tokens, online)
    svc.ceremony.refresh_presence()
    report_links(app, online)
    for index, point_id in enumerate(online):
        act(
            app,
            Actor("point", point_id),
            "checkin",
            {"by": f"Kỹ thuật viên {index + 1}", "present": 8 + index},
        )
    move(app, clock, "08:02")  # a late start
    act(app, MC, "advance")
    act(app, MC, "roll_call", {"seconds": 120})
    for index, point_id in enumerate(online):
        if point_id != LATE_POINT:
            move(app, clock, seconds=2 + index % 5)
            act(app, Actor("point", point_id), "roll_call", {})
    move(app, clock, "08:04")
    act(
        app,
        Actor("point", "thoi-an"),
        "trouble",
        {"kind": "no_sound", "text": "Không nghe tiếng hội trường"},
    )
    act(app, MC, "message", {"text": "Thới An kiểm tra lại micro", "to": "thoi-an"})
    move(app, clock, seconds=40)
    act(app, Actor("point", "thoi-an"), "ack_message", {"message_id": 1})
    act(app, MC, "extend", {"seconds": 60})
    move(app, clock, "08:06")
    act(app, MC, "hold")
    move(app, clock, seconds=45)
    act(app, MC, "resume")
    move(app, clock, "08:08")
    act(app, Actor("point", "thoi-an"), "clear_trouble")
    act(
        app,
        Actor("point", "thoi-an"),
        "checkin",
        {"by": "Nguyễn Thị Thu", "present": 14, "note": "Đã có tiếng"},
    )
    move(app, clock, "08:09")
    act(app, MC, "advance")  # the opening speech
    act(app, MC, "message", {"text": "Các điểm cầu giữ im lặng trong diễn văn"})
    for point_id in online[:12]:
        act(app, Actor("point", point_id), "ack_message", {"message_id": 2})
    flaky = clients[online.index("tan-thoi-nhat")]  # its link drops for three minutes
    move(app, clock, "08:20")
    flaky.disconnect()
    time.sleep(svc.ceremony.presence_grace.total_seconds() + 0.5)
    move(app, clock, "08:23")
    clients[online.index("tan-thoi-nhat")] = connect_points(app.url, tokens, ["tan-thoi-nhat"])[0]
    svc.ceremony.refresh_presence()
    move(app, clock, "08:26")
    act(app, MC, "goto", {"item_id": "phat-bieu-nguoi-hoc"})  # the third is passed over
    for moment in ("08:31", "08:43", "08:52"):
        move(app, clock, moment)
        act(app, MC, "advance")
    move(app, clock, "08:58")
    act(app, MC, "finish")
    return clients


def main() -> None:
    """Play the ceremony and take the report's screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clock = MorningClock(MORNING)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp), clock) as app,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True
        )
        svc = app.extensions["runsheet"]
        links = role_links(svc.store, svc.ceremony.current().plan, svc.secret_key, app.url)

        def rehearsal_banners() -> None:
            shoot(browser, links.public, args.out / "rehearsal-public-phone.png", PHONE, False)
            shoot(browser, links.mc, args.out / "rehearsal-mc-desktop.png", DESKTOP, False)
            shoot(browser, links.stage, args.out / "rehearsal-stage.png", PROJECTOR, False)

        clients = play(app, clock, rehearsal_banners)
        organizer_token = links.organizer.split("?token=")[1]
        ward_token = links.points["thoi-an"].split("?token=")[1]
        report_url = f"{app.url}/report?token={organizer_token}"
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            page.goto(report_url)
            page.screenshot(path=str(args.out / f"report-{name}.png"))
            print(f"wrote report-{name}.png")
            if name == "desktop":
                page.locator("svg.report-chart").screenshot(path=str(args.out / "report-chart.png"))
                print("wrote report-chart.png")
                _render_pdf(page.pdf(format="A4", print_background=True), args.out)
            context.close()
        context = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
        page = context.new_page()
        page.goto(f"{app.url}/points/thoi-an/report?token={ward_token}")
        page.screenshot(path=str(args.out / "report-point-desktop.png"), full_page=True)
        print("wrote report-point-desktop.png")
        context.close()
        browser.close()
        for client in clients:
            client.disconnect()


def _render_pdf(pdf: bytes, out: Path) -> None:
    """Render the printed report's first pages to PNG, as a reader sees them."""
    try:
        import pypdfium2
    except ImportError:
        print("pypdfium2 is not installed: the printed pages are not rendered")
        return
    document = pypdfium2.PdfDocument(pdf)
    print(f"the printed report has {len(document)} A4 pages")
    for index in range(min(PDF_PAGES, len(document))):
        image = document[index].render(scale=1.4).to_pil()
        image.save(out / f"report-print-{index + 1}.png")
        print(f"wrote report-print-{index + 1}.png")


if __name__ == "__main__":
    main()
