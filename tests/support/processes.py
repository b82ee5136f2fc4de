"""Look at real processes through /proc: find a run's CLI, wait for groups to vanish.

Waiting uses pidfds (readable when the process exits), never sleep-and-poll.
"""

import contextlib
import os
import select
import time
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, pgid) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in {"Z", "X"}


def all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    members = []
    for pid in all_pids():
        stat = _stat(pid)
        if stat is not None and stat[1] == pgid and stat[0] not in {"Z", "X"}:
            members.append(pid)
    return members


def pids_with_env(name: str, value: str) -> list[int]:
    """Processes whose environment has ``name=value`` (how tests find a run's CLI)."""
    needle = f"{name}={value}".encode()
    found = []
    for pid in all_pids():
        with contextlib.suppress(OSError):
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") and alive(pid):
                found.append(pid)
    return found


def command_line(pid: int) -> str:
    """The process's argv joined with spaces ("?" once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(arg.decode(errors="replace") for arg in raw.split(b"\0") if arg)


def wait_exited(pids: list[int], timeout: float) -> list[int]:
    """Wait until every pid has exited; return those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    fds: dict[int, int] = {}
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                fds[os.pidfd_open(pid)] = pid
        pending = dict(fds)
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select(list(pending), [], [], remaining)
            for fd in ready:
                pending.pop(fd)
        return [pid for pid in pids if alive(pid)]
    finally:
        for fd in fds:
            os.close(fd)


def wait_group_gone(pgid: int, timeout: float) -> list[int]:
    """Wait until process group ``pgid`` has no live member; return survivors."""
    return wait_exited(group_members(pgid), timeout) or group_members(pgid)
