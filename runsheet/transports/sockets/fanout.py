"""Fast fan-out under eventlet: a packet is written straight to each idle WebSocket.

Where the time went: python-engineio gives every client a queue and a writer greenlet,
and a broadcast puts the packet on each client's queue. Under eventlet every hand-off
costs a hub timer, a ``Timeout`` and two greenlet switches, several times the socket
write itself: at 1000 clients that made a change cost the server ~70 ms of CPU, the
writes ~25 of them (README, Performance).

So ``install`` makes the Engine.IO server's ``send_packet``, through which
python-socketio sends every packet (broadcasts, a client's own state, acks), write the
packet's WebSocket frame itself when that client's connection is idle, and queue it as
before otherwise. The frame is built once per packet, and python-socketio hands the same
packet to every client of a room, so a broadcast costs one non-blocking ``send`` per
client. The rules that keep this safe:

- Order: a frame is written directly only when nothing is queued for that client and its
  writer is waiting for more (so it holds nothing it has yet to write) and the
  connection's send lock is free; anything queued later is sent after it.
- A slow client never holds up the others: when its socket buffer is full, a greenlet of
  its own writes the rest of the frame, holding that connection's send lock meanwhile.
- Compressed once, not once per client: a connection that negotiated permessage-deflate
  without context takeover on the server's side (``wire.py`` asks every browser for that)
  gets the packet compressed on its own, and that frame is the same for every such
  connection with the same window, so it too is built once per packet. A connection that
  negotiated anything else (context takeover, another extension, a window below 512
  bytes, which zlib cannot compress for), a binary packet or a long-polling client takes
  the queue, where eventlet compresses for that connection alone.

It relies on internals of python-engineio (the ``websocket`` entry of its async driver's
``_async`` table, the handler's ``__self__``, its sockets' ``queue``, ``upgraded``,
``upgrading`` and ``check_ping_timeout``) and of eventlet (its WebSocket's ``socket`` and
``_sendlock``, its queue's ``getting``), all present in the versions pyproject.toml allows.
``install`` checks each of them on real objects of the installed libraries and logs one
line: "socket fan-out: direct frames (...)" or, when one is missing, "socket fan-out:
library path — missing: ..." as a warning, and the server keeps the library's own path.
No public API of python-engineio writes to a client without its queue and writer greenlet,
which is the cost this module avoids, so these internals stay.
"""

from __future__ import annotations

import logging
import socket as socket_module
import struct
import zlib
from typing import Any

from .internals import missing_attributes, missing_on_engine_socket, report_path

logger = logging.getLogger(__name__)

FEATURE = "socket fan-out"
DIRECT_PATH = "direct frames (python-engineio 4.x and eventlet internals present)"

# What the direct path reads on each kind of object (dotted: attributes of attributes).
ENGINE_NEEDS = ("_async", "send_packet", "sockets", "start_background_task")
SOCKET_NEEDS = (
    "sid",
    "queue.qsize",
    "queue.getting",
    "upgraded",
    "upgrading",
    "closing",
    "closed",
    "check_ping_timeout",
    "_websocket_handler.__self__",
)
WEBSOCKET_NEEDS = ("socket.fd.send", "socket.sendall", "_sendlock.acquire", "_sendlock.release")

TEXT_FRAME = 0x81  # FIN + text opcode (RFC 6455 section 5.2)
COMPRESSED = 0x40  # RSV1: the message is compressed (RFC 7692 section 6)
PLAIN = 0  # how a connection without compression is written (else: its window's bits)
SMALLEST_WINDOW_BITS = 9  # zlib compresses with 512 bytes of window at least
FLUSH_TAIL = b"\x00\x00\xff\xff"  # what a sync flush ends with, left off the wire


