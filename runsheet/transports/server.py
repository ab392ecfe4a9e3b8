"""The eventlet server of ``runsheet serve``, guarded so that no client can stop the others.

eventlet's WSGI server, left as it is, lets one connection hold everyone up:

- A green thread that reads a socket with data waiting never goes back to the hub, so a
  client that streams tiny WebSocket frames (or endless continuation frames, or pipelined
  requests) keeps the whole process busy on its connection alone.
- It sets no timeout: connections that send half a request hold their slot for ever, and
  ``RUNSHEET_MAX_CONNECTIONS`` of them lock every new client out.

So every accepted connection is a ``GuardedSocket``: its reads yield to the other green
threads every few reads, and are counted against the connection's inbound budget (bytes,
and packets: HTTP requests; WebSocket frames, continuation and control frames included;
Engine.IO packets, pings and pongs too, over WebSocket or long-polling); a connection
over its budget is shut down and logged once. Reads carry deadlines: a request head must
arrive within ``REQUEST_HEAD_TIMEOUT`` seconds of the connection's first read (or of its
first byte after a kept-alive idle stretch, which itself may last ``KEEPALIVE_TIMEOUT``),
a body must keep coming, and a response must keep being read. An open WebSocket has no
deadline: it idles between pushes, and Engine.IO's pings drop one that went away, as
before. ``GuardedApp`` (WSGI middleware) tells each connection where it is in its
request. A document upload (``uploads.py``) may send its body beyond the byte budget, up to
its route's limit; once such a request is refused, its connection reads no more of it (else
eventlet would read the rest of a refused 20 MB body to keep the connection alive).
(Chunked bodies: ``bodies.py``, whichever server runs the app.)
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import eventlet
import eventlet.wsgi
from eventlet.greenio import GreenSocket
from eventlet.websocket import FailedConnectionError
from werkzeug.wsgi import ClosingIterator

from ..services.ratelimit import TokenBucket
from .uploads import body_limit

# Connections the kernel holds for the server before it accepts them (it caps this at
# net.core.somaxconn).
LISTEN_BACKLOG = 1024


@dataclass(frozen=True)
class InboundLimits:
    """What one connection may send, and how long it may take to send it."""

    bytes_per_second: float
    bytes_burst: float
    packets_per_second: float
    packets_burst: float
    head_seconds: float  # a request head must arrive within this; each body read too
    keepalive_seconds: float  # the longest a kept-alive connection may idle between requests

    @classmethod
    def from_config(cls, config: Any) -> InboundLimits:
        """Return the limits in the app's settings."""
        return cls(
            bytes_per_second=config["INBOUND_BYTES_PER_SECOND"],
            bytes_burst=config["INBOUND_BYTES_BURST"],
            packets_per_second=config["INBOUND_PACKETS_PER_SECOND"],
            packets_burst=config["INBOUND_PACKETS_BURST"],
            head_seconds=config["REQUEST_HEAD_TIMEOUT"],
            keepalive_seconds=config["KEEPALIVE_TIMEOUT"],
        )


# An HTTP request costs the server far more than a WebSocket frame: it counts as this many
# packets (a page's few dozen requests at once stay well within the burst).
REQUEST_PACKETS = 10
ENGINEIO_PACKET_SEPARATOR = b"\x1e"  # between the packets of a long-polling body

# A connection reading on and on gives the other green threads their turn after this many
# reads or bytes (a WebSocket frame takes two or three reads).
YIELD_EVERY_READS = 16
YIELD_EVERY_BYTES = 16 * 1024

# Where a connection is in its life, which decides the deadline of its next read.
WAITING = "waiting for a request head"
IN_REQUEST = "in a request"
WEBSOCKET = "an open WebSocket"


