"""Work a CLI process keeps doing after its turn ended (pure; no I/O; the clock is given).

A ``result`` ends a turn, not the CLI's work. Commands run with ``run_in_background``,
monitors and agents started in the background go on, and when one finishes the CLI
starts a follow-up turn by itself. A wake-up scheduled with ``ScheduleWakeup`` starts
one later too. Closing the CLI's stdin, or stopping the process, ends all of that, so
while this says work is pending the process must be kept.

What the CLI prints about it (checked with 2.1.197 and 2.1.330):

* ``system/task_started`` and ``system/task_notification`` (with a final ``status``)
  for every background task, in both builds;
* ``system/background_tasks_changed`` with the whole list of running tasks (2.1.330
  only), which is taken as the truth whenever it comes;
* for wake-ups, only the ``ScheduleWakeup`` tool call: ``delaySeconds`` (the CLI waits
  at least a minute), or ``stop: true`` to cancel.
"""

from collections.abc import Mapping
from typing import Any

FINAL_TASK_STATES = frozenset({"completed", "failed", "killed", "stopped", "cancelled", "error"})
WAKEUP_TOOL = "ScheduleWakeup"
MIN_WAKEUP_SECONDS = 60.0
WAKEUP_MARGIN_SECONDS = 60.0
"""How long after a wake-up's time the process is still kept for it."""


class BackgroundWork:
    """The background tasks and wake-ups one CLI process has reported as pending."""

    def __init__(self) -> None:
        self._tasks: set[str] = set()
        self._wakeup_at: float | None = None

    def observe(self, message: Mapping[str, Any], now: float) -> bool:
        """Take one message into account; True if the number of pending items changed."""
        before = self.pending(now)
        kind = message.get("type")
        if kind == "system":
            self._observe_system(message)
        elif kind == "assistant":
            self._observe_tool_calls(message, now)
        return self.pending(now) != before

    def pending(self, now: float) -> int:
        """How many items are pending: tasks, plus one for a scheduled wake-up."""
        return len(self._tasks) + (1 if self._waking(now) else 0)

    def follow_up_started(self, now: float) -> None:
        """The CLI began a turn by itself: a wake-up that was due has fired."""
        if self._wakeup_at is not None and now >= self._wakeup_at:
            self._wakeup_at = None

    def _waking(self, now: float) -> bool:
        return self._wakeup_at is not None and now < self._wakeup_at + WAKEUP_MARGIN_SECONDS

    def _observe_system(self, message: Mapping[str, Any]) -> None:
        subtype = message.get("subtype")
        if subtype == "background_tasks_changed":
            tasks = message.get("tasks")
            if isinstance(tasks, list):
                self._tasks = {
                    str(task["task_id"])
                    for task in tasks
                    if isinstance(task, Mapping) and task.get("task_id") is not None
                }
        elif subtype == "task_started" and message.get("task_id") is not None:
            self._tasks.add(str(message["task_id"]))
        elif subtype == "task_notification" and message.get("status") in FINAL_TASK_STATES:
            self._tasks.discard(str(message.get("task_id")))

    def _observe_tool_calls(self, message: Mapping[str, Any], now: float) -> None:
        inner = message.get("message")
        content = inner.get("content") if isinstance(inner, Mapping) else None
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, Mapping) or block.get("type") != "tool_use":
                continue
            if block.get("name") != WAKEUP_TOOL:
                continue
            tool_input = block.get("input")
            tool_input = tool_input if isinstance(tool_input, Mapping) else {}
            if tool_input.get("stop"):
                self._wakeup_at = None
                continue
            delay = tool_input.get("delaySeconds")
            seconds = float(delay) if isinstance(delay, int | float) else MIN_WAKEUP_SECONDS
            self._wakeup_at = now + max(seconds, MIN_WAKEUP_SECONDS)
