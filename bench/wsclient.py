"""A lean Socket.IO viewer for load tests, and the worker process that runs many of them.

Each viewer is one asyncio ``Protocol`` speaking just enough of WebSocket (RFC 6455, with
permessage-deflate of RFC 7692 offered as browsers offer it), Engine.IO 4 and Socket.IO 5
to connect with an ``auth`` object, answer pings, and note the time and ``version`` of
every ``state`` it receives. It reads the version from the head of the packet instead of
parsing the whole JSON: a browser parses all of it, but here the point is to keep the
load client from becoming the bottleneck it measures. A compressed message is still
inflated in full, since the next one depends on its window.

A worker process holds a share of the clients and takes orders from the benchmark over a
pipe: it connects its clients, reports how many it holds, and on ``collect`` sends back
every client's arrivals.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import time
import zlib
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

# What a browser (Chrome, Firefox) and socket.io-client offer.
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
STATE_HEAD = re.compile(rb'42\["state",\{"version":(\d+)')  # matched at the packet's start
PATCH_HEAD = re.compile(rb'42\["patch",\{"from_version":(\d+),"version":(\d+)')
ACK_HEAD = re.compile(rb"43(\d+)\[")
BUFFER_BYTES = 64 * 1024  # per client; grown for a larger frame
MIN_FREE = 16 * 1024  # free space offered to each read
TAIL = b"\x00\x00\xff\xff"


@dataclass
class ClientSpec:
    """Where one client connects and what it shows as ``auth``."""

    url: str
    auth: dict[str, Any]
    label: str
    checkin: dict[str, Any] | None = None  # the check-in it sends when told to (a point)


@dataclass
class Outcome:
    """What one client saw: its connection, and every state's (arrival time, version)."""

    label: str
    connected_at: float | None = None
    error: str | None = None
    closed: bool = False
    deflate: bool = False
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # bytes of each state or patch, in order
    wire_sizes: list[int] = field(default_factory=list)  # the same, as they came (compressed)
    patches: int = 0  # how many of the arrivals were patches
    acks: list[tuple[float, float, Any]] = field(default_factory=list)  # (sent, answered, ack)


