"""Leftover CLI groups of a previous server are found by pgid and start time, and killed."""

import subprocess
import sys

from sqlalchemy import Engine, update

from switchboard.agents.process import start_ticks
from switchboard.hub.recovery import ProcessRegistry
from switchboard.store.schema import agent_processes
from switchboard.store.writer import Writer
from tests.support import processes

SLEEPER = [
    sys.executable,
    "-c",
    "import subprocess, sys, time;"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
    "print('started', flush=True);"
    "time.sleep(60)",
]


async def test_leftover_groups_of_another_instance_are_killed(
    engine: Engine, writer: Writer
) -> None:
    leader = subprocess.Popen(SLEEPER, start_new_session=True, stdout=subprocess.PIPE)
    try:
        assert leader.stdout is not None and leader.stdout.readline() == b"started\n"
        await ProcessRegistry(engine, writer, "old").record(leader.pid, "p", "r")
        members = processes.group_members(leader.pid)
        assert len(members) == 2  # the leader and its child: both must go
        mine = ProcessRegistry(engine, writer, "new")
        [leftover] = await mine.stop_leftovers()
        assert leftover.pgid == leader.pid and leftover.start_ticks == start_ticks(leader.pid)
        assert leader.wait(10) == -9
        assert processes.wait_exited(members, 10) == []
        assert await mine.stop_leftovers() == []  # forgotten
    finally:
        leader.kill()
        leader.communicate()


async def test_a_reused_pid_is_left_alone(engine: Engine, writer: Writer) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ticks = start_ticks(stranger.pid)
        assert ticks is not None
        old = ProcessRegistry(engine, writer, "old")
        await old.record(stranger.pid, "p", None)
        # Pretend the recorded process started earlier: the PID now belongs to another.
        with engine.begin() as connection:
            connection.execute(update(agent_processes).values(start_ticks=ticks - 100))
        await ProcessRegistry(engine, writer, "new").stop_leftovers()
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
