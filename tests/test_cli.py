"""The ``runsheet`` command: init, load, export, links (and QR files), rotate-tokens, events,
activate, and what ``serve`` prints at a first start."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
import yaml

from runsheet.cli import _greet, command_name
from runsheet.plans import default_plan, dump_plan, parse_plan

from .conftest import POINT_IDS, SECRET, make_app
from .live_server import WAIT_SECONDS, free_port, runsheet_command, wait_until_healthy


def _links(runner) -> dict:  # noqa: ANN001
    result = runner.invoke("links", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _token(url: str) -> str:
    (token,) = parse_qs(urlsplit(url).query)["token"]
    return token


def test_init_creates_the_database_with_the_built_in_ceremony(runner):
    result = runner.invoke("init")
    assert result.exit_code == 0
    assert "hoc-tap-suot-doi-2021" in result.output or "Active event" in result.output


def test_links_json_prints_every_role_with_a_working_token(runner, database_url):
    links = _links(runner)
    assert set(links) == {"organizer", "mc", "points", "public", "stage"}
    assert links["organizer"].startswith("http://127.0.0.1:5000/organizer?token=")
    assert sorted(links["points"]) == sorted(POINT_IDS)
    assert links["mc"].startswith("http://127.0.0.1:5000/mc?token=")
    assert links["public"] == "http://127.0.0.1:5000/"
    assert "token" not in links["public"] and "token" not in links["stage"]

    client = make_app(database_url).test_client()
    mc = {"Authorization": f"Bearer {_token(links['mc'])}"}
    assert client.post("/api/v1/advance", headers=mc).status_code == 200
    ward = {"Authorization": f"Bearer {_token(links['points']['thoi-an'])}"}
    response = client.post("/api/v1/points/thoi-an/checkin", json={"by": "An"}, headers=ward)
    assert response.status_code == 200
    assert client.post("/api/v1/advance", headers=ward).status_code == 403
    organizer = {"Authorization": f"Bearer {_token(links['organizer'])}"}
    assert client.post("/api/v1/back", headers=organizer).status_code == 200


def test_each_link_carries_its_token_exactly_once(runner):
    links = _links(runner)
    for url in [links["organizer"], links["mc"], *links["points"].values()]:
        assert url.count("token=") == 1


def test_links_with_qr_draws_a_code_for_each_link(runner):
    result = runner.invoke("links", "--qr")
    assert result.exit_code == 0
    assert result.output.count("?token=") == 15
    assert "█" in result.output or "▀" in result.output


def test_rotate_tokens_makes_earlier_links_stop_working(runner, database_url):
    old = _links(runner)
    assert runner.invoke("rotate-tokens").exit_code == 0
    new = _links(runner)
    assert new["mc"] != old["mc"]

    client = make_app(database_url).test_client()
    stale = {"Authorization": f"Bearer {_token(old['mc'])}"}
    fresh = {"Authorization": f"Bearer {_token(new['mc'])}"}
    assert client.post("/api/v1/advance", headers=stale).status_code == 401
    assert client.post("/api/v1/advance", headers=fresh).status_code == 200


def test_export_writes_a_plan_that_loads_to_the_same_plan(runner, tmp_path):
    out = tmp_path / "exported.yaml"
    result = runner.invoke("export", "-o", str(out))
    assert result.exit_code == 0
    assert parse_plan(out.read_text(encoding="utf-8")) == default_plan()


def test_load_updates_the_event_with_the_same_slug(runner, tmp_path, database_url):
    text = dump_plan(default_plan()).replace("T08:00:00+07:00", "T08:30:00+07:00")
    path = tmp_path / "moved.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke("load", str(path))
    assert result.exit_code == 0, result.output
    assert "Updated event" in result.output
    state = make_app(database_url).test_client().get("/api/v1/state").get_json()
    assert state["agenda"][0]["planned_start"] == "2021-10-01T08:30:00+07:00"


def test_load_reports_every_problem_of_a_bad_plan_and_changes_nothing(
    runner, tmp_path, database_url
):
    runner.invoke("init")
    before = make_app(database_url).test_client().get("/api/v1/state").get_json()["version"]
    text = dump_plan(default_plan())
    text = text.replace("planned_minutes: 5", "planned_minutes: -5", 1)
    text = text.replace("Asia/Ho_Chi_Minh", "Asia/Nowhere", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")

    result = runner.invoke("load", str(path))
    assert result.exit_code != 0
    assert "planned_minutes" in result.output
    assert "timezone" in result.output
    assert "Traceback" not in result.output
    after = make_app(database_url).test_client().get("/api/v1/state").get_json()["version"]
    assert after == before


def test_a_second_plan_becomes_a_second_event_and_can_be_activated(runner, tmp_path):
    text = dump_plan(default_plan()).replace(
        "slug: hoc-tap-suot-doi-2021-quan-12", "slug: le-be-mac-2021"
    )
    path = tmp_path / "other.yaml"
    path.write_text(text, encoding="utf-8")
    assert runner.invoke("load", "--no-activate", str(path)).exit_code == 0
    listing = runner.invoke("events").output
    assert "le-be-mac-2021" in listing
    assert "* hoc-tap-suot-doi-2021-quan-12" in listing

    assert runner.invoke("activate", "le-be-mac-2021").exit_code == 0
    assert "* le-be-mac-2021" in runner.invoke("events").output


def test_activate_refuses_an_unknown_slug(runner):
    result = runner.invoke("activate", "khong-co")
    assert result.exit_code != 0
    assert "no event with slug" in result.output


# -- QR images, the first start and the command to run again ---------------------------------


def _png_modules(path: Path, scale: int, border: int) -> list[list[bool]]:
    """Return the dark modules of a PNG segno wrote (greyscale or palette, filters 0 and 2)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = {}, 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunks.setdefault(kind, b"")
        chunks[kind] += data[position + 8 : position + 8 + length]
        position += 12 + length
    width, height, depth, _colour, *_ = struct.unpack(">2I5B", chunks[b"IHDR"])
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = (width * depth + 7) // 8
    rows, previous = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        row = bytearray(line[1:])
        if line[0] == 2:  # "Up": each byte adds the one above it
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous, strict=True))
        assert line[0] in (0, 2), f"filter {line[0]}"
        bits = "".join(f"{byte:08b}" for byte in row)
        values = [int(bits[x * depth : (x + 1) * depth], 2) for x in range(width)]
        rows.append(values)
        previous = row
    light = rows[0][0]  # the quiet zone's colour
    size = width // scale - 2 * border
    centre = lambda n: (border + n) * scale + scale // 2  # noqa: E731
    return [[rows[centre(y)][centre(x)] != light for x in range(size)] for y in range(size)]


