"""Parsing client messages: every bad input has its error code."""

import json

import pytest

from switchboard.protocol.messages import (
    Error,
    ProjectBudget,
    Prompt,
    Subscribe,
    delta_frame,
    parse_client_message,
    server_adapter,
)


def test_a_valid_prompt_parses_with_its_options() -> None:
    message = parse_client_message(
        '{"type":"prompt","id":"a","project":"p","text":"hi","options":{"model":"m"}}'
    )
    assert isinstance(message, Prompt)
    assert (message.id, message.options.model, message.options.permission_mode) == ("a", "m", None)


def test_a_budget_left_out_follows_the_server_s() -> None:
    message = parse_client_message('{"type":"project.budget","project":"p","daily_usd":0}')
    assert isinstance(message, ProjectBudget)
    assert (message.daily_usd, message.run_usd) == (0.0, None)


def test_subscribe_defaults_to_the_whole_history() -> None:
    message = parse_client_message('{"type":"subscribe","project":"p"}')
    assert isinstance(message, Subscribe) and message.since == 0 and message.id is None


@pytest.mark.parametrize(
    ("text", "code", "request_id"),
    [
        (b"\xff\xfe", "bad_json", None),
        ("nope", "bad_json", None),
        ('"a string"', "bad_message", None),
        ('{"id": 3}', "unknown_type", 3),
        ('{"type": "prompt", "id": "x", "project": "p", "text": ""}', "bad_message", "x"),
        ('{"type": "prompt", "id": true, "project": "p", "text": "t"}', "bad_message", None),
        (
            '{"type": "prompt", "project": "p", "text": "t", "options": {"x": 1}}',
            "bad_message",
            None,
        ),
        (
            '{"type": "prompt", "project": "p", "text": "t",'
            ' "options": {"permission_mode": "yolo"}}',
            "bad_message",
            None,
        ),
        ("[" * 1000 + "]" * 1000, "bad_message", None),  # json.loads: RecursionError
        (
            '{"type": "confirmation_response", "id": 1, "confirmation_id": "c",'
            ' "response": "allow", "updated_input": {"a": ' + "[" * 63 + "]" * 63 + "}}",
            "bad_message",
            1,
        ),
        ('{"type": ["heartbeat"], "id": 2}', "unknown_type", 2),  # was TypeError: unhashable
        ('{"type": {"a": 1}, "id": "o"}', "unknown_type", "o"),
        ('{"type": "heartbeat", "id": "\\ud800"}', "bad_message", None),  # cannot be echoed
        ('{"type": "prompt", "id": 3, "project": "p", "text": "a\\udfff"}', "bad_message", 3),
        ('{"type": "prompt", "id": 5, "project": "p", "text": "a\udfff"}', "bad_message", 5),
        (
            '{"type": "subscribe", "id": 4, "project": "p", "since": ' + "9" * 5000 + "}",
            "bad_message",
            4,
        ),
        ('{"type": "project.budget", "id": 6, "project": "p", "daily_usd": -1}', "bad_message", 6),
        ('{"type": "project.budget", "id": 7, "project": "p", "run_usd": 2e6}', "bad_message", 7),
        ('{"type": "project.budget", "id": 8, "project": "p", "run_usd": "1"}', "bad_message", 8),
        (
            '{"type": "project.budget", "id": 9, "project": "p", "daily_usd": true}',
            "bad_message",
            9,
        ),
    ],
)
def test_bad_messages_get_an_error_with_the_request_id(
    text: str | bytes, code: str, request_id: object
) -> None:
    error = parse_client_message(text)
    assert isinstance(error, Error)
    assert (error.code, error.id) == (code, request_id)
    assert error.message


def test_what_makes_a_message_unusable_is_said() -> None:
    deep = parse_client_message('{"id": 1, "a": ' + "[" * 64 + "]" * 64 + "}")
    surrogate = parse_client_message('{"type": "heartbeat", "id": "\\udc00"}')
    listed = parse_client_message('{"type": [' + "1," * 10_000 + "1]}")
    assert isinstance(deep, Error) and deep.message == "nested more than 64 levels deep"
    assert isinstance(surrogate, Error) and "lone surrogate" in surrogate.message
    assert isinstance(listed, Error) and len(listed.message) < 1000  # the type is clipped


def test_nesting_and_surrogate_pairs_within_bounds_are_fine() -> None:
    nested = '{"type": "heartbeat", "id": "\\ud83d\\ude00"}'
    message = parse_client_message(nested)
    assert not isinstance(message, Error) and message.id == "\U0001f600"
    confirm = (
        '{"type": "confirmation_response", "confirmation_id": "c", "response": "allow",'
        ' "updated_input": {"a": ' + "[" * 62 + "]" * 62 + "}}"
    )
    assert not isinstance(parse_client_message(confirm), Error)  # 64 levels: the limit


def test_hand_built_frames_validate_against_the_models() -> None:
    frame = delta_frame("p", None, '{"type":"stream_event"}')
    parsed = server_adapter.validate_python(json.loads(frame))
    assert parsed.type == "delta"
