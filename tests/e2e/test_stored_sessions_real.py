"""Sessions both ways: a session started in a terminal is listed, taken over with its
history, and resumed by the next run. Real CLI (both builds), scripted model."""

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import RequestError
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.e2e.test_client_commands import switchboard
from tests.e2e.test_hub_real import resumed_ids
from tests.support.hub import add_and_watch, connect, prompt_and_follow

pytestmark = pytest.mark.timeout(180)


def terminal_session(claude: ClaudeBinary, cwd: Path, env: dict[str, str], prompt: str) -> str:
    """Run the CLI as a person would in a terminal (``claude -p``); its session id."""
    done = subprocess.run(
        [str(claude.path), "-p", prompt, "--output-format", "json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return str(json.loads(done.stdout)["session_id"])


async def test_a_terminal_session_is_listed_imported_and_resumed(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    claude_env: dict[str, str],
) -> None:
    scripted_model.set_script(
        Script.of({"text": "Answered in the terminal."}, {"text": "Carried on here."})
    )
    session_id = terminal_session(claude_bin, project_dir, claude_env, "Started in a terminal")
    server = servers.start(claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        listed = (await client.request("session.list", project=project["id"]))["sessions"]
        assert [(s["id"], s["first_prompt"], s["current"]) for s in listed] == [
            (session_id, "Started in a terminal", False)
        ]
        assert listed[0]["updated_at"] >= listed[0]["started_at"] > 0
        used = await client.request("session.use", project=project["id"], session=session_id)
        assert used["project"]["session_id"] == session_id
        seen = await prompt_and_follow(client, project["id"], "Go on")
        again = (await client.request("session.list", project=project["id"]))["sessions"]
    assert seen.final["state"] == "completed", seen.final
    assert seen.final["session_id"] == session_id
    assert resumed_ids(servers) == [session_id]
    # The next run's request to the model carried the terminal's conversation.
    assert "Started in a terminal" in scripted_model.conversation_requests[-1].text()
    [announcement] = [e["data"] for e in seen.events if e["kind"] == "session"]
    imported = [e["data"] for e in seen.events if e["kind"] == "imported"]
    assert announcement == {
        "session_id": session_id,
        "reason": "session.use",
        "imported": len(imported),
        "omitted": 0,
        "too_long": 0,
    }
    assert _texts(imported) == ["Started in a terminal", "Answered in the terminal."]
    assert all(e["run"] is None for e in seen.events if e["kind"] == "imported")
    assert [s["current"] for s in again if s["id"] == session_id] == [True]


async def test_session_use_refuses_unknown_sessions_and_busy_projects(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    claude_env: dict[str, str],
) -> None:
    scripted_model.set_script(
        Script.of({"text": "First."}, {"text": "Held.", "hold": "busy"}, {"text": "Later."})
    )
    session_id = terminal_session(bundled_claude_bin, project_dir, claude_env, "A prompt")
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        with pytest.raises(RequestError) as unknown:
            await client.request(
                "session.use", project=project["id"], session="00000000-0000-4000-8000-000000000000"
            )
        assert unknown.value.code == "unknown_session"
        with pytest.raises(RequestError) as hostile:
            await client.request("session.use", project=project["id"], session="../../etc/passwd")
        assert hostile.value.code == "bad_message"
        await client.prompt(project["id"], "Keep busy")
        await _wait_running(client, project["id"])
        with pytest.raises(RequestError) as busy:
            await client.request("session.use", project=project["id"], session=session_id)
        assert busy.value.code == "busy"
        scripted_model.release("busy")
        assert await client.heartbeat() > 0  # the connection is fine after the refusals


async def _wait_running(client: Any, project_id: str) -> None:
    async for message in client.messages():
        project = message.get("project") if message["type"] == "project_status" else None
        if project and project["id"] == project_id and project["status"] == "running":
            return


def _texts(lines: list[dict[str, Any]]) -> list[str]:
    """The user's prompts and Claude's text in imported transcript lines."""
    texts = []
    for line in lines:
        content = line["message"]["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        texts += [block["text"] for block in content if block.get("type") == "text"]
    return texts


async def test_the_commands_list_and_take_over_a_terminal_session(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    claude_env: dict[str, str],
) -> None:
    scripted_model.set_script(Script.of({"text": "From the terminal."}, {"text": "Resumed."}))
    session_id = terminal_session(bundled_claude_bin, project_dir, claude_env, "Terminal work")
    server = servers.start(bundled_claude_bin.path)
    added = await asyncio.to_thread(
        switchboard, server, "project", "add", str(project_dir), "--session", session_id
    )
    assert added.returncode == 0, added.stderr
    assert f"resume session {session_id}" in added.stdout
    listed = await asyncio.to_thread(switchboard, server, "project", "sessions", project_dir.name)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"* {session_id}") and line.endswith("Terminal work")
    prompted = await asyncio.to_thread(
        switchboard, server, "prompt", project_dir.name, "Carry on", timeout=120
    )
    assert prompted.returncode == 0, prompted.stderr
    assert "Resumed." in prompted.stdout
    unknown = await asyncio.to_thread(
        switchboard, server, "project", "sessions", project_dir.name, "--use", "nope"
    )
    assert unknown.returncode == 3 and "unknown_session" in unknown.stderr
