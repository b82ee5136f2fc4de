"""Background work a CLI process reports after its turn (both builds' message shapes)."""

from typing import Any

from switchboard.agents.claude.background import (
    MIN_WAKEUP_SECONDS,
    WAKEUP_MARGIN_SECONDS,
    BackgroundWork,
)


def system(subtype: str, **fields: Any) -> dict[str, Any]:
    return {"type": "system", "subtype": subtype, **fields}


def wakeup(**tool_input: Any) -> dict[str, Any]:
    block = {"type": "tool_use", "id": "t1", "name": "ScheduleWakeup", "input": tool_input}
    return {"type": "assistant", "message": {"content": [block]}}


def test_tasks_started_and_finished_as_2_1_197_reports_them() -> None:
    work = BackgroundWork()
    assert work.observe(system("task_started", task_id="b1"), 0) is True
    assert work.observe(system("task_started", task_id="b2"), 0) is True
    assert work.pending(0) == 2
    assert work.observe(system("task_updated", task_id="b1"), 0) is False
    assert work.observe(system("task_notification", task_id="b1", status="completed"), 0)
    assert work.pending(0) == 1
    work.observe(system("task_notification", task_id="b2", status="killed"), 0)
    assert work.pending(0) == 0


def test_the_full_list_of_2_1_330_is_the_truth() -> None:
    work = BackgroundWork()
    work.observe(system("task_started", task_id="gone"), 0)
    tasks = [{"task_id": "b1", "task_type": "local_bash"}, {"task_id": "b2"}]
    work.observe(system("background_tasks_changed", tasks=tasks), 0)
    assert work.pending(0) == 2
    assert work.observe(system("background_tasks_changed", tasks=[]), 0) is True
    assert work.pending(0) == 0


def test_a_wakeup_is_pending_until_a_while_after_its_time() -> None:
    work = BackgroundWork()
    assert work.observe(wakeup(delaySeconds=5, prompt="again"), now=100) is True
    due = 100 + MIN_WAKEUP_SECONDS  # the CLI waits at least a minute
    assert work.pending(due + WAKEUP_MARGIN_SECONDS - 1) == 1
    assert work.pending(due + WAKEUP_MARGIN_SECONDS) == 0


def test_a_wakeup_ends_when_it_fires_or_is_stopped() -> None:
    work = BackgroundWork()
    work.observe(wakeup(delaySeconds=600), now=0)
    work.follow_up_started(now=10)  # too early: another turn, not the wake-up
    assert work.pending(10) == 1
    work.follow_up_started(now=600)
    assert work.pending(600) == 0
    work.observe(wakeup(delaySeconds=600), now=700)
    work.observe(wakeup(stop=True), now=701)
    assert work.pending(701) == 0


def test_other_messages_change_nothing() -> None:
    work = BackgroundWork()
    assert work.observe({"type": "user", "message": {"content": "hi"}}, 0) is False
    assert work.observe(system("task_started"), 0) is False  # no id: nothing to track
    assert work.pending(0) == 0
