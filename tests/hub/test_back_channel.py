"""The back-channel's hub side on a real SQLite store: the task list, diagnostics,
diffs, and how tool calls are refused."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from switchboard.agents.back_channel import ReportProgress, UpdateTaskStatus, read_named_files
from switchboard.agents.base import FileState, TaskReported, TodoListReported, ToolCall, ToolResult
from switchboard.exceptions import RequestRefused, StoreError
from switchboard.hub import diffs, tasks
from switchboard.hub.back_channel import BackChannel
from switchboard.hub.back_channel_errors import ToolError
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.diagnostics import DiagnosticsBoard, project_path
from switchboard.hub.diffs import file_diff
from switchboard.hub.notify import CommandNotifier
from switchboard.hub.tasks import TaskBoard
from switchboard.protocol.back_channel import Diagnostic
from switchboard.store.records import NewEvent, ProjectRecord
from switchboard.store.sqlite.back_channel import SqliteBackChannelStore
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.writer import Writer

PROJECT = ProjectRecord("alpha", Path("/p/alpha"), "alpha", None, 1, 0.0)


class Log:
    """The events appended, as (project, kind, body)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    async def append(self, project_id: str, event: NewEvent) -> None:
        self.events.append((project_id, event.kind, json.loads(event.body)))


@pytest.fixture
async def store(
    engine: Engine, writer: Writer, event_log: SqliteEventLog
) -> SqliteBackChannelStore:
    store = SqliteBackChannelStore(engine, writer)
    await store.load()
    return store


async def test_tasks_survive_a_reload_and_unknown_ids_are_refused(
    engine: Engine, writer: Writer, store: SqliteBackChannelStore
) -> None:
    log = Log()
    board = TaskBoard(store, log.append)
    with pytest.raises(ToolError) as refused:
        await board.update("alpha", None, UpdateTaskStatus(task_id="t1", status="in_progress"))
    assert refused.value.code == "unknown_task"
    await board.update("alpha", "r1", UpdateTaskStatus(task_id="t1", status="pending", title="T"))
    await board.progress("alpha", "r1", ReportProgress(message="half", percent=50, task_id="t1"))
    with pytest.raises(ToolError, match="no task 'nope'"):
        await board.progress("alpha", None, ReportProgress(message="x", task_id="nope"))
    await board.progress("alpha", None, ReportProgress(message="overall"))
    assert [kind for _, kind, _ in log.events] == ["task", "task", "task"]
    assert log.events[-1][2]["type"] == "progress"

    reloaded = SqliteBackChannelStore(engine, writer)
    await reloaded.load()
    [task] = reloaded.tasks("alpha")
    assert (task.id, task.title, task.note, task.percent, task.run) == ("t1", "T", "half", 50, "r1")


async def test_a_todo_list_replaces_the_last_and_task_tools_update_in_place(
    store: SqliteBackChannelStore,
) -> None:
    log = Log()
    board = TaskBoard(store, log.append)
    await board.todo_list(
        "alpha", None, TodoListReported((("Read", "completed"), ("Write", "in_progress")))
    )
    await board.todo_list("alpha", None, TodoListReported((("Read", "completed"),)))
    assert [(t.id, t.status) for t in board.tasks("alpha")] == [("todo-1", "completed")]
    assert log.events[-1][2] == {"type": "task_removed", "task_id": "todo-2"}
    unchanged = len(log.events)
    await board.todo_list("alpha", None, TodoListReported((("Read", "completed"),)))
    assert len(log.events) == unchanged, "an unchanged item is not logged again"

    await board.reported("alpha", None, TaskReported("7", "Parse", "pending"))
    await board.reported("alpha", None, TaskReported("7", None, "in_progress"))
    assert [(t.id, t.title, t.status) for t in board.tasks("alpha")][-1] == (
        "7",
        "Parse",
        "in_progress",
    )
    await board.reported("alpha", None, TaskReported("7", None, "deleted"))
    assert [t.id for t in board.tasks("alpha")] == ["todo-1"]


