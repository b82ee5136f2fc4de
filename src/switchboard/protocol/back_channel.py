"""The back-channel's messages: what Claude reports through Switchboard's own tools (and
through its own todo and task tools), and the diagnostics clients share with it.

Stored in the project's log as ``event`` frames of these kinds:

* ``task``: a task of the project's task list changed (``task_changed``) or went away
  (``task_removed``), or Claude reported progress outside any task (``progress``);
* ``diff_preview``: Claude shows a change it proposes (``show_diff``);
* ``notification``: Claude wants a person told something (``notify_user``);
* ``diagnostics``: a client published the diagnostics of one file.

Besides, ``activity`` frames (live only, like deltas) say what Claude is doing now:
each tool it starts and finishes.
"""

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from switchboard.protocol.model_base import Model

TaskStatus = Literal["pending", "in_progress", "completed", "blocked", "failed"]
TaskOrigin = Literal["switchboard", "todo", "task"]
"""switchboard: Claude's update_task_status / report_progress; todo: its TodoWrite list;
task: its TaskCreate / TaskUpdate tools."""
NotificationLevel = Literal["info", "success", "warning", "error"]

MAX_TASKS = 200
"""Tasks kept per project; past it, the oldest finished ones are dropped first."""
MAX_TITLE = 500
MAX_NOTE = 4000
MAX_DIAGNOSTICS_PER_PATH = 1000
MAX_DIAGNOSTIC_PATHS = 2000
"""Paths with diagnostics kept per project; past it, a publish for a new path is refused."""
MAX_DIAGNOSTIC_CHARS = 1_000_000
"""The diagnostics of one project together, in characters of JSON: they come whole in
every subscribe ack."""
MAX_DIAGNOSTIC_MESSAGE = 4000
MAX_PATH = 4096


_Body = Model


# -- tasks ---------------------------------------------------------------------------


class TaskInfo(_Body):
    """One task of a project's task list."""

    id: str
    project: str
    title: str
    status: TaskStatus
    note: str | None = Field(default=None, description="Claude's latest word on it.")
    percent: float | None = Field(default=None, description="report_progress: 0 to 100.")
    origin: TaskOrigin
    run: str | None = Field(default=None, description="The run that last changed it.")
    updated_at: float


class TaskChanged(_Body):
    """``event`` data (kind ``task``): a task was added or changed."""

    type: Literal["task_changed"] = "task_changed"
    task: TaskInfo


class TaskRemoved(_Body):
    """``event`` data (kind ``task``): a task left the list (Claude deleted it, or
    rewrote its todo list without it)."""

    type: Literal["task_removed"] = "task_removed"
    task_id: str


class ProgressReported(_Body):
    """``event`` data (kind ``task``): report_progress without a task."""

    type: Literal["progress"] = "progress"
    message: str
    percent: float | None = None
    at: float


TaskEvent = Annotated[TaskChanged | TaskRemoved | ProgressReported, Field(discriminator="type")]
"""The ``data`` of an ``event`` of kind ``task``."""


# -- diffs and notifications ----------------------------------------------------------


class FileDiff(_Body):
    """One file's proposed change, as a unified diff against the file as it is now."""

    path: str = Field(description="As Claude named it, relative to the project.")
    diff: str = Field(description="Unified diff (empty: no change).")
    new_file: bool = Field(description="The file does not exist yet.")
    truncated: bool = Field(default=False, description="The diff was cut to the size limit.")


class ApprovalInfo(_Body):
    """A ``request_approval`` confirmation: what Claude wants approved."""

    summary: str
    changes: list[FileDiff]


class DiffPreview(_Body):
    """``event`` data (kind ``diff_preview``): Claude shows a change (``show_diff``)."""

    type: Literal["diff_preview"] = "diff_preview"
    title: str | None = None
    change: FileDiff
    at: float


class Notification(_Body):
    """``event`` data (kind ``notification``): Claude asks that a person be told."""

    type: Literal["notification"] = "notification"
    message: str
    level: NotificationLevel
    at: float


# -- diagnostics ----------------------------------------------------------------------


class Position(_Body):
    line: Annotated[StrictInt, Field(ge=0)] = Field(description="0-based, as in LSP.")
    character: Annotated[StrictInt, Field(ge=0)] = Field(description="0-based, as in LSP.")


class Range(_Body):
    start: Position
    end: Position


class Diagnostic(_Body):
    """One diagnostic, shaped like LSP's ``Diagnostic``."""

    range: Range
    severity: Annotated[StrictInt, Field(ge=1, le=4)] | None = Field(
        default=None, description="1 error, 2 warning, 3 information, 4 hint (LSP)."
    )
    message: Annotated[str, Field(min_length=1, max_length=MAX_DIAGNOSTIC_MESSAGE)]
    source: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="What found it (mypy, ruff, tsc, …)."
    )
    code: Annotated[str, Field(max_length=200)] | StrictInt | None = None


DiagnosticPath = Annotated[str, Field(min_length=1, max_length=MAX_PATH)]


class DiagnosticsInfo(_Body):
    """The latest diagnostics published for one file of a project."""

    path: str
    diagnostics: list[Diagnostic]
    published_at: float
    by: str | None = Field(default=None, description="The token that published them.")


class DiagnosticsPublished(_Body):
    """``event`` data (kind ``diagnostics``): a file's diagnostics were replaced."""

    type: Literal["diagnostics"] = "diagnostics"
    file: DiagnosticsInfo


# -- live activity --------------------------------------------------------------------

ActivityPhase = Literal["started", "finished", "failed"]


class Activity(_Body):
    """A live-only frame: Claude started or finished a tool (its hooks)."""

    type: Literal["activity"] = "activity"
    project: str
    run: str | None
    phase: ActivityPhase
    tool: str
    summary: str = Field(description='What it does, in words: "editing src/app.py".')
    at: float
