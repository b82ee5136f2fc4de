"""Turn accounting: a run's own cost from the CLI's per-process total; follow-up turns."""

import json
from typing import Any

import pytest

from switchboard.agents.claude.driver import DELTA_STARTS_A_TURN
from switchboard.agents.claude.metrics import TurnAccounting, starts_a_turn


def result(total: float, **fields: Any) -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "total_cost_usd": total,
        "num_turns": 1,
        "duration_ms": 12,
        "usage": {"input_tokens": 2560, "output_tokens": 9},
        "session_id": "s1",
        **fields,
    }


def test_each_turn_costs_the_difference_from_the_last_total() -> None:
    books = TurnAccounting()
    costs = [books.finish(result(total)).cost_usd for total in (0.0104, 0.0209, 0.0314)]
    assert costs == pytest.approx([0.0104, 0.0105, 0.0105])


def test_a_turn_without_a_total_has_no_cost_and_keeps_the_books() -> None:
    books = TurnAccounting()
    books.finish(result(0.01))
    assert books.finish({"type": "result", "num_turns": 1}).cost_usd is None
    assert books.finish(result(0.03)).cost_usd == pytest.approx(0.02)


def test_the_turn_figures_are_taken_as_they_are() -> None:
    metrics = TurnAccounting().finish(result(0.5))
    assert (metrics.num_turns, metrics.duration_ms, metrics.session_id) == (1, 12, "s1")
    assert metrics.usage == {"input_tokens": 2560, "output_tokens": 9}


def test_figures_that_do_not_fit_the_database_are_left_out() -> None:
    """A CLI line may hold integers of any size (or 1e400): a run is still recorded."""
    books = TurnAccounting()
    metrics = books.finish(
        result(
            float("inf"),
            num_turns=10**30,
            duration_ms=-1,
            usage=json.loads('{"a": ' + "[" * 20 + "]" * 20 + "}"),  # deeper than a usage
        )
    )
    assert (metrics.num_turns, metrics.duration_ms, metrics.cost_usd, metrics.usage) == (
        None,
        None,
        None,
        None,
    )
    assert books.finish(result(2.0**70)).cost_usd == 2.0**70  # a float is a float


def test_an_authentication_failure_says_what_to_do() -> None:
    books = TurnAccounting()
    books.observe(
        {
            "type": "assistant",
            "error": "authentication_failed",
            "message": {"content": [{"type": "text", "text": "Not logged in · Please run /login"}]},
        }
    )
    failure = books.failure(result(0, is_error=True, result="Not logged in · Please run /login"))
    assert failure is not None
    assert "Not logged in" in failure and "ANTHROPIC_API_KEY" in failure and "/login" in failure
    # The next failure is judged afresh.
    assert books.failure(result(0, is_error=True, errors=["boom"])) == "boom"


def test_other_failures_give_the_cli_errors_or_its_text() -> None:
    books = TurnAccounting()
    assert books.failure(result(0)) is None
    assert books.failure(result(0, is_error=True, errors=["a", "b"])) == "a; b"
    assert books.failure(result(0, is_error=True, result="API Error: 400")) == "API Error: 400"
    assert "error_max_turns" in str(
        books.failure(result(0, is_error=True, subtype="error_max_turns"))
    )


@pytest.mark.parametrize(
    ("line", "starts"),
    [
        ({"type": "system", "subtype": "init"}, True),
        ({"type": "system", "subtype": "task_notification", "status": "completed"}, True),
        ({"type": "assistant", "message": {}}, True),
        ({"type": "stream_event", "event": {}}, True),
        ({"type": "system", "subtype": "api_retry"}, True),
        ({"type": "system", "subtype": "session_state_changed", "state": "running"}, True),
        ({"type": "system", "subtype": "session_state_changed", "state": "idle"}, False),
        ({"type": "system", "subtype": "background_tasks_changed", "tasks": []}, False),
        ({"type": "system", "subtype": "task_updated"}, False),
        ({"type": "system", "subtype": "status", "status": None, "permissionMode": "plan"}, False),
        ({"type": "command_lifecycle", "state": "completed"}, False),
        ({"type": "control_response", "response": {}}, False),
        ({"type": "result"}, False),
    ],
)
def test_what_begins_a_follow_up_turn(line: dict[str, Any], starts: bool) -> None:
    assert starts_a_turn(line) is starts


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message_start", "message": {"id": "msg_1", "content": []}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}},
        {"type": "message_stop"},
        {},
    ],
)
def test_a_delta_begins_a_turn_by_its_type_alone(event: dict[str, Any]) -> None:
    """The driver passes ``stream_event`` lines on without parsing them (the hot path
    while Claude types), with this flag: it must not depend on what the line holds."""
    line = {"type": "stream_event", "event": event, "session_id": "s"}
    assert starts_a_turn(line) is DELTA_STARTS_A_TURN