class ConnectionGuard:
    """One connection's budget and deadlines; closes the connection when it overspends."""

    def __init__(self, limits: InboundLimits, peer: Any, log: Callable[[str], None]) -> None:
        self.limits = limits
        self.peer = peer
        self.log = log
        self.bytes = TokenBucket(limits.bytes_per_second, limits.bytes_burst)
        self.packets = TokenBucket(limits.packets_per_second, limits.packets_burst)
        self.phase = WAITING
        # The first head's time runs from the first read, not from the accept: eventlet
        # accepts a connection before a slot is free for it, and it may wait for one.
        self.head_deadline: float | None = None
        self.head_begun = True
        self.exceeded = False
        self.reading_stopped = False  # a refused upload: its connection reads no more
        self.body_allowance = 0  # bytes of this request's body beyond the budget
        self.shutdown: Callable[[], None] = lambda: None

    # -- what the middleware tells it -----------------------------------------------------

    def request_started(self, websocket: bool) -> bool:
        """Count a request whose head has arrived; say whether the connection may go on."""
        self.phase = WEBSOCKET if websocket else IN_REQUEST
        return self.count_packet(REQUEST_PACKETS)

    def allow_body(self, size: int) -> None:
        """Let this request's body carry ``size`` bytes beyond the budget (an upload)."""
        self.body_allowance = max(0, size)

    def stop_reading(self) -> None:
        """Read nothing more from this connection: the request was refused, close it."""
        self.reading_stopped = True

    def request_finished(self) -> None:
        """Start the kept-alive wait for the next request."""
        self.body_allowance = 0
        self.phase = WAITING
        self.head_deadline = time.monotonic() + self.limits.keepalive_seconds
        self.head_begun = False

    # -- budgets --------------------------------------------------------------------------

    def count_bytes(self, count: int) -> bool:
        """Count bytes received; say whether the connection is still within its budget."""
        now = time.monotonic()
        if count and self.phase == WAITING and not self.head_begun:
            self.head_begun = True
            self.head_deadline = now + self.limits.head_seconds
        if self.body_allowance and self.phase == IN_REQUEST:
            allowed = min(count, self.body_allowance)
            self.body_allowance -= allowed
            count -= allowed
        if not self.exceeded and not self.bytes.take(now, count):
            self.overspent(f"more than {self.limits.bytes_per_second:g} bytes a second")
        return not self.exceeded

    def count_packet(self, cost: float = 1) -> bool:
        """Count a request or a WebSocket frame; say whether the connection is within budget."""
        if not self.exceeded and not self.packets.take(time.monotonic(), cost):
            self.overspent(f"more than {self.limits.packets_per_second:g} packets a second")
        return not self.exceeded

    def overspent(self, what: str) -> None:
        """Close the connection, and log it (once: it cannot overspend again)."""
        self.exceeded = True
        self.log(f"closed the connection from {self.peer}: it sent {what} (inbound budget)")
        self.shutdown()

    # -- deadlines ------------------------------------------------------------------------

    def read_timeout(self) -> float | None:
        """Return the timeout of the next read; raise ``socket.timeout`` if it is past."""
        if self.phase == WEBSOCKET:
            return None
        if self.phase == IN_REQUEST:
            return self.limits.head_seconds  # the body must keep coming
        if self.head_deadline is None:
            self.head_deadline = time.monotonic() + self.limits.head_seconds
        remaining = self.head_deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for a request head")
        return remaining

    def write_timeout(self) -> float | None:
        """Return the timeout of the next write: a response must keep being read."""
        return None if self.phase == WEBSOCKET else self.limits.keepalive_seconds


