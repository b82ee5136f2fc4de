"""The CLI's hooks, registered with ``initialize``, as a live activity stream.

Switchboard registers PreToolUse, PostToolUse and PostToolUseFailure callbacks (for
every tool) and answers each at once with no decision, so the CLI goes on as it would
without them: permission questions still come as ``can_use_tool``. What each callback
says becomes a :class:`~switchboard.agents.base.ToolActivity` ("editing src/app.py").
"""

from typing import Any, Literal

from switchboard.agents.base import ToolActivity
from switchboard.agents.claude.stream_json import CliMessage

PHASES: dict[str, Literal["started", "finished", "failed"]] = {
    "PreToolUse": "started",
    "PostToolUse": "finished",
    "PostToolUseFailure": "failed",
}
CALLBACK_IDS = {event: f"hook_{index}" for index, event in enumerate(PHASES)}
SUMMARY_LIMIT = 120


def registration() -> dict[str, Any]:
    """``initialize``'s ``hooks``: one callback per event, for every tool."""
    return {
        event: [{"matcher": None, "hookCallbackIds": [callback]}]
        for event, callback in CALLBACK_IDS.items()
    }


def activity_in(item: CliMessage) -> ToolActivity | None:
    """The activity a ``hook_callback`` request reports (None for any other line)."""
    request = item.data.get("request")
    if item.type != "control_request" or not isinstance(request, dict):
        return None
    hook_input = request.get("input")
    if request.get("subtype") != "hook_callback" or not isinstance(hook_input, dict):
        return None
    return activity_of(hook_input)


def activity_of(hook_input: dict[str, Any]) -> ToolActivity | None:
    phase = PHASES.get(str(hook_input.get("hook_event_name")))
    tool = hook_input.get("tool_name")
    if phase is None or not isinstance(tool, str):
        return None
    tool_input = hook_input.get("tool_input")
    summary = describe(tool, tool_input if isinstance(tool_input, dict) else {})
    return ToolActivity(phase, tool, _clip(summary))


def describe(tool: str, tool_input: dict[str, Any]) -> str:
    """What a tool call does, in a few words."""

    def field(*names: str) -> str:
        for name in names:
            value = tool_input.get(name)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
        return ""

    path = field("file_path", "notebook_path", "path")
    if tool in {"Edit", "MultiEdit", "NotebookEdit"}:
        return f"editing {path}" if path else "editing a file"
    if tool == "Write":
        return f"writing {path}" if path else "writing a file"
    if tool == "Read":
        return f"reading {path}" if path else "reading a file"
    if tool == "Bash":
        what = field("description", "command")
        return f"running {what}" if what else "running a command"
    if tool in {"Grep", "Glob"}:
        pattern = field("pattern")
        return f"searching for {pattern}" if pattern else "searching"
    if tool == "WebFetch":
        return f"fetching {field('url')}".rstrip()
    if tool == "WebSearch":
        return f"searching the web for {field('query')}".rstrip()
    if tool in {"Task", "Agent"}:
        return f"delegating: {field('description', 'prompt')}".rstrip(": ")
    if tool.startswith("mcp__"):
        _, server, name = [*tool.split("__", 2), "", ""][:3]
        return f"using {name} ({server})"
    return f"using {tool}"


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"
