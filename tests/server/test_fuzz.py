"""Fuzzing a real server: ``/ws`` client messages, ``/ws/claude`` prompt frames, and the
CLI's output lines (printed by the fake agent), valid, mutated and malformed.

Every frame gets its documented answer (an ``ack``, a documented ``error`` other than
``internal``, or a documented close code), every CLI line its event (or ``cli_error``)
with the line unchanged, the server logs no error and no traceback, and a neighbour
client stays connected, answers heartbeats, and receives its projects' events without
a gap. Each test stops after its examples or its time (``SWITCHBOARD_FUZZ_EXAMPLES``,
``SWITCHBOARD_FUZZ_SECONDS``, default 12 s); for a long run, e.g.
``SWITCHBOARD_FUZZ_EXAMPLES=20000 SWITCHBOARD_FUZZ_SECONDS=600 pytest tests/server/test_fuzz.py``.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.agents.claude.stream_json import BadLine, decode_line
from switchboard.event_lines import describe
from switchboard.protocol.json_text import loads
from switchboard.protocol.messages import FINISHED_STATES, ErrorCode
from switchboard.protocol.ws_claude import PromptRequest, parse_prompt_frame
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.fuzz import (
    EXAMPLES,
    MAX_LINE,
    SECONDS,
    Budget,
    Frame,
    claude_frames,
    cli_outputs,
    ws_frames,
)
from tests.support.neighbour import Neighbour
from tests.support.server import RunningServer, collect

pytestmark = pytest.mark.timeout(SECONDS + 150)

MAX_MESSAGE = 65536
ERROR_CODES = frozenset(get_args(ErrorCode)) - {"internal"}
SIMPLE = b'{"type":"system","subtype":"init"}\n{"type":"result","is_error":false}\n'


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),  # one server for all examples, on purpose
    )


@dataclass
class Fuzz:
    server: RunningServer
    neighbour: Neighbour
    lines: Path
    fuzz_path: Path
    budget: Budget = field(default_factory=Budget)
    ws: Any = None

    async def connection(self) -> Any:
        """The fuzzing client's /ws connection (a new one after the last was closed)."""
        if self.ws is None:
            url = f"{self.server.ws_url}/ws?token={self.server.token}"
            self.ws = await websockets.connect(url, max_size=None, max_queue=None)
            assert loads(await self.ws.recv())["type"] == "connected"
        return self.ws

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def check_log(self) -> None:
        log = self.server.log()
        assert "Traceback" not in log, log[-4000:]
        assert " ERROR " not in log, log[-4000:]


@pytest.fixture
async def fuzz(servers: ServerFactory, tmp_path: Path) -> AsyncIterator[Fuzz]:
    lines = tmp_path / "lines.jsonl"
    lines.write_bytes(SIMPLE)
    server = servers.start(
        FAKE_AGENT,
        "--max-message-bytes",
        str(MAX_MESSAGE),
        "--max-line-bytes",
        str(MAX_LINE),
        "--request-rate",  # the fuzzer sends as fast as it can: rate limits have own tests
        "100000",
        "--request-burst",
        "100000",
        record_spawns=False,
        FAKE_AGENT_MODE="lines",
        FAKE_AGENT_LINES=str(lines),
    )
    for name in ("neighbour", "fuzz", "lines"):
        (tmp_path / name).mkdir()
    neighbour = await Neighbour.join(server, tmp_path / "neighbour")
    for name in ("fuzz", "lines"):
        added = await neighbour.request(
            {"type": "project.add", "path": str(tmp_path / name), "name": name}
        )
        await neighbour.follow(added["project"]["id"])
    state = Fuzz(server, neighbour, lines, tmp_path / "fuzz")
    yield state
    print(f"fuzz: {state.budget.run} examples run")  # shown with -s
    await state.close()
    await neighbour.check()
    await neighbour.close()
    state.check_log()


def chunks(text: str, size: int = 4096) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


async def send(ws: Any, frame: Frame) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
        match frame.how:
            case "text":
                await ws.send(frame.payload)
            case "fragments":
                await ws.send(iter(chunks(frame.payload)))
            case "binary":
                await ws.send(frame.payload.encode())
            case "not_utf8":
                await ws.send(frame.payload.encode("latin-1"), text=True)


def closes_with(frame: Frame) -> int | None:
    """The close code the frame must get at the WebSocket layer, if any."""
    if frame.size() > MAX_MESSAGE:
        return 1009
    if frame.how == "not_utf8":
        return 1007
    return None


async def next_reply(ws: Any) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            message = loads(await ws.recv())
            if message["type"] in ("ack", "error", "heartbeat_ack"):
                return dict(message)


async def read_to_close(ws: Any) -> int | None:
    async with asyncio.timeout(30):
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await ws.recv()
    return int(ws.close_code) if ws.close_code is not None else None


@fuzz_settings(300)
@given(data=st.data())
async def test_ws_messages(fuzz: Fuzz, data: st.DataObject) -> None:
    frames = data.draw(st.lists(ws_frames(str(fuzz.fuzz_path), MAX_MESSAGE), max_size=4))
    if fuzz.budget.spent():
        return
    with fuzz.budget.running():
        try:
            await send_ws_frames(fuzz, frames)
        finally:
            await fuzz.close()  # each example on a connection of its own


