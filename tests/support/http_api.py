"""Helpers for tests of the HTTP API: an authenticated client, and a Server-Sent Events
reader that parses the stream as the EventSource spec does (fields, comments, ids)."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.server import RunningServer


def api(server: RunningServer, token: str | None = None) -> httpx.Client:
    """A client of the server's HTTP API, with the token as a Bearer header."""
    headers = {"Authorization": f"Bearer {server.token if token is None else token}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


@dataclass
class SseMessage:
    """One dispatched message: its ``event`` (``message`` when unnamed), its ``id``
    field (None when it had none), and its data lines joined."""

    event: str
    id: str | None
    data: str

    @property
    def json(self) -> dict[str, Any]:
        parsed = json.loads(self.data)
        assert isinstance(parsed, dict)
        return parsed


LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""What ends a line of an event stream (and nothing else: not U+2028, which
``str.splitlines`` and httpx's ``aiter_lines`` take for one)."""


async def sse_lines(response: httpx.Response) -> AsyncIterator[str]:
    pending = ""
    async for text in response.aiter_text():
        *lines, pending = LINE_BREAK.split(pending + text)
        for line in lines:
            yield line
    if pending:
        yield pending


@dataclass
class SseParser:
    """Lines in, messages out, as the EventSource spec reads a stream."""

    comments: list[str] = field(default_factory=list)
    _event: str = "message"
    _id: str | None = None
    _data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> SseMessage | None:
        """The message ``line`` completes, if it does."""
        if line == "":
            message = None
            if self._data or self._event != "message" or self._id is not None:
                message = SseMessage(self._event, self._id, "\n".join(self._data))
            self._event, self._id, self._data = "message", None, []
            return message
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


def parse(text: str) -> tuple[list[SseMessage], list[str]]:
    """The messages and comments of a whole stream."""
    parser = SseParser()
    lines = LINE_BREAK.split(text)
    messages = [m for line in lines if (m := parser.feed(line)) is not None]
    return messages, parser.comments


@dataclass
class SseStream:
    """An open event stream: read it with :meth:`next` until it ends."""

    response: httpx.Response
    parser: SseParser = field(default_factory=SseParser)

    def __post_init__(self) -> None:
        self._lines = sse_lines(self.response)

    @property
    def comments(self) -> list[str]:
        return self.parser.comments

    async def next(self, timeout: float = 30.0) -> SseMessage | None:
        """The next message, or None once the server has ended the stream."""
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if (message := self.parser.feed(line)) is not None:
                    return message
        return None

    async def comment(self, timeout: float = 30.0) -> str:
        """Read on until a comment line comes (messages meanwhile are an error)."""
        seen = len(self.comments)
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                assert self.parser.feed(line) is None, "a message came, not a comment"
                if len(self.comments) > seen:
                    return self.comments[-1]
        raise AssertionError("the stream ended first")

    async def until(self, kind: str, timeout: float = 30.0) -> list[SseMessage]:
        """Every message up to and including the first of ``event`` ``kind``."""
        seen: list[SseMessage] = []
        while True:
            message = await self.next(timeout)
            assert message is not None, f"the stream ended before {kind!r}: {seen}"
            seen.append(message)
            if message.event == kind:
                return seen

    async def rest(self, timeout: float = 30.0) -> list[SseMessage]:
        """Every message until the server ends the stream."""
        seen: list[SseMessage] = []
        while (message := await self.next(timeout)) is not None:
            seen.append(message)
        return seen


@asynccontextmanager
async def events(
    server: RunningServer,
    project: str,
    *,
    since: int | str | None = None,
    last_event_id: str | None = None,
    token: str | None = None,
) -> AsyncIterator[SseStream]:
    """Open ``GET /api/projects/{project}/events``; the response must be 200."""
    headers = {"Authorization": f"Bearer {server.token if token is None else token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    params = {} if since is None else {"since": str(since)}
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(base_url=server.url, timeout=timeout) as client:
        url = f"/api/projects/{project}/events"
        async with client.stream("GET", url, headers=headers, params=params) as response:
            assert response.status_code == 200, (await response.aread()).decode()
            assert response.headers["content-type"].startswith("text/event-stream")
            yield SseStream(response)


def stored(messages: list[SseMessage]) -> list[dict[str, Any]]:
    """The stored events among ``messages`` (unnamed, with an id), as /ws frames."""
    found = []
    for message in messages:
        if message.event == "message":
            frame = message.json
            assert frame["type"] == "event" and message.id == str(frame["seq"])
            found.append(frame)
    return found


def run_ended(message: SseMessage, run_id: str) -> bool:
    """Whether ``message`` is the stored event of ``run_id``'s end."""
    if message.event != "message":
        return False
    frame = message.json
    data = frame.get("data") or {}
    return (
        frame.get("kind") == "run"
        and data.get("id") == run_id
        and data.get("state") in {"completed", "failed", "cancelled", "interrupted"}
    )


async def until_run_ends(stream: SseStream, run_id: str, timeout: float = 60.0) -> list[SseMessage]:
    """Every message up to the stored end of ``run_id``."""
    seen: list[SseMessage] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await stream.next(timeout)
                assert message is not None, f"the stream ended before run {run_id} did: {seen}"
                seen.append(message)
                if run_ended(message, run_id):
                    return seen
    except TimeoutError:
        shown = "\n".join(f"{m.event} {m.id} {m.data[:300]}" for m in seen)
        raise AssertionError(
            f"run {run_id} did not end within {timeout} s; the stream sent:\n{shown}\n"
            f"and {len(stream.comments)} comments"
        ) from None
