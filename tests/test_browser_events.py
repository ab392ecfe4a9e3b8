"""Switching the active event with pages open, in a real browser on a real server.

The public page, the stage, a point's page and the MC console are open on one event when the
organizer makes another one active: each is moved wholly to the new event (never the new
header over the old programme) or says plainly that its link belongs to the event before.
"""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from runsheet.i18n import catalog
from runsheet.services import events as events_service
from tests.conftest import SECRET
from tests.live_server import WAIT_SECONDS

# The fixtures of the browser tests: Chromium, a live server, tabs that watch their consoles.
from tests.test_browser import AGENDA, browser, server, tabs  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VI = catalog("vi")
NEW_SLUG = "hop-mat-cuoi-nam"
NEW_TITLE = "Họp mặt cuối năm"
OLD_TITLE = 'Lễ khai mạc "Tuần lễ hưởng ứng học tập suốt đời năm 2021"'


def test_open_pages_move_to_the_new_event_or_say_their_link_is_of_the_old_one(tabs):  # noqa: F811
    svc = tabs.server.services
    request = events_service.parse_new_event({"slug": NEW_SLUG, "title": NEW_TITLE})
    events_service.create_event(svc.store, SECRET, request, svc.ceremony.clock())
    public, stage = tabs.public(), tabs.stage()
    ward, mc = tabs.point("thoi-an"), tabs.mc()
    expect(public.locator("#programme")).to_contain_text(AGENDA[0])
    # The point's page and the console reload into a notice, sent with 409 (Chromium logs it).
    tabs.console.expect_line("status of 409")

    response = requests.post(
        f"{tabs.server.url}/api/v1/events/{NEW_SLUG}/activate",
        headers={"Authorization": f"Bearer {tabs.server.tokens['organizer']}"},
        timeout=WAIT_SECONDS,
    )
    assert response.status_code == 200

    # The public page and the stage show the new event, all of it.
    expect(public.locator("#event-title")).to_have_text(NEW_TITLE)
    expect(public.locator("#programme")).to_contain_text("Khai mạc")
    expect(public.locator("#programme")).not_to_contain_text(AGENDA[0])
    expect(public.locator("#conn")).to_have_attribute("data-state", "online")
    expect(stage.locator(".stage-event")).to_have_text(NEW_TITLE)
    # The point's page and the MC console say their link belongs to the old event.
    for page in (ward, mc):
        expect(page.locator("#notice-title")).to_have_text(VI["notice.link_other_event.title"])
        text = page.locator(".notice-text")
        expect(text).to_contain_text(OLD_TITLE)
        expect(text).to_contain_text(NEW_TITLE)
    # The new event runs: the public page follows it.
    organizer = tabs.server.tokens["organizer"]
    moved = requests.post(
        f"{tabs.server.url}/api/v1/advance",
        headers={"Authorization": f"Bearer {organizer}"},
        timeout=WAIT_SECONDS,
    )
    assert moved.status_code == 200
    expect(public.locator("#now-title")).to_have_text("Khai mạc")
