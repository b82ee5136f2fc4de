"""--on-confirmation commands run on the side and are bounded in time."""

import logging
import time

import pytest

from switchboard.hub.notify import CommandNotifier
from switchboard.protocol.messages import ConfirmationInfo

INFO = ConfirmationInfo(
    id="c1",
    project="p",
    run=None,
    kind="tool_permission",
    tool_name="Bash",
    input={"command": "ls"},
    suggestions=[],
    options=["allow", "deny"],
    timeout_seconds=600,
    remaining_seconds=600,
    paused=False,
    created_at=0.0,
)


async def test_a_command_that_hangs_is_killed_after_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = CommandNotifier(["sleep", "30"], timeout=0.3)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        notifier.notify(INFO)
        await notifier.aclose()
    assert time.monotonic() - started < 5
    assert "was killed" in caplog.text


async def test_a_failing_command_is_logged_with_its_stderr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = CommandNotifier(["sh", "-c", "cat >/dev/null; echo oops >&2; exit 3"])
    with caplog.at_level(logging.WARNING):
        notifier.notify(INFO)
        await notifier.aclose()
    assert "exited with 3: oops" in caplog.text
