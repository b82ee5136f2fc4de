"""Decode the Claude Code CLI's ``--output-format stream-json`` output.

Every stdout line is one JSON object. Switchboard never rewrites them: a
:class:`CliMessage` keeps the exact text of the line next to its parsed form, so the
line can be passed on byte for byte, unknown types and fields included. The parsed
form is what Switchboard reads values from, so it is made safe to store and send: a
lone surrogate (``"\ud800"``) in its strings becomes U+FFFD, and an integer too long
for Python's ``int`` a float (see :mod:`switchboard.protocol.json_text`).
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from switchboard.protocol.json_text import (
    MAX_LINE_NESTING,
    loads,
    may_hold_surrogates,
    replace_lone_surrogates,
    text_nested_deeper_than,
)

PREVIEW_CHARS = 200
"""How much of a bad line is quoted back in an error report."""

CONTROL_TYPES = frozenset({"control_request", "control_response", "control_cancel_request"})


class _Head(msgspec.Struct):
    """The one field needed to route a line; every other field is validated, not built."""

    type: Any = None


_decode_head = msgspec.json.Decoder(_Head).decode
_decode_full = msgspec.json.Decoder().decode


class CliMessage:
    """One JSON object printed by the CLI. Treat as immutable.

    ``data`` is parsed on first use: most lines are only passed on, and building a dict
    for each of them is the largest cost when the CLI streams quickly.
    """

    __slots__ = ("_data", "text", "type")

    def __init__(self, text: str, type: str, data: dict[str, Any] | None = None) -> None:
        self.text = text
        """The line exactly as printed (without the newline)."""
        self.type = type
        """The ``type`` field, or ``""`` when absent or not a string."""
        self._data = data

    def __repr__(self) -> str:
        return f"CliMessage(type={self.type!r}, text={self.text[:60]!r})"

    @property
    def data(self) -> dict[str, Any]:
        """The parsed object. Never raises: the line was validated when decoded."""
        if self._data is None:
            try:
                parsed = _decode_full(self.text)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                parsed = _parse_leniently(self.text)  # e.g. 1e400, which json accepts
            if may_hold_surrogates(self.text):
                parsed = replace_lone_surrogates(parsed)
            self._data = parsed if isinstance(parsed, dict) else {}
        return self._data

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
    """A stdout line that could not be used: not UTF-8, not JSON, not an object, too
    long, or nested too deeply to read."""

    reason: Literal["not_utf8", "not_json", "not_object", "too_long", "too_deep"]
    preview: str
    size: int

    def describe(self) -> str:
        """A one-line human description."""
        what = {
            "not_utf8": "is not valid UTF-8",
            "not_json": "is not JSON",
            "not_object": "is JSON but not an object",
            "too_long": "exceeds the line length limit",
            "too_deep": f"nests more than {MAX_LINE_NESTING} levels deep",
        }[self.reason]
        return f"claude printed a line that {what} ({self.size} bytes)"


def _preview(raw: bytes) -> str:
    return raw[:PREVIEW_CHARS].decode("utf-8", errors="replace")


def _parse_leniently(text: str) -> Any:
    try:
        return loads(text)
    except (ValueError, RecursionError):
        return {}


def _slow_decode(raw: bytes, size: int) -> CliMessage | BadLine:
    """The standard library's verdict on a line the fast path refused, and why."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadLine("not_utf8", _preview(raw), size)
    try:
        data = loads(text)
    except (ValueError, RecursionError):
        return BadLine("not_json", _preview(raw), size)
    if not isinstance(data, dict):
        return BadLine("not_object", _preview(raw), size)
    if may_hold_surrogates(text):
        data = replace_lone_surrogates(data)
    kind = data.get("type")
    return CliMessage(text, kind if isinstance(kind, str) else "", data)


def decode_line(raw: bytes) -> CliMessage | BadLine | None:
    """Decode one stdout line. Blank lines give ``None``.

    This runs for every line the CLI prints, so the fast path validates the whole line
    with msgspec but builds only its ``type``; lines it refuses are judged again by the
    standard library, so the set of accepted lines is ``json``'s. The line travels on as
    ``text``, untouched.
    """
    stripped = raw.strip()
    if not stripped:
        return None
    if text_nested_deeper_than(stripped, MAX_LINE_NESTING):
        return BadLine("too_deep", _preview(stripped), len(raw))
    try:
        kind = _decode_head(stripped).type
        text = stripped.decode("utf-8")  # also catches bad UTF-8 in fields not built
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return _slow_decode(stripped, len(raw))
    return CliMessage(text, kind if isinstance(kind, str) else "")


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
