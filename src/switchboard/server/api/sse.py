"""Server-Sent Events framing, pure: a ``/ws`` frame in, the bytes of one SSE message out.

A stored ``event`` goes out as an unnamed message (what ``EventSource.onmessage``
receives) with ``id: <seq>``, so that a client that reconnects sends ``Last-Event-ID``.
Every other frame (``ack``, ``caught_up``, ``delta``, ``activity``, …) goes out named
after its ``type`` and without an id: the last id stays the last stored event's.
"""

import json
import re

from switchboard.protocol.json_text import loads

KEEP_ALIVE = b": keep-alive\n\n"
"""A comment line: clients ignore it, proxies see a stream that is still alive."""

_TYPE = re.compile(r'\{"type":"([a-z_.]+)"')
_EVENT_SEQ = re.compile(r'\{"type":"event","project":"(?:[^"\\]|\\.)*","seq":(\d+),')
"""The head of an ``event`` frame, as ``protocol.messages.event_frame`` writes it."""
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def describe(frame: str) -> tuple[str, int | None]:
    """The frame's ``type``, and its ``seq`` if it is a stored event."""
    if (event := _EVENT_SEQ.match(frame)) is not None:
        return "event", int(event[1])
    head = _TYPE.match(frame)
    if head is not None and head[1] != "event":
        return head[1], None
    parsed = loads(frame)  # not written the usual way: read it whole
    kind = str(parsed.get("type", "message")) if isinstance(parsed, dict) else "message"
    seq = parsed.get("seq") if isinstance(parsed, dict) and kind == "event" else None
    return kind, seq if isinstance(seq, int) else None


def message(frame: str) -> bytes:
    """One SSE message carrying ``frame`` (JSON text) as its data."""
    kind, seq = describe(frame)
    head = f"id: {seq}\n" if kind == "event" and seq is not None else f"event: {kind}\n"
    # JSON holds no raw line break inside a string: splitting between tokens keeps it JSON
    data = "".join(f"data: {line}\n" for line in _LINE_BREAK.split(frame))
    return (head + data + "\n").encode("utf-8", "replace")


def closing(code: int, reason: str) -> bytes:
    """The last message of a stream the server ends: why, with ``/ws``'s close code."""
    data = json.dumps({"type": "close", "code": code, "reason": reason})
    return f"event: close\ndata: {data}\n\n".encode()
