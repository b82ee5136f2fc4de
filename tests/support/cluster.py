"""Clusters for tests: hub nodes on one PostgreSQL store and one Redis, and waiting
until a node has heard what another did."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import websockets

from switchboard.client import RequestError, SwitchboardClient
from tests.conftest import ServerFactory
from tests.support.server import RunningServer

T = TypeVar("T")
REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LEASE_SECONDS = 3.0


def start_nodes(
    servers: ServerFactory,
    claude: Path,
    store_url: str,
    count: int,
    *args: str,
    record_spawns: bool = True,
    lease_seconds: float = LEASE_SECONDS,
) -> list[RunningServer]:
    """Nodes ``node1`` … of one cluster (``args``: more flags for each)."""
    cluster = ["--database-url", store_url, "--redis-url", REDIS_URL, *args]
    return [
        servers.start(
            claude,
            "--node-id",
            f"node{n}",
            *cluster,
            "--lease-seconds",
            str(lease_seconds),
            record_spawns=record_spawns,
        )
        for n in range(1, count + 1)
    ]


async def project_on(client: SwitchboardClient, name: str) -> dict[str, Any]:
    """The project as a node lists it, once that node has heard of it and of its owner."""
    async with asyncio.timeout(10):
        while True:
            listed = [p for p in await client.projects() if p["name"] == name]
            if listed and listed[0]["node"] is not None:
                return listed[0]
            await asyncio.sleep(0.1)


async def when_known(connect: Callable[[], Awaitable[T]]) -> T:
    """``connect()`` with a token made on another node, once this node has read it."""
    async with asyncio.timeout(10):
        while True:
            try:
                return await connect()
            except (websockets.InvalidStatus, RequestError, ConnectionError):
                await asyncio.sleep(0.05)
