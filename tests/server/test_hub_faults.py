"""Runs whose CLI misbehaves (fault injection with the fake agent), and dead peers."""

import asyncio
import base64
import os
from pathlib import Path

import pytest

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support import processes
from tests.support.hub import add_and_watch, connect, prompt_and_follow

pytestmark = pytest.mark.timeout(60)


async def test_a_crashing_cli_fails_the_run_and_the_next_run_starts_a_new_one(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(FAKE_AGENT, FAKE_AGENT_MODE="crash")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        first = await prompt_and_follow(client, project["id"], "one")
        second = await prompt_and_follow(client, project["id"], "two")
    for seen in (first, second):
        assert seen.final["state"] == "failed"
        assert "status 3" in seen.final["error"] and "something broke" in seen.final["error"]
    assert len(servers.spawned_argv()) == 2


async def test_a_run_past_the_timeout_fails_and_its_cli_is_killed(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(
        FAKE_AGENT, "--run-timeout", "1", "--interrupt-grace", "0.5", FAKE_AGENT_MODE="hang"
    )
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        seen = await prompt_and_follow(client, project["id"], "hang")
    assert seen.final["state"] == "failed" and "timed out after 1 s" in seen.final["error"]
    assert processes.wait_exited([s["pid"] for s in servers.spawned_argv()], 10) == []


async def test_a_peer_that_stops_answering_pings_is_dropped(servers: ServerFactory) -> None:
    server = servers.start(
        FAKE_AGENT, "--ping-interval", "0.2", "--ping-timeout", "0.3", record_spawns=False
    )
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws?token={server.token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request.encode())
        assert b" 101 " in await reader.readline()
        # Read whatever comes (the snapshot, pings) and never answer: the server must
        # give up on us and close the connection.
        async with asyncio.timeout(10):
            while await reader.read(65536):
                pass
    finally:
        writer.close()
    async with await connect(server) as client:
        assert await client.heartbeat() > 0  # the server is fine
