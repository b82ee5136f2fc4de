"""AgentProcess with a confinement: daemons its descendants start (setsid, double fork)
go with it, by either mechanism (marker, cgroup)."""

import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from switchboard.agents.containment import Containment
from switchboard.agents.process import AgentProcess
from switchboard.exceptions import AgentSpawnError
from tests.support.daemons import Daemons, cgroup_containment
from tests.support.processes import alive, wait_exited

pytestmark = pytest.mark.timeout(60)

AGENT = """
import json, subprocess, sys, time
subprocess.run(sys.argv[2:], check=True)  # starts the daemon, returns once it runs
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(json.dumps({"child": child.pid}), flush=True)
if sys.argv[1] == "hang":
    time.sleep(60)
"""
"""An agent whose tool started a daemon and a child of its own; ``hang`` or ``exit``."""


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    with Daemons(tmp_path) as started:
        yield started


@pytest.fixture(params=["marker", "cgroup"])
async def containment(request: pytest.FixtureRequest) -> AsyncIterator[Containment]:
    if request.param == "marker":
        chosen: Containment | None = Containment(uuid.uuid4().hex)
    else:
        chosen = await cgroup_containment()
    if chosen is None:
        pytest.skip("no cgroup v2 this server may create cgroups in")
    yield chosen
    chosen.close()


async def start(
    containment: Containment, daemons: Daemons, mode: str
) -> tuple[AgentProcess, int, int]:
    """The agent, its daemon and its child, all running."""
    argv = [sys.executable, "-c", AGENT, mode, *daemons.command()]
    process = await AgentProcess.spawn(
        argv, cwd=Path.cwd(), env=os.environ, confinement=containment.confine()
    )
    line = b""
    while not line.endswith(b"\n"):
        chunk = await process.read_stdout()
        assert chunk, "the agent ended early"
        line += chunk
    daemon = daemons.pid()
    child = json.loads(line)["child"]
    assert alive(daemon) and alive(child)
    assert os.getpgid(daemon) != process.pgid  # out of the group's reach
    return process, daemon, child


async def test_a_daemon_dies_when_the_agent_is_stopped(
    containment: Containment, daemons: Daemons
) -> None:
    process, daemon, child = await start(containment, daemons, "hang")
    await process.aclose(grace=1)
    assert wait_exited([daemon, child], 5) == []
    assert process.confinement is not None and process.confinement.remove()


async def test_a_daemon_dies_when_the_agent_exits_by_itself(
    containment: Containment, daemons: Daemons
) -> None:
    process, daemon, child = await start(containment, daemons, "exit")
    assert await process.wait() == 0  # returns once its leftovers are gone
    assert wait_exited([daemon, child], 5) == []
    await process.aclose(grace=1)


async def test_a_forced_kill_takes_the_daemon_too(
    containment: Containment, daemons: Daemons
) -> None:
    process, daemon, child = await start(containment, daemons, "hang")
    process.kill_now()
    assert wait_exited([daemon, child, process.pid], 5) == []
    await process.aclose(grace=1)


async def test_stopping_what_is_detached_spares_the_agent_and_its_children(
    containment: Containment, daemons: Daemons
) -> None:
    process, daemon, child = await start(containment, daemons, "hang")
    try:
        assert await process.stop_detached(grace=1) == [daemon]
        assert wait_exited([daemon], 5) == []
        assert alive(child) and alive(process.pid)
        assert await process.stop_detached(grace=1) == []
    finally:
        await process.aclose(grace=1)


async def test_the_cgroup_is_removed_with_the_agent(daemons: Daemons) -> None:
    containment = await cgroup_containment()
    if containment is None:
        pytest.skip("no cgroup v2 this server may create cgroups in")
    try:
        process, _, _ = await start(containment, daemons, "hang")
        cgroup = process.confinement.cgroup if process.confinement else None
        assert cgroup is not None and str(process.pid) in (cgroup / "cgroup.procs").read_text()
        await process.aclose(grace=1)
        assert not cgroup.exists()
    finally:
        containment.close()


async def test_a_missing_binary_in_a_cgroup_is_a_spawn_error(tmp_path: Path) -> None:
    containment = await cgroup_containment()
    if containment is None:
        pytest.skip("no cgroup v2 this server may create cgroups in")
    try:
        with pytest.raises(AgentSpawnError, match=r"could not start .*missing"):
            await AgentProcess.spawn(
                [str(tmp_path / "missing")],
                cwd=tmp_path,
                env={},
                confinement=containment.confine(),
            )
    finally:
        containment.close()
