import json
from pathlib import Path

import pytest

from switchboard.agents.claude.stream_json import (
    BadLine,
    CliMessage,
    decode_line,
    encode_user_message,
    too_long,
)
from switchboard.protocol.json_text import MAX_LINE_NESTING

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.jsonl"))


def golden_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


def test_golden_files_cover_both_cli_builds() -> None:
    names = {p.name for p in GOLDEN_FILES}
    for build in ("npm", "bundled"):
        for scenario in ("text_partial", "bash", "denied", "api_error", "control"):
            assert f"{build}_{scenario}.jsonl" in names


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_every_golden_line_decodes_and_keeps_its_exact_text(path: Path) -> None:
    for line in golden_lines(path):
        message = decode_line(line.encode())
        assert isinstance(message, CliMessage)
        assert message.text == line  # passed on byte for byte
        assert message.data == json.loads(line)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_every_golden_turn_ends_with_exactly_one_result(path: Path) -> None:
    messages = [decode_line(line.encode()) for line in golden_lines(path)]
    results = [m for m in messages if isinstance(m, CliMessage) and m.is_result]
    assert len(results) == 1
    assert messages[-1] is results[0]


@pytest.mark.parametrize("build", ["npm", "bundled"])
def test_golden_api_error_is_an_error_result(build: str) -> None:
    result = decode_line(golden_lines(GOLDEN / f"{build}_api_error.jsonl")[-1].encode())
    assert isinstance(result, CliMessage)
    assert result.data["is_error"] is True
    assert result.data["api_error_status"] == 400


@pytest.mark.parametrize("build", ["npm", "bundled"])
def test_golden_denied_write_is_listed_in_permission_denials(build: str) -> None:
    result = decode_line(golden_lines(GOLDEN / f"{build}_denied.jsonl")[-1].encode())
    assert isinstance(result, CliMessage)
    denials = result.data["permission_denials"]
    assert [d["tool_name"] for d in denials] == ["Bash"]


@pytest.mark.parametrize("build", ["npm", "bundled"])
def test_golden_control_lines_are_classified(build: str) -> None:
    messages = [
        decode_line(line.encode()) for line in golden_lines(GOLDEN / f"{build}_control.jsonl")
    ]
    control = [m for m in messages if isinstance(m, CliMessage) and m.is_control]
    assert [m.type for m in control] == ["control_response"] * 3 + ["control_request"]


def test_unknown_types_and_fields_pass_through() -> None:
    line = b'{"type":"brand_new","subtype":"x","extra":{"deep":[1,2]}}'
    message = decode_line(line)
    assert isinstance(message, CliMessage)
    assert (message.type, message.subtype, message.text) == ("brand_new", "x", line.decode())


def test_blank_lines_are_skipped() -> None:
    assert decode_line(b"") is None
    assert decode_line(b"   \r") is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[SandboxDebug] starting", "not_json"),
        (b'{"type": "assistant"', "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"just a string"', "not_object"),
        (b'{"a": "\xff"}', "not_utf8"),
    ],
)
def test_bad_lines_are_reported_not_raised(raw: bytes, reason: str) -> None:
    bad = decode_line(raw)
    assert isinstance(bad, BadLine)
    assert bad.reason == reason
    assert bad.size == len(raw)
    assert "claude printed a line that" in bad.describe()


def test_bad_line_preview_is_bounded() -> None:
    bad = decode_line(b"x" * 10_000)
    assert isinstance(bad, BadLine)
    assert len(bad.preview) == 200


def test_too_long_report() -> None:
    assert too_long(123).describe() == (
        "claude printed a line that exceeds the line length limit (123 bytes)"
    )


def test_user_message_matches_the_sdk_shape() -> None:
    line = encode_user_message("say \u00e9 \n hello")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "type": "user",
        "session_id": "",
        "message": {"role": "user", "content": "say \u00e9 \n hello"},
        "parent_tool_use_id": None,
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"1" * 5000, "not_object"),  # JSON (read as a float), but not an object
        (b'{"type":"x","a":' + b"[" * 3000 + b"]" * 3000 + b"}", "too_deep"),
        (b'{"a":' + b"[" * 100_000, "too_deep"),
    ],
    ids=["long-integer", "deep-object", "deep-garbage"],
)
def test_pathological_lines_are_bad_lines_not_exceptions(raw: bytes, reason: str) -> None:
    bad = decode_line(raw)
    assert isinstance(bad, BadLine)
    assert bad.reason == reason


def nested(depth: int) -> bytes:
    """A line of ``depth`` levels: the object and ``depth - 1`` arrays inside it."""
    return b'{"type":"assistant","s":"[[[{{","m":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_the_nesting_limit_is_fixed_not_where_the_line_happens_to_be_read() -> None:
    """Python's json gives up near 1000 levels minus the caller's stack depth; lines
    are judged by a fixed limit instead (brackets inside strings do not count)."""
    assert isinstance(decode_line(nested(MAX_LINE_NESTING)), CliMessage)
    assert isinstance(decode_line(nested(MAX_LINE_NESTING + 1)), BadLine)

    def at_depth(frames: int) -> CliMessage | BadLine | None:
        return decode_line(nested(MAX_LINE_NESTING)) if frames == 0 else at_depth(frames - 1)

    deep_stack = at_depth(200)  # read with 200 more frames on the stack
    assert isinstance(deep_stack, CliMessage)
    assert len(deep_stack.data["m"]) == 1
    bad = decode_line(nested(MAX_LINE_NESTING + 1))
    assert isinstance(bad, BadLine)
    assert bad.describe() == (
        f"claude printed a line that nests more than {MAX_LINE_NESTING} levels deep "
        f"({len(nested(MAX_LINE_NESTING + 1))} bytes)"
    )


def test_data_of_a_line_only_the_standard_library_reads_is_available() -> None:
    message = decode_line(b'{"type":"control_request","x":1e400}')
    assert isinstance(message, CliMessage)
    assert message.is_control
    assert message.data["x"] == float("inf")


def test_a_line_with_a_lone_surrogate_passes_unchanged_and_reads_safely() -> None:
    raw = b'{"type":"result","result":"bad \\ud800","pair":"\\ud83d\\ude00","s\\udc00":1}'
    message = decode_line(raw)
    assert isinstance(message, CliMessage)
    assert message.text == raw.decode()  # the line as printed: JSON text, valid UTF-8
    assert message.type == "result"
    assert message.data == {
        "type": "result",
        "result": "bad \ufffd",
        "pair": "\U0001f600",
        "s\ufffd": 1,
    }


def test_a_line_with_a_5000_digit_integer_is_a_message_not_an_error() -> None:
    raw = b'{"type":"assistant","n":' + b"9" * 5000 + b',"m":' + b"7" * 30 + b"}"
    message = decode_line(raw)
    assert isinstance(message, CliMessage)
    assert message.text == raw.decode()
    assert message.data == {"type": "assistant", "n": float("inf"), "m": int("7" * 30)}
