"""The back-channel behind the Claude seam: the MCP server's answers, the hooks as
activity, the mirrored task tools, the files a call names, and the CLI's arguments."""

import json
import os
from pathlib import Path
from typing import Any

from switchboard.agents import back_channel
from switchboard.agents.back_channel import read_file, read_named_files
from switchboard.agents.base import (
    FileState,
    TaskReported,
    TodoListReported,
    ToolActivity,
    ToolCall,
    ToolResult,
)
from switchboard.agents.claude import hooks, mcp
from switchboard.agents.claude.launch import ClaudeOptions, build_argv
from switchboard.agents.claude.tasks import TaskMirror


def test_the_mcp_server_answers_the_handshake_and_lists_its_tools() -> None:
    initialize = {"method": "initialize", "params": {"protocolVersion": "2025-11-25"}, "id": 0}
    reply = mcp.handle("r0", "switchboard", {"jsonrpc": "2.0", **initialize}, "9.9")
    assert isinstance(reply, dict)
    assert reply["result"]["protocolVersion"] == "2025-11-25"
    assert reply["result"]["serverInfo"] == {"name": "switchboard", "version": "9.9"}
    note = mcp.handle("r1", "switchboard", {"method": "notifications/initialized"}, "9.9")
    assert note == {"jsonrpc": "2.0", "result": {}}
    listed = mcp.handle("r2", "switchboard", {"method": "tools/list", "id": 1}, "9.9")
    assert isinstance(listed, dict)
    tools = {t["name"]: t for t in listed["result"]["tools"]}
    assert set(tools) == {spec.name for spec in back_channel.TOOLS}
    assert tools["update_task_status"]["inputSchema"]["required"] == ["task_id", "status"]


def test_a_tool_call_becomes_a_call_for_the_hub_and_others_are_errors() -> None:
    message = {"method": "tools/call", "id": 5, "params": {"name": "notify_user", "arguments": {}}}
    call = mcp.handle("req-9", "switchboard", message, "1")
    assert call == ToolCall("req-9", "notify_user", {})
    unknown = mcp.handle("r", "switchboard", {**message, "params": {"name": "rm"}}, "1")
    assert isinstance(unknown, dict) and unknown["error"]["code"] == mcp.INVALID_PARAMS
    other = mcp.handle("r", "calc", message, "1")
    assert isinstance(other, dict) and other["error"]["message"] == "Server 'calc' not found"
    method = mcp.handle("r", "switchboard", {"method": "resources/list", "id": 2}, "1")
    assert isinstance(method, dict) and method["error"]["code"] == mcp.METHOD_NOT_FOUND
    answer = mcp.tool_response(5, ToolResult("nope", is_error=True))
    assert answer["result"] == {"content": [{"type": "text", "text": "nope"}], "isError": True}


def test_the_cli_is_given_the_server_and_its_tools_are_allowed(tmp_path: Path) -> None:
    options = ClaudeOptions(binary=Path("claude"), cwd=tmp_path, env={}, back_channel=True)
    argv = build_argv(options)
    config = json.loads(argv[argv.index("--mcp-config") + 1])
    assert config == {"mcpServers": {"switchboard": {"type": "sdk", "name": "switchboard"}}}
    allowed = argv[argv.index("--allowedTools") + 1].split(",")
    assert "mcp__switchboard__request_approval" in allowed and len(allowed) == 6
    assert "--mcp-config" not in build_argv(ClaudeOptions(Path("claude"), tmp_path, {}))


def test_hooks_become_activity_in_words() -> None:
    assert set(hooks.registration()) == {"PreToolUse", "PostToolUse", "PostToolUseFailure"}
    edit = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Edit",
        "tool_input": {"file_path": "a.py"},
    }
    assert hooks.activity_of(edit) == ToolActivity("started", "Edit", "editing a.py")
    bash = {
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": "pytest -q", "description": "Run the   tests"},
    }
    assert hooks.activity_of(bash) == ToolActivity("failed", "Bash", "running Run the tests")
    assert hooks.activity_of({"hook_event_name": "Stop"}) is None
    read = {
        "hook_event_name": "PostToolUse",
        "tool_name": "Read",
        "tool_input": {"path": "x" * 500},
    }
    long = hooks.activity_of(read)
    assert long is not None and len(long.summary) == hooks.SUMMARY_LIMIT
    assert long.summary.startswith("reading xxx") and long.summary.endswith("…")


def _assistant(*blocks: Any) -> dict[str, Any]:
    return {"message": {"content": list(blocks)}}


def test_todo_and_task_tools_are_mirrored() -> None:
    mirror = TaskMirror()
    todos = {"todos": [{"content": "Read", "status": "completed"}, {"content": "", "status": "x"}]}
    todo_use = {"type": "tool_use", "id": "t0", "name": "TodoWrite", "input": todos}
    assert mirror.observe("assistant", _assistant(todo_use)) == [
        TodoListReported((("Read", "completed"),))
    ]
    create = {"type": "tool_use", "id": "t1", "name": "TaskCreate", "input": {"subject": "Parse"}}
    update = {"type": "tool_use", "id": "t2", "name": "TaskUpdate", "input": {"taskId": "3"}}
    assert mirror.observe("assistant", _assistant(create, update)) == []
    created = {
        **_assistant({"type": "tool_result", "tool_use_id": "t1"}),
        "tool_use_result": {"task": {"id": "3", "subject": "Parse"}},
    }
    assert mirror.observe("user", created) == [TaskReported("3", "Parse", "pending")]
    failed = {
        **_assistant({"type": "tool_result", "tool_use_id": "t2", "is_error": True}),
        "tool_use_result": {"success": True},
    }
    assert mirror.observe("user", failed) == [], "a failed update changes nothing"


def test_the_files_a_call_names_are_read_below_the_project_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.txt").write_text("text\n")
    (project / "bin").write_bytes(b"\xff\xfe")
    (project / "big").write_bytes(b"x" * (back_channel.MAX_FILE_BYTES + 1))
    (tmp_path / "secret").write_text("no")
    (project / "link").symlink_to(tmp_path / "secret")
    os.mkfifo(project / "fifo")
    assert read_file(project, "a.txt").content == "text\n"
    assert read_file(project, "missing.txt") == FileState(None)
    assert read_file(project, "../secret").problem == "the path is outside the project directory"
    assert read_file(project, "link").problem == "the path is outside the project directory"
    assert read_file(project, "fifo").problem == "not a regular file"
    assert read_file(project, "bin").problem == "not UTF-8 text"
    assert "too large" in (read_file(project, "big").problem or "")
    assert read_file(project, ".").problem == "not a regular file"
    call = ToolCall("c", "show_diff", {"path": "a.txt", "new_content": "x"})
    assert read_named_files(project, call).files == {"a.txt": FileState("text\n")}
    untouched = ToolCall("c", "notify_user", {"message": "hi"})
    assert read_named_files(project, untouched) is untouched
