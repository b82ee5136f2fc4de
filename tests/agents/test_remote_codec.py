"""What one end of an agent link writes, the other reads back as it was."""

import json

import pytest

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
from switchboard.agents.remote.codec import (
    answer_from_wire,
    answer_to_wire,
    ask_from_wire,
    ask_to_wire,
    event_from_wire,
    event_to_wire,
    session_from_wire,
    session_to_wire,
)


def over_the_wire(data: dict[str, object]) -> dict[str, object]:
    result: dict[str, object] = json.loads(json.dumps(data))
    return result


def test_events_asks_answers_and_sessions_come_back_as_they_went() -> None:
    events: list[AgentEvent] = [
        OutputLine('{"type":"assistant"}', starts_turn=True),
        Delta("wor", starts_turn=False),
        BadOutput("too long", "xxx"),
        TurnEnded(TurnMetrics(12, 1, 0.01, {"input_tokens": 3}, "s-1"), None, False),
        SessionIdentified("s-1"),
        BackgroundChanged(),
    ]
    for event in events:
        assert event_from_wire(over_the_wire(event_to_wire(event))) == event
    ask = PermissionAsk(
        "r1",
        "question",
        "AskUserQuestion",
        {"questions": []},
        [{"type": "addRules"}],
        (("Bash", "ls:*", None),),
        (Question("Which?", ("a", "b")),),
        "the plan",
    )
    assert ask_from_wire(over_the_wire(ask_to_wire(ask))) == ask
    answer = AskAnswer(True, {"command": "ls"}, {"Which?": "a"}, "")
    assert answer_from_wire(over_the_wire(answer_to_wire(answer))) == answer
    session = StoredSession("s-1", "hello", 1.5, 2.5)
    assert session_from_wire(over_the_wire(session_to_wire(session))) == session


def test_what_is_not_one_of_them_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown agent event"):
        event_from_wire({"kind": "launch"})
    with pytest.raises(ValueError, match="ask"):
        ask_from_wire({"kind": "tool_permission"})
    with pytest.raises(ValueError, match="answer"):
        answer_from_wire({"allow": True})
