"""Documents against real servers: the 20 MB limit on ``runsheet serve`` and two processes.

The limit is tested on the wire, against ``runsheet serve`` (eventlet) in a subprocess: a
``Content-Length`` over it is refused before a byte of the body is sent, and a chunked body
is refused while the client is still sending, so the server never takes in much more than
the limit; a document just under it still goes through the connection's inbound budget.
Two ``runsheet serve`` processes on one PostgreSQL database serve the same documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import subprocess
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests

from tests.conftest import SECRET
from tests.documents import pdf_bytes
from tests.live_server import STARTUP_SECONDS, WAIT_SECONDS, runsheet_command
from tests.processes import Processes

pytestmark = pytest.mark.slow

WARD = "thoi-an"
PATH = f"/api/v1/points/{WARD}/deadlines/phuong-bao-cao-ket-qua"
MB = 1024 * 1024


def organizer_token(env: dict[str, str], folder) -> str:  # noqa: ANN001
    """Return the organizer's token, as ``runsheet links --json`` prints it."""
    links = subprocess.run(
        [runsheet_command(), "links", "--json"],
        env=env,
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=STARTUP_SECONDS,
    ).stdout
    return json.loads(links)["organizer"].split("?token=")[1]


def _head(served, extra: str) -> bytes:
    host = urlsplit(served.url).netloc
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {served.tokens[WARD]}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"{extra}\r\n"
    ).encode()


def _connect(served) -> socket.socket:
    parts = urlsplit(served.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=WAIT_SECONDS)


def _read_response(sock: socket.socket) -> bytes:
    """Read until the server closes the connection (or the head and a little more)."""
    data = b""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            part = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not part:
            break
        data += part
        if b"\r\n\r\n" in data and data.rstrip().endswith(b"}"):
            break
    return data


def _submissions(served) -> int:
    response = requests.get(
        f"{served.url}/api/v1/points/{WARD}/deadlines",
        headers={"Authorization": f"Bearer {served.tokens[WARD]}"},
        timeout=WAIT_SECONDS,
    )
    return sum(len(d["submissions"]) for d in response.json()["deadlines"])


def test_a_length_over_the_limit_is_refused_before_any_of_the_body_is_sent(served):
    with _connect(served) as sock:
        sock.sendall(_head(served, f"Content-Length: {25 * MB}\r\n"))
        response = _read_response(sock)  # not one byte of the body was sent
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b'"kind":"too_large"' in response.replace(b" ", b"")
    assert _submissions(served) == 0


def test_a_chunked_body_is_refused_while_the_client_is_still_sending(served):
    total = 80 * MB  # what the client would send; the server stops soon after 20 MB
    chunk = b"%x\r\n" % (64 * 1024) + b"0" * (64 * 1024) + b"\r\n"
    sent = 0
    opening = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n%PDF-'
    pending = _head(served, "Transfer-Encoding: chunked\r\n")
    pending += b"%x\r\n" % len(opening) + opening + b"\r\n"  # chunked, as the rest
    response = b""
    with _connect(served) as sock:
        sock.sendall(pending)
        sock.setblocking(False)
        buffer = b""
        deadline = time.monotonic() + 4 * WAIT_SECONDS
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock] if sent < total else [], [], 1)
            if readable:
                try:
                    part = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    part = b""
                response += part
                if not part or b"\r\n\r\n" in response:
                    break
            elif writable:
                buffer = buffer or chunk
                try:
                    count = sock.send(buffer)
                except (BrokenPipeError, ConnectionResetError):
                    break
                buffer = buffer[count:]
                sent += count
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert sent < total  # the refusal came while the client was still sending
    assert sent < 60 * MB  # the server read little beyond the limit (and kernel buffers)
    assert _submissions(served) == 0


def test_a_document_just_under_the_limit_goes_through_the_inbound_budget(served, tmp_path):
    content = pdf_bytes() + b"%" + b"0" * (19 * MB)
    response = requests.post(
        f"{served.url}{PATH}",
        files={"file": ("to.pdf", content, "application/pdf")},
        data={"note": "bản đầy đủ"},
        headers={"Authorization": f"Bearer {served.tokens[WARD]}"},
        timeout=4 * WAIT_SECONDS,
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    download = requests.get(
        f"{served.url}{entry['download_url']}",
        headers={
            "Authorization": f"Bearer {organizer_token(_served_env(served, tmp_path), tmp_path)}"
        },
        timeout=4 * WAIT_SECONDS,
    )
    assert download.content == content
    # other routes keep their small limit, chunked too
    small = requests.post(
        f"{served.url}/api/v1/advance",
        data=iter([b"{", b" " * (100 * 1024), b"}"]),
        headers={
            "Authorization": f"Bearer {served.tokens['mc']}",
            "Content-Type": "application/json",
        },
        timeout=WAIT_SECONDS,
    )
    assert small.status_code == 413


def _served_env(served, folder) -> dict[str, str]:  # noqa: ANN001
    # the settings tests.live_server.serve_command starts the served process with
    return {
        **os.environ,
        "RUNSHEET_DATABASE_URL": f"sqlite:///{folder / 'runsheet.sqlite3'}",
        "RUNSHEET_SECRET_KEY": SECRET,
        "RUNSHEET_BASE_URL": served.url,
    }


@pytest.fixture
def postgres_database(postgres_server_url):
    """Create a database on the real PostgreSQL for this test's processes; drop it after."""
    name = f"runsheet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(postgres_server_url)._replace(path=f"/{name}"))
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_two_processes_on_postgresql_serve_the_same_documents(tmp_path, postgres_database):
    processes = Processes(tmp_path)
    try:
        a = processes.service("a", postgres_database)
        b = processes.service("b", postgres_database)
        content = pdf_bytes("Thới An") + b"%" + bytes(range(256)) * 4096  # 1 MB, every byte
        sent = requests.post(
            f"{a.url}{PATH}",
            files={"file": ("Kế hoạch.pdf", content, "application/pdf")},
            headers=a.headers(WARD),
            timeout=WAIT_SECONDS,
        )
        assert sent.status_code == 201, sent.text
        organizer = {"Authorization": f"Bearer {organizer_token(b.env, b.folder)}"}
        board = requests.get(f"{b.url}/api/v1/deadlines", headers=organizer, timeout=WAIT_SECONDS)
        cell = next(
            c
            for d in board.json()["deadlines"]
            if d["id"] == "phuong-bao-cao-ket-qua"
            for c in d["points"]
            if c["point_id"] == WARD
        )
        assert cell["current"]["file_name"] == "Kế hoạch.pdf"
        got = requests.get(
            f"{b.url}{cell['current']['download_url']}",
            headers=b.headers(WARD),
            timeout=WAIT_SECONDS,
        )
        assert got.status_code == 200
        assert got.content == content
        # a replacement sent to B is the current one on A
        replaced = requests.post(
            f"{b.url}{PATH}",
            files={"file": ("v2.pdf", pdf_bytes("v2"), "application/pdf")},
            headers=b.headers(WARD),
            timeout=WAIT_SECONDS,
        )
        assert replaced.status_code == 201
        mine = requests.get(
            f"{a.url}/api/v1/points/{WARD}/deadlines", headers=a.headers(WARD), timeout=WAIT_SECONDS
        )
        results = next(d for d in mine.json()["deadlines"] if d["id"] == "phuong-bao-cao-ket-qua")
        assert [s["file_name"] for s in results["submissions"]] == ["v2.pdf", "Kế hoạch.pdf"]
    finally:
        processes.close()
