"""Payload checks: each bad field is refused with a sentence that names it."""

from __future__ import annotations

import re

import pytest

from runsheet.domain.errors import InvalidInput
from runsheet.services.actions import ACTIONS
from runsheet.services.payloads import Field, parse_payload

FIELDS = {
    "count": Field(int, minimum=0, maximum=10),
    "name": Field(str, required=True, max_length=5),
    "flag": Field(bool),
    "version": Field(int, minimum=0, nullable=True),
}


def refusal(payload, fields=FIELDS) -> InvalidInput:  # noqa: ANN001
    """Return the InvalidInput that parsing ``payload`` raises."""
    with pytest.raises(InvalidInput) as raised:
        parse_payload(payload, fields)
    return raised.value


def test_a_valid_payload_gives_back_the_fields_it_holds():
    payload = {"count": 3, "name": "Lan", "flag": True, "version": None}
    assert parse_payload(payload, FIELDS) == payload


def test_optional_fields_that_are_absent_are_left_out():
    assert parse_payload({"name": "Lan"}, FIELDS) == {"name": "Lan"}


def test_no_payload_counts_as_an_empty_object():
    assert parse_payload(None, {"count": Field(int)}) == {}


@pytest.mark.parametrize("payload", [[], [1, 2], "text", 5, 1.5, True])
def test_a_payload_that_is_not_an_object_is_refused(payload):
    error = refusal(payload)
    assert "JSON object" in error.message
    assert error.field is None


def test_an_unknown_field_is_refused_by_name():
    error = refusal({"name": "Lan", "colour": "red"})
    assert error.field == "colour"
    assert error.message == "colour: is not a field of this action"


def test_of_several_unknown_fields_the_first_in_order_is_named():
    assert refusal({"name": "Lan", "zeta": 1, "alpha": 2}).field == "alpha"


def test_a_missing_required_field_is_refused_by_name():
    error = refusal({"count": 1})
    assert (error.field, error.message) == ("name", "name: is required")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("3", "whole number"),
        (3.0, "whole number"),
        (3.5, "whole number"),
        (True, "whole number"),
        ([3], "whole number"),
        ({"n": 3}, "whole number"),
        (None, "must not be null"),
        (-1, "at least 0"),
        (11, "at most 10"),
        (10**100, "at most 10"),
    ],
)
def test_a_bad_whole_number_is_refused_by_name(value, words):
    error = refusal({"name": "Lan", "count": value})
    assert error.field == "count"
    assert error.message.startswith("count: ")
    assert words in error.message


@pytest.mark.parametrize("value", [0, 10])
def test_whole_numbers_at_the_bounds_are_accepted(value):
    assert parse_payload({"name": "Lan", "count": value}, FIELDS)["count"] == value


def test_null_is_accepted_where_the_field_allows_it():
    assert parse_payload({"name": "Lan", "version": None}, FIELDS) == {
        "name": "Lan",
        "version": None,
    }


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (5, "must be text"),
        (["Lan"], "must be text"),
        ({"first": "Lan"}, "must be text"),
        (None, "must not be null"),
        ("Nguyễn", "at most 5 characters"),
        ("a\x00b", "NUL"),
        ("\ud800", "valid Unicode"),
    ],
)
def test_bad_text_is_refused_by_name(value, words):
    error = refusal({"name": value})
    assert error.field == "name"
    assert words in error.message


@pytest.mark.parametrize("value", ["", "Lan", "Thới", "🎉🎉", "a b c"])
def test_text_up_to_its_length_in_characters_is_accepted(value):
    assert parse_payload({"name": value}, FIELDS)["name"] == value


@pytest.mark.parametrize("value", [1, 0, "true", None, [True]])
def test_anything_but_true_or_false_is_refused_for_a_yes_no_field(value):
    error = refusal({"name": "Lan", "flag": value})
    assert error.field == "flag"


def test_a_field_of_an_unsupported_kind_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_payload({"ratio": 0.5}, {"ratio": Field(float)})


# -- the action table's payloads -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_refuses_an_unknown_field_by_name(name):
    error = refusal({"bogus": 1}, ACTIONS[name].fields)
    assert error.field == "bogus"


