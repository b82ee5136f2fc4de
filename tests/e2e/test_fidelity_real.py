"""What the real CLI reports, as runs report it: each run's own cost and figures, work
that goes on after a turn, errors a user can act on. Both CLI builds, scripted model."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from switchboard.event_lines import describe
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support import processes
from tests.support.hub import (
    FINISHED,
    add_and_watch,
    connect,
    follow,
    follow_answering,
    prompt_and_follow,
)

pytestmark = pytest.mark.timeout(180)


async def test_each_run_reports_its_own_cost_and_the_project_their_sum(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    """The CLI's ``total_cost_usd`` adds up over a process's turns; a run's cost does
    not. Three identical prompts in one CLI process cost about the same each."""
    scripted_model.set_script(Script.of(*({"text": "The same answer."} for _ in range(3))))
    server = servers.start(claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        runs = [
            (await prompt_and_follow(client, project["id"], "Say the same thing")).final
            for _ in range(3)
        ]
        [info] = [p for p in await client.projects() if p["id"] == project["id"]]
    assert len(servers.spawned()) == 1  # one process served all three
    costs = [run["cost_usd"] for run in runs]
    assert all(cost > 0 for cost in costs), costs
    assert max(costs) <= 1.1 * min(costs), costs  # process totals: 1, 2 and 3 times
    assert info["total_cost_usd"] == pytest.approx(sum(costs), rel=1e-6)
    inputs = [run["usage"]["input_tokens"] for run in runs]
    assert max(inputs) <= 1.1 * min(inputs), inputs  # per turn, not per process
    assert [run["num_turns"] for run in runs] == [1, 1, 1]
    assert all(run["duration_ms"] < 60_000 for run in runs)
    async with await connect(server) as again:  # the total is stored, not just counted
        [listed] = [p for p in await again.projects() if p["id"] == project["id"]]
    assert listed["total_cost_usd"] == info["total_cost_usd"]


def _gated_background_turns(gate: Path) -> Script:
    """A turn that starts a background command (it ends once ``gate`` exists), the
    answer that ends the turn, and the follow-up the CLI asks for when it finishes."""
    command = f"while [ ! -e {gate} ]; do sleep 0.05; done; echo background-done"
    return Script.of(
        {
            "text": "I will start it in the background.",
            "tool_use": {
                "name": "Bash",
                "input": {
                    "command": command,
                    "run_in_background": True,
                    "description": "wait for the gate",
                },
            },
        },
        {"text": "It runs in the background."},
        {"text": "The background command has finished."},
        {"text": "A later answer."},
    )


async def test_background_work_outlives_the_turn_and_its_follow_up_is_a_run(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    scripted_model.set_script(_gated_background_turns(gate))
    server = servers.start(claude_bin.path, "--idle-timeout", "0.5")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        run = await client.prompt(project["id"], "Run it in the background")
        first = await follow_answering(client, run["id"])
        assert first.final["state"] == "completed", json.dumps([first.final, *first.events])
        # The turn ended, its command still runs: the process is kept beyond the idle
        # timeout (0.5 s), and the project says what keeps it.
        [pid] = [spawn["pid"] for spawn in servers.spawned_argv()]
        status = await _status_with(client, project["id"], lambda p: p["background_tasks"] >= 1)
        await asyncio.sleep(1.5)
        assert processes.alive(pid)
        assert status["status"] == "idle"
        gate.touch()
        follow_up = await _next_run(client, project["id"])
        assert follow_up["origin"] == "claude" and follow_up["prompt"] == ""
        later = await follow(client, follow_up["id"])
        later_run = await client.prompt(project["id"], "And now?")
        last = await follow(client, later_run["id"])
    assert later.final["state"] == "completed", later.final
    assert later.final["cost_usd"] > 0
    texts = _assistant_texts(later.events, follow_up["id"])
    assert "The background command has finished." in texts
    subtypes = [_subtype(e) for e in later.events if e["run"] == follow_up["id"] and _subtype(e)]
    assert "task_notification" in subtypes and subtypes[-1] == "result"
    # Nothing printed after the first turn's result was put in the first run.
    first_run_lines = [_subtype(e) for e in first.events if e["run"] == run["id"] and _subtype(e)]
    assert first_run_lines[-1] == "result"
    assert "task_notification" not in first_run_lines
    assert last.final["state"] == "completed" and last.final["origin"] == "client"
    assert "A later answer." in _assistant_texts(last.events, later_run["id"])
    assert len(servers.spawned()) == 1  # the same process served all three turns


async def test_a_busy_background_task_lets_a_prompt_change_options_in_place(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    """A prompt that asks for another permission mode would restart the CLI (and kill
    its background work); while work is pending, the mode is switched in place."""
    gate = tmp_path / "gate"
    scripted_model.set_script(_gated_background_turns(gate))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        run = await client.prompt(project["id"], "Run it in the background")
        await follow_answering(client, run["id"])
        await _status_with(client, project["id"], lambda p: p["background_tasks"] >= 1)
        scripted_model.set_script(Script.of({"text": "Planned."}, {"text": "Finished."}))
        planned = await client.prompt(project["id"], "Plan something", permission_mode="plan")
        seen = await follow(client, planned["id"])
        gate.touch()
        follow_up = await _next_run(client, project["id"])
        await follow(client, follow_up["id"])
    assert seen.final["state"] == "completed", seen.final
    assert len(servers.spawned()) == 1
    inits = [e["data"] for e in seen.events if _subtype(e) == "init"]
    assert inits and inits[0]["permissionMode"] == "plan"


async def test_background_work_keeps_the_process_only_up_to_the_background_timeout(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(_gated_background_turns(tmp_path / "never"))
    server = servers.start(
        bundled_claude_bin.path, "--idle-timeout", "0.2", "--background-timeout", "2"
    )
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        run = await client.prompt(project["id"], "Run it in the background")
        await follow_answering(client, run["id"])
        [pid] = [spawn["pid"] for spawn in servers.spawned_argv()]
        assert processes.alive(pid)
        assert await asyncio.to_thread(processes.wait_exited, [pid], 30) == []
        await _status_with(client, project["id"], lambda p: p["background_tasks"] == 0)
    assert "background tasks still pending" in server.log()


async def test_runs_write_sessions_the_terminal_picker_shows(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    claude_env: dict[str, str],
) -> None:
    """``claude --resume`` lists no session whose entrypoint is ``sdk-*`` (checked by
    hand in both builds' pickers): runs must not record one."""
    scripted_model.set_script(Script.of({"text": "Hello."}))
    server = servers.start(claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        done = await prompt_and_follow(client, project["id"], "Hello")
    assert server.stop() == 0  # the CLI writes its transcript as it pleases: let it finish
    session_id = done.final["session_id"]
    transcript = _transcript(Path(claude_env["HOME"]), project_dir, session_id)
    entrypoints = {
        json.loads(line).get("entrypoint") for line in transcript.read_text().splitlines()
    }
    assert entrypoints - {None} == {"switchboard"}


async def test_no_credentials_gives_a_run_error_that_says_what_to_do(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    server = servers.start(claude_bin.path, record_spawns=False, ANTHROPIC_API_KEY="")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        done = await prompt_and_follow(client, project["id"], "Hello")
    error = done.final["error"]
    assert done.final["state"] == "failed"
    assert "Not logged in" in error and "ANTHROPIC_API_KEY" in error, error
    assert "/login" in error and str(claude_bin.path) in error, error
    assert scripted_model.requests == []


async def test_api_retries_reach_clients_as_they_happen(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    overloaded = {"status": 529, "type": "overloaded_error", "message": "Overloaded"}
    scripted_model.set_script(
        Script.of(
            {"error": {**overloaded, "retryable": True}, "repeat": 2},
            {"text": "Answered after all.", "hold": "answer"},
        )
    )
    server = servers.start(claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        run = await client.prompt(project["id"], "Hello")
        retries: list[dict[str, Any]] = []
        async with asyncio.timeout(60):
            async for message in client.messages():
                if message["type"] == "event" and _subtype(message) == "api_retry":
                    retries.append(message["data"])
                    if len(retries) == 2:
                        break
        scripted_model.release("answer")  # the run was still going when both arrived
        done = await follow(client, run["id"])
    assert [retry["attempt"] for retry in retries] == [1, 2]
    # What `switchboard prompt` and `tail` print for them.
    [shown] = describe({"kind": "cli", "data": retries[0]})
    assert shown.startswith("· API error (overloaded, HTTP 529): retrying in "), shown
    assert retries[0]["error_status"] == 529 and retries[0]["retry_delay_ms"] > 0
    assert done.final["state"] == "completed"


async def _status_with(
    client: Any, project_id: str, wanted: Any, timeout: float = 60
) -> dict[str, Any]:
    """The project's info once it satisfies ``wanted`` (from project_status messages)."""
    for project in await client.projects():
        if project["id"] == project_id and wanted(project):
            return dict(project)
    async with asyncio.timeout(timeout):
        async for message in client.messages():
            if message["type"] != "project_status":
                continue
            project = message["project"]
            if project["id"] == project_id and wanted(project):
                return dict(project)
    raise AssertionError("the connection ended first")


async def _next_run(client: Any, project_id: str, timeout: float = 60) -> dict[str, Any]:
    """The next run that starts running in the project (from its ``run`` events)."""
    async with asyncio.timeout(timeout):
        async for message in client.messages():
            data = message.get("data") or {}
            if (
                message["type"] == "event"
                and message["kind"] == "run"
                and message["project"] == project_id
                and data.get("state") == "running"
            ):
                assert data["state"] not in FINISHED
                return dict(data)
    raise AssertionError("the connection ended first")


def _subtype(event: dict[str, Any]) -> str | None:
    data = event.get("data") or {}
    if event.get("kind") != "cli":
        return None
    if data.get("type") in ("system", "control_request"):
        return str(data.get("subtype"))
    return str(data.get("type"))


def _assistant_texts(events: list[dict[str, Any]], run_id: str) -> list[str]:
    texts = []
    for event in events:
        data = event.get("data") or {}
        if event["kind"] == "cli" and event["run"] == run_id and data.get("type") == "assistant":
            for block in data["message"]["content"]:
                if block.get("type") == "text":
                    texts.append(block["text"])
    return texts


def _transcript(home: Path, project_dir: Path, session_id: str) -> Path:
    """Where the CLI stored a session: ~/.claude/projects/<cwd, / and . as ->/ID.jsonl."""
    mangled = "".join(c if c.isalnum() else "-" for c in os.path.realpath(project_dir))
    return home / ".claude" / "projects" / mangled / f"{session_id}.jsonl"
