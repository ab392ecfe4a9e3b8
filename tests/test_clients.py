"""The connected clients' registry: which tokens no longer hold, looked up when tokens change."""

from __future__ import annotations

import pytest

from runsheet.plans import default_plan
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan, rotate_tokens, token_generations
from runsheet.services.tokens import PUBLIC, Actor, derive_tokens
from runsheet.transports.sockets.clients import Clients
from runsheet.transports.sockets.settings import DEFAULTS

from .conftest import SECRET, open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request, tmp_path):  # noqa: ANN201
    """Clients of the default ceremony: the MC, two points and a viewer, all connected."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'runsheet.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url)
    store.create_schema()
    plan = default_plan()
    installed = install_plan(store, plan, SECRET, utc_now())
    tokens = derive_tokens(SECRET, plan, token_generations(store, plan.event.slug))
    clients = Clients(store, dict(DEFAULTS))
    clients.add("mc-sid", Actor("mc"), tokens[("mc", None)], installed.event_id)
    for point in ("thoi-an", "hiep-thanh"):
        clients.add(point, Actor("point", point), tokens[("point", point)], installed.event_id)
    clients.add("viewer-sid", PUBLIC, None, installed.event_id)
    return store, clients, installed


def counting_lookups(store, monkeypatch) -> list[int]:  # noqa: ANN001
    """Count the store's token look-ups."""
    calls: list[int] = []
    look_up = store.token_holders

    def counted(hashes):  # noqa: ANN001, ANN202
        calls.append(1)
        return look_up(hashes)

    monkeypatch.setattr(store, "token_holders", counted)
    return calls


def test_tokens_are_looked_up_again_only_after_they_change(registry, monkeypatch):
    store, clients, installed = registry
    lookups = counting_lookups(store, monkeypatch)
    for _ in range(5):
        assert clients.revoked(installed.event_id) == []
    assert len(lookups) == 2  # the first two checks; then nothing changed

    rotate_tokens(store, installed.slug, SECRET, utc_now(), role="point", point_id="thoi-an")
    assert clients.revoked(installed.event_id) == ["thoi-an"]
    assert clients.revoked(installed.event_id) == ["thoi-an"]  # one that joined in between
    assert clients.revoked(installed.event_id) == []
    assert len(lookups) == 4


def test_another_event_made_active_checks_every_token_again(registry, monkeypatch):
    store, clients, installed = registry
    for _ in range(3):
        clients.revoked(installed.event_id)
    lookups = counting_lookups(store, monkeypatch)
    assert sorted(clients.revoked(installed.event_id + 1)) == ["hiep-thanh", "mc-sid", "thoi-an"]
    assert len(lookups) == 1
