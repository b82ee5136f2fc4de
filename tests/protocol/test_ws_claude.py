import json

import pytest

from switchboard.protocol.close_codes import MAX_CLOSE_REASON_BYTES, clip_reason
from switchboard.protocol.ws_claude import (
    INFO_FRAME,
    MAX_PROMPT_BYTES,
    PromptRequest,
    Refusal,
    parse_prompt_frame,
)


def frame(**fields: object) -> str:
    return json.dumps(fields)


def test_info_frame_is_the_seed_text() -> None:
    assert INFO_FRAME == '{"info":"send {prompt,meta}"}'


def test_valid_frame() -> None:
    assert parse_prompt_frame(frame(prompt="Hello Claude", meta="TASK-123")) == PromptRequest(
        "Hello Claude", "TASK-123"
    )


def test_extra_fields_are_ignored() -> None:
    assert isinstance(parse_prompt_frame(frame(prompt="p", meta="M", x=1)), PromptRequest)


def test_prompt_of_exactly_the_limit_in_utf8_bytes_is_accepted() -> None:
    prompt = "é" * (MAX_PROMPT_BYTES // 2)  # two bytes each
    assert isinstance(parse_prompt_frame(frame(prompt=prompt, meta="A")), PromptRequest)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object {prompt, meta}"),
        (frame(meta="A"), "prompt must be a string"),
        (frame(prompt=5, meta="A"), "prompt must be a string"),
        (frame(prompt="  \n", meta="A"), "prompt must not be empty"),
        (frame(prompt="x" * (MAX_PROMPT_BYTES + 1), meta="A"), "prompt exceeds 8192 bytes"),
        (frame(prompt="é" * (MAX_PROMPT_BYTES // 2 + 1), meta="A"), "prompt exceeds 8192 bytes"),
        ('{"prompt": "\\ud800", "meta": "A"}', "prompt is not valid Unicode text"),
        (frame(prompt="p"), "meta must be a string"),
    ],
)
def test_refusals(text: str, reason: str) -> None:
    assert parse_prompt_frame(text) == Refusal(reason)


@pytest.mark.parametrize("meta", ["", "task-1", "TASK 1", "TASK-1\n", "T" * 129, "TÄSK"])
def test_bad_meta_is_refused(meta: str) -> None:
    refusal = parse_prompt_frame(frame(prompt="p", meta=meta))
    assert isinstance(refusal, Refusal)
    assert refusal.reason.startswith("meta must match")


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    """Refused the same way from 65 levels on, whether or not json.loads gets through
    (where it gives up depends on how deep the stack already is)."""
    too_deep = Refusal("JSON nested more than 64 levels")
    assert parse_prompt_frame("[" * 100_000) == too_deep
    assert parse_prompt_frame("[" * 1000 + "]" * 1000) == too_deep
    assert parse_prompt_frame('{"prompt": "p", "meta": "M", "x": ' + "[" * 64 + "]" * 64 + "}") == (
        too_deep
    )
    shallow = '{"prompt": "p", "meta": "M", "x": ' + "[" * 63 + "]" * 63 + "}"
    assert parse_prompt_frame(shallow) == PromptRequest("p", "M")


def test_close_reasons_fit_in_a_close_frame() -> None:
    assert clip_reason("short") == "short"
    clipped = clip_reason("é" * 100)
    assert len(clipped.encode()) <= MAX_CLOSE_REASON_BYTES
    assert clipped.endswith("...")


def test_prompt_frame_with_an_over_long_integer_is_invalid_json() -> None:
    assert parse_prompt_frame('{"prompt": ' + "1" * 5000 + "}") == Refusal("invalid JSON")