def frame_of(text: str, window_bits: int = PLAIN) -> bytes:
    """Return ``text`` as one unmasked WebSocket text frame, as a server sends it.

    With ``window_bits``, the message is compressed on its own (permessage-deflate with no
    context taken over from earlier messages), so any connection that negotiated that
    window or a larger one can inflate it.
    """
    data = text.encode("utf-8")
    first = TEXT_FRAME
    if window_bits != PLAIN:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -window_bits)
        data = (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[: -len(FLUSH_TAIL)]
        first |= COMPRESSED
    length = len(data)
    if length < 126:
        head = struct.pack("!BB", first, length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 126, length)
    else:
        head = struct.pack("!BBQ", first, 127, length)
    return head + data


def encoding_of(ws: Any) -> int | None:
    """Return how frames for this WebSocket are built: ``PLAIN``, a compression window's
    bits, or None when only its own library can build them (it keeps a compression
    context between messages, or negotiated something else)."""
    extensions = getattr(ws, "extensions", None)
    if not extensions:
        return PLAIN
    deflate = extensions.get("permessage-deflate")
    if len(extensions) != 1 or not deflate or not deflate.get("server_no_context_takeover"):
        return None
    bits = deflate.get("server_max_window_bits", zlib.MAX_WBITS)
    return bits if SMALLEST_WINDOW_BITS <= bits <= zlib.MAX_WBITS else None


def install(server: Any) -> bool:
    """Give a python-socketio server under eventlet the direct path; say whether it did."""
    engine = getattr(server, "eio", None)
    mode = getattr(engine, "async_mode", None)
    if mode != "eventlet":
        logger.info(
            "%s: library path (async mode %s, the direct path is for eventlet)", FEATURE, mode
        )
        return False
    if not report_path(FEATURE, DIRECT_PATH, missing_internals(engine)):
        return False
    drivers = engine._async
    sender = DirectSender(engine, engine.send_packet)
    # A copy: the driver's table is shared by every Engine.IO server of the process.
    engine._async = {**drivers, "websocket": _recording(drivers["websocket"], sender)}
    engine.send_packet = sender.send_packet
    return True


def missing_internals(engine: Any) -> list[str]:
    """Return the internals the direct path needs that the installed libraries lack.

    They are looked up on a real Engine.IO socket and a real eventlet WebSocket, made for
    the check and thrown away, since most are set by their constructors.
    """
    missing = missing_attributes(engine, ENGINE_NEEDS, "engine")
    drivers = getattr(engine, "_async", None)
    if not isinstance(drivers, dict) or "websocket" not in drivers:
        missing.append("engine._async['websocket']")
    if missing:
        return missing
    missing = missing_on_engine_socket(engine, SOCKET_NEEDS)
    if any(name.startswith("engineio.socket.Socket") for name in missing):
        return missing
    try:
        from eventlet.green import socket as green_socket
        from eventlet.websocket import RFC6455WebSocket

        ends = green_socket.socketpair()
    except Exception as error:  # noqa: BLE001 - any failure: eventlet changed
        return [*missing, f"eventlet.websocket.RFC6455WebSocket ({error})"]
    try:
        ws = RFC6455WebSocket(ends[0], {}, version=13)
        missing += missing_attributes(ws, WEBSOCKET_NEEDS, "ws")
        missing += missing_attributes(ws, ("extensions",), "ws")
    except Exception as error:  # noqa: BLE001 - any failure: eventlet changed
        missing.append(f"eventlet.websocket.RFC6455WebSocket ({error})")
    finally:
        for end in ends:
            end.close()
    return missing


def _recording(websocket_class: type, sender: DirectSender) -> type:
    """Return a WebSocket WSGI class that tells ``sender`` each socket's WebSocket."""

    class RecordingWebSocketWSGI(websocket_class):  # type: ignore[misc, valid-type]
        def __init__(self, handler: Any, engine: Any) -> None:
            socket = getattr(handler, "__self__", None)  # the Engine.IO socket upgrading

            def handle(ws: Any) -> Any:
                _no_delay(ws)
                if socket is not None:
                    sender.connections[socket.sid] = ws
                try:
                    return handler(ws)
                finally:
                    if socket is not None:
                        sender.connections.pop(socket.sid, None)

            super().__init__(handle, engine)

    return RecordingWebSocketWSGI


def _no_delay(ws: Any) -> None:
    """Send each frame at once: Nagle's algorithm would hold one back for the peer's ACK."""
    try:
        ws.socket.setsockopt(socket_module.IPPROTO_TCP, socket_module.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass  # not a TCP socket (a test's socket pair, a Unix socket)


class DirectSender:
    """The Engine.IO server's ``send_packet``, writing to idle WebSockets itself."""

    def __init__(self, engine: Any, queued_send: Any) -> None:
        self.engine = engine
        self.queued_send = queued_send  # the library's own send_packet
        self.connections: dict[str, Any] = {}  # Engine.IO sid: eventlet WebSocket
        self._packet: Any = None  # the last packet framed, and its frames by encoding
        self._frames: dict[int, bytes] = {}

    def send_packet(self, sid: str, pkt: Any) -> None:
        """Send a packet to a client: straight away if its connection is idle, else queued."""
        ws = self.connections.get(sid)
        socket = self.engine.sockets.get(sid)
        encoding = None if ws is None else encoding_of(ws)
        if encoding is None or socket is None or not self._idle(socket, ws, pkt):
            self.queued_send(sid, pkt)
            return
        if not socket.check_ping_timeout():
            return  # the client is gone; the library closes it (as its own send does)
        frame = self._frame_of(pkt, encoding)
        lock = ws._sendlock
        if frame is None or not lock.acquire(blocking=False):
            self.queued_send(sid, pkt)
            return
        self._write(ws, lock, frame)

    @staticmethod
    def _idle(socket: Any, ws: Any, pkt: Any) -> bool:
        queue = socket.queue
        return (
            not pkt.binary
            and socket.upgraded
            and not socket.upgrading
            and not socket.closing
            and not socket.closed
            and queue.qsize() == 0
            and queue.getting() > 0  # the writer waits: it holds nothing unsent
            and hasattr(ws, "_sendlock")
            and hasattr(ws.socket, "fd")
        )

    def _frame_of(self, pkt: Any, encoding: int) -> bytes | None:
        if pkt is not self._packet:
            self._frames = {}
            self._packet = pkt  # kept, so that its id cannot be reused meanwhile
        frame = self._frames.get(encoding)
        if frame is None:
            try:
                frame = self._frames[encoding] = frame_of(pkt.encode(), encoding)
            except UnicodeEncodeError:  # text UTF-8 cannot carry: the library's path decides
                return None
        return frame

    def _write(self, ws: Any, lock: Any, frame: bytes) -> None:
        try:
            sent = ws.socket.fd.send(frame)  # the non-blocking socket under eventlet's
        except BlockingIOError:
            sent = 0
        except OSError:
            lock.release()  # the connection broke; its reader notices and closes it
            return
        if sent == len(frame):
            lock.release()
            return
        self.engine.start_background_task(_finish, ws, lock, frame[sent:])


def _finish(ws: Any, lock: Any, rest: bytes) -> None:
    """Write the rest of a frame a full socket buffer cut short, then free the connection."""
    try:
        ws.socket.sendall(rest)
    except OSError:
        pass  # the connection broke; its reader notices and closes it
    finally:
        lock.release()
