"""Fitting what the agent sends into the hub's message limit (its ``welcome`` says it)."""

import json
from typing import Any

from switchboard.agents.base import BadOutput
from switchboard.agents.remote.codec import event_to_wire

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
