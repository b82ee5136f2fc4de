"""The back-channel of a project on a remote agent, with the real CLI against the scripted
model: the hub and ``switchboard agent`` are separate processes, and Claude's calls of
Switchboard's own tools travel from the agent's CLI over the link to the hub, which
answers them there (diagnostics a client published, an approval a client gave). A call
still open when the hub is killed is told again to the hub that comes back."""

import asyncio
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.agents import HEARTBEATS, agents
from tests.support.hub import Followed, connect, finishes
from tests.support.remote_runs import linked_agent, remote_root

pytestmark = pytest.mark.timeout(180)

__all__ = ["agents", "remote_root"]

DIAGNOSTIC = {
    "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 5}},
    "severity": 1,
    "message": "undefined name 'foo'",
    "source": "ruff",
}
CHANGES = [{"path": "a.txt", "new_content": "x\n"}]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"tool_use": {"name": f"mcp__switchboard__{name}", "input": arguments}}


async def follow_with_activity(
    client: SwitchboardClient, run_id: str, activity: list[dict[str, Any]]
) -> Followed:
    """Follow a run to its end, keeping its events, and the activity frames in
    ``activity``."""
    seen = Followed()
    async with asyncio.timeout(90):
        async for message in client.messages():
            if message["type"] == "activity":
                activity.append(message)
            if message["type"] != "event":
                continue
            seen.events.append(message)
            if finishes(message, run_id):
                seen.final = message["data"]
                return seen
    raise AssertionError("the connection ended first")


async def approval_required(client: SwitchboardClient) -> dict[str, Any]:
    """The next approval confirmation the client hears of."""
    async with asyncio.timeout(90):
        async for message in client.messages():
            data = message.get("data") or {}
            if message["type"] == "event" and data.get("type") == "confirmation_required":
                confirmation: dict[str, Any] = data["confirmation"]
                if confirmation["kind"] == "approval":
                    return confirmation
    raise AssertionError("the connection ended first")


async def test_tool_calls_of_a_cli_on_an_agent_are_answered_by_the_hub(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of(
            tool("get_diagnostics", {}),
            tool("request_approval", {"summary": "s", "changes": CHANGES}),
            {"text": "Done."},
        )
    )
    (remote_root / "app" / "a.txt").write_text("old\n")  # read where the agent runs
    # The hub's own CLI is a fake that fails: only the agent's real one can answer.
    hub_root = tmp_path / "hub-only"
    hub_root.mkdir()
    server = servers.start(FAKE_AGENT, allowed_root=hub_root, record_spawns=False)
    async with await connect(server) as watcher, await connect(server) as editor:
        await linked_agent(
            server, watcher, agents, bundled_claude_bin.path, claude_env, remote_root
        )
        project = await watcher.add_project(str(remote_root / "app"), None, "laptop")
        assert project["agent"] == "laptop"
        await watcher.subscribe(project["id"])
        await editor.subscribe(project["id"])
        await editor.request(
            "diagnostics.publish",
            project=project["id"],
            path="src/app.py",
            diagnostics=[DIAGNOSTIC],
        )
        activity: list[dict[str, Any]] = []
        run = await watcher.prompt(project["id"], "Check and change")
        following = asyncio.ensure_future(follow_with_activity(watcher, run["id"], activity))

        confirmation = await approval_required(editor)
        assert confirmation["options"] == ["approve", "reject"]
        [change] = confirmation["approval"]["changes"]
        assert "-old" in change["diff"] and "+x" in change["diff"]  # the agent's a.txt
        await editor.request(
            "confirmation_response",
            confirmation_id=confirmation["id"],
            response="approve",
            message="ok",
        )
        seen = await following

    assert seen.final["state"] == "completed", seen.final
    later = [request.text() for request in scripted_model.conversation_requests[1:]]
    assert any("undefined name 'foo'" in text for text in later), later
    assert any("approved" in text for text in later), later
    assert (remote_root / "app" / "a.txt").read_text() == "old\n", "approval changes nothing"
    assert not any(
        e["kind"] == "cli" and e["data"]["type"] == "control_request" for e in seen.events
    ), "the back-channel's plumbing is not kept in the log"
    summaries = [a.get("summary", "") for a in activity if a.get("phase") == "started"]
    assert any("get_diagnostics" in summary for summary in summaries), activity


async def test_an_approval_open_when_the_hub_was_killed_is_asked_again_after_it(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    """The agent's CLI waits for the tool's result the whole time; the hub that comes
    back adopts the process, the agent tells it of the call again, and the approval
    given then reaches the CLI."""
    scripted_model.set_script(
        Script.of(tool("request_approval", {"summary": "s", "changes": CHANGES}), {"text": "ok"})
    )
    args = ["--data-dir", str(tmp_path / "hub-data"), "--port", str(free_port()), *HEARTBEATS]
    server = servers.start(FAKE_AGENT, *args, record_spawns=False)
    async with await connect(server) as client:
        await linked_agent(server, client, agents, bundled_claude_bin.path, claude_env, remote_root)
        project = await client.add_project(str(remote_root / "app"), None, "laptop")
        await client.subscribe(project["id"])
        run = await client.prompt(project["id"], "Change it")
        first = await approval_required(client)
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
                        await late.answer(asked["id"], "approve", message="ok")
                if finishes(message, run["id"]):
                    break
    closed = [e for e in events if e.get("type") == "confirmation_expired"]
    assert [(e["confirmation_id"], e["fallback"]) for e in closed] == [(first["id"], "asked_again")]
    asked_again = [e["confirmation"] for e in events if e.get("type") == "confirmation_required"]
    assert [c["kind"] for c in asked_again] == ["approval", "approval"]
    assert asked_again[1]["approval"] == first["approval"]  # the same call, told again
    assert events[-1]["state"] == "completed", events[-1]
    later = [request.text() for request in scripted_model.conversation_requests[1:]]
    assert any("approved" in text for text in later), later
