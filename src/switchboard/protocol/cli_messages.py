"""Decode the Claude Code CLI's ``--output-format stream-json`` output.

Every stdout line is one JSON object. Switchboard never rewrites them: a
:class:`CliMessage` keeps the exact text of the line next to its parsed form, so the
line can be passed on byte for byte, unknown types and fields included.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

PREVIEW_CHARS = 200
"""How much of a bad line is quoted back in an error report."""

CONTROL_TYPES = frozenset({"control_request", "control_response", "control_cancel_request"})


@dataclass(frozen=True, slots=True)
class CliMessage:
    """One JSON object printed by the CLI."""

    text: str
    """The line exactly as printed (without the newline)."""
    data: dict[str, Any]

    @property
    def type(self) -> str:
        value = self.data.get("type")
        return value if isinstance(value, str) else ""

    @property
    def subtype(self) -> str:
        value = self.data.get("subtype")
        return value if isinstance(value, str) else ""

    @property
    def is_control(self) -> bool:
        """True for control-protocol lines (requests, responses, cancellations)."""
        return self.type in CONTROL_TYPES

    @property
    def is_result(self) -> bool:
        """True for the ``result`` line that ends a turn."""
        return self.type == "result"


@dataclass(frozen=True, slots=True)
class BadLine:
    """A stdout line that could not be used: not UTF-8, not JSON, not an object, too long."""

    reason: Literal["not_utf8", "not_json", "not_object", "too_long"]
    preview: str
    size: int

    def describe(self) -> str:
        """A one-line human description."""
        what = {
            "not_utf8": "is not valid UTF-8",
            "not_json": "is not JSON",
            "not_object": "is JSON but not an object",
            "too_long": "exceeds the line length limit",
        }[self.reason]
        return f"claude printed a line that {what} ({self.size} bytes)"


def _preview(raw: bytes) -> str:
    return raw[:PREVIEW_CHARS].decode("utf-8", errors="replace")


def decode_line(raw: bytes) -> CliMessage | BadLine | None:
    """Decode one stdout line. Blank lines give ``None``."""
    stripped = raw.strip()
    if not stripped:
        return None
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        return BadLine("not_utf8", _preview(stripped), len(raw))
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return BadLine("not_json", _preview(stripped), len(raw))
    if not isinstance(data, dict):
        return BadLine("not_object", _preview(stripped), len(raw))
    return CliMessage(text, data)


def too_long(size: int) -> BadLine:
    """The report for a line dropped by the line length limit."""
    return BadLine("too_long", "", size)


def encode_user_message(text: str) -> bytes:
    """The stdin line that submits ``text`` as a user turn (stream-json input)."""
    message = {
        "type": "user",
        "session_id": "",
        "message": {"role": "user", "content": text},
        "parent_tool_use_id": None,
    }
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"
