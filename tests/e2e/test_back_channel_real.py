"""The back-channel with the real CLI: Claude calls Switchboard's own tools (the
``switchboard`` MCP server) and its todo and task tools, and clients see and answer."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import Followed, add_and_watch, connect, follow, next_event
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(120)


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_use": {"name": f"mcp__switchboard__{name}", "input": arguments}}


def told_the_model(model: ScriptedModelServer) -> str:
    """Everything the CLI sent the model (tool results among it)."""
    return "\n".join(request.text() for request in model.conversation_requests)


async def prompt_once(
    server: RunningServer, project_dir: Path, *diagnostics: dict[str, Any]
) -> tuple[str, Followed]:
    """Add the project, publish ``diagnostics`` for src/app.py (as ./src/app.py), prompt
    it once, and follow the run to its end."""
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        if diagnostics:
            stored = await client.publish_diagnostics(
                project["id"], "./src/app.py", list(diagnostics)
            )
            assert stored["path"] == "src/app.py"
        run = await client.prompt(project["id"], "go")
        return project["id"], await follow(client, run["id"])


def task_data(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["kind"] == "task"]


async def test_a_task_status_shows_in_the_snapshot_after_reconnecting(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of(
            tool("update_task_status", task_id="t1", title="Write the parser", status="pending"),
            tool("update_task_status", task_id="t1", status="in_progress", note="half way"),
            tool("update_task_status", task_id="nope", status="completed"),
            {"text": "Done."},
        )
    )
    server = servers.start(claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        run = await client.prompt(project["id"], "work")
        activity: list[dict[str, Any]] = []
        seen = await follow_with_activity(client, run["id"], activity)
    assert seen["final"]["state"] == "completed"
    changes = [d["task"] for d in task_data(seen["events"]) if d["type"] == "task_changed"]
    assert [(t["id"], t["status"]) for t in changes] == [("t1", "pending"), ("t1", "in_progress")]
    assert "error unknown_task: no task 'nope'" in told_the_model(scripted_model)
    started = [a for a in activity if a["phase"] == "started"]
    assert started and started[0]["summary"] == "using update_task_status (switchboard)"
    assert not any(
        e["kind"] == "cli" and e["data"]["type"] == "control_request" for e in seen["events"]
    ), "the back-channel's plumbing is not kept in the log"

    async with await connect(server) as again:
        [task] = [t for t in again.snapshot["tasks"] if t["project"] == project["id"]]
        assert (task["id"], task["title"], task["status"], task["note"]) == (
            "t1",
            "Write the parser",
            "in_progress",
            "half way",
        )
        ack = await again.request("subscribe", project=project["id"], since=0)
        assert [t["id"] for t in ack["tasks"]] == ["t1"]


async def follow_with_activity(
    client: SwitchboardClient, run_id: str, activity: list[dict[str, Any]]
) -> dict[str, Any]:
    """Follow a run to its end, keeping its events and the activity frames."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(60):
        async for message in client.messages():
            if message["type"] == "activity":
                activity.append(message)
            if message["type"] != "event":
                continue
            events.append(message)
            data = message["data"]
            finished = data.get("state") not in {"running", "queued"}
            if message["kind"] == "run" and data["id"] == run_id and finished:
                return {"events": events, "final": data}
    raise AssertionError("the connection ended first")


