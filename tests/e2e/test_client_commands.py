"""The client commands against a real server, CLI and scripted model."""

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.hub import connect
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(180)


def command_line(server: RunningServer, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "switchboard",
        *args,
        "--server",
        server.url,
        "--token",
        server.token,
    ]


def switchboard(
    server: RunningServer, *args: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    argv = command_line(server, *args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def start_switchboard(server: RunningServer, *args: str) -> subprocess.Popen[str]:
    """A command left running (tail, prompt); its stdout and stderr are pipes."""
    argv = command_line(server, *args)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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


def test_prompt_and_tail_resume_after_being_closed_as_slow_consumers(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(
        FAKE_AGENT,
        "--subscriber-queue-bytes",
        "4096",  # four events: a flood of 3000 overflows any client
        record_spawns=False,
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N="3000",
    )
    assert (
        switchboard(server, "project", "add", str(project_dir), "--name", "flood").returncode == 0
    )
    tail = start_switchboard(server, "tail", "flood", "--since", "0")
    try:
        prompted = switchboard(server, "prompt", "flood", "go")
        assert prompted.returncode == 0, prompted.stderr
        assert "resuming after event" in prompted.stderr
        assert tail.stdout is not None
        lines: list[str] = []
        while not any("completed" in line for line in lines):
            lines.append(tail.stdout.readline())
    finally:
        tail.kill()
        _, errors = tail.communicate(timeout=10)
    states = [re.search(r"· run \w+ (\w+)", line) for line in lines]
    # Each state once, in order: the tail resumed where it was, it did not replay twice.
    assert [m.group(1) for m in states if m] == ["queued", "running", "completed"]
    assert "resuming after" in errors


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
