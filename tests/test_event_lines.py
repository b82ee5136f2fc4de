"""How the client commands print skill events, a skill's question and a plan."""

import json

from switchboard.event_lines import describe, run_summary


def skill_event(**data: object) -> dict[str, object]:
    return {"type": "event", "kind": "skill", "data": data}


def test_skill_events_print_one_line_each() -> None:
    lines = [
        describe(skill_event(type="skill_started", skill_id="d1", name="deploy", total_steps=3)),
        describe(skill_event(type="step_failed", skill_id="d1", step_index=1, error="2 failed")),
        describe(skill_event(type="step_completed", skill_id="d1", step_index=1, duration_ms=3.5)),
        describe(skill_event(type="auto_heal_completed", skill_id="d1", success=False)),
        describe(skill_event(type="something_newer", skill_id="d1")),
    ]
    assert lines == [
        ["· skill d1 (deploy) started, 3 steps"],
        ["! d1 step 1 failed: 2 failed"],
        ["· d1 step 1 done (3.5 ms)"],
        ["· auto-heal for d1 failed"],
        ["· something_newer"],
    ]


def test_a_skill_question_shows_its_prompt_options_and_hint() -> None:
    confirmation = {
        "id": "c1",
        "kind": "skill",
        "options": ["ship", "wait", "let_claude"],
        "timeout_seconds": 300.0,
        "skill": {
            "skill_id": "d1",
            "step_index": 2,
            "prompt": "Ship?",
            "claude_suggestion": "ship",
        },
    }
    event = {
        "kind": "confirmation",
        "data": {"type": "confirmation_required", "confirmation": confirmation},
    }
    assert describe(event) == [
        "? d1 step 2: Ship? (Claude suggests ship)",
        "  confirmation c1 (ship/wait/let_claude), 300 s to answer",
    ]


def test_a_plan_is_printed_whole() -> None:
    confirmation = {
        "id": "c2",
        "kind": "plan",
        "tool_name": "ExitPlanMode",
        "input": {},
        "plan": "## The plan\n\n1. Fix it",
        "options": ["allow", "deny"],
        "timeout_seconds": 600.0,
    }
    event = {
        "kind": "confirmation",
        "data": {"type": "confirmation_required", "confirmation": confirmation},
    }
    assert describe(event) == [
        "? Claude asks to approve its plan:",
        "  | ## The plan",
        "  | ",
        "  | 1. Fix it",
        "  confirmation c2 (allow/deny), 600 s to answer",
    ]


def test_api_retries_say_when_and_why() -> None:
    retry = {
        "type": "system",
        "subtype": "api_retry",
        "attempt": 2,
        "max_retries": 10,
        "retry_delay_ms": 1113,
        "error_status": 529,
        "error": "overloaded",
    }
    assert describe({"kind": "cli", "data": retry}) == [
        "· API error (overloaded, HTTP 529): retrying in 1.1 s, attempt 2 of 10"
    ]


def test_background_work_and_follow_up_runs_are_told() -> None:
    finished = {"type": "system", "subtype": "task_notification", "summary": "bg done"}
    assert describe({"kind": "cli", "data": finished}) == ["· background: bg done"]
    follow_up = {"id": "r2", "state": "running", "origin": "claude", "prompt": ""}
    assert describe({"kind": "run", "data": follow_up}) == [
        "· Claude carries on by itself (run r2)"
    ]


def test_an_imported_session_shows_its_prompts_and_answers() -> None:
    switched = {"session_id": "s1", "reason": "session.use", "imported": 2, "omitted": 3}
    assert describe({"kind": "session", "data": switched}) == [
        "· now in session s1: 2 lines of its history imported, 3 older lines left out"
    ]
    asked = {"type": "user", "message": {"role": "user", "content": "Fix the bug"}}
    answered = {"type": "assistant", "message": {"content": [{"type": "text", "text": "Done."}]}}
    assert describe({"kind": "imported", "data": asked}) == ["> Fix the bug"]
    assert describe({"kind": "imported", "data": answered}) == ["Done."]


def cli_event(data: object) -> dict[str, object]:
    return {"type": "event", "kind": "cli", "data": data}


def test_lone_surrogates_print_as_replacement_characters() -> None:
    """JSON readers keep a CLI line's "\\ud800"; UTF-8 output cannot hold it."""
    message = json.loads(
        '{"type": "assistant", "message": {"content": [{"type": "text", "text": "a\\ud800"},'
        ' {"type": "tool_use", "name": "Bash", "input": {"command": "echo \\udc00"}}]}}'
    )
    lines = describe(cli_event(message))
    assert lines == ["a\ufffd", '→ Bash {"command": "echo \\udc00"}']
    "\n".join(lines).encode("utf-8")
    failed = {"id": "r", "state": "failed", "error": "bad \ud800"}
    assert run_summary(failed) == "run r failed: bad \ufffd"


def test_lines_of_unexpected_shapes_print_without_failing() -> None:
    deep: object = "x"
    for _ in range(2000):  # deeper than Python's json writes
        deep = [deep]
    shapes: list[object] = [
        {"type": "assistant", "message": "not an object"},
        {"type": "user", "message": {"content": [{"type": "tool_result", "content": deep}]}},
        {"type": "assistant", "message": {"content": [{"type": "tool_use", "input": deep}]}},
        {"type": "system", "subtype": "api_retry", "retry_delay_ms": float("inf")},
    ]
    for data in shapes:
        describe(cli_event(data))
    assert describe({"type": "event", "kind": "imported", "data": {"message": 3}}) == []


def test_a_question_asked_again_after_a_restart_says_so() -> None:
    def expired(reason: str, fallback: str) -> dict[str, object]:
        data = {"type": "confirmation_expired", "confirmation_id": "c1"}
        return {
            "type": "event",
            "kind": "confirmation",
            "data": {**data, "reason": reason, "fallback": fallback},
        }

    assert describe(expired("timeout", "deny")) == ["· confirmation c1 expired (timeout)"]
    assert describe(expired("server_restart", "asked_again")) == [
        "· confirmation c1 expired (server_restart) - asked again"
    ]
