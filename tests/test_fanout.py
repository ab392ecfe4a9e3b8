"""Fast fan-out under eventlet (``runsheet serve``): every client gets every state in order,
a client that stops reading holds up nobody, and a push is compressed once for every
compressed connection."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from runsheet.transports.sockets import fanout
from runsheet.transports.sockets.fanout import PLAIN, DirectSender, encoding_of, frame_of, install
from tests.conftest import make_app
from tests.live_server import serve_command


@pytest.fixture
def served(tmp_path):
    """Run ``runsheet serve`` with the HTTP throttle off: the MC moves here far faster than
    any person or Stream Deck could, hundreds of times, to load the fan-out."""
    yield from serve_command(tmp_path, RUNSHEET_HTTP_REQUESTS_PER_SECOND="0")


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_a_frame_holds_the_text_with_the_length_rfc_6455_prescribes(size):
    text = "ầ" * (size // 3) + "x" * (size % 3)  # three bytes per ầ in UTF-8
    frame = frame_of(text)
    assert frame[0] == 0x81  # final fragment, text
    length, start = frame[1], 2
    assert length & 0x80 == 0  # a server does not mask
    if length == 126:
        length, start = struct.unpack("!H", frame[2:4])[0], 4
    elif length == 127:
        length, start = struct.unpack("!Q", frame[2:10])[0], 10
    assert length == len(text.encode()) == size
    assert frame[start:].decode() == text


@pytest.mark.parametrize("window_bits", [9, 12, 15])
def test_a_compressed_frame_inflates_alone_to_the_text(window_bits):
    text = '42["patch",{"ops":[' + ",".join(['{"op":"replace","path":"/agenda/2"}'] * 40) + "]}]"
    frame = frame_of(text, window_bits)
    assert frame[0] == 0xC1  # final fragment, compressed (RSV1), text
    length, start = frame[1], 2
    if length == 126:
        length, start = struct.unpack("!H", frame[2:4])[0], 4
    assert length == len(frame) - start < len(text) // 4
    inflater = zlib.decompressobj(-window_bits)  # a fresh one: no earlier message needed
    assert inflater.decompress(frame[start:] + b"\0\0\xff\xff").decode() == text


class Negotiated:
    """A WebSocket as eventlet leaves it after the handshake: only its extensions."""

    def __init__(self, **deflate: object) -> None:
        self.extensions = {"permessage-deflate": deflate} if deflate else {}


@pytest.mark.parametrize(
    ("ws", "encoding"),
    [
        (Negotiated(), PLAIN),
        (Negotiated(server_no_context_takeover=True), 15),
        (Negotiated(server_no_context_takeover=True, server_max_window_bits=10), 10),
        (Negotiated(server_no_context_takeover=False), None),  # a window of its own
        (Negotiated(server_no_context_takeover=True, server_max_window_bits=8), None),
    ],
)
def test_only_connections_compressing_each_message_alone_share_frames(ws, encoding):
    assert encoding_of(ws) == encoding


def test_a_packet_is_framed_once_per_encoding_whatever_the_number_of_clients(monkeypatch):
    built = []

    def counting_frame_of(text: str, window_bits: int = PLAIN) -> bytes:
        built.append(window_bits)
        return b"frame-%d" % window_bits

    class Packet:
        def encode(self) -> str:
            return '42["patch",{}]'

    monkeypatch.setattr(fanout, "frame_of", counting_frame_of)
    sender = DirectSender(engine=None, queued_send=None)
    first, second = Packet(), Packet()
    frames = [sender._frame_of(first, encoding) for encoding in [15, PLAIN, 15, 15, PLAIN]]
    assert frames == [b"frame-15", b"frame-0", b"frame-15", b"frame-15", b"frame-0"]
    assert sender._frame_of(second, 15) == b"frame-15"
    assert built == [15, PLAIN, 15]


def test_the_direct_path_is_only_for_eventlet(database_url):
    app = make_app(database_url)  # threading mode, as tests serve
    assert install(app.extensions["socketio"].server) is False


def move_the_mc(served, times: int, threads: int = 4) -> list[int]:
    """Have the MC move to an item ``times`` times from several threads; return the versions."""
    items = [
        item["id"]
        for item in requests.get(f"{served.url}/api/v1/state", timeout=10).json()["agenda"]
    ]
    headers = {"Authorization": f"Bearer {served.tokens['mc']}"}

    def go(number: int) -> int:
        item = items[number % len(items)]
        reply = requests.post(
            f"{served.url}/api/v1/goto/{item}", json={}, headers=headers, timeout=30
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["version"]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(go, range(1, times + 1)))


@pytest.mark.slow
def test_a_burst_of_changes_reaches_every_client_complete_and_in_order(served, crowd):
    users = crowd.connect_all([crowd.user(name=f"viewer-{n}") for n in range(30)])
    users += [crowd.point(point_id) for point_id in served.point_ids()]
    versions = move_the_mc(served, 40)
    last = max(versions)
    for user in users:
        user.wait_for_version(last)
        seen = user.versions
        assert seen == sorted(set(seen)), f"{user} saw {seen}"
        assert seen[-1] == last


class StalledReader:
    """A viewer that connects over a raw WebSocket, then never reads again."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((parts.hostname, parts.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.sock.settimeout(10)
        assert b" 101 " in self.sock.recv(4096)
        self._send(b"40")  # join the default namespace as a public viewer

    def _send(self, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes((0x81, 0x80 | len(payload))) + mask + masked)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.slow
