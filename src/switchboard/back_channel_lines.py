"""Turn the back-channel's events into terminal lines (pure; ``switchboard tail``):
tasks, diff previews, notifications, diagnostics, approvals, live activity."""

from typing import Any

DIFF_LINES_SHOWN = 200
"""A diff longer than this is cut in the terminal (the event keeps it whole)."""
SEVERITIES = {1: "error", 2: "warning", 3: "info", 4: "hint"}
STATUS_MARKS = {
    "pending": "[ ]",
    "in_progress": "[~]",
    "completed": "[x]",
    "blocked": "[!]",
    "failed": "[✗]",
}


def task_lines(data: dict[str, Any]) -> list[str]:
    kind = data.get("type")
    if kind == "task_changed":
        task = data.get("task") or {}
        mark = STATUS_MARKS.get(str(task.get("status")), "[?]")
        line = f"{mark} task {task.get('id')}: {task.get('title')}"
        if task.get("percent") is not None:
            line += f" ({task['percent']:g}%)"
        if task.get("note"):
            line += f" - {task['note']}"
        return [line]
    if kind == "task_removed":
        return [f"· task {data.get('task_id')} removed"]
    if kind == "progress":
        percent = f" ({data['percent']:g}%)" if data.get("percent") is not None else ""
        return [f"· progress{percent}: {data.get('message')}"]
    return []


def diff_lines(change: dict[str, Any], heading: str) -> list[str]:
    """A heading, then the unified diff indented (cut at DIFF_LINES_SHOWN lines)."""
    lines = [heading]
    diff = str(change.get("diff") or "").splitlines()
    lines += [f"  | {line}" for line in diff[:DIFF_LINES_SHOWN]]
    if len(diff) > DIFF_LINES_SHOWN or change.get("truncated"):
        lines.append("  | … (cut)")
    return lines


def diff_preview_lines(data: dict[str, Any]) -> list[str]:
    change = data.get("change") or {}
    title = data.get("title") or "proposed change"
    new = " (new file)" if change.get("new_file") else ""
    return diff_lines(change, f"± {title}: {change.get('path')}{new}")


def notification_lines(data: dict[str, Any]) -> list[str]:
    level = str(data.get("level", "info"))
    mark = {"error": "!", "warning": "!"}.get(level, "*")
    return [f"{mark} Claude ({level}): {data.get('message')}"]


def diagnostics_lines(data: dict[str, Any]) -> list[str]:
    file = data.get("file") or {}
    found = file.get("diagnostics") or []
    by = f" by {file['by']}" if file.get("by") else ""
    lines = [f"· diagnostics for {file.get('path')}{by}: {len(found)}"]
    for diagnostic in found[:20]:
        start = (diagnostic.get("range") or {}).get("start") or {}
        severity = SEVERITIES.get(diagnostic.get("severity"), "note")
        source = f" [{diagnostic['source']}]" if diagnostic.get("source") else ""
        position = f"{start.get('line', 0) + 1}:{start.get('character', 0) + 1}"
        lines.append(f"  {position} {severity}: {diagnostic.get('message')}{source}")
    return lines


def approval_lines(confirmation: dict[str, Any], how: str) -> list[str]:
    approval = confirmation.get("approval") or {}
    lines = [f"? Claude asks to approve changes: {approval.get('summary')}"]
    for change in approval.get("changes") or []:
        new = " (new file)" if change.get("new_file") else ""
        lines += diff_lines(change, f"  {change.get('path')}{new}")
    return [*lines, how]


def activity_line(frame: dict[str, Any]) -> str:
    marks = {"started": "…", "finished": "✓", "failed": "✗"}
    return f"{marks.get(str(frame.get('phase')), '·')} {frame.get('summary')}"
