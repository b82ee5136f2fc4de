"""/ws in-process: replies count against a connection's send queue like events.

A client that sends requests and never reads the answers is the case the end-to-end
tests cannot time without waiting: here the client is an ASGI peer whose sends never
complete, so the server's writer is stuck for sure, on a real hub and database.
"""

import asyncio
import json
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from switchboard.compose import open_hub
from switchboard.config import Settings
from switchboard.hub.hub import Hub
from switchboard.protocol import messages
from switchboard.server import ws_hub
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.ws_hub import HubEndpoint

pytestmark = pytest.mark.timeout(30)

QUEUE = 64 * 1024


class Peer:
    """One client, as the endpoint's ASGI receive and send. ``reading`` False: after
    the ``connected`` snapshot, no frame it is sent ever arrives (a send never ends)."""

    def __init__(self, endpoint: HubEndpoint, reading: bool) -> None:
        self.reading = reading
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.incoming.put_nowait({"type": "websocket.connect"})
        scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
        self.task = asyncio.ensure_future(endpoint(scope, self.incoming.get, self._send))

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self.closed.set_result(dict(message))
        elif message["type"] == "websocket.send":
            frame = json.loads(message["text"])
            if not self.reading and frame["type"] != "connected":
                await asyncio.Future()  # the client stopped reading: blocked for good
            self.frames.put_nowait(frame)

    def send(self, message: dict[str, Any]) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    async def leave(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, Settings]]:
    settings = Settings(data_dir=tmp_path / "data", subscriber_queue_bytes=QUEUE)
    opened = await open_hub(settings)
    yield opened, settings
    await opened.close()


async def test_replies_to_a_client_that_does_not_read_them_end_in_4008(
    hub: tuple[Hub, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[str] = []

    def counting_encode(message: Any) -> str:
        encoded.append(message.type)
        return messages.encode(message)

    monkeypatch.setattr(ws_hub, "encode", counting_encode)
    endpoint = HubEndpoint(hub[0], hub[1], ConnectionTracker())
    neighbour = Peer(endpoint, reading=True)
    offender = Peer(endpoint, reading=False)
    big_id = "x" * 10_000  # each heartbeat_ack echoes it
    requests = 100  # a megabyte of replies, against a 64 KiB queue
    for n in range(requests):
        offender.send({"type": "heartbeat", "id": f"{n}{big_id}"})
    closed = await asyncio.wait_for(offender.closed, 10)
    assert (closed["code"], closed["reason"]) == (4008, "slow consumer")
    closes = hub[0].telemetry.registry.get_sample_value("switchboard_slow_consumer_closes_total")
    assert closes == 1  # /metrics counts it
    answered = encoded.count("heartbeat_ack")
    # What fits in the queue, plus the frame the stuck writer holds; nothing more was
    # even encoded (without the bound, all 100 were, and the connection stayed open).
    assert answered <= QUEUE // len(big_id) + 2
    neighbour.send({"type": "heartbeat", "id": "still here"})
    assert (await asyncio.wait_for(neighbour.frames.get(), 10))["type"] == "connected"
    ack = await asyncio.wait_for(neighbour.frames.get(), 10)
    assert (ack["type"], ack["id"]) == ("heartbeat_ack", "still here")
    await neighbour.leave()
    await asyncio.wait_for(offender.task, 10)
