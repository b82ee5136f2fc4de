"""How ``switchboard tail`` prints the back-channel's events."""

from switchboard.back_channel_lines import activity_line
from switchboard.event_lines import describe


def event(kind: str, data: dict[str, object]) -> dict[str, object]:
    return {"type": "event", "project": "p", "seq": 1, "run": None, "kind": kind, "data": data}


def test_tasks_progress_notifications_and_diagnostics() -> None:
    task = {"id": "t1", "title": "Parse", "status": "in_progress", "note": "half", "percent": 50}
    assert describe(event("task", {"type": "task_changed", "task": task})) == [
        "[~] task t1: Parse (50%) - half"
    ]
    assert describe(event("task", {"type": "task_removed", "task_id": "t1"})) == [
        "· task t1 removed"
    ]
    assert describe(event("task", {"type": "progress", "message": "on it", "percent": None})) == [
        "· progress: on it"
    ]
    assert describe(event("notification", {"message": "done", "level": "error"})) == [
        "! Claude (error): done"
    ]
    found = {
        "range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 7}},
        "severity": 1,
        "message": "undefined name",
        "source": "ruff",
    }
    file = {"path": "a.py", "diagnostics": [found], "by": "ide"}
    assert describe(event("diagnostics", {"type": "diagnostics", "file": file})) == [
        "· diagnostics for a.py by ide: 1",
        "  3:5 error: undefined name [ruff]",
    ]


def test_diffs_and_approvals_show_the_diff() -> None:
    change = {"path": "a.py", "diff": "--- a/a.py\n+++ b/a.py\n-x\n+y\n", "new_file": False}
    preview = describe(event("diff_preview", {"title": "Rename", "change": change}))
    assert preview == ["± Rename: a.py", "  | --- a/a.py", "  | +++ b/a.py", "  | -x", "  | +y"]
    confirmation = {
        "id": "c1",
        "kind": "approval",
        "options": ["approve", "reject"],
        "timeout_seconds": 600,
        "approval": {"summary": "Rename x", "changes": [{**change, "truncated": True}]},
    }
    lines = describe(
        event("confirmation", {"type": "confirmation_required", "confirmation": confirmation})
    )
    assert lines[0] == "? Claude asks to approve changes: Rename x"
    assert "  | +y" in lines and "  | … (cut)" in lines
    assert lines[-1] == "  confirmation c1 (approve/reject), 600 s to answer"
    assert activity_line({"phase": "started", "summary": "editing a.py"}) == "… editing a.py"
