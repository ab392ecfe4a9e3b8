"""Regenerate the pages' screenshots in docs/screenshots/.

Starts runsheet on a fresh database in a temporary folder, plays the default ceremony up
to its third item (check-ins, link reports, a problem, a message, a roll call) on a clock
set to the ceremony's morning, and photographs each page in Debian's Chromium: the public
page, the MC console and a connection point's page at phone (390x844) and desktop
(1366x768) width, and the stage display at 1920x1080 before the start, while an item is
live, as the speaker's timer view, in its warning time, in overtime with a message from
the MC, and on the break screen. The fourth item is delivered from Thới An's point (the
ward's learner speaks from there), so Thới An is on standby while the third is live.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import socketio
from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from runsheet import create_app
from runsheet.plans import default_plan
from runsheet.services.plans import install_plan, role_links
from runsheet.services.tokens import Actor
from runsheet.transports.sockets import stop_sockets

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}
# 07:40 in Ho Chi Minh City on the ceremony's day: twenty minutes before the start.
MORNING = datetime(2021, 10, 1, 0, 40, tzinfo=UTC)


class MorningClock:
    """A clock that runs at normal speed from a chosen moment, and can be moved ahead."""

    def __init__(self, start: datetime) -> None:
        self._origin = time.monotonic()
        self._start = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def set(self, moment: datetime) -> None:
        """Make the clock read ``moment`` now, running on from there."""
        with self._lock:
            self._origin = time.monotonic()
            self._start = moment


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        """Keep the script's output to what it made."""

    def log_error(self, *args: Any) -> None:
        """Skip Werkzeug's complaints about WebSocket frames after a close (dev server only)."""


@contextmanager
def running_server(workdir: Path, clock: MorningClock) -> Iterator[Any]:
    """Serve a fresh runsheet on a free port; yield the app (with ``url`` set)."""
    holder: dict[str, Any] = {}

    def wsgi(environ: dict, start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'screenshots.sqlite3'}",
            "SECRET_KEY": "screenshots",
            "BASE_URL": url,
            "ASYNC_MODE": "threading",
            "PRESENCE_GRACE_SECONDS": 2,
            "CLOCK": clock,
        }
    )
    app.url = url
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        stop_sockets(app)
        server.shutdown()
        server.server_close()