def test_a_client_that_stops_reading_holds_up_nobody(served, crowd):
    stalled = [StalledReader(served.url) for _ in range(3)]
    try:
        watcher = crowd.viewer()
        # Enough changes (about 10 KB each) to fill the stalled clients' socket buffers.
        started = time.monotonic()
        versions = move_the_mc(served, 300, threads=6)
        took = time.monotonic() - started
        state = watcher.wait_for_version(max(versions))
        assert state["version"] == max(versions)
        assert watcher.versions == sorted(set(watcher.versions))
        # Each change reached the watcher promptly, however far behind the stalled ones are.
        assert took < 60
        requests.get(f"{served.url}/healthz", timeout=5).raise_for_status()
    finally:
        for reader in stalled:
            reader.close()


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """Return the first byte and the payload of the next WebSocket frame."""
    head = _read(sock, 2)
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", _read(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _read(sock, 8))[0]
    return head[0], _read(sock, length)


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def open_compressed(served) -> socket.socket:  # noqa: ANN001
    """Open a viewer's WebSocket offering compression as Chromium does; check the answer."""
    parts = urlsplit(served.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()
    )
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(1)
    assert b"permessage-deflate; server_no_context_takeover" in reply
    sock.sendall(bytes((0x81, 0x82)) + b"\0\0\0\0" + b"40")  # masked with zeros
    return sock


@pytest.mark.slow
def test_compressed_connections_get_each_state_compressed_alone_in_the_same_frame(tmp_path):
    for served in serve_command(tmp_path, RUNSHEET_WEBSOCKET_COMPRESSION="on"):
        viewers = [open_compressed(served) for _ in range(2)]
        try:
            mover = threading.Thread(target=move_the_mc, args=(served, 3, 1))
            mover.start()
            frames: list[dict[int, bytes]] = [{}, {}]
            for sock, received in zip(viewers, frames, strict=True):
                while len(received) < 4:  # the state on connect and one per change
                    first, payload = read_frame(sock)
                    # A fresh inflater for each message: none may lean on an earlier one.
                    inflater = zlib.decompressobj(-15)
                    compressed = bool(first & 0x40)
                    text = inflater.decompress(payload + b"\0\0\xff\xff") if compressed else payload
                    if text.startswith(b'42["state"'):
                        assert compressed, "a state went out uncompressed"
                        received[json.loads(text[2:])[1]["version"]] = payload
            mover.join()
            assert len(frames[0]) == 4
            changes = sorted(frames[0])[1:]  # the first states were each viewer's own
            assert [frames[0][v] for v in changes] == [frames[1][v] for v in changes]
        finally:
            for sock in viewers:
                sock.close()
