"""Switching the active event while screens are open: real servers, real Socket.IO clients.

Every client hears ``event_changed`` ``{slug, title}`` (whichever process or command made the
switch), no client still on the old event receives a state of the new one, and a client
holding an old event's MC or point token is refused with ``other_event``, naming both.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from runsheet.services import events as events_service
from tests.conftest import SECRET, make_app
from tests.live_server import WAIT_SECONDS, Crowd, SocketUser, serve

NEW_SLUG = "hop-mat-cuoi-nam"
NEW_TITLE = "Họp mặt cuối năm"
OLD_SLUG = "hoc-tap-suot-doi-2021-quan-12"


@pytest.fixture
def server(database_url):
    """Serve the built-in ceremony, with a second event stored beside it."""
    for live in serve(database_url):
        svc = live.services
        request = events_service.parse_new_event({"slug": NEW_SLUG, "title": NEW_TITLE})
        events_service.create_event(svc.store, SECRET, request, svc.ceremony.clock())
        yield live


@pytest.fixture
def crowd(server):
    crowd = Crowd(server)
    yield crowd
    crowd.close()


class Listener:
    """Record the ``event_changed`` messages a client receives."""

    def __init__(self, user: SocketUser) -> None:
        self.user = user
        self.received: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        user.client.on("event_changed", self._on_event_changed)

    def _on_event_changed(self, body: dict[str, Any]) -> None:
        with self._arrived:
            self.received.append(body)
            self._arrived.notify_all()

    def wait_for(self, slug: str) -> dict[str, Any]:
        with self._arrived:
            found = self._arrived.wait_for(
                lambda: any(body["slug"] == slug for body in self.received), WAIT_SECONDS
            )
        assert found, f"{self.user} heard no event_changed for {slug} ({self.received})"
        return next(body for body in self.received if body["slug"] == slug)


def listening(crowd: Crowd, auth: dict[str, Any] | None, name: str) -> Listener:
    listener = Listener(crowd.user(auth, name=name))
    listener.user.connect()
    return listener


def activate_as_organizer(server, slug: str) -> requests.Response:  # noqa: ANN001
    return requests.post(
        f"{server.url}/api/v1/events/{slug}/activate",
        headers={"Authorization": f"Bearer {server.tokens['organizer']}"},
        timeout=WAIT_SECONDS,
    )


def test_every_client_hears_event_changed_and_gets_no_state_of_the_new_event(server, crowd):
    tokens = server.tokens
    viewer = listening(crowd, None, "viewer")
    mc = listening(crowd, {"token": tokens["mc"]}, "mc")
    ward = listening(crowd, {"token": tokens["thoi-an"]}, "thoi-an")
    organizer = listening(crowd, {"token": tokens["organizer"]}, "organizer")

    assert activate_as_organizer(server, NEW_SLUG).status_code == 200

    for listener in (viewer, mc, ward, organizer):
        assert listener.wait_for(NEW_SLUG) == {"slug": NEW_SLUG, "title": NEW_TITLE}
    # The new event changes: only clients on it hear of it.
    newcomer = crowd.viewer()
    assert newcomer.state["event"]["slug"] == NEW_SLUG
    mover = crowd.user({"token": tokens["organizer"]}, name="organizer again").connect()
    assert mover.advance()["ok"]
    newcomer.wait_for(lambda state: state["current_item_id"] == "khai-mac")
    for listener in (viewer, mc, ward, organizer):
        assert {s["event"]["slug"] for s in listener.user.states} == {OLD_SLUG}
    # The old event's MC and point connections end; the organizer's and the viewer's stay.
    mc.user.wait_until_disconnected()
    ward.user.wait_until_disconnected()
    assert viewer.user.connected and organizer.user.connected


@pytest.mark.slow  # refused connections: seconds of waiting
def test_an_old_events_token_is_refused_naming_the_event_it_belongs_to(server, crowd):
    assert activate_as_organizer(server, NEW_SLUG).status_code == 200

    for role in ("mc", "thoi-an"):
        refusal = crowd.user({"token": server.tokens[role]}, name=role).connect_refused()
        assert refusal["data"]["kind"] == "other_event"
        assert NEW_TITLE in refusal["message"]
        assert "Tuần lễ hưởng ứng học tập suốt đời" in refusal["message"]
    cookie = {"Cookie": f"runsheet_point_thoi-an={server.tokens['thoi-an']}"}
    page = crowd.user({"page": "point", "point_id": "thoi-an"}, headers=cookie)
    assert page.connect_refused()["data"]["kind"] == "other_event"


def test_a_switch_made_by_another_process_reaches_the_clients_through_the_heartbeat(
    server, crowd, database_url
):
    viewer = listening(crowd, None, "viewer")
    # As `runsheet activate` does: another app on the same database, without a queue.
    other = make_app(database_url).extensions["runsheet"]
    events_service.activate_event(other.store, other.ceremony, NEW_SLUG)

    assert viewer.wait_for(NEW_SLUG)["title"] == NEW_TITLE
    assert {state["event"]["slug"] for state in viewer.user.states} == {OLD_SLUG}