async def test_a_full_task_list_drops_finished_tasks_then_refuses(
    store: SqliteBackChannelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "MAX_TASKS", 2)
    board = TaskBoard(store, Log().append)
    await board.update("alpha", None, UpdateTaskStatus(task_id="a", status="completed", title="A"))
    await board.update("alpha", None, UpdateTaskStatus(task_id="b", status="pending", title="B"))
    await board.update("alpha", None, UpdateTaskStatus(task_id="c", status="pending", title="C"))
    assert [t.id for t in board.tasks("alpha")] == ["b", "c"], "the finished one went"
    with pytest.raises(ToolError) as refused:
        await board.update(
            "alpha", None, UpdateTaskStatus(task_id="d", status="pending", title="D")
        )
    assert refused.value.code == "too_many_tasks"
    await board.reported("alpha", None, TaskReported("1", "mirrored", "pending"))
    assert [t.id for t in board.tasks("alpha")] == ["c", "1"], "a mirror pushes the oldest out"


def diagnostic(message: str) -> Diagnostic:
    return Diagnostic.model_validate(
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
            "message": message,
        }
    )


async def test_diagnostics_replace_per_file_and_are_bounded(
    store: SqliteBackChannelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Log()
    board = DiagnosticsBoard(store, log.append)
    await board.publish(PROJECT, "/p/alpha/src/a.py", [diagnostic("one")], "ide")
    await board.publish(PROJECT, "src/a.py", [diagnostic("two")], None)
    [file] = board.of_project("alpha")
    assert (file.path, [d.message for d in file.diagnostics]) == ("src/a.py", ["two"])
    monkeypatch.setattr("switchboard.hub.diagnostics.MAX_DIAGNOSTIC_PATHS", 1)
    with pytest.raises(RequestRefused) as refused:
        await board.publish(PROJECT, "src/b.py", [diagnostic("x")], None)
    assert refused.value.code == "limit_reached"
    await board.publish(PROJECT, "src/a.py", [], None)  # clears: room again
    assert board.of_project("alpha") == []
    await board.publish(PROJECT, "src/b.py", [diagnostic("x")], None)
    assert [kind for _, kind, _ in log.events] == ["diagnostics"] * 4


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "/etc/passwd", "/p/alphabet/x.py", ".", "a/../../b", "x\x1b.py"]
)
def test_a_diagnostics_path_outside_the_project_is_refused(path: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        project_path(PROJECT, path)
    assert refused.value.code == "bad_path"


def test_diffs_against_the_file_as_read_and_their_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edited = file_diff("a.txt", FileState("one\ntwo\n"), "one\nthree\n", None)
    assert "-two\n+three\n" in edited.diff and not edited.new_file
    created = file_diff("b.txt", FileState(None), "new", None)
    assert created.new_file and created.diff.startswith("--- /dev/null\n+++ b/b.txt\n")
    given = file_diff("c.txt", None, None, "@@ -1 +1 @@\n-a\n+b\n")
    assert given.diff == "@@ -1 +1 @@\n-a\n+b\n"
    with pytest.raises(ToolError) as refused:
        file_diff("d.txt", FileState(None, "not UTF-8 text"), "x", None)
    assert (refused.value.code, refused.value.message) == ("bad_path", "d.txt: not UTF-8 text")
    with pytest.raises(ToolError, match="either new_content or diff"):
        file_diff("e.txt", None, "x", "y")
    with pytest.raises(ToolError) as too_large:
        file_diff("f.txt", None, "x" * (diffs.MAX_CONTENT_CHARS + 1), None)
    assert too_large.value.code == "content_too_large"
    monkeypatch.setattr(diffs, "MAX_DIFF_CHARS", 10)
    cut = file_diff("g.txt", FileState(""), "0123456789\n" * 5, None)
    assert cut.truncated and len(cut.diff) == 10


async def test_a_call_with_bad_arguments_gets_an_error_result(
    store: SqliteBackChannelStore, tmp_path: Path
) -> None:
    log = Log()
    book = ConfirmationBook(lambda *_: _nothing(), {"approval": 60.0})
    channel = BackChannel(
        store, TaskBoard(store, log.append), DiagnosticsBoard(store, log.append), book, log.append
    )
    replies: list[ToolResult] = []

    async def reply(result: ToolResult) -> bool:
        replies.append(result)
        return True

    await channel.call(PROJECT, None, ToolCall("c1", "notify_user", {"level": "loud"}), reply)
    await channel.call(PROJECT, None, ToolCall("c2", "no_such_tool", {}), reply)
    big = {"summary": "s", "changes": [{"path": f"{n}", "diff": "x" * 900_000} for n in range(5)]}
    await channel.call(PROJECT, None, ToolCall("c3", "request_approval", big), reply)
    assert [r.is_error for r in replies] == [True, True, True]
    assert replies[0].text.startswith("error bad_arguments: message: Field required; level:")
    assert replies[1].text == "error bad_arguments: no tool 'no_such_tool'"
    assert replies[2].text.startswith("error content_too_large: the changes hold 4500000")
    assert log.events == [] and book.pending() == []


async def _nothing() -> None:
    return None


async def test_refusals_the_review_found(
    store: SqliteBackChannelStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Changes that are not objects, a store that fails, a diagnostics budget, a mirrored
    task updated by the tool, the diffs' budgets, and what --on-notification is told."""
    log = Log()
    told = tmp_path / "told.json"
    notifier = CommandNotifier(["sh", "-c", f"cat > {told}"], option="--on-notification")
    board = TaskBoard(store, log.append)
    diagnostics = DiagnosticsBoard(store, log.append)
    book = ConfirmationBook(lambda *_: _nothing(), {"approval": 60.0})
    channel = BackChannel(store, board, diagnostics, book, log.append, notifier=notifier)
    replies: list[ToolResult] = []

    async def reply(result: ToolResult) -> bool:
        replies.append(result)
        return True

    odd = ToolCall("c1", "request_approval", {"summary": "s", "changes": ["a.py"]})
    await channel.call(PROJECT, None, read_named_files(tmp_path, odd), reply)
    assert replies[-1].text.startswith("error bad_arguments: changes.0:")

    await board.todo_list("alpha", None, TodoListReported((("Read", "pending"),)))
    await channel.call(
        PROJECT,
        None,
        ToolCall("c2", "update_task_status", {"task_id": "todo-1", "status": "completed"}),
        reply,
    )
    [task] = board.tasks("alpha")
    assert (task.origin, task.status) == ("todo", "completed"), "it stays Claude's todo"

    await channel.call(PROJECT, "r1", ToolCall("c3", "notify_user", {"message": "hi"}), reply)
    await notifier.aclose()
    payload = json.loads(told.read_text())
    assert (payload["project"], payload["project_name"], payload["run"]) == ("alpha", "alpha", "r1")
    assert (payload["message"], payload["level"]) == ("hi", "info")

    async def failing(project_id: str, event: NewEvent) -> None:
        raise StoreError("disk full")

    broken = BackChannel(store, TaskBoard(store, failing), diagnostics, book, failing)
    await broken.call(PROJECT, None, ToolCall("c4", "notify_user", {"message": "x"}), reply)
    assert replies[-1].is_error and replies[-1].text.startswith("error internal: ")

    monkeypatch.setattr("switchboard.hub.diagnostics.MAX_DIAGNOSTIC_CHARS", 700)
    await diagnostics.publish(PROJECT, "a.py", [diagnostic("x" * 100)], None)
    with pytest.raises(RequestRefused) as refused:
        await diagnostics.publish(PROJECT, "b.py", [diagnostic("y" * 600)], None)
    assert refused.value.code == "limit_reached"
    await diagnostics.publish(PROJECT, "a.py", [diagnostic("z" * 120)], None)  # replaces
    monkeypatch.setattr("switchboard.hub.back_channel.MAX_RESULT_CHARS", 10)
    await diagnostics.publish(PROJECT, "c.py", [diagnostic("c")], None)
    await channel.call(PROJECT, None, ToolCall("c5", "get_diagnostics", {}), reply)
    answer = json.loads(replies[-1].text)
    assert [f["path"] for f in answer["files"]] == ["a.py"] and answer["omitted_files"] == 1


def test_diff_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diffs, "MAX_DIFFED_LINES", 3)
    whole = file_diff("a.txt", FileState("a\nb\nc\nd\n"), "a\nb\nc\nD\n", None)
    assert "-a\n-b\n-c\n-d\n+a\n+b\n+c\n+D\n" in whole.diff, "past the line limit: all out, all in"
    monkeypatch.setattr(diffs, "MAX_APPROVAL_DIFF_CHARS", 30)
    big = [file_diff(f"{n}.txt", FileState(None), "0123456789\n", None) for n in range(3)]
    fitted = diffs.within_budget(big)
    assert sum(len(c.diff) for c in fitted) <= 30
    assert [c.truncated for c in fitted] == [True, True, True] or fitted[-1].diff == ""
