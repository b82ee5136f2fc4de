"""Restarts around a run on a remote agent, with the real Claude Code CLI against the
scripted model; the hub and the agent are separate processes, each stopped mid-run:

- the hub (killed, or stopped with SIGTERM): once it is back, the agent dials in
  again and the run goes on where it was, its stored events those of a run that was
  never interrupted;
- the agent: the run ends ``interrupted``, its next start stops the CLI it left, and
  the next run resumes the project's stored session.
"""

import asyncio
import contextlib
import signal
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.process import group_has_live_member
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.agents import HEARTBEATS, agents, status_until
from tests.support.hub import connect, finishes, follow, next_event
from tests.support.remote_runs import linked_agent, remote_root, stored_view, streaming
from tests.support.turns import TOUCH

pytestmark = pytest.mark.timeout(240)

__all__ = ["agents", "remote_root"]

WORDS = " ".join(f"word{i}" for i in range(300))
SLOW_TURN = {"text": WORDS, "chunk_delay": 0.05}
"""A reply that streams for about 15 s."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_groups(data_dir: Path) -> list[int]:
    """The CLI process groups the agent has recorded as running."""
    with contextlib.closing(sqlite3.connect(data_dir / "processes.sqlite")) as db:
        return [int(row[0]) for row in db.execute("SELECT pgid FROM processes")]


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
async def test_a_run_on_an_agent_goes_on_through_a_hub_restart(
    stop: signal.Signals,
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(Script.of(SLOW_TURN, SLOW_TURN))
    args = ["--data-dir", str(tmp_path / "hub-data"), "--port", str(free_port()), *HEARTBEATS]
    server = servers.start(FAKE_AGENT, *args, record_spawns=False)
    async with await connect(server) as client:
        agent = await linked_agent(
            server, client, agents, bundled_claude_bin.path, claude_env, remote_root
        )
        project = await client.add_project(str(remote_root / "app"), None, "laptop")
        await client.subscribe(project["id"])
        first = await client.prompt(project["id"], "Count")
        uncut = await follow(client, first["id"])
        second = await client.prompt(project["id"], "Count again")
        await streaming(client, second["id"])
        server.process.send_signal(stop)  # killed, or stopped as for an upgrade
        assert server.process.wait(30) == (0 if stop == signal.SIGTERM else -9)
    again = servers.start(FAKE_AGENT, *args, record_spawns=False)
    async with await connect(again) as late:
        await late.subscribe(project["id"])
        replayed = await follow(late, second["id"], timeout=120)
    assert replayed.final["state"] == "completed", replayed.final
    assert stored_view(replayed, second["id"]) == stored_view(uncut, first["id"])
    seqs = replayed.seqs
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, nothing twice
    assert agent.returncode is None  # the same agent process: it dialled back in


async def test_a_question_open_when_the_hub_was_killed_is_asked_again_after_it(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    """The agent's CLI waits for a permission the whole time; the hub that comes back
    closes the old confirmation (``asked_again``) and asks anew, and the answer given
    then reaches the CLI."""
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Made it."}))
    args = ["--data-dir", str(tmp_path / "hub-data"), "--port", str(free_port()), *HEARTBEATS]
    server = servers.start(FAKE_AGENT, *args, record_spawns=False)
    async with await connect(server) as client:
        await linked_agent(server, client, agents, claude_bin.path, claude_env, remote_root)
        project = await client.add_project(str(remote_root / "app"), None, "laptop")
        await client.subscribe(project["id"])
        run = await client.prompt(project["id"], "Create the file")
        first = (await next_event(client, "confirmation_required"))["confirmation"]
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    again = servers.start(FAKE_AGENT, *args, record_spawns=False)
    events: list[dict[str, Any]] = []
    async with await connect(again) as late:
        await late.subscribe(project["id"])
        async with asyncio.timeout(120):
            async for message in late.messages():
                if message["type"] != "event":
                    continue
                events.append(message["data"])
                if message["data"].get("type") == "confirmation_required":
                    asked = message["data"]["confirmation"]
                    if asked["id"] != first["id"]:  # the old one cannot be answered
                        await late.answer(asked["id"], "allow")
                if finishes(message, run["id"]):
                    break
    closed = [e for e in events if e.get("type") == "confirmation_expired"]
    assert [(e["confirmation_id"], e["fallback"]) for e in closed] == [(first["id"], "asked_again")]
    asked_again = [e["confirmation"] for e in events if e.get("type") == "confirmation_required"]
    assert [c["tool_name"] for c in asked_again] == ["Bash", "Bash"]
    assert asked_again[1]["input"] == first["input"]
    assert events[-1]["state"] == "completed", events[-1]
    assert (remote_root / "app" / "created.txt").exists()  # the answer reached the CLI


async def test_an_agent_killed_mid_run_interrupts_it_and_stops_its_cli_when_it_restarts(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(Script.of(SLOW_TURN, {"text": "Back again."}))
    server = servers.start(FAKE_AGENT, *HEARTBEATS, record_spawns=False)
    data = tmp_path / "laptop-data"
    cli = bundled_claude_bin.path
    flags = ("--data-dir", str(data))
    home = tmp_path / "laptop-home"  # the same machine, started again
    async with await connect(server) as client:
        secret = (await client.request("token.create", name="laptop", scope="agent"))["secret"]
        agent = await linked_agent(
            server, client, agents, cli, claude_env, remote_root, *flags, secret=secret, home=home
        )
        project = await client.add_project(str(remote_root / "app"), None, "laptop")
        await client.subscribe(project["id"])
        first = await client.prompt(project["id"], "Count")
        await streaming(client, first["id"])
        [group] = cli_groups(data)
        [known] = [p for p in await client.projects() if p["id"] == project["id"]]
        session_id = known["session_id"]
        assert session_id

        agent.kill()
        await agent.wait()
        await status_until(client, False, timeout=15)
        assert group_has_live_member(group)  # the CLI outlived its agent, mid-reply
        [running] = [p for p in await client.projects() if p["id"] == project["id"]]
        assert running["running_run"] == first["id"]  # with the agent offline

        await linked_agent(
            server, client, agents, cli, claude_env, remote_root, *flags, secret=secret, home=home
        )
        assert not group_has_live_member(group)  # stopped before the agent linked again
    async with await connect(server) as late:  # the story, read back from the log
        await late.subscribe(project["id"])
        ended = await follow(late, first["id"], timeout=30)
        assert ended.final["state"] == "interrupted", ended.final
        assert "restarted" in ended.final["error"] or "no longer" in ended.final["error"]
        second = await late.prompt(project["id"], "Are you back?")
        done = await follow(late, second["id"])
    assert done.final["state"] == "completed", (done.final["error"], done.events[-6:])
    assert done.final["session_id"] == session_id  # the stored session, resumed
