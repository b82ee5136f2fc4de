"""``GET /api/projects/{project}/events`` on a real server: the ack, history and live
events with ``id: <seq>``, resuming from ``Last-Event-ID`` or ``?since=`` with no gap and
nothing twice (also across a restart), keep-alive comments, and how a stream ends."""

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.protocol.messages import FINISHED_STATES
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.server.test_retention import trimmed_project
from tests.support.http_api import (
    SseMessage,
    api,
    events,
    parse,
    stored,
    until_run_ends,
)
from tests.support.hub import connect, small_buffer_socket
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(120)


def start(servers: ServerFactory, *args: str, n: int = 3, mode: str = "turns") -> RunningServer:
    return servers.start(
        FAKE_AGENT, *args, record_spawns=False, FAKE_AGENT_MODE=mode, FAKE_AGENT_N=str(n)
    )


def prompt(server: RunningServer, text: str = "go") -> str:
    with api(server) as client:
        sent = client.post("/api/projects/project/prompts", json={"text": text})
        assert sent.status_code == 202, sent.text
        return str(sent.json()["run"]["id"])


def add_project(server: RunningServer, path: Path) -> None:
    with api(server) as client:
        client.post("/api/projects", json={"path": str(path)}).raise_for_status()


def seqs(messages: list[SseMessage]) -> list[int]:
    return [frame["seq"] for frame in stored(messages)]


async def run_finished(server: RunningServer, run_id: str, timeout: float) -> None:
    """Wait until ``run_id`` is finished, asking the HTTP API."""
    async with asyncio.timeout(timeout):
        while True:
            with api(server) as client:
                runs = client.get("/api/projects/project/runs").json()["runs"]
            if any(run["id"] == run_id and run["state"] in FINISHED_STATES for run in runs):
                return
            await asyncio.sleep(0.1)


async def history(server: RunningServer) -> list[dict[str, Any]]:
    """Every stored event of the project, read from the start."""
    async with events(server, "project", since=0) as stream:
        return stored(await stream.until("caught_up"))


async def test_ack_then_history_then_caught_up_then_live_events_and_keep_alives(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers, "--ping-interval", "0.3")
    add_project(server, project_dir)
    async with events(server, "project") as first:
        run = prompt(server)
        live = await until_run_ends(first, run)
    head = seqs(live)[-1]
    assert seqs(live) == list(range(1, head + 1))
    async with events(server, "project", since=0) as stream:
        ack = await stream.next()
        assert ack is not None and ack.event == "ack" and ack.id is None
        assert (ack.json["type"], ack.json["head"]) == ("ack", head)
        assert ack.json["pending_confirmations"] == []
        replayed = await stream.until("caught_up")
        assert stored(replayed) == stored(live)  # the same frames, byte for byte as JSON
        assert replayed[-1].json == {
            "type": "caught_up",
            "project": stored(live)[0]["project"],
            "seq": head,
        }
        assert await stream.comment() == "keep-alive"  # nothing happens: a comment
        second = prompt(server, "again")
        more = await until_run_ends(stream, second)
    assert seqs(more)[0] == head + 1 and seqs(more) == list(range(head + 1, seqs(more)[-1] + 1))


