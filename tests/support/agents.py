"""Remote agents for tests: ``switchboard agent`` processes (each with its own HOME),
and waiting for what clients hear of them."""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from tests.support.server import RunningServer

HEARTBEATS = ["--agent-heartbeat-interval", "0.3", "--agent-heartbeat-timeout", "1.5"]
"""Server flags for links that notice silence within seconds."""
STOP_SECONDS = 15.0


@pytest.fixture
async def agents(tmp_path: Path) -> AsyncIterator[Callable[..., asyncio.subprocess.Process]]:
    """Start ``switchboard agent`` processes (each with its own HOME); stop them at the end."""
    started: list[asyncio.subprocess.Process] = []

    async def start(
        server: RunningServer,
        token: str,
        *args: str,
        url: str | None = None,
        prefix: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        home: Path | None = None,
    ) -> asyncio.subprocess.Process:
        """An agent of ``server`` (reached at ``url``, by default its own), its command
        run after ``prefix`` (e.g. ``ip netns exec NS``), with ``env`` on top of ours
        and a HOME of its own (``home``: that one, as an agent started again has)."""
        if home is None:
            home = tmp_path / f"agent-home-{len(started)}"
        home.mkdir(exist_ok=True)
        environment = {
            **os.environ,
            **(env or {}),
            "HOME": str(home),
            "SWITCHBOARD_AGENT_TOKEN": token,
        }
        process = await asyncio.create_subprocess_exec(
            *prefix,
            sys.executable,
            "-m",
            "switchboard",
            "agent",
            "--server",
            url or server.url,
            *args,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start  # type: ignore[misc]
    for process in started:  # asked to stop first, so that it stops its CLIs
        if process.returncode is None:
            with_signal(process, signal.SIGCONT)
            process.terminate()
            try:
                async with asyncio.timeout(STOP_SECONDS):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def with_signal(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    if process.returncode is None:
        process.send_signal(sig)


async def agent_status(client: SwitchboardClient, timeout: float = 20) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        async for message in client.messages():
            if message["type"] == "agent_status":
                return message
    raise AssertionError("the connection closed")


async def status_until(
    client: SwitchboardClient, online: bool, timeout: float = 20
) -> dict[str, Any]:
    while True:
        status = await agent_status(client, timeout)
        if status["agent"]["online"] is online and not status["removed"]:
            return status
