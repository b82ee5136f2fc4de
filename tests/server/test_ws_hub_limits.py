"""/ws: replies are bounded, requests are rate-limited, and input that trips Python's
JSON reading gets its documented error; a neighbour client is never disturbed."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.server.test_ws_hub import still_works
from tests.support.hub import raw_socket, reply
from tests.support.neighbour import Neighbour
from tests.support.raw_frames import send_at_once
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(120)

MAX_MESSAGE = 65536


@pytest.fixture
def server(servers: ServerFactory) -> RunningServer:
    return servers.start(FAKE_AGENT, "--max-message-bytes", str(MAX_MESSAGE), record_spawns=False)


@pytest.fixture
async def neighbour(server: RunningServer, project_dir: Path) -> AsyncIterator[Neighbour]:
    joined = await Neighbour.join(server, project_dir)
    await joined.check()
    yield joined
    await joined.close()


async def read_until_closed(
    ws: Any, last: Callable[[dict[str, Any]], bool] = lambda _message: False
) -> list[dict[str, Any]]:
    """What arrives until the server closes the connection, or until a message that
    says it will not (``last``)."""
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(60):
        with contextlib.suppress(websockets.ConnectionClosed):
            while not messages or not last(messages[-1]):
                messages.append(json.loads(await ws.recv()))
    return messages


async def test_requests_past_the_rate_get_rate_limited_and_a_flood_is_closed(
    servers: ServerFactory, project_dir: Path
) -> None:
    burst = 10
    server = servers.start(
        FAKE_AGENT,
        "--request-rate",
        "0.01",  # one request per 100 s: nothing refills during the test
        "--request-burst",
        str(burst),
        record_spawns=False,
    )
    neighbour = await Neighbour.join(server, project_dir)
    flooder = await raw_socket(server)
    try:
        assert (await reply(flooder, {"type": "heartbeat", "id": 0}))["type"] == "heartbeat_ack"
        with contextlib.suppress(websockets.ConnectionClosed):
            for n in range(1, 3 * burst):  # without waiting for the answers
                await flooder.send(json.dumps({"type": "heartbeat", "id": n}))
        answers = await read_until_closed(flooder)
        acked = [a["id"] for a in answers if a["type"] == "heartbeat_ack"]
        refused = [a for a in answers if a["type"] == "error"]
        assert acked == list(range(1, burst))  # the burst (the first heartbeat included)
        assert [a["id"] for a in refused] == list(range(burst, 2 * burst))
        assert {a["code"] for a in refused} == {"rate_limited"}
        assert "requests a second" in refused[0]["message"]
        assert (flooder.close_code, flooder.close_reason) == (4029, "rate limit exceeded")
        await neighbour.check()  # its own budget
    finally:
        await flooder.close()
        await neighbour.close()


async def test_the_snapshot_states_the_rate_limit(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ws_url}/ws?token={server.token}") as ws:
        limits = json.loads(await ws.recv())["limits"]
    assert (limits["request_rate"], limits["request_burst"]) == (100.0, 500)


DEEP = "[" * 1000 + "]" * 1000
ANSWER_WITH_SURROGATE = (
    '{"type": "confirmation_response", "id": 7, "confirmation_id": "c", "response": "allow",'
    ' "updated_input": {"command": "echo \\udc00"}}'
)
ANSWER_65_LEVELS = (
    '{"type": "confirmation_response", "id": 7, "confirmation_id": "c", "response": "allow",'
    ' "updated_input": {"a": ' + "[" * 64 + "]" * 64 + "}}"
)
LONG_NUMBER = "9" * 5000


@pytest.mark.parametrize(
    ("frame", "code", "request_id"),
    [
        (DEEP, "bad_message", None),
        (ANSWER_65_LEVELS, "bad_message", 7),
        ('{"type": ["heartbeat"], "id": 7}', "unknown_type", 7),
        ('{"type": {"heartbeat": 1}, "id": 7}', "unknown_type", 7),
        ('{"type": "heartbeat", "id": "\\ud800"}', "bad_message", None),
        (ANSWER_WITH_SURROGATE, "bad_message", 7),
        (
            '{"type": "subscribe", "id": 7, "project": "p", "since": ' + LONG_NUMBER + "}",
            "bad_message",
            7,
        ),
        ('{"type": "heartbeat", "id": ' + LONG_NUMBER + "}", "bad_message", None),
    ],
    ids=[
        "1000-levels",
        "65-levels",
        "type-list",
        "type-object",
        "surrogate-id",
        "surrogate-field",
        "5000-digit-since",
        "5000-digit-id",
    ],
)
async def test_json_that_python_cannot_take_gets_an_error_and_disturbs_nobody(
    server: RunningServer, neighbour: Neighbour, frame: str, code: str, request_id: object
) -> None:
    ws = await raw_socket(server)
    try:
        await ws.send(frame)
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (error["type"], error["code"], error["id"]) == ("error", code, request_id), error
        await still_works(ws)
        await neighbour.check()
    finally:
        await ws.close()
    assert "Traceback" not in server.log()


async def test_a_fragmented_message_over_the_limit_is_closed_with_1009(
    server: RunningServer, neighbour: Neighbour
) -> None:
    """The close frame arrives though the rest of the message is still on its way
    (closing the socket at once would reset the connection, and lose it: 1006)."""
    pieces = [b"x" * 10_000] * (6 * MAX_MESSAGE // 10_000)
    for _ in range(3):
        outcome = await send_at_once(server, "/ws", pieces, after_first_frame=True)
        assert outcome.close_code == 1009
        assert [json.loads(text)["type"] for text in outcome.texts] == ["connected"]
    await neighbour.check()


async def test_a_text_frame_that_is_not_utf8_is_closed_with_1007(
    server: RunningServer, neighbour: Neighbour
) -> None:
    ws = await raw_socket(server)
    try:
        await ws.send(b'{"type": "heartbeat", "id": "\xff"}', text=True)
        assert await read_until_closed(ws) == []
        assert ws.close_code == 1007
        await neighbour.check()
    finally:
        await ws.close()
    # The client's fault, not the server's: one line, no ERROR, no traceback.
    assert "closing a connection with 1007: a text frame was not UTF-8" in server.log()
    assert "Traceback" not in server.log() and "ERROR" not in server.log()
