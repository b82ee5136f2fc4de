"""``switchboard export``: a project's log as JSON Lines, read through the running
server, in bounded memory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.store.offline import write_project
from switchboard.store.records import NewEvent
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import add_and_watch, connect, prompt_and_follow
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.timeout(120)


def export_argv(server: RunningServer, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "switchboard",
        "export",
        *args,
        f"--server={server.url}",
        f"--token={server.token}",
    ]


MEASURE = (
    "import resource, subprocess, sys\n"
    "status = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(f'{status} {peak}')\n"
)
"""Runs a command and writes its exit status and peak memory (KiB). The command is the
child of this small process, not of the test's: Linux counts a process's memory before
its exec (a copy of its parent's) in its peak, and the test's process is large."""


def run_measured(argv: list[str], stdout: Path) -> tuple[int, int, str]:
    """Run ``argv`` with stdout to a file: its exit status, its peak memory (KiB), and
    its stderr."""
    measured = stdout.with_name(stdout.name + ".measured")
    with stdout.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(measured), *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=90,
            check=False,
        )
    status, peak = (int(part) for part in measured.read_text().split())
    return status, peak, done.stderr.decode()


async def test_export_writes_each_event_as_its_frame_on_one_line(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    server = servers.start(
        FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="turns", FAKE_AGENT_N="5"
    )
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir, "logged")
        first = await prompt_and_follow(client, project["id"], "one")
        second = await prompt_and_follow(client, project["id"], "two")
    live = first.events + second.events

    status, _, errors = run_measured(export_argv(server, "logged"), tmp_path / "all.jsonl")
    assert status == 0, errors
    lines = (tmp_path / "all.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == live
    assert all(line.startswith('{"type":"event",') for line in lines)

    since = second.seqs[0] - 1
    status, _, errors = run_measured(
        export_argv(server, project["id"], "--since", str(since)), tmp_path / "tail.jsonl"
    )
    assert status == 0, errors
    lines = (tmp_path / "tail.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == second.events

    status, _, errors = run_measured(export_argv(server, "nope"), tmp_path / "none.jsonl")
    assert (status, (tmp_path / "none.jsonl").read_text()) == (3, "")
    assert "unknown_project" in errors


async def test_exporting_a_large_log_takes_bounded_memory(tmp_path: Path) -> None:
    """64 MiB of history: the command's peak memory stays well below that above what
    its imports alone take (measured the same way), so it never holds the log."""
    pad = "x" * 4300
    batches, per_batch = 160, 100

    def history(_project: object) -> list[list[NewEvent]]:
        return [
            [
                NewEvent(
                    "cli", json.dumps({"type": "assistant", "n": b * per_batch + i, "pad": pad})
                )
                for i in range(per_batch)
            ]
            for b in range(batches)
        ]

    project_dir = tmp_path / "server" / "project"
    project_dir.mkdir(parents=True)
    _, head = await write_project(tmp_path / "server" / "data", project_dir, history, "big")
    assert head == batches * per_batch
    server = start_server(tmp_path / "server", dict(os.environ), [])
    try:
        status, peak, errors = run_measured(export_argv(server, "big"), tmp_path / "big.jsonl")
    finally:
        server.stop()
    assert status == 0, errors
    exported = (tmp_path / "big.jsonl").stat().st_size
    assert exported > 64 * 1024 * 1024
    with (tmp_path / "big.jsonl").open() as lines:
        assert sum(1 for _ in lines) == head
    _, baseline, _ = run_measured(
        [sys.executable, "-c", "import switchboard.cli, switchboard.client_export"],
        tmp_path / "baseline.out",
    )
    assert peak - baseline < 32 * 1024, (peak, baseline)  # KiB
