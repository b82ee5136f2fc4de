"""What alerts say: per kind of confirmation, per run end, and clipped to fit a push."""

from typing import Any

from switchboard.hub.notifications.alert_texts import (
    MAX_PAYLOAD_BYTES,
    confirmation_alert,
    fitted,
    run_alert,
)
from switchboard.protocol.back_channel import ApprovalInfo, FileDiff
from switchboard.protocol.messages import ConfirmationInfo, RunInfo
from switchboard.protocol.skills import SkillQuestion


def confirmation(**fields: Any) -> ConfirmationInfo:
    base: dict[str, Any] = {
        "id": "c1",
        "project": "p1",
        "run": "r1",
        "kind": "tool_permission",
        "tool_name": "Bash",
        "input": {"command": "rm -rf build", "description": "Clean"},
        "summary": "rm -rf build",
        "suggestions": [],
        "options": ["allow", "deny"],
        "timeout_seconds": 600,
        "remaining_seconds": 600,
        "paused": False,
        "created_at": 1.0,
    }
    return ConfirmationInfo.model_validate(base | fields)


def test_a_tool_permission_names_the_tool_and_what_it_would_do() -> None:
    alert = confirmation_alert(confirmation(), "web", 5.0)
    assert (alert.kind, alert.title, alert.body) == (
        "confirmation",
        "web: Claude asks to use Bash",
        "rm -rf build",
    )
    assert (alert.tag, alert.confirmation, alert.run, alert.at) == ("c1", "c1", "r1", 5.0)
    odd = confirmation_alert(confirmation(tool_name="Odd", input={"n": 1}, summary=None), "web", 0)
    assert (odd.title, odd.body) == ("web: Claude asks to use Odd", "")


def test_questions_plans_approvals_and_skills() -> None:
    question = confirmation(
        kind="question",
        tool_name="AskUserQuestion",
        input={
            "questions": [
                {"question": "Which color?", "options": [{"label": "Red"}, {"label": "Blue"}]}
            ]
        },
        summary="Which color? (Red / Blue)",
    )
    alert = confirmation_alert(question, "web", 0)
    assert (alert.kind, alert.title, alert.body) == (
        "question",
        "web: Claude asks a question",
        "Which color? (Red / Blue)",
    )
    plan = confirmation_alert(confirmation(kind="plan", plan="1. do it"), "web", 0)
    assert (plan.kind, plan.title, plan.body) == (
        "confirmation",
        "web: Claude asks to approve its plan",
        "1. do it",
    )
    approval = ApprovalInfo(
        summary="Rename", changes=[FileDiff(path="a.py", diff="", new_file=False)]
    )
    asked = confirmation_alert(confirmation(kind="approval", approval=approval), "web", 0)
    assert asked.body == "Rename\na.py"
    skill = SkillQuestion(skill_id="deploy", step_index=0, prompt="Ship it?")
    skilled = confirmation_alert(confirmation(kind="skill", run=None, skill=skill), "web", 0)
    assert (skilled.kind, skilled.title, skilled.body) == (
        "question",
        "web: deploy asks",
        "Ship it?",
    )


def run(**fields: Any) -> RunInfo:
    base: dict[str, Any] = {
        "id": "r1",
        "project": "p1",
        "state": "completed",
        "prompt": "fix the tests",
        "created_at": 1.0,
    }
    return RunInfo.model_validate(base | fields)


def test_only_completed_and_failed_runs_alert() -> None:
    done = run_alert(run(cost_usd=0.0123), "web", 0)
    assert done is not None
    assert (done.kind, done.title, done.body) == (
        "run_completed",
        "web: run finished",
        "fix the tests\n$0.0123",
    )
    failed = run_alert(run(state="failed", error="timed out"), "web", 0)
    assert failed is not None and (failed.kind, failed.body) == (
        "run_failed",
        "fix the tests\ntimed out",
    )
    follow_up = run_alert(run(origin="claude"), "web", 0)
    assert follow_up is not None and follow_up.title == "web: Claude's follow-up finished"
    for state in ("cancelled", "interrupted", "running", "queued"):
        assert run_alert(run(state=state), "web", 0) is None


def test_texts_are_clipped_and_the_payload_fits_a_push() -> None:
    huge = confirmation(input={"command": "\x01" * 5000}, tool_name="T" * 500)
    alert = fitted(confirmation_alert(huge, "n" * 500, 0))
    assert len(alert.title) <= 120 and alert.title.endswith("…")
    assert len(alert.model_dump_json().encode()) <= MAX_PAYLOAD_BYTES
    assert alert.body  # shortened, not dropped
    wide = fitted(confirmation_alert(confirmation(input={"command": "字" * 5000}), "web", 0))
    assert len(wide.model_dump_json().encode()) <= MAX_PAYLOAD_BYTES
