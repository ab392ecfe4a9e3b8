"""Plan files: the built-in plan's facts, round trips, and clear problems for bad files."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runsheet.domain.plan import Activity, AgendaItem, Deadline, Event, Plan, Point
from runsheet.domain.text import has_visible_character
from runsheet.plans import (
    PlanError,
    Problem,
    default_plan,
    dump_plan,
    load_plan_file,
    parse_plan,
    plan_from_dict,
    plan_to_dict,
)

from .conftest import POINT_IDS

# --- the built-in plan: every fact of SPEC section 1 --------------------------------------

WARD_NAMES = [
    "An Phú Đông",
    "Đông Hưng Thuận",
    "Hiệp Thành",
    "Tân Chánh Hiệp",
    "Tân Hưng Thuận",
    "Tân Thới Hiệp",
    "Tân Thới Nhất",
    "Thạnh Lộc",
    "Thạnh Xuân",
    "Thới An",
    "Trung Mỹ Tây",
]
PROGRAMME = [
    "Tuyên bố lý do, giới thiệu đại biểu",
    "Diễn văn khai mạc",
    "Phát biểu của đại diện các đơn vị cung ứng nhu cầu học tập",
    "Phát biểu hưởng ứng của người học tập",
    "Phát biểu của lãnh đạo Sở Giáo dục và Đào tạo",
    "Gửi thông điệp hưởng ứng Tuần lễ học tập suốt đời",
    "Kết thúc Lễ khai mạc",
]


def test_the_default_plan_is_the_district_12_opening_ceremony():
    event = default_plan().event
    assert event.title == 'Lễ khai mạc "Tuần lễ hưởng ứng học tập suốt đời năm 2021"'
    assert event.theme == "Chuyển đổi số để xây dựng thành công một xã hội học tập mới"
    assert event.organizer == "Ủy ban nhân dân Quận 12"
    assert event.standing_body == "Phòng Giáo dục và Đào tạo"
    assert event.reference == "6040/KH-UBND-GDDT"
    assert event.form == "online"
    assert event.slug == "hoc-tap-suot-doi-2021-quan-12"


def test_the_default_ceremony_starts_at_eight_on_friday_1_october_2021_in_ho_chi_minh_city():
    plan = default_plan()
    starts_at = plan.event.starts_at
    assert plan.event.timezone == "Asia/Ho_Chi_Minh"
    assert starts_at.tzinfo == ZoneInfo("Asia/Ho_Chi_Minh")
    assert starts_at.isoformat() == "2021-10-01T08:00:00+07:00"
    assert starts_at == datetime(2021, 10, 1, 1, 0, tzinfo=UTC)
    assert starts_at.strftime("%A") == "Friday"
    assert plan.schedule()[0].start == datetime(2021, 10, 1, 1, 0, tzinfo=UTC)


def test_the_default_plan_has_the_thirteen_connection_points_of_the_spec():
    points = default_plan().points
    assert [p.id for p in points] == POINT_IDS
    assert [p.kind for p in points] == ["room"] * 2 + ["ward"] * 11
    assert [p.name for p in points[:2]] == ["Phòng họp A", "Phòng họp B"]
    assert [p.name for p in points[2:]] == [f"Ủy ban nhân dân phường {n}" for n in WARD_NAMES]


def test_every_default_point_carries_the_attendee_groups_of_section_2_4():
    plan = default_plan()
    room_a = plan.point("phong-hop-a").attendees
    room_b = plan.point("phong-hop-b").attendees
    assert "Đại diện Sở Giáo dục và Đào tạo" in room_a
    assert "Chủ tịch Hội Khuyến học quận" in room_a
    assert "Hiệu trưởng trường Trung cấp Kinh tế - Kỹ Thuật Quận 12" in room_a
    assert len(room_a) == 11
    assert "Bí thư Quận đoàn" in room_b
    assert "Phó Trưởng phòng Giáo dục và Đào tạo (02 người)" in room_b
    assert len(room_b) == 10
    wards = [p for p in plan.points if p.kind == "ward"]
    assert {p.attendees for p in wards} == {wards[0].attendees}
    assert "Thường trực Đảng ủy phường" in wards[0].attendees
    assert "Giám đốc (Phó Giám đốc) Trung tâm học tập cộng đồng" in wards[0].attendees


def test_the_default_programme_has_the_seven_items_of_section_2_5_in_order():
    agenda = default_plan().agenda
    assert [i.title for i in agenda] == PROGRAMME
    assert len({i.id for i in agenda}) == 7


def test_each_default_item_says_who_speaks_who_prepares_it_and_where():
    plan = default_plan()
    items = {i.title: i for i in plan.agenda}
    opening = items["Diễn văn khai mạc"]
    assert opening.prepared_by == "Phòng Giáo dục và Đào tạo"
    assert "Ủy ban nhân dân quận" in opening.speaker
    providers = items["Phát biểu của đại diện các đơn vị cung ứng nhu cầu học tập"]
    assert "Trường Trung cấp Kinh tế - Kỹ thuật Quận 12" in providers.speaker
    assert "Trung tâm Giáo dục nghề nghiệp" in providers.speaker
    assert items["Gửi thông điệp hưởng ứng Tuần lễ học tập suốt đời"].prepared_by == (
        "Hội Khuyến học quận"
    )
    assert "Sở Giáo dục và Đào tạo" in items[PROGRAMME[4]].speaker
    for item in plan.agenda:
        assert item.speaker and item.prepared_by
        assert plan.point(item.point_id) is not None
        assert item.planned_minutes > 0
        assert item.minutes_estimated, "the plan gives no durations"
        assert "ước tính" in item.notes
    assert {i.point_id for i in plan.agenda} == {"phong-hop-a"}


def test_the_default_week_runs_from_1_to_7_october_with_its_three_deadlines():
    plan = default_plan()
    assert plan.activities
    for activity in plan.activities:
        assert (activity.starts_on, activity.ends_on) == (date(2021, 10, 1), date(2021, 10, 7))
    assert [(d.due_on, d.responsible) for d in plan.deadlines] == [
        (date(2021, 9, 29), "Ủy ban nhân dân 11 phường"),
        (date(2021, 10, 10), "Ủy ban nhân dân 11 phường"),
        (date(2021, 10, 15), "Phòng Giáo dục và Đào tạo"),
    ]
    assert "chậm nhất ngày 29/9/2021" in plan.deadlines[0].description
    assert "trước ngày 10/10/2021" in plan.deadlines[1].description
    assert "trước ngày 15/10/2021" in plan.deadlines[2].description


def test_the_default_plan_has_the_eleven_slogans_of_the_annex_verbatim():
    slogans = default_plan().slogans
    assert len(slogans) == 11
    assert slogans[0] == "Chuyển đổi số thúc đẩy Học tập suốt đời."
    assert slogans[2] == "Học, học nữa, học mãi (Lenin)."
    assert slogans[-1] == "Thông minh, tài trí là đòn bẩy thúc đẩy xã hội (Balzac - Nhà văn Pháp)."


def test_the_default_plan_file_says_where_it_comes_from():
    from importlib import resources

    text = resources.files("runsheet.plans").joinpath("default.yaml").read_text("utf-8")
    assert text.startswith("#")
    assert "6040/KH-UBND-GDDT" in text.split("\nevent:")[0]


# --- round trips ------------------------------------------------------------------------


def test_a_dumped_plan_reads_back_equal():
    plan = default_plan()
    assert parse_plan(dump_plan(plan)) == plan


def test_a_plan_stored_as_json_reads_back_equal():
    plan = default_plan()
    stored = json.loads(json.dumps(plan_to_dict(plan)))
    assert plan_from_dict(stored) == plan


def test_a_dump_keeps_vietnamese_readable():
    text = dump_plan(default_plan())
    assert "Phòng họp A" in text
    assert "\\u" not in text and "\\x" not in text


def test_the_dict_has_the_shape_of_the_plan_file():
    data = plan_to_dict(default_plan())
    assert list(data) == ["event", "points", "agenda", "activities", "deadlines", "slogans"]
    assert data["event"]["starts_at"] == "2021-10-01T08:00:00+07:00"
    assert data["agenda"][0]["point"] == "phong-hop-a"
    assert data["activities"][0]["starts_on"] == "2021-10-01"


SLUGS = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
# Plan texts are one line of visible characters (no controls, direction overrides or
# zero-width characters, which the loader refuses or removes).
TEXTS = st.text(
    st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(has_visible_character)
OPTIONAL_TEXTS = st.one_of(st.just(""), TEXTS)
ZONES = st.sampled_from(["Asia/Ho_Chi_Minh", "Europe/Paris", "America/New_York", "UTC"])
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
EMAILS = st.one_of(st.none(), st.just("ban-to-chuc@example.org"))


@st.composite
def plans(draw) -> Plan:
    zone = draw(ZONES)
    instant = draw(
        st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 31))
    ).replace(tzinfo=UTC)
    event = Event(
        slug=draw(SLUGS),
        title=draw(TEXTS),
        starts_at=instant.astimezone(ZoneInfo(zone)),
        timezone=zone,
        theme=draw(OPTIONAL_TEXTS),
        organizer_email=draw(EMAILS),
        form=draw(st.sampled_from(["online", "hybrid", "in-person"])),
        description=draw(OPTIONAL_TEXTS),
        reminder_minutes=draw(st.integers(0, 600)),
    )
    point_ids = draw(st.lists(SLUGS, min_size=1, max_size=4, unique=True))
    points = tuple(
        Point(
            id=pid,
            name=draw(TEXTS),
            kind=draw(st.sampled_from(["room", "ward"])),
            address=draw(OPTIONAL_TEXTS),
            attendees=tuple(draw(st.lists(TEXTS, max_size=3))),
            contact_name=draw(st.one_of(st.none(), TEXTS)),
            contact_email=draw(EMAILS),
        )
        for pid in point_ids
    )
    agenda = tuple(
        AgendaItem(
            id=item_id,
            title=draw(TEXTS),
            planned_minutes=draw(st.integers(1, 240)),
            speaker=draw(OPTIONAL_TEXTS),
            point_id=draw(st.one_of(st.none(), st.sampled_from(point_ids))),
            minutes_estimated=draw(st.booleans()),
            notes=draw(OPTIONAL_TEXTS),
        )
        for item_id in draw(st.lists(SLUGS, min_size=1, max_size=4, unique=True))
    )
    activities = []
    for activity_id in draw(st.lists(SLUGS, max_size=2, unique=True)):
        starts_on, ends_on = sorted(draw(st.lists(DATES, min_size=2, max_size=2)))
        activities.append(Activity(activity_id, draw(TEXTS), starts_on, ends_on))
    deadlines = tuple(
        Deadline(deadline_id, draw(TEXTS), draw(DATES), responsible=draw(OPTIONAL_TEXTS))
        for deadline_id in draw(st.lists(SLUGS, max_size=2, unique=True))
    )
    return Plan(event, points, agenda, tuple(activities), deadlines, tuple(draw(st.lists(TEXTS))))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_any_valid_plan_survives_both_round_trips(plan):
    assert parse_plan(dump_plan(plan)) == plan
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(plan)))) == plan


# --- bad files: path, line and sentence --------------------------------------------------

VALID = """\
event:
  slug: test-ceremony
  title: Test ceremony
  starts_at: 2030-05-04T09:00:00+02:00
  timezone: Europe/Paris