async def test_last_event_id_resumes_with_no_gap_and_nothing_twice(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers)
    add_project(server, project_dir)
    async with events(server, "project") as watcher:
        await until_run_ends(watcher, prompt(server))
        await until_run_ends(watcher, prompt(server))
    everything = await history(server)
    middle = everything[len(everything) // 2]["seq"]
    # an EventSource that reconnects still asks for its first URL: Last-Event-ID wins
    async with events(server, "project", since=0, last_event_id=str(middle)) as resumed:
        ack = await resumed.next()
        assert ack is not None and ack.event == "ack"
        rest = stored(await resumed.until("caught_up"))
    assert [e["seq"] for e in rest] == [e["seq"] for e in everything if e["seq"] > middle]
    assert everything[:middle] + rest == everything
    async with events(server, "project", since=middle) as by_query:
        assert stored(await by_query.until("caught_up")) == rest
    async with events(server, "project", since=everything[-1]["seq"]) as at_head:
        assert stored(await at_head.until("caught_up")) == []


async def test_a_stream_is_refused_as_ws_refuses_the_subscribe(
    servers: ServerFactory, project_dir: Path
) -> None:
    server, project, _live = await trimmed_project(servers, project_dir)
    url = f"{server.url}/api/projects/kept/events"
    bearer = {"Authorization": f"Bearer {server.token}"}

    def get(params: dict[str, str] | None = None, **headers: str) -> httpx.Response:
        return httpx.get(url, params=params, headers={**bearer, **headers}, timeout=10)

    trimmed = get({"since": "0"})
    assert trimmed.status_code == 410 and trimmed.json()["code"] == "history_trimmed"
    assert trimmed.json()["first_seq"] == project["first_seq"]
    beyond = get({"since": str(project["head"] + 1)})
    assert (beyond.status_code, beyond.json()["code"]) == (400, "since_out_of_range")
    negative = get({"since": "-1"})
    assert (negative.status_code, negative.json()["code"]) == (400, "bad_message")
    assert "since" in negative.json()["message"]
    for bad in ("abc", "-1", "1.5", "9" * 30):
        refused = get(None, **{"Last-Event-ID": bad})
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_message"), bad
    unknown = httpx.get(f"{server.url}/api/projects/nope/events", headers=bearer, timeout=10)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_project")
    anonymous = httpx.get(url, timeout=10)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    async with events(server, "kept", since=project["first_seq"] - 1) as kept:
        replayed = stored(await kept.until("caught_up"))
    assert [e["seq"] for e in replayed] == list(range(project["first_seq"], project["head"] + 1))


async def test_a_stream_survives_a_restart_through_last_event_id(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    data = ("--data-dir", str(tmp_path / "kept-data"))
    server = start(servers, *data)
    add_project(server, project_dir)
    async with events(server, "project") as before:
        seen = await until_run_ends(before, prompt(server))
        stopping = asyncio.create_task(asyncio.to_thread(server.stop))
        ending = await before.rest()  # what was still to come, then the server's goodbye
        assert await stopping == 0
    last = ending[-1]
    assert (last.event, last.json["code"]) == ("close", 1001)
    assert last.json["reason"] == "server shutting down"
    first_part = stored(seen + ending)
    assert [e["seq"] for e in first_part] == list(range(1, len(first_part) + 1))

    again = start(servers, *data)
    second_run = prompt(again, "after the restart")  # happens while nobody watches
    async with events(again, "project", last_event_id=str(first_part[-1]["seq"])) as after:
        ack = await after.next()
        assert ack is not None and ack.event == "ack"
        resumed = await until_run_ends(after, second_run)
    everything = await history(again)
    assert first_part + stored(resumed) == everything
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))


async def test_a_slow_reader_is_cut_off_and_resumes_losing_nothing(
    servers: ServerFactory, project_dir: Path
) -> None:
    lines = 10_000  # about 10 MB of events against a 1 MiB queue
    server = start(servers, "--subscriber-queue-bytes", str(1024 * 1024), n=lines)
    add_project(server, project_dir)
    # The stalled client asks over HTTP/1.0 (the body runs to the end of the connection)
    # on a socket with a small receive buffer, reads the head, and then nothing more.
    reader, writer = await asyncio.open_connection(sock=small_buffer_socket(server))
    host = server.url.removeprefix("http://")
    writer.write(
        f"GET /api/projects/project/events HTTP/1.0\r\nHost: {host}\r\n"
        f"Authorization: Bearer {server.token}\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"event: ack"), 10)
    assert head.startswith(b"HTTP/1.1 200")
    try:
        # A live watcher could be cut off as well (the run prints faster than a Python
        # client parses SSE): wait for the run's end, then read the whole history.
        await run_finished(server, prompt(server), timeout=90)
        everything = await history(server)
        assert len(everything) > lines
        rest = await asyncio.wait_for(reader.read(), 60)  # to the end of the connection
    finally:
        writer.close()
    messages, _comments = parse(b"event: ack".decode() + rest.decode())
    assert (messages[-1].event, messages[-1].json["code"]) == ("close", 4008)
    got = stored(messages)
    assert len(got) < len(everything) and got == everything[: len(got)]
    async with events(server, "project", last_event_id=str(got[-1]["seq"] if got else 0)) as again:
        resumed = stored(await again.until("caught_up", timeout=60))
    assert got + resumed == everything
    assert "slow consumer" in server.log()


async def test_a_removed_project_ends_its_streams(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers)
    add_project(server, project_dir)
    async with events(server, "project") as stream:
        await stream.until("caught_up")
        with api(server) as client:
            project_id = client.delete("/api/projects/project").json()["project"]["id"]
        ending = await stream.rest()
    assert [(m.event, m.json) for m in ending] == [
        ("project_removed", {"type": "project_removed", "project": project_id})
    ]


async def test_a_revoked_token_ends_its_streams(servers: ServerFactory, project_dir: Path) -> None:
    server = start(servers)
    add_project(server, project_dir)
    async with await connect(server) as ws:
        created = await ws.request("token.create", name="watcher", scope="viewer")
        async with events(server, "project", token=created["secret"]) as stream:
            await stream.until("caught_up")
            await ws.request("token.revoke", token=created["token"]["id"])
            ending = await stream.rest()
    assert [(m.event, m.json["code"]) for m in ending] == [("close", 4003)]


def test_a_head_request_gets_the_headers_only(servers: ServerFactory, project_dir: Path) -> None:
    server = start(servers)
    add_project(server, project_dir)
    with api(server) as client:
        response = client.head("/api/projects/project/events")
    assert response.status_code == 200 and response.content == b""
    assert re.match(r"text/event-stream", response.headers["content-type"])
