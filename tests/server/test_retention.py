"""Retention through a real server: a project's policy trims its log, a ``since`` older
than what is kept is answered ``history_trimmed``, numbering goes on, and the client
library, ``tail`` and ``export`` carry on from the oldest event kept."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import HistoryTrimmed, SwitchboardClient
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import add_and_watch, connect, prompt_and_follow, raw_socket, reply
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(90)

KEPT_CHARS = 5000


def switchboard(server: RunningServer, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "switchboard",
        *args,
        f"--server={server.url}",
        f"--token={server.token}",
    ]


async def next_status(
    client: SwitchboardClient, project_id: str, key: str, above: int
) -> dict[str, Any]:
    """The project as the next ``project_status`` with ``project[key] > above`` shows it."""
    async with asyncio.timeout(30):
        async for message in client.messages():
            if message["type"] != "project_status":
                continue
            project = message["project"]
            if project["id"] == project_id and project[key] > above:
                return dict(project)
    raise AssertionError("the connection ended first")


async def trimmed_project(
    servers: ServerFactory, project_dir: Path
) -> tuple[RunningServer, dict[str, Any], list[dict[str, Any]]]:
    """A server with a project whose first run's log was trimmed to ``KEPT_CHARS``; the
    project as trimmed, and the events the run sent live."""
    server = servers.start(
        FAKE_AGENT,
        "--retention-interval",
        "3600",  # the pass at start, then only what project.retention asks for
        record_spawns=False,
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N="20",
    )
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir, "kept")
        seen = await prompt_and_follow(client, project["id"], "go")
        assert seen.seqs == list(range(1, len(seen.seqs) + 1))
        changed = await client.set_retention(project["id"], max_bytes=KEPT_CHARS)
        assert changed["retention"] == {"max_age_seconds": None, "max_bytes": KEPT_CHARS}
        trimmed = await next_status(client, project["id"], "first_seq", 1)
    return server, trimmed, seen.events


async def test_a_since_before_the_kept_history_is_answered_and_numbering_goes_on(
    servers: ServerFactory, project_dir: Path
) -> None:
    server, project, live = await trimmed_project(servers, project_dir)
    first, head = project["first_seq"], project["head"]
    assert head == live[-1]["seq"]
    kept = [len(json.dumps(e["data"], separators=(",", ":"))) for e in live[first - 1 :]]
    assert sum(kept) <= KEPT_CHARS  # what is kept fits; one more event would not
    assert sum(kept) + len(json.dumps(live[first - 2]["data"], separators=(",", ":"))) > KEPT_CHARS

    ws = await raw_socket(server)
    try:
        refused = await reply(ws, {"type": "subscribe", "id": 1, "project": "kept", "since": 0})
        assert (refused["code"], refused["id"], refused["first_seq"]) == (
            "history_trimmed",
            1,
            first,
        )
        assert f"the oldest kept is {first}" in refused["message"]
        edge = {"type": "subscribe", "id": 2, "project": "kept", "since": first - 2}
        assert (await reply(ws, edge))["code"] == "history_trimmed"
    finally:
        await ws.close()

    async with await connect(server) as client:
        with pytest.raises(HistoryTrimmed) as trimmed:
            await client.subscribe("kept", since=0)
        assert trimmed.value.first_seq == first
        assert await client.resume("kept", 0) == first - 1
        replayed: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            async for message in client.messages():
                if message["type"] == "event":
                    replayed.append(message)
                if message["type"] == "caught_up":
                    break
        assert replayed == live[first - 1 :]  # the kept part, whole, from the oldest kept
        second = await prompt_and_follow(client, project["id"], "again")
    assert second.seqs[0] == head + 1
    assert second.seqs == list(range(head + 1, head + 1 + len(second.seqs)))


async def test_export_and_tail_go_on_from_the_oldest_event_kept(
    servers: ServerFactory, project_dir: Path
) -> None:
    server, project, live = await trimmed_project(servers, project_dir)
    first = project["first_seq"]
    exported = await asyncio.to_thread(
        subprocess.run,
        switchboard(server, "export", "kept"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert f"events 1-{first - 1} of kept are no longer kept" in exported.stderr
    assert [json.loads(line) for line in exported.stdout.splitlines()] == live[first - 1 :]

    tail = subprocess.Popen(
        switchboard(server, "tail", "kept", "--since", "0"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert tail.stdout is not None
        printed = await asyncio.to_thread(tail.stdout.readline)  # the run's end, at least
    finally:
        tail.kill()
        _, errors = tail.communicate(timeout=10)
    assert int(printed.split()[0]) >= first
    assert f"events 1-{first - 1} of kept are no longer kept" in errors


async def test_the_servers_policy_trims_every_project_from_the_start(
    servers: ServerFactory, project_dir: Path
) -> None:
    first = servers.start(
        FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="turns", FAKE_AGENT_N="20"
    )
    async with await connect(first) as client:
        project = await add_and_watch(client, project_dir, "kept")
        live = (await prompt_and_follow(client, project["id"], "go")).events
    assert first.stop() == 0
    again = servers.start(
        FAKE_AGENT,
        "--data-dir",
        str(first.data_dir),
        "--retention-max-bytes",
        "5K",
        record_spawns=False,
    )
    async with await connect(again) as client:
        [shown] = client.snapshot["projects"]
        if shown["first_seq"] == 1:  # the pass at start has not finished yet
            shown = await next_status(client, project["id"], "first_seq", 1)
        assert shown["retention"] == {
            "max_age_seconds": None,
            "max_bytes": 5 * 1024,
        }
        since = await client.resume("kept", 0)
    assert since == shown["first_seq"] - 1 > 0
    assert shown["head"] == live[-1]["seq"]
