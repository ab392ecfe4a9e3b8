""" "Add to calendar" links: the download, the webcal:// subscription and Google Calendar."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from runsheet.calendar.links import MAX_GOOGLE_DETAILS, calendar_links
from runsheet.domain.errors import NotFound
from runsheet.plans import default_plan

BASE = "https://lich.quan12.example.org"


def _google(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


def test_the_ceremony_links_point_at_the_ceremony_file():
    links = calendar_links(default_plan(), BASE + "/")
    assert links["download"] == f"{BASE}/calendar/ceremony.ics"
    assert links["webcal"] == "webcal://lich.quan12.example.org/calendar/ceremony.ics"


def test_a_point_s_links_point_at_its_own_file():
    links = calendar_links(default_plan(), BASE, point_id="thoi-an")
    assert links["download"] == f"{BASE}/calendar/points/thoi-an.ics"
    assert links["webcal"] == "webcal://lich.quan12.example.org/calendar/points/thoi-an.ics"
    google = _google(links["google"])
    assert google["text"].endswith("— Ủy ban nhân dân phường Thới An")
    assert google["location"] == "Ủy ban nhân dân phường Thới An, Phường Thới An, Quận 12"
    assert "Điểm cầu: Ủy ban nhân dân phường Thới An" in google["details"]


def test_the_served_links_work(client):
    links = calendar_links(default_plan(), "http://127.0.0.1:5000", point_id="phong-hop-a")
    path = urlsplit(links["download"]).path
    assert client.get(path).status_code == 200
    assert urlsplit(links["webcal"]).path == path


def test_the_google_link_carries_the_title_utc_times_details_and_place():
    google = _google(calendar_links(default_plan(), BASE)["google"])
    assert google["action"] == "TEMPLATE"
    assert google["text"] == 'Lễ khai mạc "Tuần lễ hưởng ứng học tập suốt đời năm 2021"'
    assert google["dates"] == "20211001T010000Z/20211001T020000Z"
    assert google["ctz"] == "Asia/Ho_Chi_Minh"
    assert "Chương trình:" in google["details"]
    assert "2. 08:05–08:20  Diễn văn khai mạc" in google["details"]
    assert f"{BASE}/" in google["details"]
    assert google["location"].startswith("Trực tuyến")


def test_a_long_programme_is_left_out_of_the_google_link_but_the_page_link_stays():
    plan = default_plan()
    long_agenda = tuple(
        replace(item, id=f"muc-{n}", title=f"Mục số {n} với một tiêu đề khá dài để thử")
        for n, item in enumerate(plan.agenda * 10)
    )
    google = _google(calendar_links(replace(plan, agenda=long_agenda), BASE)["google"])
    assert len(google["details"]) <= MAX_GOOGLE_DETAILS
    assert "Chương trình:" not in google["details"]
    assert f"{BASE}/" in google["details"]


def test_an_unknown_point_has_no_links():
    with pytest.raises(NotFound):
        calendar_links(default_plan(), BASE, point_id="khong-co")
