"""Switchboard's own tools, as any agent CLI is offered them (the back-channel).

The tools are named and described here once, with their arguments as pydantic models:
a driver lists them to its CLI in the CLI's own way (the Claude Code CLI: an in-process
MCP server named ``switchboard``), and hands each call to the hub as a
:class:`~switchboard.agents.base.ToolCall`, which the hub validates with the same models.
What the hub does with each call is in :mod:`switchboard.hub.back_channel`.

A call that names files (``request_approval``, ``show_diff``) is given the files as they
are where the agent runs (:func:`read_named_files`), so the hub can show a diff though
the project may live on another machine.
"""

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.agents.base import FileState, ToolCall

SERVER_NAME = "switchboard"
MAX_FILE_BYTES = 1024 * 1024
"""A file a call names is read up to this size (a larger one cannot be diffed)."""
MAX_CHANGES = 20

TaskId = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
FilePath = Annotated[str, Field(min_length=1, max_length=4096)]


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpdateTaskStatus(_Arguments):
    task_id: TaskId = Field(description="The task's id (yours, or one of your todo/task list).")
    status: Literal["pending", "in_progress", "completed", "blocked", "failed"]
    note: Text | None = Field(default=None, description="A word on where it stands.")
    title: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="Its title: needed to create a task that is not listed yet."
    )


class ReportProgress(_Arguments):
    message: Text = Field(description='What you are doing now, e.g. "working on src/app.py".')
    percent: Annotated[float, Field(ge=0, le=100)] | None = None
    task_id: TaskId | None = Field(default=None, description="The task it is about, if any.")


class Change(_Arguments):
    path: FilePath = Field(description="The file, relative to the project directory.")
    new_content: str | None = Field(default=None, description="The file's whole new text.")
    diff: str | None = Field(default=None, description="Or: a unified diff of the change.")


class RequestApproval(_Arguments):
    summary: Text = Field(description="What the changes do and why.")
    changes: Annotated[list[Change], Field(min_length=1, max_length=MAX_CHANGES)]


class ShowDiff(_Arguments):
    path: FilePath
    new_content: str = Field(description="The file's whole new text.")
    title: Annotated[str, Field(max_length=500)] | None = None


class GetDiagnostics(_Arguments):
    path: FilePath | None = Field(default=None, description="One file; omit for every file.")


class NotifyUser(_Arguments):
    message: Text
    level: Literal["info", "success", "warning", "error"] = "info"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    arguments: type[_Arguments]

    def input_schema(self) -> dict[str, Any]:
        return self.arguments.model_json_schema()


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "update_task_status",
        "Set the status of a task on the task list the people watching this project see "
        "(give a title to add a task that is not listed yet).",
        UpdateTaskStatus,
    ),
    ToolSpec(
        "report_progress",
        "Tell the people watching this project what you are working on now.",
        ReportProgress,
    ),
    ToolSpec(
        "request_approval",
        "Ask a person to approve proposed file changes before you make them. Shows each "
        "change as a diff and waits for approve or reject (with a comment).",
        RequestApproval,
    ),
    ToolSpec(
        "show_diff",
        "Show the people watching a proposed change to one file, as a diff. Does not "
        "change the file.",
        ShowDiff,
    ),
    ToolSpec(
        "get_diagnostics",
        "The diagnostics (lint and type errors) the people's editors and tools have "
        "published for this project, per file.",
        GetDiagnostics,
    ),
    ToolSpec(
        "notify_user",
        "Send the people watching this project a notification.",
        NotifyUser,
    ),
)
TOOLS_BY_NAME = {spec.name: spec for spec in TOOLS}


def named_paths(tool: str, arguments: dict[str, Any]) -> list[str]:
    """The files a call's diff is shown against."""
    if tool == "show_diff" and isinstance(arguments.get("path"), str):
        return [arguments["path"]]
    if tool != "request_approval" or not isinstance(arguments.get("changes"), list):
        return []
    changes = [c for c in arguments["changes"][:MAX_CHANGES] if isinstance(c, dict)]
    return [c["path"] for c in changes if isinstance(c.get("path"), str)]


def read_named_files(cwd: Path, call: ToolCall) -> ToolCall:
    """``call`` with the files it names, read here (below ``cwd`` only)."""
    paths = named_paths(call.tool, call.arguments)
    if not paths:
        return call
    files = {path: read_file(cwd, path) for path in dict.fromkeys(paths)}
    return ToolCall(call.call_id, call.tool, call.arguments, files)


def read_file(cwd: Path, path: str) -> FileState:
    """A file of the project as it is now; never one outside ``cwd``."""
    if "\x00" in path:
        return FileState(None, "the path holds a NUL character")
    root = os.path.realpath(cwd)
    target = os.path.realpath(os.path.join(root, path))
    if target != root and not target.startswith(root + os.sep):
        return FileState(None, "the path is outside the project directory")
    try:  # non-blocking: a FIFO named by the call must not hang the reader
        descriptor = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return FileState(None)
    except IsADirectoryError:
        return FileState(None, "a directory, not a file")
    except OSError as exc:
        return FileState(None, f"cannot be read: {exc.strerror or exc}")
    opened = os.path.realpath(f"/proc/self/fd/{descriptor}")
    if opened != target and not opened.startswith(root + os.sep):  # swapped since checked
        os.close(descriptor)
        return FileState(None, "the path is outside the project directory")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        return FileState(None, "not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return FileState(None, f"larger than {MAX_FILE_BYTES // 1024} KiB: too large to diff")
    try:
        return FileState(data.decode())
    except UnicodeDecodeError:
        return FileState(None, "not UTF-8 text")
