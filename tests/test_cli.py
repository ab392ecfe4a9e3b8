"""The ``runsheet`` command: init, load, export, links, rotate-tokens, events, activate."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from runsheet.plans import default_plan, dump_plan, parse_plan

from .conftest import POINT_IDS, make_app


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
    assert set(links) == {"mc", "points", "public", "stage"}
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


def test_each_link_carries_its_token_exactly_once(runner):
    links = _links(runner)
    for url in [links["mc"], *links["points"].values()]:
        assert url.count("token=") == 1


def test_links_with_qr_draws_a_code_for_each_link(runner):
    result = runner.invoke("links", "--qr")
    assert result.exit_code == 0
    assert result.output.count("?token=") == 14
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