async def send_ws_frames(fuzz: Fuzz, frames: list[Frame]) -> None:
    for frame in frames:
        ws = await fuzz.connection()
        await send(ws, frame)
        expected = closes_with(frame)
        if expected is not None:
            assert await read_to_close(ws) == expected, frame.payload[:200]
            fuzz.ws = None
            continue
        try:
            reply = await next_reply(ws)
        except websockets.ConnectionClosed as closed:
            raise AssertionError(f"{frame.payload[:200]!r} closed the connection") from closed
        if reply["type"] == "error":
            assert reply["code"] in ERROR_CODES, (frame.payload[:200], reply)
    await fuzz.neighbour.check()


@fuzz_settings(40)
@given(frame=claude_frames(MAX_MESSAGE))
async def test_ws_claude_frames(fuzz: Fuzz, frame: Frame) -> None:
    if fuzz.budget.spent():
        return
    with fuzz.budget.running():
        await send_claude_frame(fuzz, frame)


async def send_claude_frame(fuzz: Fuzz, frame: Frame) -> None:
    async with fuzz.server.connect(max_size=None) as ws:
        assert json.loads(await ws.recv()) == {"info": "send {prompt,meta}"}
        await send(ws, frame)
        run = await asyncio.wait_for(collect(ws), 30)
    expected = closes_with(frame)
    if expected is not None:
        assert run.close_code == expected
    elif frame.how == "binary":
        assert (run.close_code, run.close_reason) == (1008, "expected a text frame")
    else:
        request = parse_prompt_frame(frame.payload)
        if isinstance(request, PromptRequest):
            assert (run.close_code, run.frames) == (1000, SIMPLE.decode().splitlines())
        else:
            assert (run.close_code, run.close_reason, run.frames) == (1008, request.reason, [])
    await fuzz.neighbour.check()


def expected_events(lines: list[bytes]) -> list[tuple[str, str | None]]:
    """(kind, the line as stored) for each line that becomes an event, in order."""
    expected: list[tuple[str, str | None]] = []
    for line in lines:
        decoded = decode_line(line) if len(line) <= MAX_LINE else BadLine("too_long", "", 0)
        if decoded is None:
            continue
        if isinstance(decoded, BadLine):
            expected.append(("cli_error", None))
        elif decoded.type != "stream_event":  # a delta, live only
            expected.append(("cli", decoded.text))
    return expected


def body(frame: str) -> str:
    """The ``data`` of an event frame, as sent."""
    return frame[frame.index('"data":') + len('"data":') : -1]


@fuzz_settings(60)
@given(lines=cli_outputs)
async def test_cli_lines(fuzz: Fuzz, lines: list[bytes]) -> None:
    if fuzz.budget.spent():
        return
    with fuzz.budget.running():
        try:
            await print_cli_lines(fuzz, lines)
        finally:
            await fuzz.close()


async def print_cli_lines(fuzz: Fuzz, lines: list[bytes]) -> None:
    fuzz.lines.write_bytes(b"".join(line + b"\n" for line in lines))
    ws = await fuzz.connection()
    await ws.send(json.dumps({"type": "subscribe", "project": "lines", "since": 0, "id": 1}))
    assert (await next_reply(ws))["type"] == "ack"
    await ws.send(json.dumps({"type": "prompt", "project": "lines", "text": "go", "id": 2}))
    run_id = (await next_reply(ws))["run"]["id"]
    seen: list[tuple[str, str | None]] = []
    async with asyncio.timeout(30):
        while True:
            frame = await ws.recv()
            message = loads(frame)
            if message["type"] != "event" or message.get("run") != run_id:
                continue
            "\n".join(describe(message)).encode("utf-8")  # printable, whatever it holds
            if message["kind"] == "cli":
                seen.append(("cli", body(frame)))
            elif message["kind"] == "cli_error":
                seen.append(("cli_error", None))
            elif message["kind"] == "run" and message["data"]["state"] in FINISHED_STATES:
                assert message["data"]["state"] in ("completed", "failed"), message["data"]
                break
    assert seen == expected_events(lines)
    await fuzz.close()

    async with fuzz.server.connect(max_size=None) as claude:  # /ws/claude, the same lines
        await claude.recv()
        await claude.send(json.dumps({"prompt": "go", "meta": "FUZZ"}))
        run = await asyncio.wait_for(collect(claude), 30)
    assert run.close_code == 1000
    assert len(run.frames) == len(expected_frames(lines))
    for frame, line in zip(run.frames, expected_frames(lines), strict=True):
        if line is None:  # a line that could not be passed on: an error frame instead
            assert "error" in json.loads(frame) and "type" not in json.loads(frame)
        else:
            assert frame == line
    await fuzz.neighbour.check()


def expected_frames(lines: list[bytes]) -> list[str | None]:
    """What /ws/claude sends for each line: the line itself (deltas too), or None for
    an error frame in its place."""
    frames: list[str | None] = []
    for line in lines:
        decoded = decode_line(line) if len(line) <= MAX_LINE else BadLine("too_long", "", 0)
        if decoded is not None:
            frames.append(None if isinstance(decoded, BadLine) else decoded.text)
    return frames
