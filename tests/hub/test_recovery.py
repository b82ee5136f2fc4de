"""Leftover CLI groups of a previous server are found by pgid and start time, and killed;
so are the processes that left the group, by the recorded marker and cgroup."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from switchboard.agents.process import start_ticks
from switchboard.exceptions import ConfigError
from switchboard.hub.processes import ProcessRegistry
from switchboard.store.sqlite.processes import SqliteProcessTable
from switchboard.store.sqlite.schema import agent_processes
from switchboard.store.sqlite.writer import Writer
from tests.support import processes
from tests.support.daemons import Daemons

SLEEPER = [
    sys.executable,
    "-c",
    "import subprocess, sys, time;"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
    "print('started', flush=True);"
    "time.sleep(60)",
]


def registry(engine: Engine, writer: Writer, instance: str) -> ProcessRegistry:
    return ProcessRegistry(SqliteProcessTable(engine, writer), instance)


async def test_leftover_groups_of_another_instance_are_killed(
    engine: Engine, writer: Writer
) -> None:
    leader = subprocess.Popen(SLEEPER, start_new_session=True, stdout=subprocess.PIPE)
    try:
        assert leader.stdout is not None and leader.stdout.readline() == b"started\n"
        await registry(engine, writer, "old").record(leader.pid, "p", "r")
        members = processes.group_members(leader.pid)
        assert len(members) == 2  # the leader and its child: both must go
        mine = registry(engine, writer, "new")
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
        old = registry(engine, writer, "old")
        await old.record(stranger.pid, "p", None)
        # Pretend the recorded process started earlier: the PID now belongs to another.
        with engine.begin() as connection:
            connection.execute(update(agent_processes).values(start_ticks=ticks - 100))
        await registry(engine, writer, "new").stop_leftovers()
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


LEADER = [
    sys.executable,
    "-c",
    "import subprocess, sys, time;"
    "subprocess.run(sys.argv[1:], check=True);"  # a tool's daemon: out of the group
    "print('started', flush=True);"
    "time.sleep(60)",
]


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    with Daemons(tmp_path) as started:
        yield started


def start_leader(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    leader = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, env=env)
    assert leader.stdout is not None and leader.stdout.readline() == b"started\n"
    return leader


async def test_the_daemon_a_leftover_cli_started_is_killed_by_its_marker(
    engine: Engine, writer: Writer, daemons: Daemons
) -> None:
    old = registry(engine, writer, "old")
    confinement = old.confine()
    leader = start_leader([*LEADER, *daemons.command()], confinement.environment(os.environ))
    try:
        await old.record(leader.pid, "p", "r", confinement)
        daemon = daemons.pid()
        assert processes.alive(daemon) and os.getpgid(daemon) != leader.pid
        [leftover] = await registry(engine, writer, "new").stop_leftovers()
        assert leftover.marker == confinement.marker and leftover.cgroup is None
        assert leader.wait(10) == -9
        assert processes.wait_exited([daemon], 10) == []
    finally:
        leader.kill()
        leader.communicate()


async def test_the_daemon_a_leftover_cli_started_is_killed_by_its_cgroup(
    engine: Engine, writer: Writer, daemons: Daemons
) -> None:
    old = registry(engine, writer, "old" + uuid.uuid4().hex)
    try:
        await old.open("cgroup")
    except ConfigError as exc:
        pytest.skip(str(exc))
    confinement = old.confine()
    assert confinement.cgroup is not None and old.containment.root is not None
    # The daemon clears its environment: only the cgroup still knows it.
    leader = start_leader(confinement.command([*LEADER, *daemons.command("d", "--clear-env")]))
    try:
        await old.record(leader.pid, "p", "r", confinement)
        daemon = daemons.pid("d")
        [leftover] = await registry(engine, writer, "new").stop_leftovers()
        assert leftover.cgroup == str(confinement.cgroup)
        assert leader.wait(10) == -9
        assert processes.wait_exited([daemon], 10) == []
        assert not old.containment.root.exists()  # the old instance's cgroup is gone too
    finally:
        leader.kill()
        leader.communicate()
        await old.close()


async def test_a_reused_leader_pid_is_spared_but_the_daemon_is_not(
    engine: Engine, writer: Writer, daemons: Daemons
) -> None:
    """The recorded CLI is long gone and its PID reused; its daemon still runs."""
    old = registry(engine, writer, "old")
    confinement = old.confine()
    subprocess.run(daemons.command(), env=confinement.environment(os.environ), check=True)
    daemon = daemons.pid()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ticks = start_ticks(stranger.pid)
        assert ticks is not None
        await old.record(stranger.pid, "p", None, confinement)
        with engine.begin() as connection:  # the recorded CLI started at another time
            connection.execute(update(agent_processes).values(start_ticks=ticks - 100))
        await registry(engine, writer, "new").stop_leftovers()
        assert processes.wait_exited([daemon], 10) == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
