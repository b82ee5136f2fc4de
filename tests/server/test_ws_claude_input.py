"""/ws/claude: input that trips Python's JSON reading is refused with its documented
close code, nothing is spawned, and the server's other clients go on."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.neighbour import Neighbour
from tests.support.raw_frames import send_at_once
from tests.support.server import RunningServer, collect, run_prompt

pytestmark = pytest.mark.timeout(60)

MAX_MESSAGE = 65536


@pytest.fixture
def server(servers: ServerFactory) -> RunningServer:
    return servers.start(FAKE_AGENT, "--max-message-bytes", str(MAX_MESSAGE), FAKE_AGENT_MODE="ok")


@pytest.fixture
async def neighbour(server: RunningServer, project_dir: Path) -> AsyncIterator[Neighbour]:
    joined = await Neighbour.join(server, project_dir)
    yield joined
    await joined.close()


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("[" * 1000 + "]" * 1000, "JSON nested more than 64 levels"),
        (
            '{"prompt": ' + "[" * 5000 + "]" * 5000 + ', "meta": "M"}',
            "JSON nested more than 64 levels",
        ),
        ('{"prompt": ["hi"], "meta": "M"}', "prompt must be a string"),
        ('{"prompt": {"text": "hi"}, "meta": "M"}', "prompt must be a string"),
        ('{"prompt": "hi \\ud800", "meta": "M"}', "prompt is not valid Unicode text"),
        (
            '{"prompt": "hi", "meta": "M\\udc00"}',
            "meta must match ^[A-Z0-9_\\-]+$ (at most 128 chars)",
        ),
        ('{"prompt": ' + "9" * 5000 + ', "meta": "M"}', "invalid JSON"),
        ('{"prompt": "hi", "meta": ["M"]}', "meta must be a string"),
    ],
    ids=[
        "1000-levels",
        "deep-prompt",
        "prompt-list",
        "prompt-object",
        "surrogate-prompt",
        "surrogate-meta",
        "5000-digit-prompt",
        "meta-list",
    ],
)
async def test_a_frame_python_cannot_take_is_refused_with_1008(
    server: RunningServer, servers: ServerFactory, neighbour: Neighbour, frame: str, reason: str
) -> None:
    async with server.connect() as ws:
        await ws.recv()  # the info frame
        await ws.send(frame)
        refused = await asyncio.wait_for(collect(ws), 10)
    assert (refused.close_code, refused.close_reason, refused.frames) == (1008, reason, [])
    assert servers.spawned() == []
    await neighbour.check()
    ran = await run_prompt(server, "still here")
    assert (ran.close_code, ran.result["result"]) == (1000, "still here")
    assert "Traceback" not in server.log()


async def test_a_fragmented_prompt_over_the_limit_is_closed_with_1009(
    server: RunningServer, servers: ServerFactory, neighbour: Neighbour
) -> None:
    """Even while the rest of the message is on its way (see /ws's test)."""
    pieces = [b"x" * 10_000] * (6 * MAX_MESSAGE // 10_000)
    for _ in range(3):
        outcome = await send_at_once(server, "/ws/claude", pieces, after_first_frame=True)
        assert (outcome.close_code, outcome.texts) == (1009, ['{"info":"send {prompt,meta}"}'])
    assert servers.spawned() == []
    await neighbour.check()
    ran = await run_prompt(server, "still here", meta="M")
    assert ran.close_code == 1000


async def test_a_prompt_frame_that_is_not_utf8_is_closed_with_1007(
    server: RunningServer, servers: ServerFactory, neighbour: Neighbour
) -> None:
    async with server.connect() as ws:
        await ws.recv()
        await ws.send(b'{"prompt": "\xff", "meta": "M"}', text=True)
        closed = await asyncio.wait_for(collect(ws), 10)
    assert (closed.close_code, closed.frames) == (1007, [])
    assert servers.spawned() == []
    await neighbour.check()
    assert "Traceback" not in server.log() and "ERROR" not in server.log()
