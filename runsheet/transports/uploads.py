"""The few routes that take a body larger than the app's limit: documents for deadlines.

Every other route keeps ``MAX_CONTENT_LENGTH`` (64 KB). A document may be up to 20 MB, so
its route has a limit of its own, which every layer that looks at a body applies:
``bodies.ChunkedBodies`` streams a chunked upload through ``CountingInput`` (counted as it
is read, refused with 413 the moment it passes the limit) instead of reading it whole;
``server.GuardedApp`` lets the connection's inbound budget carry the upload's bytes; the
route refuses a ``Content-Length`` above the limit before it reads a byte.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge

from ..services.documents import MAX_DOCUMENT_BYTES

# A document and its note, with room for the multipart framing around them.
UPLOAD_BODY_BYTES = MAX_DOCUMENT_BYTES + 256 * 1024

LARGE_BODY_ROUTES = (
    ("POST", re.compile(r"/api/v1/points/[^/]+/deadlines/[^/]+/?"), UPLOAD_BODY_BYTES),
)


def body_limit(environ: dict[str, Any], default: int) -> int:
    """Return the largest body the request's route accepts."""
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "")
    for route_method, pattern, limit in LARGE_BODY_ROUTES:
        if method == route_method and pattern.fullmatch(path):
            return limit
    return default


class CountingInput:
    """A request body stream that refuses (413) to be read beyond ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int) -> None:  # noqa: ANN401
        self.stream = stream
        self.limit = limit
        self.count = 0

    def _counted(self, data: bytes) -> bytes:
        self.count += len(data)
        if self.count > self.limit:
            raise RequestEntityTooLarge()
        return data

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (at most one past the limit, to tell it was passed)."""
        room = self.limit + 1 - self.count
        if size is None or size < 0 or size > room:
            size = room
        return self._counted(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        """Read a line, counted like ``read``."""
        room = self.limit + 1 - self.count
        if size is None or size < 0 or size > room:
            size = room
        return self._counted(self.stream.readline(size))

    def readinto(self, buffer: Any) -> int:  # noqa: ANN401
        """Read into ``buffer``, counted like ``read``."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        """Say the stream can be read (io's protocol)."""
        return True


def stop_reading(environ: dict[str, Any]) -> None:
    """Make a refused upload's connection read no more of it (eventlet then closes it)."""
    if "eventlet.input" not in environ:
        return  # another server: it reads or drops the rest itself
    from .server import guard_of  # eventlet's server only

    guard = guard_of(environ)
    if guard is not None:
        guard.stop_reading()
