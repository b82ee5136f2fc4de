"""Fitting what the agent sends into the hub's message limit (its ``welcome`` says it)."""

import json
from dataclasses import asdict
from typing import Any

from switchboard.agents.base import BadOutput, FileState, ToolCall
from switchboard.agents.remote.codec import call_to_wire, event_to_wire

ENVELOPE_BYTES = 4096
"""Room kept in each message for what surrounds the events."""


def fit(event: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The event, or, if it is too large for one message, an error in its place."""
    size = len(json.dumps(event))
    if size + ENVELOPE_BYTES <= max_bytes:
        return event
    preview = str(event.get("text", ""))[:200]
    error = f"a line of {size} bytes is more than the link to the hub carries"
    return event_to_wire(BadOutput(error, preview))


def fit_call(call: ToolCall, max_bytes: int) -> dict[str, Any] | None:
    """The tool call as it is sent to the hub: whole if it fits one message, else with
    the largest of the files it names left out (each says why) until it does; None if
    even its arguments alone are too large."""
    budget = max_bytes - ENVELOPE_BYTES
    size = len(json.dumps(call_to_wire(call)))
    files = dict(call.files)
    for path in sorted(files, key=lambda path: len(files[path].content or ""), reverse=True):
        content = files[path].content
        if size <= budget or content is None:
            break
        left_out = FileState(None, f"{len(content)} characters: too large to reach the hub")
        size += _size(left_out) - _size(files[path])  # (a part's JSON adds up exactly)
        files[path] = left_out
    if size > budget:
        return None
    return call_to_wire(ToolCall(call.call_id, call.tool, call.arguments, files))


def _size(state: FileState) -> int:
    return len(json.dumps(asdict(state)))


def chunks(events: list[dict[str, Any]], max_bytes: int) -> list[list[dict[str, Any]]]:
    """The events in order, in groups that each fit one message."""
    grouped: list[list[dict[str, Any]]] = [[]]
    used = 0
    for event in events:
        size = len(json.dumps(event)) + 2
        if grouped[-1] and used + size + ENVELOPE_BYTES > max_bytes:
            grouped.append([])
            used = 0
        grouped[-1].append(event)
        used += size
    return grouped


def newest_fitting(lines: list[str], omitted: int, max_bytes: int) -> tuple[list[str], int]:
    """The newest lines that fit one message; the rest are counted as omitted."""
    budget = max_bytes - ENVELOPE_BYTES
    kept: list[str] = []
    for line in reversed(lines):
        budget -= len(json.dumps(line)) + 2
        if budget < 0:
            break
        kept.append(line)
    kept.reverse()
    return kept, omitted + len(lines) - len(kept)
