"""The processes the benchmarks start (servers that print their address first), what
they read about them from /proc, and the open-files limit they raise for themselves
(their children inherit it)."""

import contextlib
import os
import resource
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def serve_argv(data_dir: Path, token: str, claude_bin: Path, allowed_root: Path) -> list[str]:
    """``switchboard serve`` on a free loopback port, quiet but for warnings."""
    return [
        *(sys.executable, "-m", "switchboard", "serve", "--host", "127.0.0.1", "--port", "0"),
        *("--data-dir", str(data_dir), "--token", token, "--claude-bin", str(claude_bin)),
        *("--allowed-root", str(allowed_root), "--log-level", "warning"),
    ]


@contextlib.contextmanager
def launched(
    name: str, argv: list[str], log_path: Path, banner: str, env: dict[str, str]
) -> Iterator[tuple["subprocess.Popen[str]", str]]:
    """Start ``argv`` (stderr to ``log_path``) and wait for a first stdout line holding
    ``banner``; the process and that line. Stopped afterwards."""
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=log_file, text=True
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        line = process.stdout.readline() if ready else ""
        if banner not in line:
            raise RuntimeError(f"{name} did not start: {line!r}\n{log_path.read_text()[-2000:]}")
        yield process, line
    finally:
        stop_process(process)


def stop_process(process: "subprocess.Popen[str]") -> None:
    """SIGTERM, wait, SIGKILL if need be: only this process, which we started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
    if process.stdout is not None:
        process.stdout.close()


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards ``wanted``; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_kib(pid: int) -> int:
    """A process's resident memory (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
