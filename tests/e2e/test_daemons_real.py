"""Every process a run starts dies with it, even a daemon (double fork, setsid) that a
real Claude Code CLI's Bash tool started: on cancel, after a server crash and restart,
at shutdown, and when a /ws/claude client leaves."""

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support import processes
from tests.support.daemons import Daemons, cgroup_containment
from tests.support.hub import add_and_watch, connect, follow, next_event
from tests.support.server import RunningServer

pytestmark = [pytest.mark.real_cli, pytest.mark.timeout(180)]


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    with Daemons(tmp_path) as started:
        yield started


@pytest.fixture
def daemon_script(scripted_model: ScriptedModelServer, daemons: Daemons) -> ScriptedModelServer:
    """The model has Bash start a daemon, then holds its next reply (the run goes on)."""
    bash = {"name": "Bash", "input": {"command": daemons.shell_command(), "description": "Serve"}}
    scripted_model.set_script(Script.of({"tool_use": bash}, {"hold": "end", "text": "Done."}))
    return scripted_model


async def start_daemon_run(
    server: RunningServer, project_dir: Path, model: ScriptedModelServer, daemons: Daemons
) -> tuple[SwitchboardClient, dict[str, Any], int]:
    """A /ws run whose Bash tool started a daemon, still running (its reply is held)."""
    client = await connect(server)
    await add_and_watch(client, project_dir, name="demon")
    run = await client.prompt("demon", "start the server")
    required = await next_event(client, "confirmation_required")
    await client.answer(required["confirmation"]["id"], "allow")
    assert await asyncio.to_thread(model.wait_for_requests, 2, 60)  # the tool has run
    daemon = daemons.pid()
    assert processes.alive(daemon)
    return client, run, daemon


def containment_args(mechanism: str) -> list[str]:
    return ["--process-containment", mechanism]


@pytest.fixture(params=["cgroup", "marker"])
async def mechanism(request: pytest.FixtureRequest) -> str:
    if request.param == "cgroup":
        containment = await cgroup_containment()
        if containment is None:
            pytest.skip("no cgroup v2 this server may create cgroups in")
        containment.close()
    return str(request.param)


async def test_a_cancelled_run_takes_its_daemon_and_the_cli_stays(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    daemon_script: ScriptedModelServer,
    daemons: Daemons,
) -> None:
    server = servers.start(claude_bin.path)
    client, run, daemon = await start_daemon_run(server, project_dir, daemon_script, daemons)
    async with client:
        cli = servers.spawned_argv()[-1]["pid"]
        await client.cancel("demon")
        seen = await follow(client, run["id"], timeout=30)
    assert seen.final["state"] == "cancelled"
    assert processes.wait_exited([daemon], 10) == []
    assert processes.alive(cli)  # it answered the interrupt: it stays for the next run


async def test_a_restart_after_a_crash_kills_the_daemon(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    daemon_script: ScriptedModelServer,
    daemons: Daemons,
    mechanism: str,
    tmp_path: Path,
) -> None:
    args = ["--data-dir", str(tmp_path / "shared-data"), *containment_args(mechanism)]
    server = servers.start(claude_bin.path, *args)
    client, _, daemon = await start_daemon_run(server, project_dir, daemon_script, daemons)
    await client.close()
    cli = servers.spawned_argv()[-1]["pid"]
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    assert processes.alive(daemon) and processes.alive(cli)  # orphaned, both

    again = servers.start(claude_bin.path, *args)
    assert processes.wait_exited([daemon, cli], 10) == []
    assert "process(es) of a previous server (group" in again.log()
    used = "cgroup v2" if mechanism == "cgroup" else "environment marker"
    assert f"process containment: {used}" in again.log()


async def test_a_clean_shutdown_kills_the_daemon(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    daemon_script: ScriptedModelServer,
    daemons: Daemons,
) -> None:
    server = servers.start(claude_bin.path)
    client, _, daemon = await start_daemon_run(server, project_dir, daemon_script, daemons)
    await client.close()
    assert server.stop() == 0
    assert processes.wait_exited([daemon], 10) == []


async def test_a_ws_claude_client_that_leaves_takes_the_daemon(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    daemon_script: ScriptedModelServer,
    daemons: Daemons,
    tmp_path: Path,
) -> None:
    # /ws/claude asks nobody: the CLI's own settings let Bash run.
    settings = tmp_path / "home" / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"permissions": {"allow": ["Bash"]}}))
    server = servers.start(claude_bin.path)
    async with server.connect() as ws:
        await ws.recv()  # the info frame
        await ws.send(json.dumps({"prompt": "start the server", "meta": "TASK-DAEMON"}))
        assert await asyncio.to_thread(daemon_script.wait_for_requests, 2, 60)
        daemon = daemons.pid()
        assert processes.alive(daemon)
    # The client has left: the CLI, and with it the daemon, are stopped.
    assert processes.wait_exited([daemon], 10) == []


async def test_an_idle_cli_that_is_stopped_takes_the_daemon(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    daemons: Daemons,
) -> None:
    bash = {"name": "Bash", "input": {"command": daemons.shell_command(), "description": "Serve"}}
    scripted_model.set_script(Script.of({"tool_use": bash}, {"text": "Done."}))
    server = servers.start(bundled_claude_bin.path, "--idle-timeout", "0.5")
    client, run, daemon = await start_daemon_run(server, project_dir, scripted_model, daemons)
    async with client:
        seen = await follow(client, run["id"], timeout=30)
    assert seen.final["state"] == "completed"  # the daemon outlives its run...
    cli = servers.spawned_argv()[-1]["pid"]
    assert processes.wait_exited([cli, daemon], 20) == []  # ...not its CLI