def _decoded(path: Path) -> str | None:
    """Return what a QR decoder reads in a PNG, or None when no decoder is installed."""
    try:
        import zxingcpp  # type: ignore[import-not-found]
        from PIL import Image  # type: ignore[import-not-found]
    except ImportError:
        return None
    (result,) = zxingcpp.read_barcodes(Image.open(path))
    return result.text


def test_links_qr_out_writes_an_svg_and_a_png_of_each_link(runner, tmp_path):
    out = tmp_path / "qr"
    result = runner.invoke("links", "--qr", "--out", str(out))
    assert result.exit_code == 0, result.output
    links = _links(runner)
    expected = {"organizer": links["organizer"], "mc": links["mc"]}
    expected |= {"public": links["public"], "stage": links["stage"]}
    expected |= {f"point-{pid}": url for pid, url in links["points"].items()}
    written = sorted(path.name for path in out.iterdir())
    assert written == sorted(f"{stem}.{kind}" for stem in expected for kind in ("svg", "png"))
    for name in written:
        assert f"  {name}" in result.output
    assert f"Wrote {len(written)} QR codes to {out}" in result.output

    for stem, url in expected.items():
        assert "<svg" in (out / f"{stem}.svg").read_text(encoding="utf-8")
        png = out / f"{stem}.png"
        decoded = _decoded(png)
        if decoded is not None:
            assert decoded == url
        else:  # no decoder here: the image holds the very symbol of that link
            symbol = [[bool(m) for m in row] for row in segno.make(url, error="m").matrix]
            assert _png_modules(png, scale=8, border=4) == symbol, stem


def test_links_out_without_qr_says_what_is_missing(runner, tmp_path):
    result = runner.invoke("links", "--out", str(tmp_path / "qr"))
    assert result.exit_code != 0
    assert "--qr" in result.output


