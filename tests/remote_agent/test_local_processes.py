"""The agent's record of the CLIs it runs: what a killed agent left running is stopped
at its next start, and only that (a CLI that ended was forgotten)."""

import os
import subprocess
import sys
from pathlib import Path

from switchboard.agents.process import alive
from switchboard.remote_agent.processes import LocalProcesses

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


async def test_the_next_start_stops_what_the_last_one_left_and_only_that(tmp_path: Path) -> None:
    path = tmp_path / "processes.sqlite"
    first = LocalProcesses(path)
    await first.open("marker")
    confinement = first.confine()
    env = confinement.environment(os.environ)
    left = subprocess.Popen(confinement.command(SLEEPER), env=env, start_new_session=True)
    first.record(left.pid, confinement)
    ended = subprocess.Popen(SLEEPER, start_new_session=True)
    first.record(ended.pid, first.confine())
    first.forget(ended.pid)  # it ended as it should: nothing to stop later
    # The agent is killed here: nothing closes `first`.
    try:
        again = LocalProcesses(path)
        hit = await again.open("marker")
        assert hit >= 1
        assert left.wait(10) == -9  # SIGKILL
        assert alive(ended.pid)  # not the agent's to stop any more
        again.close()
        third = LocalProcesses(path)
        assert await third.open("marker") == 0  # forgotten once stopped
        third.close()
    finally:
        for process in (left, ended):
            process.kill()
            process.wait()
