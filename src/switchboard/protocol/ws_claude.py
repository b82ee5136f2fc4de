"""The one-prompt ``/ws/claude`` request frame: validation only, no I/O.

The client sends exactly one text frame ``{"prompt": "...", "meta": "TASK-123"}``.
Any problem gives a :class:`Refusal` whose reason becomes the 1008 close reason.
"""

import json
import re
from dataclasses import dataclass

from switchboard.protocol.json_text import MAX_NESTING, nested_deeper_than

MAX_PROMPT_BYTES = 8192
"""A prompt is at most 8192 bytes (UTF-8): a fixed limit of the one-prompt protocol."""

MAX_META_CHARS = 128
"""A bound on ``meta`` that the protocol does not set, so that every input has one."""

META_PATTERN = re.compile(r"^[A-Z0-9_\-]+$")

TOO_DEEP = f"JSON nested more than {MAX_NESTING} levels"

INFO_FRAME = json.dumps({"info": "send {prompt,meta}"}, separators=(",", ":"))
"""Sent first on every connection."""


@dataclass(frozen=True, slots=True)
class PromptRequest:
    prompt: str
    meta: str


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


def parse_prompt_frame(text: str) -> PromptRequest | Refusal:
    """Validate the client's one request frame."""
    try:
        data = json.loads(text)
    except RecursionError:  # how deep that is depends on the stack: say it of all
        return Refusal(TOO_DEEP)
    except ValueError:  # also over-long integers
        return Refusal("invalid JSON")
    if nested_deeper_than(data, MAX_NESTING, text):
        return Refusal(TOO_DEEP)
    if not isinstance(data, dict):
        return Refusal("expected a JSON object {prompt, meta}")
    prompt = data.get("prompt")
    meta = data.get("meta")
    if not isinstance(prompt, str):
        return Refusal("prompt must be a string")
    if not prompt.strip():
        return Refusal("prompt must not be empty")
    try:
        prompt_bytes = len(prompt.encode("utf-8"))
    except UnicodeEncodeError:
        return Refusal("prompt is not valid Unicode text")
    if prompt_bytes > MAX_PROMPT_BYTES:
        return Refusal(f"prompt exceeds {MAX_PROMPT_BYTES} bytes")
    if not isinstance(meta, str):
        return Refusal("meta must be a string")
    if len(meta) > MAX_META_CHARS or not META_PATTERN.fullmatch(meta):
        return Refusal(f"meta must match {META_PATTERN.pattern} (at most {MAX_META_CHARS} chars)")
    return PromptRequest(prompt, meta)
