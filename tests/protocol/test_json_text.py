"""Valid JSON that trips Python up: nesting, lone surrogates, huge integers."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.protocol.json_text import (
    MAX_NESTING,
    holds_lone_surrogate,
    loads,
    may_hold_surrogates,
    nested_deeper_than,
    replace_lone_surrogates,
)


def test_an_integer_too_long_for_int_is_read_as_a_float() -> None:
    assert loads('{"n": ' + "9" * 5000 + ', "m": 12}') == {"n": float("inf"), "m": 12}
    assert loads("[" + "1" * 4300 + "]") == [int("1" * 4300)]  # within the limit: exact


def test_what_is_not_json_still_raises() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads("{nope")
    with pytest.raises(RecursionError):
        loads("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("value", "limit", "deeper"),
    [
        ([[1]], 2, False),
        ([[[1]]], 2, True),
        ({"a": {"b": []}}, 3, False),
        ({"a": {"b": [{}]}}, 3, True),
        ("[[[[", 1, False),  # a string is not nesting
    ],
)
def test_nesting_is_counted_in_objects_and_arrays(value: object, limit: int, deeper: bool) -> None:
    assert nested_deeper_than(value, limit) is deeper
    assert nested_deeper_than(value, limit, json.dumps(value)) is deeper


def test_nesting_as_deep_as_json_reads_is_walked_without_recursion() -> None:
    deep = json.loads("[" * 900 + "]" * 900)
    assert nested_deeper_than(deep, MAX_NESTING)


def test_lone_surrogates_are_found_and_replaced_but_pairs_are_kept() -> None:
    text = r'{"k\ud800": ["x\udfff", {"pair": "\ud83d\ude00"}], "n": 1}'
    assert may_hold_surrogates(text)
    value = json.loads(text)
    assert holds_lone_surrogate(value)
    fixed = replace_lone_surrogates(value)
    assert fixed == {"k\ufffd": ["x\ufffd", {"pair": "\U0001f600"}], "n": 1}
    assert not holds_lone_surrogate(fixed)
    json.dumps(fixed, ensure_ascii=False).encode("utf-8")  # now it is Unicode text


def test_text_without_a_surrogate_escape_cannot_hold_one() -> None:
    assert not may_hold_surrogates('{"a": "\\u00e9", "b": "d800"}')
    assert replace_lone_surrogates("\ud800") == "\ufffd"


@given(st.recursive(st.text() | st.integers(), st.lists))
def test_after_replacement_every_string_is_unicode_text(value: object) -> None:
    fixed = replace_lone_surrogates(json.loads(json.dumps(value)))
    json.dumps(fixed, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("text", "may"),
    [
        ('{"a":"plain ascii"}', False),
        ('{"a":"\\u00e9 is no surrogate"}', False),
        ('{"a":"é, not ascii, no surrogate"}', False),
        ('{"a":"an escaped backslash then u: \\\\u"}', False),
        ('{"a":"\\ud83d\\ude00"}', True),
        ('{"a":"\\uD800 alone"}', True),
        ('{"a":"\ud800 itself"}', True),
        ('{"a":"é then \\udfff"}', True),
    ],
)
def test_surrogates_are_found_whether_the_text_is_ascii_or_not(text: str, may: bool) -> None:
    assert may_hold_surrogates(text) is may