class Viewer(asyncio.BufferedProtocol):
    """One Socket.IO client over a raw WebSocket that records the states it receives.

    The event loop reads straight into the viewer's buffer, and frames are parsed where
    they lie: an uncompressed state is never copied, only its head is looked at.
    """

    def __init__(self, spec: ClientSpec, deflate: bool) -> None:
        self.spec = spec
        self.offer_deflate = deflate
        self.outcome = Outcome(spec.label)
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray(BUFFER_BYTES)
        self.view = memoryview(self.buffer)
        self.start = 0  # the bytes not parsed yet are buffer[start:end]
        self.end = 0
        self.needed = 0  # bytes the frame being received needs in all
        self.upgraded = False
        self.inflater: Any = None
        self.fresh_inflater = False  # server_no_context_takeover: a new window per message
        self.window_bits = 15
        self.fragments: list[bytes] = []
        self.wire_size = 0  # the bytes the message being read took on the wire
        self.fragment_compressed = False
        self.next_ack = 0
        self.asked: dict[int, float] = {}  # ack id: when the event was sent

    # -- the connection --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the WebSocket upgrade request."""
        self.transport = transport  # type: ignore[assignment]
        parts = urlsplit(self.spec.url)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {parts.scheme}://{parts.netloc}",
        ]
        if self.offer_deflate:
            lines.append(f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        """Note that the server (or the network) ended the connection."""
        self.outcome.closed = True
        self._fail(f"connection closed: {exc}" if exc else "connection closed by the server")

    def latest(self) -> int:
        """Return the newest version received (-1 before the first state)."""
        arrivals = self.outcome.arrivals
        return arrivals[-1][1] if arrivals else -1

    def close(self) -> None:
        """End the connection."""
        if self.transport is not None:
            self.transport.close()

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.outcome.error = reason
            self.ready.set_result(None)

    # -- bytes in --------------------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        """Return free space at the end of the buffer, moving or growing it if need be."""
        free = len(self.buffer) - self.end
        if free < MIN_FREE or self.needed > len(self.buffer) - self.start:
            pending = self.end - self.start
            size = len(self.buffer)
            while size - pending < max(MIN_FREE, self.needed - pending):
                size *= 2
            if size != len(self.buffer):
                fresh = bytearray(size)
                fresh[:pending] = self.view[self.start : self.end]
                self.view.release()
                self.buffer, self.view = fresh, memoryview(fresh)
            else:
                self.buffer[:pending] = self.buffer[self.start : self.end]
            self.start, self.end = 0, pending
        return self.view[self.end :]

    def buffer_updated(self, nbytes: int) -> None:
        """Take in what was read: the upgrade reply first, then WebSocket frames."""
        now = time.monotonic()
        self.end += nbytes
        if not self.upgraded and not self._read_upgrade():
            return
        self._read_frames(now)
        if self.start == self.end:
            self.start = self.end = 0

    def _read_upgrade(self) -> bool:
        head_end = self.buffer.find(b"\r\n\r\n", self.start, self.end)
        if head_end < 0:
            return False
        head = bytes(self.buffer[self.start : head_end]).decode("latin-1").split("\r\n")
        self.start = head_end + 4
        if " 101 " not in head[0] + " ":
            self._fail(f"upgrade refused: {head[0]}")
            self.close()
            return False
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions":
                self._accept_extensions(value)
        self.upgraded = True
        return True

    def _accept_extensions(self, value: str) -> None:
        params = [p.strip().lower() for p in value.split(";")]
        if params[0] != "permessage-deflate":
            return
        self.outcome.deflate = True
        for param in params[1:]:
            name, _, number = param.partition("=")
            if name == "server_no_context_takeover":
                self.fresh_inflater = True
            elif name == "server_max_window_bits" and number:
                self.window_bits = int(number.strip('"'))
        self.inflater = zlib.decompressobj(-self.window_bits)

    def _read_frames(self, now: float) -> None:
        buffer, position, end = self.buffer, self.start, self.end
        self.needed = 0
        while end - position >= 2:
            second = buffer[position + 1]
            length = second & 0x7F
            start = position + 2
            if length == 126:
                if end - start < 2:
                    break
                length = (buffer[start] << 8) | buffer[start + 1]
                start += 2
            elif length == 127:
                if end - start < 8:
                    break
                length = int.from_bytes(buffer[start : start + 8], "big")
                start += 8
            if second & 0x80:  # a server must not mask; skip the key if one does
                start += 4
            if end - start < length:
                self.needed = start + length - position
                break
            self._frame(buffer[position], start, start + length, now)
            position = start + length
        self.start = position

    def _frame(self, first: int, start: int, end: int, now: float) -> None:
        opcode = first & 0x0F
        if opcode == 0x8:  # close
            self.close()
            return
        if opcode == 0x9:  # ping
            self._send(bytes(self.view[start:end]), opcode=0xA)
            return
        if opcode == 0xA:
            return
        final = bool(first & 0x80)
        if opcode in (0x1, 0x2):
            if final and not first & 0x40:  # the common case: read it where it lies
                self.wire_size = end - start
                self._packet(self.buffer, start, end, now)
                return
            self.fragment_compressed = bool(first & 0x40)
            self.fragments = []
        self.fragments.append(bytes(self.view[start:end]))
        if not final:
            return
        message = b"".join(self.fragments)
        self.wire_size = len(message)
        self.fragments = []
        if self.fragment_compressed:
            if self.fresh_inflater:
                self.inflater = zlib.decompressobj(-self.window_bits)
            message = self.inflater.decompress(message) + self.inflater.decompress(TAIL)
        self._packet(message, 0, len(message), now)

    # -- Engine.IO and Socket.IO packets ---------------------------------------------

    def _packet(self, data: bytes | bytearray, start: int, end: int, now: float) -> None:
        kind = data[start] if end > start else 0
        if kind == ord("4") and end - start > 1:
            sub = data[start + 1]
            if sub == ord("2"):
                self._state(data, start, end, now)
            elif sub == ord("3"):
                self._ack(data, start, end, now)
            elif sub == ord("0"):
                self.outcome.connected_at = now
            elif sub == ord("4"):
                detail = bytes(data[start + 2 : min(end, start + 200)])
                self._fail(f"refused: {detail.decode(errors='replace')}")
                self.close()
        elif kind == ord("2"):  # Engine.IO ping: answer at once or the server drops us
            self._send(b"3")
        elif kind == ord("0"):  # Engine.IO open: connect to the default namespace
            self._send(b"40" + json.dumps(self.spec.auth, separators=(",", ":")).encode())
        elif kind == ord("1"):
            self.close()

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Send an event asking for an ack; the ack is noted in ``outcome.acks``."""
        self.next_ack += 1
        self.asked[self.next_ack] = time.monotonic()
        body = json.dumps([event, payload], separators=(",", ":"), ensure_ascii=False)
        self._send(f"42{self.next_ack}{body}".encode())

    def _ack(self, data: bytes | bytearray, start: int, end: int, now: float) -> None:
        head = ACK_HEAD.match(data, start, end)
        if head is None:
            return
        sent = self.asked.pop(int(head.group(1)), None)
        if sent is not None:
            answer = json.loads(bytes(data[head.end() - 1 : end]))
            self.outcome.acks.append((sent, now, answer[0] if answer else None))

    def _state(self, data: bytes | bytearray, start: int, end: int, now: float) -> None:
        patch = PATCH_HEAD.match(data, start, end)
        if patch is not None:  # a patch (the benchmark checks versions, not contents)
            self.outcome.arrivals.append((now, int(patch.group(2))))
            self.outcome.sizes.append(end - start)
            self.outcome.wire_sizes.append(self.wire_size)
            self.outcome.patches += 1
            return
        head = STATE_HEAD.match(data, start, end)
        if head is not None:
            version = int(head.group(1))
        elif data.startswith(b'42["state",', start, end):
            # the fields in another order: parse it all
            version = int(json.loads(bytes(data[start + 2 : end]))[1]["version"])
        else:
            return  # session, or another event
        self.outcome.arrivals.append((now, version))
        self.outcome.sizes.append(end - start)
        self.outcome.wire_sizes.append(self.wire_size)
        if not self.ready.done():
            self.ready.set_result(None)

    def _send(self, payload: bytes, opcode: int = 0x1) -> None:
        # Client frames are masked (RFC 6455 5.3); sent uncompressed, which 7692 allows.
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = bytes((0x80 | opcode, 0x80 | length))
        else:
            head = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big")
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(head + mask + masked)


# -- the worker process -----------------------------------------------------------------


@dataclass
class WorkerOptions:
    """How a worker connects its clients."""

    deflate: bool
    concurrency: int
    connect_timeout: float


async def _connect(spec: ClientSpec, options: WorkerOptions, gate: asyncio.Semaphore) -> Viewer:
    loop = asyncio.get_running_loop()
    parts = urlsplit(spec.url)
    async with gate:
        viewer = Viewer(spec, options.deflate)
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: viewer, parts.hostname, parts.port),
                options.connect_timeout,
            )
            await asyncio.wait_for(asyncio.shield(viewer.ready), options.connect_timeout)
        except (OSError, TimeoutError) as error:
            viewer._fail(f"{type(error).__name__}: {error}")
        return viewer


async def _serve_orders(conn: Connection, specs: list[ClientSpec], options: WorkerOptions) -> None:
    loop = asyncio.get_running_loop()
    orders: asyncio.Queue[Any] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: orders.put_nowait(conn.recv()))
    gate = asyncio.Semaphore(options.concurrency)
    started = time.monotonic()
    viewers = await asyncio.gather(*(_connect(spec, options, gate) for spec in specs))
    held = sum(1 for v in viewers if v.outcome.error is None and v.outcome.arrivals)
    errors = [v.outcome.error for v in viewers if v.outcome.error]
    conn.send(("connected", held, errors[:5], len(errors), time.monotonic() - started))
    while True:
        order, argument = await orders.get()
        if order == "progress":  # how many clients hold version ``argument`` already
            have = sum(1 for v in viewers if v.latest() >= argument)
            conn.send(("progress", have))
        elif order == "checkin":  # every client with a check-in confirms within ``argument`` s
            for viewer in viewers:
                checkin = viewer.spec.checkin
                if checkin and viewer.outcome.error is None:
                    delay = random.uniform(0, argument)
                    loop.call_later(delay, viewer.emit, "checkin", checkin)
            conn.send(("checkin", None))
        elif order == "collect":
            conn.send(("outcomes", [v.outcome for v in viewers]))
        elif order == "close":
            for viewer in viewers:
                viewer.close()
            await asyncio.sleep(0.2)
            return


def worker_main(conn: Connection, specs: list[ClientSpec], options: WorkerOptions) -> None:
    """Connect ``specs`` and follow the benchmark's orders until told to close."""
    try:
        asyncio.run(_serve_orders(conn, specs, options))
    finally:
        conn.close()
