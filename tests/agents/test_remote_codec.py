"""What one end of an agent link writes, the other reads back as it was."""

import json
from pathlib import Path
from typing import Any

import pytest

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
from switchboard.agents.remote.codec import (
    answer_from_wire,
    answer_to_wire,
    ask_from_wire,
    ask_to_wire,
    call_from_wire,
    call_to_wire,
    event_from_wire,
    event_to_wire,
    launch_from_wire,
    launch_to_wire,
    result_from_wire,
    result_to_wire,
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
        TaskReported("t1", "Write the tests", "in_progress"),
        TaskReported("t1", None, None),
        TodoListReported((("Read", "completed"), ("Write", "pending"))),
        TodoListReported(()),
        ToolActivity("started", "Bash", "ls -la"),
        ToolActivity("failed", "Edit", "src/app.py"),
        CostSoFar(0.525),
        CostSoFar(0),
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


def test_tool_calls_with_their_files_and_results_come_back_as_they_went() -> None:
    arguments: dict[str, Any] = {
        "summary": "s",
        "changes": [{"path": "a.txt", "new_content": "x\n"}, {"path": "big.bin"}],
    }
    files = {
        "a.txt": FileState("old\n"),
        "new.txt": FileState(None),
        "big.bin": FileState(None, "not UTF-8 text"),
    }
    for call in (
        ToolCall("req-1", "request_approval", arguments, files),
        ToolCall("req-2", "get_diagnostics", {}),
    ):
        assert call_from_wire(over_the_wire(call_to_wire(call))) == call
    for result in (ToolResult("No diagnostics."), ToolResult("rejected: no", is_error=True)):
        assert result_from_wire(over_the_wire(result_to_wire(result))) == result


def test_a_launch_carries_the_back_channel_and_a_hub_that_does_not_say_gets_none() -> None:
    here = Path("/src/app")
    for back_channel in (True, False):
        spec = LaunchSpec(
            cwd=here,
            resume="s-1",
            model="m",
            permission_mode="plan",
            ask_permissions=False,
            back_channel=back_channel,
        )
        args = over_the_wire(launch_to_wire(spec, spec.ask_permissions))
        assert args["cwd"] == "/src/app"
        assert launch_from_wire(args, here, None, None) == spec
    older = {"cwd": "/src/app", "resume": None, "model": None, "permission_mode": None}
    spec = launch_from_wire(older, here, None, None)
    assert (spec.back_channel, spec.ask_permissions) == (False, True)


def test_what_is_not_one_of_them_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown agent event"):
        event_from_wire({"kind": "launch"})
    with pytest.raises(ValueError, match="ask"):
        ask_from_wire({"kind": "tool_permission"})
    with pytest.raises(ValueError, match="answer"):
        answer_from_wire({"allow": True})
    bad_events: list[dict[str, Any]] = [
        {"kind": "task", "task_id": 1, "title": None, "status": None},
        {"kind": "todos", "items": [["only a title"]]},
        {"kind": "todos", "items": ["ab"]},
        {"kind": "activity", "phase": "paused", "tool": "Bash", "summary": ""},
    ]
    for bad in bad_events:
        with pytest.raises(ValueError, match="not an agent event"):
            event_from_wire(bad)
    call = call_to_wire(ToolCall("req-1", "show_diff", {"path": "a"}, {"a": FileState("x")}))
    bad_calls: list[dict[str, Any]] = [
        {**call, "call_id": ""},
        {**call, "call_id": "x" * 201},  # could not come back in a withdrawn
        {**call, "arguments": []},
        {**call, "files": {"a": "x"}},
        {**call, "files": {"a": {"content": 5, "problem": None}}},
        {key: value for key, value in call.items() if key != "files"},
    ]
    for bad in bad_calls:
        with pytest.raises(ValueError, match="tool call"):
            call_from_wire(bad)
    for bad in ({"text": "ok"}, {"text": "ok", "is_error": "no"}, {"text": 1, "is_error": False}):
        with pytest.raises(ValueError, match="tool result"):
            result_from_wire(bad)


@pytest.mark.parametrize("cost", [-0.5, "1", None, True, float("inf")])
def test_a_cost_that_is_not_an_amount_is_refused(cost: object) -> None:
    with pytest.raises(ValueError, match="not an agent event"):
        event_from_wire({"kind": "cost", "cost_usd": cost})
