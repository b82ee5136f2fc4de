"""The neutral agent events, asks and answers, back-channel tool calls and results of
:mod:`switchboard.agents.base` as JSON objects, for the link between the hub and a
remote agent. Both ends use it, so what one writes the other reads; anything else
raises ``ValueError``."""

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from switchboard.agents.base import (
    AgentEvent,
    AskAnswer,
    BackgroundChanged,
    BadOutput,
    CostSoFar,
    Delta,
    FileState,
    LaunchSpec,
    OutputLine,
    PermissionAsk,
    Question,
    SessionIdentified,
    StoredSession,
    TaskReported,
    TodoListReported,
    ToolActivity,
    ToolCall,
    ToolResult,
    TurnEnded,
    TurnMetrics,
)
from switchboard.agents.containment import Confinement

MAX_CALL_ID = 200
"""A tool call's id comes back in ``withdrawn``, whose ``request_id`` is bounded so."""
ACTIVITY_PHASES = ("started", "finished", "failed")


def launch_to_wire(spec: LaunchSpec, ask_permissions: bool) -> dict[str, Any]:
    """A ``launch`` command's arguments (``ask_permissions``: the hub has a handler for
    the asks). The agent's own side (where its processes are confined, the directory it
    opens) is not sent."""
    return {
        "cwd": str(spec.cwd),
        "resume": spec.resume,
        "model": spec.model,
        "permission_mode": spec.permission_mode,
        "ask_permissions": ask_permissions,
        "back_channel": spec.back_channel,
    }


def launch_from_wire(
    args: dict[str, Any], cwd: Path, spawn_cwd: Path | None, confinement: Confinement | None
) -> LaunchSpec:
    """The spec of a ``launch`` command, at ``cwd`` as the agent checked it. A hub that
    does not say ``back_channel`` takes no tool calls: the CLI gets no tools."""
    return LaunchSpec(
        cwd=cwd,
        spawn_cwd=spawn_cwd,
        resume=_optional(args, "resume"),
        model=_optional(args, "model"),
        permission_mode=_optional(args, "permission_mode"),
        ask_permissions=bool(args.get("ask_permissions", True)),
        confinement=confinement,
        back_channel=bool(args.get("back_channel", False)),
    )


def event_to_wire(event: AgentEvent) -> dict[str, Any]:
    match event:
        case OutputLine():
            return {"kind": "line", "text": event.text, "starts_turn": event.starts_turn}
        case Delta():
            return {"kind": "delta", "text": event.text, "starts_turn": event.starts_turn}
        case BadOutput():
            return {"kind": "bad", "error": event.error, "preview": event.preview}
        case TurnEnded():
            return {
                "kind": "turn_ended",
                "metrics": asdict(event.metrics),
                "failure": event.failure,
                "lost_session": event.lost_session,
            }
        case CostSoFar():
            return {"kind": "cost", "cost_usd": event.cost_usd}
        case SessionIdentified():
            return {"kind": "session", "session_id": event.session_id}
        case BackgroundChanged():
            return {"kind": "background"}
        case TaskReported():
            return {
                "kind": "task",
                "task_id": event.task_id,
                "title": event.title,
                "status": event.status,
            }
        case TodoListReported():
            return {"kind": "todos", "items": [list(item) for item in event.items]}
        case ToolActivity():
            return {
                "kind": "activity",
                "phase": event.phase,
                "tool": event.tool,
                "summary": event.summary,
            }


def event_from_wire(data: dict[str, Any]) -> AgentEvent:
    try:
        match data["kind"]:
            case "line":
                return OutputLine(_text(data, "text"), bool(data["starts_turn"]))
            case "delta":
                return Delta(_text(data, "text"), bool(data["starts_turn"]))
            case "bad":
                return BadOutput(_text(data, "error"), _text(data, "preview"))
            case "turn_ended":
                m = data["metrics"]
                metrics = TurnMetrics(
                    m["duration_ms"], m["num_turns"], m["cost_usd"], m["usage"], m["session_id"]
                )
                return TurnEnded(metrics, data["failure"], bool(data["lost_session"]))
            case "cost":
                return CostSoFar(_cost(data["cost_usd"]))
            case "session":
                return SessionIdentified(_text(data, "session_id"))
            case "background":
                return BackgroundChanged()
            case "task":
                return TaskReported(
                    _text(data, "task_id"),
                    _optional_text(data, "title"),
                    _optional_text(data, "status"),
                )
            case "todos":
                return TodoListReported(tuple(_pair(item) for item in data["items"]))
            case "activity":
                phase = data["phase"]
                if phase not in ACTIVITY_PHASES:
                    raise TypeError(f"unknown activity phase {phase!r}")
                return ToolActivity(phase, _text(data, "tool"), _text(data, "summary"))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not an agent event: {exc!r}") from exc
    raise ValueError(f"unknown agent event kind {data.get('kind')!r}")


