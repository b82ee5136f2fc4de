"""The client commands against a real server, CLI and scripted model."""

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.hub import connect
from tests.support.proxy import holding_proxy
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(180)


def command_line(server: RunningServer, *args: str, url: str | None = None) -> list[str]:
    """``switchboard ARGS`` against ``server`` (reached at ``url``, e.g. a proxy's)."""
    return [
        sys.executable,
        "-m",
        "switchboard",
        *args,
        f"--server={url or server.url}",
        f"--token={server.token}",  # = form: a token may start with "-"
    ]


def switchboard(
    server: RunningServer, *args: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    argv = command_line(server, *args)
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,  # not the terminal pytest may run in: nothing to ask
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_switchboard(
    server: RunningServer, *args: str, url: str | None = None
) -> subprocess.Popen[str]:
    """A command left running (tail, prompt); its stdout and stderr are pipes."""
    argv = command_line(server, *args, url=url)
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_project_prompt_tail_cancel_and_remove_commands(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of(
            {"text": "The answer is 42."},
            {"error": {"status": 400, "message": "scripted failure"}, "repeat": 10},
        )
    )
    server = servers.start(bundled_claude_bin.path)
    added = switchboard(server, "project", "add", str(project_dir), "--name", "demo")
    assert added.returncode == 0, added.stderr
    assert "added demo" in added.stdout

    listed = switchboard(server, "projects")
    assert listed.returncode == 0
    assert "demo" in listed.stdout and "idle" in listed.stdout

    ok = switchboard(server, "prompt", "demo", "What is the answer?")
    assert ok.returncode == 0, ok.stderr
    assert "The answer is 42." in ok.stdout
    assert "completed" in ok.stderr

    failed = switchboard(server, "prompt", "demo", "Fail please")
    assert failed.returncode == 1, failed.stderr
    assert "failed" in failed.stderr

    tail = start_switchboard(server, "tail", "demo", "--since", "0")
    try:
        assert tail.stdout is not None
        lines = [tail.stdout.readline() for _ in range(4)]
    finally:
        tail.kill()
        tail.communicate(timeout=10)
    assert lines[0].split()[0] == "1" and "queued" in lines[0]
    assert any("The answer is 42." in line for line in lines)

    nothing = switchboard(server, "cancel", "demo")
    assert nothing.returncode == 3
    assert "nothing_to_cancel" in nothing.stderr

    unknown = switchboard(server, "prompt", "nope", "hi")
    assert unknown.returncode == 3 and "unknown_project" in unknown.stderr

    removed = switchboard(server, "project", "remove", "demo")
    assert removed.returncode == 0 and "removed demo" in removed.stdout
    assert "no projects" in switchboard(server, "projects").stdout


def test_commands_report_a_wrong_token_or_no_server(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "switchboard", "projects", "--server", "http://127.0.0.1:9"]
    result = subprocess.run(
        [*argv, "--token", "x"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert "cannot connect" in result.stderr
    missing = subprocess.run(
        [*argv, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert missing.returncode == 2 and "no token given" in missing.stderr


def flood_lines() -> int:
    """Enough 1 KiB lines to overflow what the kernel can buffer for a stopped client:
    twice the largest send buffer plus a generous receive buffer."""
    send_max = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    receive_default = int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[1])
    return max(3000, 2 * (send_max + 4 * receive_default) // 1024)


def read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    """Lines of ``process``'s stdout up to and including the first holding ``marker``."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or marker not in lines[-1]:
        line = process.stdout.readline()
        assert line, f"stdout ended before {marker!r}: {lines}"
        lines.append(line)
    return lines


async def wait_idle(server: RunningServer, project: str, gate: Path) -> None:
    """Open the agent's gate, then wait until the project's run is over (from the
    ``project_status`` broadcasts, which carry no events and cannot flood)."""
    async with await connect(server) as watcher:
        with gate.open("w"):
            pass
        async with asyncio.timeout(90):
            async for message in watcher.messages():
                if message["type"] != "project_status":
                    continue
                status = message["project"]
                if status["name"] == project and status["status"] == "idle":
                    return


def test_prompt_and_tail_resume_after_being_closed_as_slow_consumers(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    """Both commands are stopped (SIGSTOP) while the agent floods megabytes past a 4 KiB
    subscriber queue, so the server must close them as slow consumers; resumed, each
    reconnects after the last event it saw and shows every state exactly once."""
    lines = flood_lines()
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    server = servers.start(
        FAKE_AGENT,
        "--subscriber-queue-bytes",
        "4096",
        record_spawns=False,
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N=str(lines),
        FAKE_AGENT_GATE=str(gate),
    )
    assert (
        switchboard(server, "project", "add", str(project_dir), "--name", "flood").returncode == 0
    )
    tail = start_switchboard(server, "tail", "flood", "--since", "0")
    prompt = start_switchboard(server, "prompt", "flood", "go")
    try:
        tail_lines = read_until(tail, "running")
        read_until(prompt, "running")  # both are live; the agent waits at the gate
        for process in (tail, prompt):
            os.kill(process.pid, signal.SIGSTOP)
        asyncio.run(wait_idle(server, "flood", gate))
        for process in (tail, prompt):
            os.kill(process.pid, signal.SIGCONT)
        _, prompt_errors = prompt.communicate(timeout=60)
        assert prompt.returncode == 0, prompt_errors
        tail_lines += read_until(tail, "completed")
    finally:
        for process in (tail, prompt):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
        _, tail_errors = tail.communicate(timeout=10)
    assert "resuming after event" in prompt_errors
    assert "completed" in prompt_errors  # the run summary
    assert "resuming after" in tail_errors
    states = [re.search(r"· run \w+ (\w+)", line) for line in tail_lines]
    # Each state once, in order: the tail resumed where it was, it did not replay twice.
    assert [m.group(1) for m in states if m] == ["queued", "running", "completed"]


def test_prompt_shows_a_confirmation_and_answer_allows_it(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    touch = {"name": "Bash", "input": {"command": "touch created.txt", "description": "Create"}}
    scripted_model.set_script(Script.of({"tool_use": touch}, {"text": "Created it."}))
    server = servers.start(bundled_claude_bin.path)
    assert switchboard(server, "project", "add", str(project_dir), "--name", "ask").returncode == 0
    prompt = start_switchboard(server, "prompt", "ask", "make the file")
    try:
        assert prompt.stdout is not None
        line = ""
        while "confirmation" not in line:
            line = prompt.stdout.readline()
            assert line, "prompt ended before showing the confirmation"
        confirmation_id = line.split()[1]
        answered = switchboard(server, "answer", "ask", confirmation_id, "allow", "--remember")
        assert answered.returncode == 0, answered.stderr
        rest, errors = prompt.communicate(timeout=60)
    finally:
        if prompt.poll() is None:
            prompt.kill()
            prompt.communicate()
    assert prompt.returncode == 0, errors
    assert "Created it." in rest and (project_dir / "created.txt").exists()
    wrong = switchboard(server, "answer", "ask", confirmation_id, "allow")
    assert wrong.returncode == 3 and "already_answered" in wrong.stderr
    rules = asyncio.run(list_rules(server, "ask"))
    assert [(r["tool_name"], r["rule_content"]) for r in rules] == [("Bash", "touch created.txt")]


async def list_rules(server: RunningServer, project: str) -> list[dict[str, object]]:
    async with await connect(server) as client:
        return list((await client.request("permissions.list", project=project))["rules"])


def test_token_commands_create_list_and_revoke_a_producer_token(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    assert switchboard(server, "project", "add", str(project_dir), "--name", "demo").returncode == 0
    created = switchboard(server, "token", "create", "deploy-bot", "--project", "demo")
    assert created.returncode == 0, created.stderr
    summary, secret = created.stdout.splitlines()
    assert "deploy-bot, scope produce" in summary and secret.startswith("sbp_")
    token_id = summary.split()[2]
    listed = switchboard(server, "token", "list")
    assert listed.stdout.split()[:3] == [token_id, "deploy-bot", "produce"]
    # The secret opens /ws for publishing, and nothing else: listing tokens is refused.
    as_producer = [*command_line(server, "token", "list")[:-1], f"--token={secret}"]
    refused = subprocess.run(as_producer, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr
    revoked = switchboard(server, "token", "revoke", token_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "no scoped tokens" in switchboard(server, "token", "list").stdout
    gone = switchboard(server, "token", "revoke", token_id)
    assert gone.returncode != 0 and "unknown_token" in gone.stderr


async def test_tail_follows_its_project_across_a_server_restart(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    """The tail goes through a proxy that holds its reconnect attempts while the server
    is down (as a reverse proxy would); after the restart it resumes after the last
    event it printed: nothing twice, nothing missed."""
    data = ["--data-dir", str(tmp_path / "kept-data")]
    server = servers.start(FAKE_AGENT, *data, record_spawns=False)
    assert switchboard(server, "project", "add", str(project_dir), "--name", "kept").returncode == 0
    async with holding_proxy(server.port) as (proxy, proxied):
        tail = start_switchboard(server, "tail", "kept", "--since", "0", url=proxied)
        try:
            first = await asyncio.to_thread(switchboard, server, "prompt", "kept", "before")
            assert first.returncode == 0, first.stderr
            lines = await asyncio.to_thread(read_until, tail, "completed")
            proxy.hold()  # the tail's reconnect attempts wait at the proxy
            assert server.stop() == 0  # the tail is told 1001 and tries again
            again = servers.start(FAKE_AGENT, *data, record_spawns=False)
            proxy.restore(again.port)
            second = await asyncio.to_thread(switchboard, again, "prompt", "kept", "after")
            assert second.returncode == 0, second.stderr
            lines += await asyncio.to_thread(read_until, tail, "completed")
        finally:
            tail.kill()
            _, errors = tail.communicate(timeout=10)
    states = [m.group(1) for line in lines if (m := re.search(r"· run \w+ (\w+)", line))]
    assert states == ["queued", "running", "completed"] * 2  # each once, in order
    answers = [line.split(maxsplit=1)[1].strip() for line in lines if "·" not in line]
    assert answers == ["before", "after"]  # the echoing agent's answers
    seqs = [int(line.split()[0]) for line in lines]
    assert seqs == sorted(set(seqs))  # no event printed twice
    assert "server shutting down" in errors and "resuming after" in errors


async def test_prompt_reports_its_run_interrupted_by_a_restart(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    """The server stops mid-run (the prompt is told 1001 and retries, held by a proxy);
    when it is back, the prompt reconnects and learns that its run was interrupted."""
    data = ["--data-dir", str(tmp_path / "cut-data")]
    server = servers.start(FAKE_AGENT, *data, record_spawns=False, FAKE_AGENT_MODE="hang")
    assert switchboard(server, "project", "add", str(project_dir), "--name", "cut").returncode == 0
    async with holding_proxy(server.port) as (proxy, proxied):
        prompt = start_switchboard(server, "prompt", "cut", "take your time", url=proxied)
        try:
            await asyncio.to_thread(read_until, prompt, "running")
            proxy.hold()
            assert server.stop() == 0
            again = servers.start(FAKE_AGENT, *data, record_spawns=False, FAKE_AGENT_MODE="hang")
            proxy.restore(again.port)
            _, errors = await asyncio.to_thread(prompt.communicate, timeout=60)
        finally:
            if prompt.poll() is None:
                prompt.kill()
                prompt.communicate()
    assert prompt.returncode == 5, errors
    assert "server shutting down" in errors and "interrupted" in errors
