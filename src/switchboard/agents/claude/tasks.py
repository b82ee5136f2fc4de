"""Claude's own task lists, mirrored: TodoWrite, and the TaskCreate / TaskUpdate tools.

* TodoWrite sends the whole list each time: its tool_use becomes a
  :class:`~switchboard.agents.base.TodoListReported`.
* TaskCreate learns its id only from its result (``tool_use_result.task.id``), and a
  TaskUpdate counts once its result says it succeeded: each becomes a
  :class:`~switchboard.agents.base.TaskReported` when its result line comes.
"""

from typing import Any

from switchboard.agents.base import AgentEvent, TaskReported, TodoListReported

MAX_WATCHED = 256
"""Task tool calls awaiting their result, remembered at most."""


class TaskMirror:
    """Reads a CLI's assistant and user lines for its task tools."""

    def __init__(self) -> None:
        self._calls: dict[str, tuple[str, dict[str, Any]]] = {}  # tool_use_id → call

    def observe(self, kind: str, data: dict[str, Any]) -> list[AgentEvent]:
        message = data.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            return []
        if kind == "assistant":
            return self._tool_uses(content)
        if kind == "user":
            return self._results(content, data.get("tool_use_result"))
        return []

    def _tool_uses(self, content: list[Any]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "tool_use":
                continue
            name, tool_input = block.get("name"), block.get("input")
            if not isinstance(tool_input, dict):
                continue
            if name == "TodoWrite":
                events.append(TodoListReported(_todo_items(tool_input.get("todos"))))
            elif name in {"TaskCreate", "TaskUpdate"} and isinstance(block.get("id"), str):
                if len(self._calls) >= MAX_WATCHED:
                    self._calls.pop(next(iter(self._calls)))
                self._calls[block["id"]] = (name, tool_input)
        return events

    def _results(self, content: list[Any], result: Any) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            call = self._calls.pop(str(block.get("tool_use_id")), None)
            if call is None or block.get("is_error") or not isinstance(result, dict):
                continue
            name, tool_input = call
            if name == "TaskCreate":
                task = result.get("task")
                if isinstance(task, dict) and task.get("id") is not None:
                    title = _text(tool_input.get("subject")) or _text(task.get("subject"))
                    events.append(TaskReported(str(task["id"]), title, "pending"))
            elif result.get("success") is True and tool_input.get("taskId") is not None:
                events.append(
                    TaskReported(
                        str(tool_input["taskId"]),
                        _text(tool_input.get("subject")),
                        _text(tool_input.get("status")),
                    )
                )
        return events


def _todo_items(todos: Any) -> tuple[tuple[str, str], ...]:
    items: list[tuple[str, str]] = []
    for todo in todos if isinstance(todos, list) else []:
        if isinstance(todo, dict) and _text(todo.get("content")):
            items.append((str(todo["content"]), _text(todo.get("status")) or "pending"))
    return tuple(items)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
