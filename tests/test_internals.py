"""The private library attributes the sockets rely on: checked at start-up, one line said,
and when one is missing the library's own path, which still delivers every state."""

from __future__ import annotations

import logging
import textwrap

import eventlet.queue
import pytest
import requests
import socketio
from engineio.socket import Socket

from runsheet.transports.sockets.fanout import DirectSender
from runsheet.transports.sockets.queue import RedisQueue
from tests.conftest import make_app
from tests.live_server import Crowd, free_port, serve, serve_command


def lines_about(caplog, feature: str) -> list[logging.LogRecord]:  # noqa: ANN001
    """Return the lines logged about ``feature``, in a fixture or in the test itself."""
    records = caplog.get_records("setup") + caplog.get_records("call")
    return [record for record in records if record.getMessage().startswith(feature)]


def test_under_eventlet_the_fan_out_says_in_one_line_that_it_writes_frames_directly(
    database_url, caplog
):
    caplog.set_level(logging.INFO)
    app = make_app(database_url, ASYNC_MODE="eventlet")
    engine = app.extensions["socketio"].server.eio

    [line] = lines_about(caplog, "socket fan-out")
    assert line.levelno == logging.INFO
    assert "direct frames" in line.getMessage()
    assert isinstance(engine.send_packet.__self__, DirectSender)


def test_without_an_internal_the_fan_out_keeps_the_library_path_and_warns(
    database_url, caplog, monkeypatch
):
    monkeypatch.delattr(eventlet.queue.LightQueue, "getting")
    caplog.set_level(logging.INFO)
    app = make_app(database_url, ASYNC_MODE="eventlet")
    engine = app.extensions["socketio"].server.eio

    [line] = lines_about(caplog, "socket fan-out")
    assert line.levelno == logging.WARNING
    assert line.getMessage() == "socket fan-out: library path — missing: socket.queue.getting"
    assert not isinstance(getattr(engine.send_packet, "__self__", None), DirectSender)


# Run by the served process at start-up (Python imports ``sitecustomize`` from its path).
WITHOUT_QUEUE_GETTING = textwrap.dedent(
    """
    import eventlet.queue

    del eventlet.queue.LightQueue.getting
    """
)


@pytest.mark.slow
def test_a_served_process_missing_a_fan_out_internal_still_delivers_every_state(tmp_path):
    (tmp_path / "patch").mkdir()
    (tmp_path / "patch" / "sitecustomize.py").write_text(WITHOUT_QUEUE_GETTING)
    for served in serve_command(tmp_path, PYTHONPATH=str(tmp_path / "patch")):
        crowd = Crowd(served)
        try:
            viewers = crowd.connect_all([crowd.user(name=f"viewer-{n}") for n in range(5)])
            headers = {"Authorization": f"Bearer {served.tokens['mc']}"}
            versions = []
            for _ in range(3):
                reply = requests.post(
                    f"{served.url}/api/v1/advance", json={}, headers=headers, timeout=15
                )
                assert reply.status_code == 200, reply.text
                versions.append(reply.json()["version"])
            for viewer in viewers:
                viewer.wait_for_version(versions[-1])
                assert set(versions) <= set(viewer.versions)
        finally:
            crowd.close()
        log = served.log.read_text()
        assert "socket fan-out: library path — missing: socket.queue.getting" in log


def test_the_message_queue_says_in_one_line_that_it_publishes_with_a_timeout(caplog):
    caplog.set_level(logging.INFO)
    queue = RedisQueue(f"redis://127.0.0.1:{free_port()}/4")

    [line] = lines_about(caplog, "message queue")
    assert line.levelno == logging.INFO and "timeout" in line.getMessage()
    assert queue.fenced and "_publish" in vars(queue)


def test_without_the_managers_listener_the_queue_keeps_the_librarys_own_and_warns(
    caplog, monkeypatch
):
    monkeypatch.delattr(socketio.RedisManager, "_redis_listen_with_retries")
    caplog.set_level(logging.INFO)
    queue = RedisQueue(f"redis://127.0.0.1:{free_port()}/4")

    [line] = lines_about(caplog, "message queue")
    assert line.levelno == logging.WARNING
    assert (
        line.getMessage()
        == "message queue: library path — missing: RedisManager._redis_listen_with_retries"
    )
    assert not queue.fenced
    assert "_publish" not in vars(queue) and "_redis_listen_with_retries" not in vars(queue)


@pytest.fixture
def server_without_event_dispatch(database_url, monkeypatch, caplog):
    """Serve an app whose python-socketio lacks the event entry point the patches wrap."""
    monkeypatch.delattr(socketio.Server, "_handle_event")
    caplog.set_level(logging.INFO)
    yield from serve(database_url)


def test_without_the_event_dispatch_the_patches_are_left_out_and_states_still_arrive(
    server_without_event_dispatch, caplog
):
    server = server_without_event_dispatch
    [line] = lines_about(caplog, "socket patches")
    assert line.levelno == logging.WARNING
    assert line.getMessage() == "socket patches: library path — missing: server._handle_event"

    crowd = Crowd(server)
    try:
        viewer = crowd.viewer()
        headers = {"Authorization": f"Bearer {server.tokens['mc']}"}
        reply = requests.post(f"{server.url}/api/v1/advance", json={}, headers=headers)
        assert reply.status_code == 200
        viewer.wait_for_version(reply.json()["version"])
    finally:
        crowd.close()


@pytest.mark.parametrize(
    ("missing", "level", "said"),
    [
        (None, logging.INFO, "ping spread: first pings drawn over the interval"),
        (
            "schedule_ping",
            logging.WARNING,
            "ping spread: library path — missing: socket.schedule_ping",
        ),
    ],
)
def test_the_ping_spread_says_in_one_line_which_path_it_takes(
    database_url, caplog, monkeypatch, missing, level, said
):
    if missing:  # then the library pings as it does
        monkeypatch.delattr(Socket, missing)
    caplog.set_level(logging.INFO)
    app = make_app(database_url)
    engine = app.extensions["socketio"].server.eio

    [line] = lines_about(caplog, "ping spread")
    assert (line.levelno, line.getMessage()) == (level, said)
    assert (engine.handlers["connect"].__name__ == "on_connect") == (missing is None)