def test_the_command_to_run_again_is_the_one_the_user_ran(tmp_path, monkeypatch):
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "runsheet").write_text("#!/bin/sh\n")
    (venv_bin / "runsheet").chmod(0o755)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    absolute = str(venv_bin / "runsheet")

    assert command_name(".venv/bin/runsheet", str(tmp_path)) == ".venv/bin/runsheet"
    assert command_name(absolute, str(tmp_path)) == ".venv/bin/runsheet"
    assert command_name(absolute, str(tmp_path / "elsewhere")) == absolute
    assert command_name("runsheet", str(venv_bin)) == "./runsheet"

    monkeypatch.setenv("PATH", f"{venv_bin}:/usr/bin:/bin")
    assert command_name(absolute, str(tmp_path)) == "runsheet"


def _plan_with_points(count: int, tmp_path: Path) -> Path:
    plan = yaml.safe_load(dump_plan(default_plan()))
    for n in range(len(plan["points"]), count):
        plan["points"].append({"id": f"diem-cau-{n}", "name": f"Điểm cầu {n}", "kind": "ward"})
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return path


def test_a_first_start_with_many_points_prints_the_main_links_and_how_to_get_the_rest(
    runner, tmp_path, database_url, capsys
):
    assert runner.invoke("load", str(_plan_with_points(40, tmp_path))).exit_code == 0
    capsys.readouterr()
    app = make_app(database_url)
    _greet(app.extensions["runsheet"], "0.0.0.0", 5000, base_url_given=True)
    printed = capsys.readouterr().out
    assert "MC: http://127.0.0.1:5000/mc?token=" in printed
    assert "Public: http://127.0.0.1:5000/" in printed
    assert "Stage display: http://127.0.0.1:5000/stage" in printed
    assert "/points/" not in printed
    assert "the links of the 40 points: `runsheet links`" in printed
    assert "wards" not in printed  # the base URL was set: its links are the public ones


def test_a_first_start_on_all_interfaces_without_a_base_url_says_to_set_one(database_url, capsys):
    app = make_app(database_url)
    _greet(app.extensions["runsheet"], "0.0.0.0", 5000, base_url_given=False)
    printed = capsys.readouterr().out
    assert "on http://0.0.0.0:5000" in printed
    assert len([line for line in printed.splitlines() if "/points/" in line]) == 13
    assert "set RUNSHEET_BASE_URL to the address the wards open" in printed


@pytest.fixture
def first_start(tmp_path):
    """Run ``runsheet serve`` as README's install leaves it, from the folder of the install.

    The command is run as ``.venv/bin/runsheet`` relative to a working folder, as a new
    user would type it, with no base URL, so the server says whom its links reach.
    Returns its stdout and stderr once it has served /healthz and stopped.
    """
    port = free_port()
    folder = tmp_path / "district"
    (folder / ".venv").mkdir(parents=True)
    (folder / ".venv" / "bin").symlink_to(Path(runsheet_command()).parent)
    env = {
        **os.environ,
        "RUNSHEET_DATABASE_URL": f"sqlite:///{tmp_path / 'runsheet.sqlite3'}",
        "RUNSHEET_SECRET_KEY": SECRET,
        "PATH": "/usr/bin:/bin",
    }
    for name in ("RUNSHEET_ASYNC_MODE", "RUNSHEET_BASE_URL", "PYTHONWARNINGS"):
        env.pop(name, None)
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [".venv/bin/runsheet", "serve", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, out)
    finally:
        process.terminate()
        process.wait(timeout=WAIT_SECONDS)
    return port, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_first_start_prints_every_link_and_no_eventlet_notice(first_start):
    port, stdout, stderr = first_start
    assert "Eventlet is deprecated" not in stderr
    assert "Eventlet is deprecated" not in stdout
    base = f"http://127.0.0.1:{port}"
    assert f"serving hoc-tap-suot-doi-2021-quan-12 on {base}" in stdout
    assert f"MC: {base}/mc?token=" in stdout
    for point_id in POINT_IDS:
        assert f"{base}/points/{point_id}?token=" in stdout
    assert f"Public: {base}/" in stdout
    assert f"Stage display: {base}/stage" in stdout
    assert f"`RUNSHEET_BASE_URL={base} .venv/bin/runsheet links`" in stdout
    assert "not on the wards' phones" in stdout
    assert '"Serve the wards"' in stdout
