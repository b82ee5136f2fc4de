"""A full disk: the data dir on a tiny tmpfs, a flood from the fake agent fills it.

The project whose write failed stops with the reason in its status; the server stays
up, reads and replays work, other projects' requests and runs end cleanly (they share
the filesystem, so they may fail too, but never hang); once space is freed, the next run
succeeds and the log has no gap."""

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.client import RequestError, SwitchboardClient
from tests.conftest import FAKE_AGENT
from tests.support.hub import add_and_watch, connect, finishes, follow, prompt_and_follow
from tests.support.server import start_server

pytestmark = pytest.mark.timeout(120)

DISK = 16 * 1024 * 1024
BALLAST = 12 * 1024 * 1024
"""Taken from the disk once the server runs, and freed to give space back: more than
the flood can write, since SQLite then copies what its write-ahead log holds into the
database file (a checkpoint), which takes as much again."""
FLOOD_LINES = 20_000  # of about 1 KiB: far more than the disk holds


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of ``DISK`` bytes mounted at ``tmp_path/server/data``; unmounted after."""
    mount_point = tmp_path / "server" / "data"
    mount_point.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): {mounted.stderr}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def script(path: Path, lines: int) -> None:
    """What the fake agent prints for each prompt (read when it starts): init, ``lines``
    assistant lines of about 1 KiB, a result."""
    text = "y" * 1000
    with path.open("w") as out:
        out.write(json.dumps({"type": "system", "subtype": "init", "session_id": "s"}) + "\n")
        for i in range(lines):
            message = {"content": [{"type": "text", "text": f"{i} {text}"}]}
            out.write(json.dumps({"type": "assistant", "message": message}) + "\n")
        out.write(json.dumps({"type": "result", "subtype": "success", "is_error": False}) + "\n")


async def stopped(client: SwitchboardClient, project_id: str) -> dict[str, Any]:
    """The project as the first project_status that shows it stopped (a store error, no
    run under way) shows it."""
    async for message in client.messages():
        if message["type"] != "project_status":
            continue
        project = message["project"]
        if project["id"] == project_id and project["store_error"] and not project["running_run"]:
            return dict(project)
    raise AssertionError("the connection ended first")


async def prompt_while_full(client: SwitchboardClient, project_id: str) -> dict[str, Any]:
    """Prompt: the error, if refused; else how the run ended (or the project, if it
    stopped before even that could be written)."""
    try:
        run = await client.prompt(project_id, "while full")
    except RequestError as refused:
        return {"code": refused.code, "message": refused.message}
    return await run_end_or_stop(client, project_id, run["id"])


async def run_end_or_stop(
    client: SwitchboardClient, project_id: str, run_id: str
) -> dict[str, Any]:
    """The run's final state, or the project as stopped (when even that could not be
    written), whichever comes first."""
    async with asyncio.timeout(60):
        async for message in client.messages():
            if finishes(message, run_id):
                return dict(message["data"])
            if message["type"] != "project_status":
                continue
            project = message["project"]
            if (
                project["id"] == project_id
                and project["store_error"]
                and not project["running_run"]
            ):
                return dict(project)
    raise AssertionError("the connection ended first")


async def replay(client: SwitchboardClient, project_id: str) -> list[dict[str, Any]]:
    """The project's whole stored log, through a subscription."""
    await client.subscribe(project_id, since=0)
    events: list[dict[str, Any]] = []
    async for message in client.messages():
        if message.get("project") != project_id:
            continue
        if message["type"] == "event":
            events.append(message)
        if message["type"] == "caught_up":
            return events
    raise AssertionError("the connection ended first")


async def test_a_full_disk_stops_the_project_and_it_recovers_when_space_returns(
    small_disk: Path, tmp_path: Path
) -> None:
    root = tmp_path / "server"
    lines = tmp_path / "lines.jsonl"
    env = {**os.environ, "FAKE_AGENT_MODE": "lines", "FAKE_AGENT_LINES": str(lines)}
    argv = ["--claude-bin", str(FAKE_AGENT), "--workdir", str(root), "--min-free-disk", "1M"]
    server = start_server(root, env, argv)
    try:
        for name in ("flooded", "other"):
            (root / name).mkdir()
        async with await connect(server) as client:
            script(lines, 3)
            other = await add_and_watch(client, root / "other")
            small = await prompt_and_follow(client, other["id"], "small")
            assert small.final["state"] == "completed"
            flooded = await add_and_watch(client, root / "flooded")
            (small_disk / "ballast").write_bytes(b"\0" * BALLAST)
            script(lines, FLOOD_LINES)  # read by the CLI this run starts
            lost = await client.prompt(flooded["id"], "flood")
            status = await stopped(client, flooded["id"])
        assert "full" in status["store_error"], status
        assert "--min-free-disk" in status["store_error"]
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503, ready.text
        reasons = ready.json()["reasons"]
        assert any(f"project {flooded['id']} cannot be written" in r for r in reasons), reasons
        assert all("full" in r for r in reasons), reasons
        assert "project's event log" in server.log() or "refuses writes" in server.log()

        # The server is up; what is stored can be read and replayed.
        script(lines, 3)
        async with await connect(server) as reader:
            assert await reader.heartbeat() > 0
            other_events = await replay(reader, other["id"])
            flooded_events = await replay(reader, flooded["id"])
        assert [e["seq"] for e in other_events] == list(range(1, len(other_events) + 1))
        assert other_events[-1]["data"]["state"] == "completed"
        assert [e["seq"] for e in flooded_events] == list(range(1, len(flooded_events) + 1))

        # Another project on the same disk fails cleanly: refused, or its run ends.
        async with await connect(server) as client:
            [now] = [p for p in client.snapshot["projects"] if p["id"] == other["id"]]
            await client.subscribe(other["id"], since=now["head"])
            outcome = await prompt_while_full(client, other["id"])
        if "code" in outcome:  # refused
            assert (outcome["code"], "full" in outcome["message"]) == ("internal", True)
        elif "store_error" in outcome:  # stopped as the first one did
            assert "full" in outcome["store_error"]
        else:  # its run ended
            assert outcome["state"] in ("completed", "failed"), outcome

        # Space returns: the next run of the flooded project goes through.
        (small_disk / "ballast").unlink()
        async with await connect(server) as client:
            await client.subscribe(flooded["id"], since=0)
            after = await client.prompt(flooded["id"], "after")
            seen = await follow(client, after["id"], lost["id"], timeout=60)
        assert seen.final["state"] == "completed"
        assert seen.seqs == list(range(1, len(seen.seqs) + 1))  # whole, no gap
        ends = [
            e["data"]
            for e in seen.events
            if e["kind"] == "run" and e["data"]["id"] == lost["id"] and e["data"]["finished_at"]
        ]
        assert len(ends) == 1 and ends[0]["state"] == "failed"
        assert "event log could not be written" in ends[0]["error"]
        assert "full" in ends[0]["error"]
        async with await connect(server) as client:
            [now] = [p for p in client.snapshot["projects"] if p["id"] == flooded["id"]]
        assert now["store_error"] is None and now["head"] == seen.seqs[-1]

        # The other project may have stopped too (which one the disk failed first is a
        # race); its next run clears that, and then the server is ready again.
        async with await connect(server) as client:
            await client.subscribe(other["id"], since=0)
            again = await prompt_and_follow(client, other["id"], "again")
        assert again.final["state"] == "completed"
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert (ready.status_code, ready.json()["status"]) == (200, "ready"), ready.text
    finally:
        server.stop()  # before the tmpfs is unmounted