async def test_an_approval_answered_by_one_of_two_clients_goes_back_to_claude(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    (project_dir / "greeting.txt").write_text("hello\n")
    scripted_model.set_script(
        Script.of(
            tool(
                "request_approval",
                summary="Greet the world",
                changes=[
                    {"path": "greeting.txt", "new_content": "hello\nworld\n"},
                    {"path": "new.txt", "new_content": "fresh\n"},
                ],
            ),
            {"text": "Done."},
        )
    )
    server = servers.start(claude_bin.path)
    async with await connect(server) as first, await connect(server) as second:
        project = await add_and_watch(first, project_dir)
        await second.subscribe(project["id"])
        run = await first.prompt(project["id"], "greet")
        required = await next_event(second, "confirmation_required")
        confirmation = required["confirmation"]
        assert (confirmation["kind"], confirmation["options"]) == (
            "approval",
            ["approve", "reject"],
        )
        approval = confirmation["approval"]
        assert approval["summary"] == "Greet the world"
        edited, created = approval["changes"]
        assert "+world" in edited["diff"] and " hello" in edited["diff"]
        assert not edited["new_file"] and created["new_file"] and "+fresh" in created["diff"]
        await second.answer(confirmation["id"], "approve", message="looks good")
        seen = await follow(first, run["id"])
    assert seen.final["state"] == "completed"
    answered = [
        e["data"]
        for e in seen.events
        if e["kind"] == "confirmation" and e["data"]["type"] == "confirmation_answered"
    ]
    assert [(a["response"], a["message"]) for a in answered] == [("approve", "looks good")]
    told = told_the_model(scripted_model)
    assert '{\\"decision\\": \\"approved\\", \\"comment\\": \\"looks good\\"}' in told or (
        '"decision": "approved"' in told and "looks good" in told
    )
    assert (project_dir / "greeting.txt").read_text() == "hello\n", "approval changes nothing"


DIAGNOSTIC = {
    "range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 7}},
    "severity": 1,
    "message": "undefined name 'foo'",
    "source": "ruff",
    "code": "F821",
}


async def test_get_diagnostics_returns_what_a_client_published(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of(
            tool("get_diagnostics"),
            tool("get_diagnostics", path="src/other.py"),
            {"text": "Done."},
        )
    )
    _, seen = await prompt_once(servers.start(claude_bin.path), project_dir, DIAGNOSTIC)
    assert seen.final["state"] == "completed"
    first, second = (r.text() for r in scripted_model.conversation_requests[1:3])
    assert "undefined name 'foo'" in first and "src/app.py" in first and "F821" in first
    assert second.endswith(
        '"text": "{\\"files\\": []}"}], "cache_control": {"type": "ephemeral"}}]}]}'
    )


@pytest.mark.parametrize(
    ("environment", "script", "expected"),
    [
        (
            {"CLAUDE_CODE_ENABLE_TASKS": "0"},
            [
                {
                    "tool_use": {
                        "name": "TodoWrite",
                        "input": {
                            "todos": [
                                {"content": "Read", "status": "completed", "activeForm": "Reading"},
                                {"content": "Write", "status": "in_progress", "activeForm": "W"},
                            ]
                        },
                    }
                },
                {
                    "tool_use": {
                        "name": "TodoWrite",
                        "input": {
                            "todos": [
                                {"content": "Write", "status": "completed", "activeForm": "W"}
                            ]
                        },
                    }
                },
            ],
            [("todo-1", "Write", "completed", "todo")],
        ),
        (
            {},
            [
                {
                    "tool_use": {
                        "name": "TaskCreate",
                        "input": {"subject": "Parse", "description": "parse it"},
                    }
                },
                {
                    "tool_use": {
                        "name": "TaskUpdate",
                        "input": {"taskId": "1", "status": "completed"},
                    }
                },
            ],
            [("1", "Parse", "completed", "task")],
        ),
    ],
    ids=["todo-write", "task-tools"],
)
async def test_claudes_own_todo_and_task_tools_update_the_task_list(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    environment: dict[str, str],
    script: list[dict[str, Any]],
    expected: list[tuple[str, str, str, str]],
) -> None:
    scripted_model.set_script(Script.of(*script, {"text": "Done."}))
    servers.env.update(environment)
    server = servers.start(claude_bin.path)
    project, seen = await prompt_once(server, project_dir)
    assert seen.final["state"] == "completed"
    assert task_data(seen.events), "the task list changed live"
    async with await connect(server) as client:
        ack = await client.request("subscribe", project=project, since=seen.seqs[-1])
    tasks = [(t["id"], t["title"], t["status"], t["origin"]) for t in ack["tasks"]]
    assert tasks == expected


async def test_diffs_notifications_progress_and_refusals(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    (project_dir / "app.py").write_text("print('hi')\n")
    scripted_model.set_script(
        Script.of(
            tool("show_diff", path="app.py", new_content="print('hello')\n", title="Friendlier"),
            tool("notify_user", message="Tests pass", level="success"),
            tool("report_progress", message="working on app.py", percent=50),
            tool("show_diff", path="big.txt", new_content="x" * 1_000_001),
            tool("show_diff", path="../outside.txt", new_content="x"),
            tool("update_task_status", task_id="t", status="bogus"),
            {"text": "Done."},
        )
    )
    _, seen = await prompt_once(servers.start(bundled_claude_bin.path), project_dir)
    assert seen.final["state"] == "completed"
    by_kind = {e["kind"]: e["data"] for e in seen.events if e["kind"] != "cli"}
    preview = by_kind["diff_preview"]
    assert preview["title"] == "Friendlier" and "+print('hello')" in preview["change"]["diff"]
    assert (by_kind["notification"]["message"], by_kind["notification"]["level"]) == (
        "Tests pass",
        "success",
    )
    assert (by_kind["task"]["type"], by_kind["task"]["percent"]) == ("progress", 50)
    told = told_the_model(scripted_model)
    assert "error content_too_large: big.txt: 1000001 characters" in told
    assert "error bad_path: ../outside.txt: the path is outside the project directory" in told
    assert "error bad_arguments: status:" in told