class GuardedSocket(GreenSocket):
    """A green socket whose reads yield, are counted and have deadlines (see the module).

    The listening socket is one too, with no guard of its own: eventlet's ``accept``
    makes each accepted connection of the listener's class, which then gets its guard.
    """

    limits: InboundLimits | None = None  # set on the class ``guarded_socket_class`` returns
    log: Callable[[str], None] = staticmethod(lambda message: None)
    guard: ConnectionGuard | None = None
    _reads = 0  # reads and bytes since this connection last gave the others their turn
    _read_bytes = 0

    def accept(self) -> tuple[GuardedSocket, Any]:
        """Accept a connection and give it its guard."""
        client, address = super().accept()
        assert self.limits is not None
        client.guard = ConnectionGuard(self.limits, address, self.log)
        client.guard.shutdown = client._cut
        return client, address

    def _cut(self) -> None:
        try:
            self.fd.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the peer went first

    def _before_read(self) -> bool:
        if self.guard is None:
            return True
        if self.guard.exceeded or self.guard.reading_stopped:
            return False
        GreenSocket.settimeout(self, self.guard.read_timeout())
        return True

    def _after_read(self, count: int) -> bool:
        if self.guard is None:
            return True
        within = self.guard.count_bytes(count)
        # Data that keeps arriving never sends a reading green thread back to the hub:
        # after a few reads or bytes in a row, it gives the others their turn.
        self._reads += 1
        self._read_bytes += count
        if self._reads >= YIELD_EVERY_READS or self._read_bytes >= YIELD_EVERY_BYTES:
            self._reads = self._read_bytes = 0
            eventlet.sleep(0)
        return within

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Receive, within the connection's budget and deadline (b"" once it is cut)."""
        if not self._before_read():
            return b""
        data = super().recv(bufsize, flags)
        return data if self._after_read(len(data)) else b""

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Receive into ``buffer``, within the budget and deadline (0 once it is cut)."""
        if not self._before_read():
            return 0
        count = super().recv_into(buffer, nbytes, flags)
        return count if self._after_read(count) else 0

    def _before_write(self) -> None:
        if self.guard is not None:
            GreenSocket.settimeout(self, self.guard.write_timeout())

    def send(self, data: bytes, flags: int = 0) -> int:
        """Send, giving up on a peer that stopped reading."""
        self._before_write()
        return super().send(data, flags)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        """Send all of ``data``, giving up on a peer that stopped reading."""
        self._before_write()
        return super().sendall(data, flags)


def guarded_socket_class(limits: InboundLimits, log: Callable[[str], None]) -> type:
    """Return a ``GuardedSocket`` class whose connections have ``limits``."""
    return type("ServedSocket", (GuardedSocket,), {"limits": limits, "log": staticmethod(log)})


def guard_of(environ: dict[str, Any]) -> ConnectionGuard | None:
    """Return the guard of the connection a request came on (None if it has none)."""
    request_input = environ.get("eventlet.input")
    connection = request_input.get_socket() if request_input is not None else None
    return getattr(connection, "guard", None)


class GuardedApp:
    """WSGI middleware: each request counted against its connection's budget and placed.

    A long-polling Engine.IO client sends its packets in the bodies of POST requests, any
    number of them in one body: each counts as a packet, as over a WebSocket.
    """

    def __init__(self, app: Callable, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Serve one request of a guarded connection."""
        guard = guard_of(environ)
        if guard is None:
            return self.app(environ, start_response)
        websocket = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        if not guard.request_started(websocket) or not guard.count_packet(
            self._polled_packets(environ)
        ):
            start_response("429 Too Many Requests", [("Connection", "close")])
            return [b""]
        limit = body_limit(environ, self.max_body_bytes)
        if limit > self.max_body_bytes:
            guard.allow_body(min(_declared_length(environ, limit), limit))
        try:
            result = self.app(environ, start_response)
        except BaseException:
            guard.request_finished()
            raise
        return ClosingIterator(result, lambda: _next_request(guard))

    def _polled_packets(self, environ: dict[str, Any]) -> int:
        """Return how many Engine.IO packets a long-polling POST carries (0 for others)."""
        if environ.get("REQUEST_METHOD") != "POST" or "transport=polling" not in environ.get(
            "QUERY_STRING", ""
        ):
            return 0
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
        if not 0 < length <= self.max_body_bytes:
            return 0  # Engine.IO refuses a body too large before it reads it
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        return body.count(ENGINEIO_PACKET_SEPARATOR) + 1


