"""Parsing client messages: every bad input has its error code."""

import json

import pytest

from switchboard.protocol.messages import (
    Error,
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
    ],
)
def test_bad_messages_get_an_error_with_the_request_id(
    text: str | bytes, code: str, request_id: object
) -> None:
    error = parse_client_message(text)
    assert isinstance(error, Error)
    assert (error.code, error.id) == (code, request_id)
    assert error.message


def test_hand_built_frames_validate_against_the_models() -> None:
    frame = delta_frame("p", None, '{"type":"stream_event"}')
    parsed = server_adapter.validate_python(json.loads(frame))
    assert parsed.type == "delta"