def ask_to_wire(ask: PermissionAsk) -> dict[str, Any]:
    return asdict(ask)  # its questions as {"text", "options"}; tuples travel as lists


def ask_from_wire(data: dict[str, Any]) -> PermissionAsk:
    try:
        kind = data["kind"]
        if kind not in ("tool_permission", "question", "plan"):
            raise ValueError(f"unknown ask kind {kind!r}")
        return PermissionAsk(
            request_id=_text(data, "request_id"),
            kind=kind,
            tool_name=_text(data, "tool_name"),
            input=dict(data["input"]),
            suggestions=list(data["suggestions"]),
            rule_keys=tuple((str(k[0]), k[1], k[2]) for k in data["rule_keys"]),
            questions=tuple(
                Question(str(q["text"]), tuple(str(o) for o in q["options"]))
                for q in data["questions"]
            ),
            plan=data["plan"],
            summary=_optional_text(data, "summary") if "summary" in data else None,
        )
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"not an ask: {exc!r}") from exc


def answer_to_wire(answer: AskAnswer) -> dict[str, Any]:
    return asdict(answer)


def answer_from_wire(data: dict[str, Any]) -> AskAnswer:
    try:
        return AskAnswer(
            bool(data["allow"]), data["updated_input"], data["answers"], str(data["message"])
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not an answer: {exc!r}") from exc


def call_to_wire(call: ToolCall) -> dict[str, Any]:
    return asdict(call)  # its files as {path: {"content", "problem"}}


def call_from_wire(data: dict[str, Any]) -> ToolCall:
    try:
        call_id = _text(data, "call_id")
        if not 0 < len(call_id) <= MAX_CALL_ID:
            raise ValueError(f"a tool call's id is 1 to {MAX_CALL_ID} characters")
        arguments = data["arguments"]
        files = data["files"]
        if not isinstance(arguments, dict) or not isinstance(files, dict):
            raise TypeError("arguments and files are objects")
        return ToolCall(
            call_id,
            _text(data, "tool"),
            arguments,
            {
                _str(path): FileState(
                    _optional_text(state, "content"), _optional_text(state, "problem")
                )
                for path, state in files.items()
            },
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a tool call: {exc!r}") from exc


def result_to_wire(result: ToolResult) -> dict[str, Any]:
    return asdict(result)


def result_from_wire(data: dict[str, Any]) -> ToolResult:
    try:
        is_error = data["is_error"]
        if not isinstance(is_error, bool):
            raise TypeError("is_error is not a boolean")
        return ToolResult(_text(data, "text"), is_error)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a tool result: {exc!r}") from exc


def session_to_wire(session: StoredSession) -> dict[str, Any]:
    return asdict(session)


def session_from_wire(data: dict[str, Any]) -> StoredSession:
    try:
        return StoredSession(
            _text(data, "id"), data["first_prompt"], data["started_at"], float(data["updated_at"])
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored session: {exc!r}") from exc


def _text(data: dict[str, Any], key: str) -> str:
    return _str(data[key], key)


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data[key]
    return None if value is None else _str(value, key)


def _pair(item: object) -> tuple[str, str]:
    if not isinstance(item, list) or len(item) != 2:
        raise TypeError("a todo item is [title, status]")
    return _str(item[0], "a todo's title"), _str(item[1], "a todo's status")


def _optional(args: dict[str, Any], key: str) -> str | None:
    value = args.get(key)
    return None if value is None else str(value)


def _str(value: object, what: str = "a value") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is not text")
    return value


def _cost(value: object) -> float:
    """A cost in USD: a finite number, not below 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("a cost is a number")
    cost = float(value)
    if not math.isfinite(cost) or cost < 0:
        raise TypeError("a cost is a finite number, not below 0")
    return cost
