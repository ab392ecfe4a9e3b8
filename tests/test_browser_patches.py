"""A page's patches in the browser when the network reorders them around a resync.

Real Chromium on a live server; Playwright's WebSocket routing sits between the page and
the server, so the test decides which of the server's frames reach the page and when: it
drops a patch (the page must ask for the whole state, ``resync``), holds the answer to that
resync and lets the next change's patch overtake it, as happens when the server read the
state for the answer just before that change was committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from runsheet.services.tokens import Actor
from tests.test_browser import browser, online, server, tabs  # noqa: F401 - the fixtures

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PATCH_FRAME = '42["patch"'  # an engine.io message carrying a Socket.IO `patch` event
ACK_FRAME = "43"  # an engine.io message carrying a Socket.IO acknowledgement
RESYNC_FRAME = re.compile(r'^42\d*\["resync"')


@dataclass
class Middle:
    """The page's WebSocket, routed through the test: counts, drops and holds frames."""

    drop_patches: int = 0  # drop this many of the server's next patches
    hold_answers: bool = False  # keep the server's acknowledgements until released
    held: list[str] = field(default_factory=list)
    patches_passed: int = 0
    resyncs_asked: int = 0
    page_socket: WebSocketRoute | None = None

    def route(self, page_socket: WebSocketRoute) -> None:
        """Connect the page's socket to the server, both ways through this middle."""
        self.page_socket = page_socket
        server_socket = page_socket.connect_to_server()
        page_socket.on_message(lambda message: self._from_page(server_socket, message))
        server_socket.on_message(self._from_server)

    def _from_page(self, server_socket: WebSocketRoute, message: str | bytes) -> None:
        if isinstance(message, str) and RESYNC_FRAME.match(message):
            self.resyncs_asked += 1
        server_socket.send(message)

    def _from_server(self, message: str | bytes) -> None:
        text = message if isinstance(message, str) else ""
        if text.startswith(PATCH_FRAME):
            if self.drop_patches:
                self.drop_patches -= 1
                return
            self.patches_passed += 1
        if self.hold_answers and text.startswith(ACK_FRAME):
            self.held.append(text)
            return
        self.page_socket.send(message)

    def release(self) -> None:
        """Let the held acknowledgements through, in the order they came."""
        self.hold_answers = False
        for message in self.held:
            self.page_socket.send(message)
        self.held.clear()


def wait_until(page: Page, condition: Callable[[], bool], seconds: float = 10) -> None:
    """Let Playwright deliver its events until ``condition`` holds (or fail)."""
    for _ in range(int(seconds * 20)):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("the routed socket never got there")


def test_a_patch_that_overtakes_the_answer_to_a_resync_is_applied_after_it(tabs):  # noqa: F811
    middle = Middle()
    page = tabs.console.watch(tabs.context.new_page())
    page.route_web_socket(re.compile(r"/socket\.io/"), middle.route)
    page.goto(tabs.links().public)
    expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    online(page)
    ceremony = tabs.server.services.ceremony
    mc = Actor("mc", channel="socket")

    def advance() -> None:
        ceremony.perform(mc, "advance", {})

    middle.drop_patches = 1
    advance()  # its patch is lost on the way
    wait_until(page, lambda: middle.drop_patches == 0)

    middle.hold_answers = True
    advance()  # its patch does not follow on from the page's version: the page resyncs
    wait_until(page, lambda: middle.resyncs_asked == 1 and middle.held)

    passed = middle.patches_passed
    advance()  # its patch reaches the page before the (older) answer
    wait_until(page, lambda: middle.patches_passed > passed)
    middle.release()

    live = ceremony.current()
    title = next(item.title for item in live.plan.agenda if item.id == live.state.current_item_id)
    expect(page.locator("#now-title")).to_have_text(title)
    assert middle.resyncs_asked == 1  # the page took the patch, not another whole state
