"""Daemons for tests (``tests/fakes/daemon.py``): how to start one, where its PID is, and
a cleanup that kills any a test left (so a failing test does not poison the session)."""

import contextlib
import os
import signal
import sys
import uuid
from pathlib import Path
from types import TracebackType

from switchboard.agents.containment import Containment, open_containment
from tests.support.processes import alive

DAEMON = Path(__file__).resolve().parent.parent / "fakes" / "daemon.py"


class Daemons:
    """The daemons of one test, each with a PID file under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._pids: list[int] = []

    def pidfile(self, name: str = "daemon") -> Path:
        return self.directory / f"{name}.pid"

    def command(self, name: str = "daemon", *extra: str) -> list[str]:
        """The argv that starts one (it returns once the daemon wrote its PID)."""
        return [sys.executable, str(DAEMON), str(self.pidfile(name)), *extra]

    def shell_command(self, name: str = "daemon") -> str:
        """The same, as one Bash command (paths without spaces, as tmp_path has)."""
        return " ".join(self.command(name))

    def pid(self, name: str = "daemon") -> int:
        """The daemon's PID (from its file, which exists once its starter has exited)."""
        pid = int(self.pidfile(name).read_text())
        self._pids.append(pid)
        return pid

    def __enter__(self) -> "Daemons":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for pid in self._pids:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


async def cgroup_containment() -> Containment | None:
    """A containment with a cgroup of its own, or None where this machine gives none."""
    containment = await open_containment(uuid.uuid4().hex, "auto")
    return containment if containment.mechanism == "cgroup" else None