def at(clock: MorningClock, hhmm: str) -> None:
    """Move the clock to a time of the ceremony's morning (Ho Chi Minh City time)."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    clock.set(datetime(2021, 10, 1, hours - 7, minutes, tzinfo=UTC))


def live_item_moment(app: Any, seconds_left: float) -> datetime:
    """Return the moment at which the live item has ``seconds_left`` (negative: over)."""
    state = app.test_client().get("/api/v1/state").get_json()
    timing = state["timing"]
    now = datetime.fromisoformat(state["server_time"])
    return now + timedelta(seconds=timing["item_remaining_seconds"] - seconds_left)


def ward_speaks_fourth(app: Any, clock: MorningClock) -> None:
    """Have the fourth item (the learner's speech) delivered from Thới An's point."""
    plan = default_plan()
    agenda = list(plan.agenda)
    agenda[3] = dataclasses.replace(agenda[3], point_id="thoi-an")
    svc = app.extensions["runsheet"]
    install_plan(
        svc.store, dataclasses.replace(plan, agenda=tuple(agenda)), svc.secret_key, clock()
    )


def report_links(app: Any, point_ids: list[str]) -> None:
    """Report each open page's round trip, as it does every 10 s; Tân Thới Nhất's is slow."""
    for index, point_id in enumerate(point_ids):
        rtt = 420 if point_id == "tan-thoi-nhat" else 38 + 7 * index
        act(app, Actor("point", point_id), "link", {"rtt_ms": rtt, "clock_offset_ms": 4})


def act(app: Any, actor: Actor, name: str, payload: dict | None = None) -> None:
    """Perform an action through the services, as a socket or API call would."""
    app.extensions["runsheet"].ceremony.perform(actor, name, payload or {})


def connect_points(url: str, tokens: dict[str, str], point_ids: list[str]) -> list:
    """Open a Socket.IO connection for each point (its page is open: it is online)."""
    clients = []
    for point_id in point_ids:
        client = socketio.Client(reconnection=False)
        client.connect(url, auth={"token": tokens[point_id]}, transports=["websocket"])
        clients.append(client)
    return clients


def shoot(
    browser: Browser,
    url: str,
    path: Path,
    viewport: dict,
    full_page: bool = True,
    settle: int = 600,
) -> None:
    """Open ``url`` in a fresh tab of the given size and save a PNG of it."""
    started = time.monotonic()
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='yes']")
    if page.locator("#conn").count():
        # (selectors, not wait_for_function: the pages' CSP forbids evaluating strings)
        page.wait_for_selector("#conn[data-state='online']")
    # Let the clock tick and transitions (and the stage display's pointer) settle.
    page.wait_for_timeout(settle)
    page.screenshot(path=str(path), full_page=full_page)
    context.close()
    if errors:
        raise SystemExit(f"{url} logged errors: {errors}")
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"wrote {shown} ({time.monotonic() - started:.1f} s)")


def main() -> None:
    """Play the ceremony and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clock = MorningClock(MORNING)

    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp), clock) as app:
        ward_speaks_fourth(app, clock)
        svc = app.extensions["runsheet"]
        plan = svc.ceremony.current().plan
        links = role_links(svc.store, plan, svc.secret_key, svc.base_url)
        tokens = {"mc": links.mc.split("token=")[1]}
        tokens.update({pid: url.split("token=")[1] for pid, url in links.points.items()})
        mc = Actor("mc")
        point_ids = [p.id for p in plan.points]
        online = [pid for pid in point_ids if pid not in ("thanh-loc", "trung-my-tay", "thoi-an")]
        clients = connect_points(app.url, tokens, online)
        on_duty = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung"]
        for index, point_id in enumerate(point_ids):
            if point_id == "trung-my-tay":
                continue  # this ward has not confirmed yet
            at(clock, f"07:{41 + index:02d}")
            act(
                app,
                Actor("point", point_id),
                "checkin",
                {
                    "by": on_duty[index % len(on_duty)],
                    "present": 12 + 3 * index,
                    "note": "Đường truyền cáp quang dự phòng" if point_id == "phong-hop-b" else "",
                },
            )
        # Thạnh Lộc confirmed, then its laptop dropped off the network.
        late = connect_points(app.url, tokens, ["thanh-loc"])
        threading.Thread(target=late[0].disconnect, daemon=True).start()

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True
            )
            at(clock, "07:56")
            shoot(browser, links.stage, args.out / "stage-before-start.png", PROJECTOR, False, 3500)
            shoot(
                browser,
                links.points["trung-my-tay"],
                args.out / "point-unconfirmed-phone.png",
                PHONE,
            )

            at(clock, "07:57")
            act(app, mc, "message", {"text": "Các điểm cầu kiểm tra lại micro và loa trước 08:00."})
            act(app, mc, "roll_call", {"seconds": 90})
            for point_id in online[:9]:
                act(app, Actor("point", point_id), "ack_message", {"message_id": 1})
                act(app, Actor("point", point_id), "roll_call", {})
            at(clock, "08:00")
            act(app, mc, "advance")
            at(clock, "08:06")
            act(app, mc, "advance")
            at(clock, "08:23")
            act(app, mc, "advance")
            at(clock, "08:25")
            act(app, Actor("point", "tan-thoi-hiep"), "trouble", {"kind": "no_sound"})
            act(
                app,
                mc,
                "message",
                {
                    "text": "Phường Thới An: chuẩn bị phát biểu của người học tập sau mục này.",
                    "to": "thoi-an",
                },
            )
            at(clock, "08:29")
            # A second roll call, open while the pages are photographed.
            act(app, mc, "roll_call", {"seconds": 300})
            for point_id in online[:6]:
                act(app, Actor("point", point_id), "roll_call", {})
            report_links(app, online)

            shoot(browser, links.public, args.out / "public-phone.png", PHONE)
            shoot(browser, links.public, args.out / "public-desktop.png", DESKTOP)
            shoot(browser, links.mc, args.out / "mc-phone.png", PHONE)
            shoot(browser, links.mc, args.out / "mc-desktop.png", DESKTOP)
            shoot(browser, links.points["thoi-an"], args.out / "point-phone.png", PHONE)
            shoot(browser, links.points["thoi-an"], args.out / "point-desktop.png", DESKTOP)
            shoot(browser, links.stage, args.out / "stage.png", PROJECTOR, False, 3500)
            timer = f"{links.stage}?view=timer"
            shoot(browser, timer, args.out / "stage-timer.png", PROJECTOR, False, 3500)

            clock.set(live_item_moment(app, 95))  # in the last two minutes: the warning
            act(app, mc, "stage", {"message": "Còn 1 phút"})
            shoot(browser, links.stage, args.out / "stage-warning.png", PROJECTOR, False, 3500)
            clock.set(live_item_moment(app, -70))
            act(app, mc, "stage", {"message": "Xin kết thúc", "blink": False})
            shoot(browser, links.stage, args.out / "stage-overtime.png", PROJECTOR, False, 3500)
            shoot(browser, timer, args.out / "stage-timer-overtime.png", PROJECTOR, False, 3500)
            report_links(app, online)
            shoot(browser, links.mc, args.out / "mc-overtime-desktop.png", DESKTOP, False)
            act(app, mc, "stage", {"message": None, "screen": "break"})
            shoot(browser, links.stage, args.out / "stage-break.png", PROJECTOR, False, 3500)
            browser.close()
        # Each close takes the dev server a moment: close them side by side.
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            list(pool.map(lambda client: client.disconnect(), clients))


if __name__ == "__main__":
    main()
