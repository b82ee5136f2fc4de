"""``switchboard prompt`` answering confirmations, against a real server running the
real CLI: asked at a terminal (a pseudo-terminal here), or with the printed
``switchboard answer`` commands when stdin is not one. The client commands are given
only ``--data-dir``: they find the token and the server's address there."""

import asyncio
import os
import re
import select
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import connect
from tests.support.server import RunningServer
from tests.support.turns import TOUCH

pytestmark = pytest.mark.timeout(180)

TOUCH_SECOND = {"name": "Bash", "input": {"command": "touch second.txt", "description": "More"}}
WITH_CONTROLLING_TERMINAL = [
    sys.executable,
    "-c",
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
]
"""Runs the Python arguments that follow with stdin as their controlling terminal (in
a new session), as a shell runs a command in the foreground."""
SWITCHBOARD = [sys.executable, "-m", "switchboard"]


def client_env(**extra: str) -> dict[str, str]:
    """This environment without Switchboard's settings (the data dir must be enough)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return {**kept, **extra}


def switchboard(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SWITCHBOARD, *args, f"--data-dir={server.data_dir}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=client_env(),
    )


class Terminal:
    """The other side of the command's pseudo-terminal: what it printed, what to type."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.output = ""
        self._read_up_to = 0

    def read_until(self, marker: str, timeout: float = 90) -> str:
        """The output from the previous marker up to and including this one."""
        deadline = time.monotonic() + timeout
        while (found := self.output.find(marker, self._read_up_to)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {marker!r} in {self.output!r}"
            if select.select([self.master], [], [], remaining)[0] and not self._read():
                raise AssertionError(f"the terminal closed before {marker!r}: {self.output!r}")
        start, self._read_up_to = self._read_up_to, found + len(marker)
        return self.output[start : self._read_up_to]

    def read_to_end(self, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        start = self._read_up_to
        while time.monotonic() < deadline:
            ready = select.select([self.master], [], [], deadline - time.monotonic())[0]
            if ready and not self._read():
                self._read_up_to = len(self.output)
                return self.output[start:]
        raise AssertionError(f"the terminal stayed open: {self.output!r}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def _read(self) -> bool:
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: every holder of the other side closed it
            return False
        self.output += data.decode(errors="replace")
        return bool(data)


async def remembered_rules(server: RunningServer, project: str) -> list[tuple[str, str]]:
    async with await connect(server) as client:
        rules = (await client.request("permissions.list", project=project))["rules"]
    return [(rule["tool_name"], rule["rule_content"]) for rule in rules]


def test_at_a_terminal_prompt_asks_answers_and_steps_back_for_another_client(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of({"tool_use": TOUCH}, {"tool_use": TOUCH_SECOND}, {"text": "All done."})
    )
    server = servers.start(bundled_claude_bin.path)
    assert switchboard(server, "project", "add", str(project_dir), "--name", "ask").returncode == 0
    data = f"--data-dir={server.data_dir}"
    master, follower = os.openpty()
    try:
        prompt = subprocess.Popen(
            [*WITH_CONTROLLING_TERMINAL, *SWITCHBOARD[1:], "prompt", "ask", "make two files", data],
            stdin=follower,
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env=client_env(),
        )
    finally:
        os.close(follower)  # the command holds it now: the terminal closes when it exits
    terminal = Terminal(master)
    try:
        first = terminal.read_until("Allow? [y]es / [n]o / [a]lways: ")
        assert "touch created.txt" in first
        terminal.type("a\n")  # always: allow, and remember
        second = terminal.read_until("Allow? [y]es / [n]o / [a]lways: ")
        assert "touch second.txt" in second
        [confirmation_id] = re.findall(r"confirmation (\w+) \(allow/deny\)", second)
        elsewhere = switchboard(server, "answer", "ask", confirmation_id, "deny")
        assert elsewhere.returncode == 0, elsewhere.stderr
        rest = terminal.read_to_end()
        _, errors = prompt.communicate(timeout=60)
    finally:
        os.close(master)
        if prompt.poll() is None:
            prompt.kill()
            prompt.communicate()
    assert prompt.returncode == 0, errors
    assert f"confirmation {confirmation_id} answered elsewhere (deny): no longer asking" in rest
    assert "Allow?" not in rest and "All done." in rest
    assert (project_dir / "created.txt").exists() and not (project_dir / "second.txt").exists()
    rules = asyncio.run(remembered_rules(server, "ask"))
    assert rules == [("Bash", "touch created.txt")]


def test_elsewhere_prompt_prints_the_answer_commands_that_work(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Created it."}))
    server = servers.start(bundled_claude_bin.path)
    assert switchboard(server, "project", "add", str(project_dir), "--name", "ask").returncode == 0
    program = shlex.join(SWITCHBOARD)
    prompt = subprocess.Popen(
        [*SWITCHBOARD, "prompt", "ask", "make the file", f"--data-dir={server.data_dir}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=client_env(SWITCHBOARD_PROGRAM=program),
    )
    try:
        assert prompt.stdout is not None
        shown: list[str] = []
        while not shown or not shown[-1].startswith("      or: "):
            line = prompt.stdout.readline()
            assert line, f"prompt ended before the answer commands: {shown}"
            shown.append(line)
        [confirmation_id] = re.findall(r"confirmation (\w+) \(allow/deny\)", "".join(shown))
        allow, deny = (shlex.split(line.split(": ", 1)[1]) for line in shown[-2:])
        options = [f"--data-dir={server.data_dir}"]
        assert allow == [*SWITCHBOARD, "answer", "ask", confirmation_id, "allow", *options]
        assert deny == [*SWITCHBOARD, "answer", "ask", confirmation_id, "deny", *options]
        answered = subprocess.run(
            allow, capture_output=True, text=True, timeout=60, check=False, env=client_env()
        )
        assert answered.returncode == 0, answered.stderr
        rest, errors = prompt.communicate(timeout=60)
    finally:
        if prompt.poll() is None:
            prompt.kill()
            prompt.communicate()
    assert prompt.returncode == 0, errors
    assert "Created it." in rest and (project_dir / "created.txt").exists()
