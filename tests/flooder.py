"""A hostile Socket.IO client for the flood test, run as a process of its own.

It connects with a token, sends one event after another as fast as it is allowed to write
(hundreds a second) without waiting for answers, counts the answers by kind, and when the
server closes the connection it connects again and goes on, until its time is up. It prints
``flooding`` once its first connection is up, then one JSON line per connection:
``{"sent", "answers": {kind: count}, "seconds", "disconnected"}``.

    python -m tests.flooder URL TOKEN SECONDS
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter

import socketio

PAUSE = 0.002  # seconds between two events: some 300-500 a second


def flood_once(url: str, token: str, until: float, payload: dict, announce: bool) -> dict:
    """Flood over one connection until the server closes it or time is up; return a report."""
    client = socketio.Client(reconnection=False)
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    closed = threading.Event()
    client.on("disconnect", lambda *_: closed.set())

    def answered(ack: dict | None = None) -> None:
        with lock:
            answers["ok" if ack and ack.get("ok") else (ack or {}).get("kind", "none")] += 1

    client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    if announce:
        print("flooding", flush=True)
    started, sent = time.monotonic(), 0
    while not closed.is_set() and time.monotonic() < until:
        try:
            client.emit("checkin", payload, callback=answered)
        except socketio.exceptions.SocketIOError:
            break  # closed under our feet
        sent += 1
        time.sleep(PAUSE)
    seconds = time.monotonic() - started
    disconnected = closed.wait(2)  # answers already on their way still arrive
    if client.connected:
        client.disconnect()
    with lock:
        counted = dict(answers)
    return {"sent": sent, "answers": counted, "seconds": seconds, "disconnected": disconnected}


def main() -> None:
    """Flood the server at URL with TOKEN's check-ins for SECONDS seconds."""
    url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    until = time.monotonic() + seconds
    payload = {"by": "Kẻ phá đám", "present": 1, "note": "x" * 200}
    first = True
    while time.monotonic() < until:
        report = flood_once(url, token, until, payload, announce=first)
        print(json.dumps(report), flush=True)
        first = False


if __name__ == "__main__":
    main()