def _next_request(guard: ConnectionGuard) -> None:
    """Ready a connection for its next request, once its response is written.

    Requests pipelined on one connection are read from its buffer without a read of the
    socket: the other connections get their turn between two of them, here, after the
    response and not before the request, which keeps a change's way to its first screen
    free of a trip through the hub.
    """
    guard.request_finished()
    eventlet.sleep(0)


def _declared_length(environ: dict[str, Any], default: int) -> int:
    """Return a request's Content-Length, or ``default`` when it has none (chunked)."""
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or default))
    except ValueError:
        return 0


def guarded_websocket_class(websocket_class: type) -> type:
    """Return a subclass of Engine.IO's WebSocket WSGI class that counts inbound frames.

    Each frame (a continuation or control frame too) costs a packet of the connection's
    budget, and a message in fragments may not grow beyond the largest frame allowed.
    """

    class GuardedWebSocketWSGI(websocket_class):  # type: ignore[misc, valid-type]
        def _handle_hybi_request(self, environ: dict[str, Any]) -> Any:
            ws = super()._handle_hybi_request(environ)
            guard = guard_of(environ)
            if guard is not None:
                ws._recv_frame = _counting_frames(ws._recv_frame, guard, self.max_frame_length)
            return ws

    return GuardedWebSocketWSGI


def _counting_frames(recv_frame: Callable, guard: ConnectionGuard, limit: int) -> Callable:
    fragments = {"message": None, "parts": 0, "bytes": 0}

    def counted(message: Any = None) -> Any:
        frame = recv_frame(message=message)
        guard.count_packet()
        if fragments["message"] is not frame:  # a new message, or a control frame
            fragments.update(message=frame, parts=0, bytes=0)
        new_parts = frame.data[fragments["parts"] :]
        fragments["parts"] = len(frame.data)
        fragments["bytes"] += sum(len(part) for part in new_parts)
        if fragments["bytes"] > limit:
            guard.overspent(f"a message of more than {limit} bytes in fragments")
            raise FailedConnectionError(1009, "message in fragments above the length limit")
        return frame

    return counted


def guard_websockets(engine: Any) -> bool:
    """Make an Engine.IO server's WebSockets count their frames; say whether it could."""
    drivers = getattr(engine, "_async", None)
    websocket_class = drivers.get("websocket") if isinstance(drivers, dict) else None
    if websocket_class is None or not hasattr(websocket_class, "_handle_hybi_request"):
        return False
    # A copy: the driver's table is shared by every Engine.IO server of the process.
    engine._async = {**drivers, "websocket": guarded_websocket_class(websocket_class)}
    return True


def serve_eventlet(app: Any, host: str, port: int) -> None:
    """Serve ``app`` with eventlet's WSGI server, guarded, with a deeper backlog.

    ``socketio.run`` listens with eventlet's backlog of 50: when every screen reconnects at
    once (after a restart), connections beyond it are dropped and retried by the clients'
    TCP only a second or more later (2000 clients connecting at once took 17 s with 50,
    6 s with 1024). The server holds at most ``RUNSHEET_MAX_CONNECTIONS`` connections.
    """
    from ..extensions import socketio

    limits = InboundLimits.from_config(app.config)
    if not guard_websockets(socketio.server.eio):
        app.logger.warning("WebSocket frames are not counted: eventlet's WebSocket changed")
    family, *_, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = guarded_socket_class(limits, app.logger.warning)(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    limit = app.config["MAX_CONNECTIONS"]
    listener.listen(min(limit, LISTEN_BACKLOG))
    guarded = GuardedApp(app, app.config["MAX_CONTENT_LENGTH"])
    eventlet.wsgi.server(listener, guarded, max_size=limit, log_output=False)
