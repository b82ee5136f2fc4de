"""Runs on a remote agent with the real CLI: an agent linked to a hub, and what two runs
of one script store, compared without what differs between them."""

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from tests.support.agents import status_until
from tests.support.hub import Followed
from tests.support.server import RunningServer


@pytest.fixture
def remote_root(tmp_path: Path) -> Path:
    """The agent's own code: a directory the hub's server may not use itself."""
    root = tmp_path / "laptop-code"
    (root / "app").mkdir(parents=True)
    return root


async def linked_agent(
    server: RunningServer,
    client: SwitchboardClient,
    agents: Callable[..., Any],
    claude: Path,
    claude_env: dict[str, str],
    root: Path,
    *args: str,
    name: str = "laptop",
    secret: str | None = None,
    home: Path | None = None,
    url: str | None = None,
) -> Any:
    """An agent ``name`` (its token's ``secret``, by default a new token), on ``root``,
    running the CLI ``claude`` (``args``: more of its flags; ``home``: its HOME, by
    default a new one; ``url``: the hub address(es) it dials, by default ``server``'s);
    once it is online."""
    if secret is None:
        secret = (await client.request("token.create", name=name, scope="agent"))["secret"]
    cli_env = {k: v for k, v in claude_env.items() if k != "HOME"}
    flags = ["--allowed-root", str(root), "--claude-bin", str(claude), *args]
    agent = await agents(server, secret, *flags, env=cli_env, home=home, url=url)
    await status_until(client, True, timeout=30)
    return agent


async def streaming(client: SwitchboardClient, run_id: str) -> None:
    """Wait until the run's reply streams from the agent's CLI."""
    async with asyncio.timeout(60):
        async for message in client.messages():
            if message["type"] == "delta" and message["run"] == run_id:
                return


def result_spooled(spool: Path) -> bool:
    """Whether the agent's spool holds a CLI ``result`` line for the hub."""
    if not spool.exists():
        return False
    with contextlib.closing(sqlite3.connect(spool)) as db:
        bodies = [str(row[0]) for row in db.execute("SELECT body FROM outbox")]
    return any('\\"type\\":\\"result\\"' in body for body in bodies)


def stored_view(seen: Followed, run_id: str) -> list[tuple[str, ...]]:
    """What a run's stored events say, without what differs between two runs of one
    script (ids, times, costs): each event's kind and type, and the text it carries."""
    view: list[tuple[str, ...]] = []
    for event in seen.events:
        if event["run"] != run_id:
            continue
        data = event["data"]
        if event["kind"] == "run":
            view.append(("run", data["state"]))
        elif event["kind"] == "cli" and data["type"] == "assistant":
            texts = [b.get("text", "") for b in data["message"]["content"]]
            view.append(("cli", "assistant", *texts))
        elif event["kind"] == "cli" and data["type"] == "result":
            view.append(("cli", "result", data["subtype"], str(data.get("result"))))
        else:
            view.append((event["kind"], str(data.get("type"))))
    return view
