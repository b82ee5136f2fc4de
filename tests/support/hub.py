"""Helpers for tests of the /ws hub protocol: connect, follow runs to their end."""

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from switchboard.client import SwitchboardClient
from tests.support.server import RunningServer

FINISHED = {"completed", "failed", "cancelled", "interrupted"}


async def connect(server: RunningServer, **options: Any) -> SwitchboardClient:
    return await SwitchboardClient.connect(server.url, server.token, **options)


@dataclass
class Followed:
    """What a subscribed client saw while following one run to its end."""

    events: list[dict[str, Any]] = field(default_factory=list)
    deltas: int = 0
    final: dict[str, Any] = field(default_factory=dict)

    @property
    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.events]

    def cli_types(self) -> list[str]:
        return [e["data"].get("type") for e in self.events if e["kind"] == "cli"]

    def run_states(self, run_id: str) -> list[str]:
        return [
            e["data"]["state"]
            for e in self.events
            if e["kind"] == "run" and e["data"]["id"] == run_id
        ]


def finishes(message: dict[str, Any], run_id: str) -> bool:
    data = message.get("data") or {}
    return (
        message.get("type") == "event"
        and message.get("kind") == "run"
        and data.get("id") == run_id
        and data.get("state") in FINISHED
    )


async def follow(
    client: SwitchboardClient, run_id: str, *others: str, timeout: float = 60.0
) -> Followed:
    """Read the client's messages until ``run_id`` (and ``others``) finished; keep
    the events. ``final`` is ``run_id``'s last state."""
    seen = Followed()
    waiting = {run_id, *others}
    async with asyncio.timeout(timeout):
        async for message in client.messages():
            if message["type"] == "delta":
                seen.deltas += 1
            if message["type"] != "event":
                continue
            seen.events.append(message)
            finished = next((r for r in waiting if finishes(message, r)), None)
            if finished == run_id:
                seen.final = message["data"]
            waiting.discard(finished or "")
            if not waiting:
                return seen
    raise AssertionError("unreachable")


async def follow_answering(
    client: SwitchboardClient,
    run_id: str,
    choose: Callable[[dict[str, Any]], str] = lambda _confirmation: "allow",
    timeout: float = 120.0,
) -> Followed:
    """Follow a run to its end, answering each confirmation it asks with ``choose``'s
    pick (allow, by default), as a person would."""
    seen = Followed()
    async with asyncio.timeout(timeout):
        async for message in client.messages():
            if message["type"] != "event":
                continue
            seen.events.append(message)
            data = message["data"]
            if data.get("type") == "confirmation_required":
                confirmation = data["confirmation"]
                await client.answer(confirmation["id"], choose(confirmation))
            if finishes(message, run_id):
                seen.final = data
                return seen
    raise AssertionError("the connection ended first")


def asked_tools(seen: Followed) -> list[str]:
    """The tools the run asked permission for, in order."""
    return [
        e["data"]["confirmation"]["tool_name"]
        for e in seen.events
        if e["kind"] == "confirmation" and e["data"].get("type") == "confirmation_required"
    ]


def small_buffer_socket(server: RunningServer, size: int = 64 * 1024) -> socket.socket:
    """A TCP socket connected to the server with a receive buffer of ``size`` bytes.

    On loopback the kernel grows a receive buffer up to ``tcp_rmem``'s maximum (often
    tens of MB), which would hide a client that stopped reading; fixing it before
    ``connect`` stops that.
    """
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def add_and_watch(
    client: SwitchboardClient, path: Path | str, name: str | None = None
) -> dict[str, Any]:
    """Register ``path`` as a project and subscribe to it from its first event."""
    project = await client.add_project(str(path), name)
    await client.subscribe(project["id"])
    return project


async def prompt_and_follow(
    client: SwitchboardClient, project: str, text: str, timeout: float = 60.0
) -> Followed:
    """Queue a prompt and follow its run to the end (the client must be subscribed)."""
    run = await client.prompt(project, text)
    return await follow(client, run["id"], timeout=timeout)


async def raw_socket(server: RunningServer, **options: Any) -> Any:
    """A plain websockets connection to /ws, past the ``connected`` message."""
    ws = await websockets.connect(f"{server.ws_url}/ws?token={server.token}", **options)
    first = json.loads(await ws.recv())
    assert first["type"] == "connected"
    return ws


async def reply(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Send ``message`` and return the next frame that is an ack or error."""
    await ws.send(json.dumps(message))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if frame["type"] in ("ack", "error", "heartbeat_ack"):
            return dict(frame)


async def next_event(
    client: SwitchboardClient, data_type: str, timeout: float = 60
) -> dict[str, Any]:
    """The data of the next ``event`` the client receives whose data has this ``type``
    (``confirmation_required``, ``skill_failed``, …)."""
    async with asyncio.timeout(timeout):
        async for message in client.messages():
            data = message.get("data") or {}
            if message["type"] == "event" and data.get("type") == data_type:
                return dict(data)
    raise AssertionError("the connection ended first")