@pytest.mark.parametrize(
    ("name", "required"),
    [("goto", "item_id"), ("checkin", "by"), ("message", "text"), ("ack_message", "message_id")],
)
def test_actions_name_the_required_field_that_is_missing(name, required):
    assert refusal({}, ACTIONS[name].fields).field == required


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("advance", {}),
        ("advance", {"expected_version": 7}),
        ("advance", {"expected_version": None}),
        ("goto", {"item_id": "ket-thuc", "expected_version": 3}),
        ("checkin", {"point_id": "thoi-an", "by": "Lan", "present": 12, "note": "ổn"}),
        ("trouble", {"kind": "other", "text": "mất điện"}),
        ("trouble", {"clear": True}),
        ("clear_trouble", {"point_id": "thoi-an"}),
        ("message", {"text": "Chuẩn bị", "to": None}),
        ("message", {"text": "Chuẩn bị", "to": "thoi-an"}),
        ("ack_message", {"message_id": 1}),
        ("roll_call", {"seconds": 30}),
        ("roll_call", {}),
    ],
)
def test_actions_accept_the_payloads_clients_send(name, payload):
    assert parse_payload(payload, ACTIONS[name].fields) == payload


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("advance", {"expected_version": -1}, "expected_version"),
        ("advance", {"expected_version": "3"}, "expected_version"),
        ("checkin", {"by": "Lan", "present": -1}, "present"),
        ("checkin", {"by": "Lan", "present": 100_001}, "present"),
        ("checkin", {"by": "L" * 101}, "by"),
        ("checkin", {"by": "Lan", "note": "n" * 501}, "note"),
        ("message", {"text": "t" * 1001}, "text"),
        ("ack_message", {"message_id": 0}, "message_id"),
        ("roll_call", {"seconds": 4}, "seconds"),
        ("roll_call", {"seconds": 601}, "seconds"),
        ("trouble", {"clear": "yes"}, "clear"),
    ],
)
def test_actions_refuse_out_of_range_values_by_name(name, payload, field):
    assert refusal(payload, ACTIONS[name].fields).field == field


def test_every_field_of_every_action_says_what_it_means():
    for action in ACTIONS.values():
        for name, field in action.fields.items():
            assert field.description.strip(), f"{action.name}: {name} has no description"


# A payload each action accepts, and where the HTTP API takes it: the base of the cases
# below. An action whose fields declare a rule needs one here.
ACCEPTED = {
    "checkin": ("/points/thoi-an/checkin", {"by": "Nguyễn Văn A"}),
    "trouble": ("/points/thoi-an/trouble", {"kind": "no_sound"}),
    "message": ("/messages", {"text": "Chuẩn bị"}),
    "stage": ("/stage", {"blink": True}),
}
BLANK = " \t "


def declared_rules() -> list[tuple[str, str, str]]:
    """Return (action, field, a value the field's declared rule excludes) for every rule."""
    cases = []
    for action in ACTIONS.values():
        for name, field in action.fields.items():
            if field.choices:
                cases.append((action.name, name, "not-one-of-them"))
            if field.pattern:
                assert not re.search(field.pattern, BLANK), "give this pattern its own case"
                cases.append((action.name, name, BLANK))
    return cases


def test_the_trouble_kinds_and_the_texts_that_must_not_be_blank_are_declared_on_their_fields():
    assert {(action, name) for action, name, _ in declared_rules()} == {
        ("checkin", "by"),
        ("trouble", "kind"),
        ("message", "text"),
        ("stage", "screen"),
    }


@pytest.mark.parametrize(("action", "name", "value"), declared_rules())
def test_a_value_a_fields_declared_rule_excludes_is_refused_by_its_action(mc, action, name, value):
    path, accepted = ACCEPTED[action]
    assert mc.post(path, accepted).status_code == 200

    response = mc.post(path, {**accepted, name: value})

    assert response.status_code == 400
    assert response.get_json()["field"] == name
    assert response.get_json()["error"].startswith(f"{name}: ")