points:
  - id: hall
    name: Main hall
    kind: room
  - id: north
    name: North ward
    kind: ward
agenda:
  - id: welcome
    title: Welcome
    point: hall
    planned_minutes: 5
  - id: talk
    title: Talk
    planned_minutes: 20
activities:
  - id: fair
    title: Fair
    starts_on: 2030-05-04
    ends_on: 2030-05-05
deadlines:
  - id: report
    title: Report
    due_on: 2030-05-10
slogans:
  - Learn every day
"""
AGENDA_BLOCK = VALID[VALID.index("agenda:") : VALID.index("activities:")]
POINTS_BLOCK = VALID[VALID.index("points:") : VALID.index("agenda:")]


def problems_in(text: str) -> list[tuple[str, int | None, str]]:
    """Return (path, line, message) of every problem parse_plan finds in the text."""
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    return [(p.path, p.line, p.message) for p in caught.value.problems]


def edit(old: str, new: str):
    """Return a change to VALID that replaces one exact piece of it."""

    def change(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return change


def test_the_valid_example_is_valid():
    plan = parse_plan(VALID)
    assert plan.event.starts_at == datetime(2030, 5, 4, 7, 0, tzinfo=UTC)
    assert plan.agenda[0].point_id == "hall" and plan.agenda[1].point_id is None


BAD_FILES = {
    "a word for minutes": (
        edit("planned_minutes: 20", "planned_minutes: twenty"),
        ("agenda[1].planned_minutes", 20, "must be a whole number of minutes above 0"),
    ),
    "zero minutes": (
        edit("planned_minutes: 20", "planned_minutes: 0"),
        ("agenda[1].planned_minutes", 20, "must be a whole number of minutes above 0"),
    ),
    "a typo in a key": (
        edit("planned_minutes: 5", "planed_minutes: 5"),
        (
            "agenda[0].planed_minutes",
            17,
            "unknown key 'planed_minutes'; did you mean 'planned_minutes'?",
        ),
    ),
    "a missing title": (
        edit("    title: Talk\n", ""),
        ("agenda[1].title", 18, "is required but missing"),
    ),
    "an empty title": (
        edit("title: Talk", "title:"),
        ("agenda[1].title", 19, "is required but empty"),
    ),
    "a repeated point id": (
        edit("- id: north", "- id: hall"),
        ("points[1].id", 10, "repeats the id 'hall' of points[0]"),
    ),
    "a repeated item id": (
        edit("- id: talk", "- id: welcome"),
        ("agenda[1].id", 18, "repeats the id 'welcome' of agenda[0]"),
    ),
    "an item from an unknown point": (
        edit("point: hall", "point: south"),
        ("agenda[0].point", 16, "names the point 'south', but no point has that id"),
    ),
    "an unknown time zone": (
        edit("Europe/Paris", "Europe/Pariss"),
        ("event.timezone", 5, "must be an IANA time zone name like Asia/Ho_Chi_Minh"),
    ),
    "a start without offset": (
        edit("2030-05-04T09:00:00+02:00", "2030-05-04T09:00:00"),
        (
            "event.starts_at",
            4,
            "must include its UTC offset, like 2021-10-01T08:00:00+07:00",
        ),
    ),
    "a start whose offset disagrees with the zone": (
        edit("+02:00", "+01:00"),
        (
            "event.starts_at",
            4,
            "has the UTC offset +01:00, but Europe/Paris is at +02:00 on 2030-05-04",
        ),
    ),
    "a start that is not a time": (
        edit("2030-05-04T09:00:00+02:00", "at nine"),
        (
            "event.starts_at",
            4,
            "must be a date and time in ISO 8601, like 2021-10-01T08:00:00+07:00",
        ),
    ),
    "an id that is not an ASCII slug": (
        edit("- id: north", "- id: bắc"),
        (
            "points[1].id",
            10,
            "must be an id of lowercase ASCII letters and digits joined by single hyphens, "
            "like phong-hop-a",
        ),
    ),
    "an id with capitals and spaces": (
        edit("- id: talk", "- id: Main Talk"),
        (
            "agenda[1].id",
            18,
            "must be an id of lowercase ASCII letters and digits joined by single hyphens, "
            "like phong-hop-a",
        ),
    ),
    "a kind that is neither room nor ward": (
        edit("kind: ward", "kind: village"),
        ("points[1].kind", 12, "must be one of: room, ward"),
    ),
    "a bad e-mail address": (
        edit("kind: ward\n", "kind: ward\n    contact_email: nobody\n"),
        ("points[1].contact_email", 13, "must be an e-mail address like name@example.org"),
    ),
    "an empty agenda": (
        edit(AGENDA_BLOCK, "agenda: []\n"),
        ("agenda", 13, "is empty; the plan needs at least one programme item"),
    ),
    "no agenda at all": (
        edit(AGENDA_BLOCK, ""),
        ("agenda", 1, "is missing; the plan needs at least one programme item"),
    ),
    "no points": (
        edit(POINTS_BLOCK, "points:\n"),
        ("points", 6, "is empty; the plan needs at least one connection point"),
    ),
    "points that are not a list": (
        edit(POINTS_BLOCK, "points: hall\n"),
        ("points", 6, "must be a list, not text"),
    ),
    "a point that is not a mapping": (
        edit("  - id: north\n    name: North ward\n    kind: ward\n", "  - north\n"),
        ("points[1]", 10, "must be a mapping of fields, not text"),
    ),
    "an activity that ends before it starts": (
        edit("ends_on: 2030-05-05", "ends_on: 2030-05-03"),
        (
            "activities[0].ends_on",
            25,
            "is before starts_on (2030-05-04); an activity cannot end before it starts",
        ),
    ),
    "a sentence where a date is expected": (
        edit("due_on: 2030-05-10", "due_on: next friday"),
        ("deadlines[0].due_on", 29, "must be a date like 2021-10-01, not text"),
    ),
    "a day-first date": (
        edit("starts_on: 2030-05-04", "starts_on: 04/05/2030"),
        ("activities[0].starts_on", 24, "must be a date like 2021-10-01, not text"),
    ),
    "a date that does not exist": (
        edit("due_on: 2030-05-10", "due_on: 2030-02-30"),
        ("deadlines[0].due_on", 29, "is not a real date: 2030-02-30"),
    ),
    "a list where text is expected": (
        edit("title: Welcome", "title: [a, b]"),
        ("agenda[0].title", 15, "must be text, not a list"),
    ),
    "a yes where text is expected": (
        edit("name: Main hall", "name: yes"),
        ("points[0].name", 8, "must be text, not true/false (put it in quotes)"),
    ),
    "a maybe where true or false is expected": (
        edit("planned_minutes: 5", "planned_minutes: 5\n    minutes_estimated: maybe"),
        ("agenda[0].minutes_estimated", 18, "must be true or false, not text"),
    ),
    "a number among the slogans": (
        edit("- Learn every day", "- 42"),
        ("slogans[0]", 31, "must be text, not a number (put it in quotes)"),
    ),
    "a key given twice": (
        edit("title: Talk\n", "title: Talk\n    title: Again\n"),
        ("agenda[1].title", 20, "is given twice (first on line 19)"),
    ),
    "no event": (
        lambda text: text[text.index("points:") :],
        ("event", 1, "is required but missing"),
    ),
    "an unknown section": (
        edit("slogans:", "slogan:"),
        ("slogan", 30, "unknown key 'slogan'; did you mean 'slogans'?"),
    ),
    "a Python tag": (
        edit("title: Welcome", "title: !!python/object/apply:os.getcwd []"),
        (
            "agenda[0].title",
            15,
            "uses the YAML tag !!python/object/apply:os.getcwd, which plan files do not use",
        ),
    ),
}


@pytest.mark.parametrize(("change", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_each_kind_of_bad_file_gets_its_path_line_and_sentence(change, expected):
    assert expected in problems_in(change(VALID))


def test_several_problems_are_reported_together_in_file_order():
    text = VALID
    for change in (
        edit("Europe/Paris", "Mars/Olympus"),
        edit("kind: ward", "kind: village"),
        edit("planned_minutes: 20", "planned_minutes: -5"),
        edit("due_on: 2030-05-10", "due_on: soon"),
    ):
        text = change(text)
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    lines = str(caught.value).splitlines()
    assert lines == [
        "plan.yaml:5: event.timezone: must be an IANA time zone name like Asia/Ho_Chi_Minh",
        "plan.yaml:12: points[1].kind: must be one of: room, ward",
        "plan.yaml:20: agenda[1].planned_minutes: must be a whole number of minutes above 0",
        "plan.yaml:29: deadlines[0].due_on: must be a date like 2021-10-01, not text",
    ]


def test_a_problem_reads_as_file_line_path_and_sentence():
    problem = Problem("agenda[3].planned_minutes", "must be a whole number", 12, "plan.yaml")
    assert str(problem) == "plan.yaml:12: agenda[3].planned_minutes: must be a whole number"
    assert str(Problem("", "is empty", None, "x.yaml")) == "x.yaml: is empty"


def test_a_yaml_syntax_error_gives_its_line():
    text = VALID.replace("title: Welcome", "title: [Welcome")
    [problem] = problems_in(text)
    assert problem[0] == ""
    assert problem[1] == 16
    assert problem[2].startswith("is not valid YAML: ")


def test_a_tab_in_the_indentation_is_a_syntax_error_on_its_line():
    [problem] = problems_in(VALID.replace("    name: Main hall", "\tname: Main hall"))
    assert problem[1] == 8
    assert "'\\t'" in problem[2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty; a plan needs event, points and agenda"),
        ("# only a comment\n", "the file is empty; a plan needs event, points and agenda"),
        (
            "- event\n- points\n",
            "must be a mapping with the sections event, points, agenda, activities, deadlines, "
            "slogans, not a list",
        ),
        (
            "just words",
            "must be a mapping with the sections event, points, agenda, activities, deadlines, "
            "slogans, not text",
        ),
    ],
    ids=["empty", "comment only", "a list", "a word"],
)
def test_a_file_that_is_not_a_plan_at_all_says_so(text, message):
    [(path, _line, found)] = problems_in(text)
    assert (path, found) == ("", message)


def test_dates_and_times_stay_text_where_text_is_expected():
    text = VALID.replace("title: Welcome", "title: 2030-05-04").replace(
        "- Learn every day", "- 09:00"
    )
    plan = parse_plan(text)
    assert plan.agenda[0].title == "2030-05-04"
    assert plan.slogans == ("09:00",)


def test_anchors_and_merge_keys_can_share_fields():
    text = VALID.replace(
        "  - id: north\n    name: North ward\n    kind: ward\n",
        "  - &ward {id: north, name: North ward, kind: ward, attendees: [Chair]}\n"
        "  - {<<: *ward, id: south, name: South ward}\n",
    )
    north, south = parse_plan(text).points[1:]
    assert (south.kind, south.attendees, south.name) == ("ward", ("Chair",), "South ward")
    assert north.id == "north"


def test_aliases_that_would_expand_enormously_are_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    [(path, _line, message)] = problems_in("\n".join(lines))
    assert "too large" in message


def test_deep_nesting_is_refused_quickly_without_a_crash():
    [(_path, line, message)] = problems_in("a:\n  b: " + "[" * 5000 + "]" * 5000)
    assert (line, message) == (2, "is not valid YAML: [ and { nest more than 50 levels deep")
    [(_path, _line, message)] = problems_in("- " * 3000 + "x")
    assert "nests too deeply" in message


def test_a_stored_plan_is_checked_like_a_file_without_lines():
    data = plan_to_dict(default_plan())
    data["agenda"][2]["planned_minutes"] = "ten"
    data["points"][0]["kind"] = "hall"
    with pytest.raises(PlanError) as caught:
        plan_from_dict(data)
    assert [(p.path, p.line) for p in caught.value.problems] == [
        ("points[0].kind", None),
        ("agenda[2].planned_minutes", None),
    ]
    assert str(caught.value.problems[0]) == (
        "<stored plan>: points[0].kind: must be one of: room, ward"
    )


# --- files on disk ----------------------------------------------------------------------


def test_a_plan_file_is_read_as_utf8(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(VALID.replace("Main hall", "Phòng họp A"), encoding="utf-8")
    assert load_plan_file(path).points[0].name == "Phòng họp A"


def test_a_missing_file_is_a_plan_error(tmp_path):
    with pytest.raises(PlanError) as caught:
        load_plan_file(tmp_path / "nope.yaml")
    assert (
        str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot be read: No such file or directory"
    )


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(VALID.replace("Main hall", "Salle des fêtes").encode("latin-1"))
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.message) == (8, "is not UTF-8 text; save the plan as UTF-8")


def test_a_bad_file_names_itself_in_every_problem(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(VALID.replace("kind: ward", "kind: village"), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    assert str(caught.value) == f"{path}:12: points[1].kind: must be one of: room, ward"


# --- garbage never raises anything but PlanError ----------------------------------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_fails_cleanly(call, *args) -> None:
    try:
        call(*args)
    except PlanError as err:
        assert err.problems and all(p.message for p in err.problems)


@pytest.mark.slow
@FUZZ
@given(st.text())
def test_any_text_gives_a_plan_or_a_plan_error(text):
    parses_or_fails_cleanly(parse_plan, text)


@pytest.mark.slow
@FUZZ
@given(st.binary())
def test_any_bytes_on_disk_give_a_plan_or_a_plan_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "plan.yaml"
    path.write_bytes(data)
    parses_or_fails_cleanly(load_plan_file, path)


@pytest.mark.slow
@FUZZ
@given(
    st.integers(0, len(VALID)),
    st.integers(0, 8),
    st.text(alphabet=string.printable + "ạ-:[]{}&*!|>'\"#", max_size=6),
)
def test_a_damaged_plan_file_gives_a_plan_or_a_plan_error(position, cut, insert):
    parses_or_fails_cleanly(parse_plan, VALID[:position] + insert + VALID[position + cut :])


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@pytest.mark.slow
@FUZZ
@given(JSONISH)
def test_any_stored_value_gives_a_plan_or_a_plan_error(data):
    parses_or_fails_cleanly(plan_from_dict, data)


@pytest.mark.slow
@FUZZ
@given(st.data(), JSONISH)
def test_a_plan_with_any_one_field_replaced_gives_a_plan_or_a_plan_error(data, value):
    stored = plan_to_dict(parse_plan(VALID))
    section = data.draw(st.sampled_from(["event", "points", "agenda", "activities", "deadlines"]))
    record = stored[section] if section == "event" else stored[section][0]
    record[data.draw(st.sampled_from(sorted(record)))] = value
    parses_or_fails_cleanly(plan_from_dict, stored)
