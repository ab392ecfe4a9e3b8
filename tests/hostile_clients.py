"""Hostile clients of the transport, run as a process of their own, sending as fast as they can.

Each speaks just enough HTTP and WebSocket over a plain socket to reach the server's
reading loop, and needs no token:

- ``tiny-frames``: a WebSocket to ``/socket.io/`` streaming 7-byte Engine.IO pong frames;
- ``continuation``: a WebSocket sending a text message in 60 KB fragments that never ends;
- ``pipelined``: one connection writing ``GET /healthz`` requests back to back, its
  answers read and thrown away by a thread of its own;
- ``polling-packets``: a long-polling Engine.IO session posting bodies of 20,000 pongs.

A flooder prints ``flooding`` once its first connection is up, then one JSON line per
connection when the server has closed it (``{"port", "sent": bytes, "seconds", "closed"}``),
and connects again, until its time is up.

    python -m tests.hostile_clients KIND URL SECONDS
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

MASK = b"\x00\x00\x00\x00"  # clients must mask; a zero mask leaves the payload as it is
FRAGMENT_BYTES = 60_000


def frame(opcode: int, payload: bytes, final: bool = True) -> bytes:
    """Return one masked client frame (RFC 6455 section 5.2)."""
    first = (0x80 if final else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + MASK + payload


def connect(url: str) -> socket.socket:
    """Open a TCP connection to the server at ``url``."""
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def open_websocket(url: str) -> socket.socket:
    """Open an Engine.IO WebSocket (no token), read the server's open packet."""
    sock = connect(url)
    key = base64.b64encode(os.urandom(16)).decode()
    host = urlsplit(url).netloc
    sock.sendall(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        answer += chunk
    if not answer.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(answer.decode(errors="replace"))
    return sock


def tiny_frames(url: str) -> tuple[socket.socket, list[bytes]]:
    """Return a WebSocket and what it sends: pong frames, a thousand at a time."""
    return open_websocket(url), [frame(0x1, b"3") * 1000]


def continuation(url: str) -> tuple[socket.socket, list[bytes]]:
    """Return a WebSocket and what it sends: a first fragment, then only continuations."""
    sock = open_websocket(url)
    sock.sendall(frame(0x1, b"4" + b"a" * (FRAGMENT_BYTES - 1), final=False))
    return sock, [frame(0x0, b"a" * FRAGMENT_BYTES, final=False)]


def pipelined(url: str) -> tuple[socket.socket, list[bytes]]:
    """Return a connection and what it sends: /healthz requests, a hundred at a time."""
    sock = connect(url)
    host = urlsplit(url).netloc
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    return sock, [request * 100]


def polling_packets(url: str) -> tuple[socket.socket, list[bytes]]:
    """Return a long-polling Engine.IO session and what it sends: POSTs of 20,000 pongs."""
    sock = connect(url)
    host = urlsplit(url).netloc
    sock.sendall(
        f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    )
    answer = b""
    while not (found := re.search(rb'"sid":"([^"]+)"', answer)):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        answer += chunk
    sid = found.group(1).decode()
    body = b"\x1e".join([b"3"] * 20_000)
    request = (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return sock, [request + body]


KINDS = {
    "tiny-frames": tiny_frames,
    "continuation": continuation,
    "pipelined": pipelined,
    "polling-packets": polling_packets,
}


def _drain(sock: socket.socket, closed: threading.Event) -> None:
    """Read and drop whatever the server sends, until it closes the connection."""
    while True:
        try:
            if not sock.recv(65536):
                break
        except TimeoutError:
            continue  # the socket's timeout is for the sender; keep reading
        except OSError:
            break
    closed.set()


def flood_once(kind: str, url: str, until: float, announce: bool) -> dict:
    """Flood over one connection until the server closes it or time is up; return a report."""
    sock, payloads = KINDS[kind](url)
    port = sock.getsockname()[1]  # the server names the connection by it in its log
    closed = threading.Event()
    threading.Thread(target=_drain, args=(sock, closed), daemon=True).start()
    if announce:
        print("flooding", flush=True)
    started, sent = time.monotonic(), 0
    sock.settimeout(1)
    while not closed.is_set() and time.monotonic() < until:
        try:
            for payload in payloads:
                sock.sendall(payload)
                sent += len(payload)
        except TimeoutError:
            continue  # the server reads no more for now; it may be about to close
        except OSError:
            break  # closed under our feet
    seconds = time.monotonic() - started
    was_closed = closed.wait(2)
    sock.close()
    return {"port": port, "sent": sent, "seconds": round(seconds, 3), "closed": was_closed}


def main() -> None:
    """Flood the server at URL with KIND for SECONDS seconds, connecting again when cut."""
    kind, url, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    until = time.monotonic() + seconds
    first = True
    while time.monotonic() < until:
        try:
            report = flood_once(kind, url, until, announce=first)
        except OSError as error:  # refused while the server is busy: try again
            report = {"error": str(error)}
            time.sleep(0.05)
        print(json.dumps(report), flush=True)
        first = first and "error" in report


if __name__ == "__main__":
    main()
