"""The neutral agent events, asks and answers of :mod:`switchboard.agents.base` as JSON
objects, for the link between the hub and a remote agent. Both ends use it, so what
one writes the other reads; anything else raises ``ValueError``."""

from dataclasses import asdict
from typing import Any

from switchboard.agents.base import (
    AgentEvent,
    AskAnswer,
    BackgroundChanged,
    BadOutput,
    Delta,
    OutputLine,
    PermissionAsk,
    Question,
    SessionIdentified,
    StoredSession,
    TurnEnded,
    TurnMetrics,
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
        case SessionIdentified():
            return {"kind": "session", "session_id": event.session_id}
        case BackgroundChanged():
            return {"kind": "background"}


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
            case "session":
                return SessionIdentified(_text(data, "session_id"))
            case "background":
                return BackgroundChanged()
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
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not text")
    return value
