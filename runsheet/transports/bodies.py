"""Chunked request bodies, read as sent whichever server runs the app.

A body sent with ``Transfer-Encoding: chunked`` has no length. eventlet's server decodes the
chunks but does not say that it ends the body itself (``wsgi.input_terminated``), so
Werkzeug handed the application an empty body: a chunked ``{"expected_version": 0}`` was
seen as ``{}`` and the stale-click protection was bypassed. Werkzeug's own server says so,
but then cuts a body beyond ``MAX_CONTENT_LENGTH`` short instead of refusing it.

So ``ChunkedBodies`` reads a chunked body here, whole, stopping as soon as it grows beyond
the limit (413, as a body with a length that large is refused), and hands the application
the body with its length, as if it had been sent so. A route that takes documents
(``uploads``) gets its chunked body as a stream instead, counted as it is read against that
route's own larger limit, so 20 MB are never held twice nor read past the limit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from .uploads import CountingInput, body_limit

READ_BYTES = 16 * 1024  # read a chunked body this much at a time


class ChunkedBodies:
    """WSGI middleware: a chunked body is read whole (up to a limit) before the app sees it."""

    def __init__(self, app: Callable, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Serve one request, its chunked body read first."""
        if environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower() == "chunked":
            limit = body_limit(environ, self.max_body_bytes)
            if limit > self.max_body_bytes:  # an upload: read as the route reads it
                environ["wsgi.input"] = CountingInput(environ["wsgi.input"], limit)
                environ["wsgi.input_terminated"] = True
                return self.app(environ, start_response)
            refusal = self.read_whole(environ)
            if refusal is not None:
                return _json_error(start_response, *refusal)
        return self.app(environ, start_response)

    def read_whole(self, environ: dict[str, Any]) -> tuple[str, str, str] | None:
        """Put the whole body in ``environ`` with its length; or return why it cannot be."""
        stream = environ["wsgi.input"]
        parts: list[bytes] = []
        size = 0
        try:
            while size <= self.max_body_bytes:
                part = stream.read(min(READ_BYTES, self.max_body_bytes + 1 - size))
                if not part:
                    break
                parts.append(part)
                size += len(part)
        except (ValueError, OSError):  # a malformed chunk (eventlet's ChunkReadError), a cut
            return "400 Bad Request", "the chunked request body is malformed", "invalid"
        if size > self.max_body_bytes:
            return "413 Request Entity Too Large", "the request body is too large", "too_large"
        body = b"".join(parts)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING")
        environ.pop("wsgi.input_terminated", None)  # it now has a length
        return None


def _json_error(start_response: Callable, status: str, message: str, kind: str) -> list[bytes]:
    body = json.dumps({"error": message, "kind": kind}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def read_chunked_bodies(app: Flask) -> None:
    """Make ``app`` read chunked bodies whole, with its ``MAX_CONTENT_LENGTH``."""
    app.wsgi_app = ChunkedBodies(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
