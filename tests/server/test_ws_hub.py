"""/ws: bad input gets its documented error, and the connection and others go on."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.typing import Subprotocol

from switchboard.client import RequestError
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support import processes
from tests.support.hub import connect, raw_socket, reply, small_buffer_socket
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def server(servers: ServerFactory, bundled_claude_bin: ClaudeBinary) -> RunningServer:
    return servers.start(bundled_claude_bin.path, "--max-message-bytes", "65536")


async def still_works(ws: Any) -> None:
    answer = await reply(ws, {"type": "heartbeat", "id": "ping"})
    assert answer["type"] == "heartbeat_ack" and answer["id"] == "ping"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_message"),
        ('{"type": "launch_missiles", "id": 7}', "unknown_type"),
        ('{"type": "prompt", "id": 7, "project": "x"}', "bad_message"),
        ('{"type": "subscribe", "id": 7, "project": "x", "since": -1}', "bad_message"),
        ('{"type": "subscribe", "id": 7, "project": "x", "batch": "maybe"}', "bad_message"),
        ('{"type": "heartbeat", "id": 7, "surprise": true}', "bad_message"),
        ('{"type": "subscribe", "id": 7, "project": "nope"}', "unknown_project"),
        ('{"type": "prompt", "id": 7, "project": "nope", "text": "hi"}', "unknown_project"),
        ('{"type": "cancel", "id": 7, "project": "nope"}', "unknown_project"),
    ],
)
async def test_bad_requests_get_an_error_and_the_connection_stays(
    server: RunningServer, frame: str, code: str
) -> None:
    ws = await raw_socket(server)
    try:
        await ws.send(frame)
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert error["type"] == "error" and error["code"] == code, error
        assert error["message"]
        if '"id": 7' in frame:
            assert error["id"] == 7
        await still_works(ws)
    finally:
        await ws.close()


async def test_a_binary_frame_is_refused_and_the_connection_stays(server: RunningServer) -> None:
    ws = await raw_socket(server)
    try:
        await ws.send(b'{"type": "heartbeat"}')
        error = json.loads(await ws.recv())
        assert error["code"] == "bad_message"
        await still_works(ws)
    finally:
        await ws.close()


async def test_an_oversized_message_closes_only_that_connection(server: RunningServer) -> None:
    bystander = await raw_socket(server)
    offender = await raw_socket(server, max_size=None)
    try:
        await offender.send(json.dumps({"type": "heartbeat", "pad": "x" * 70_000}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(offender.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await still_works(bystander)
    finally:
        await bystander.close()
        await offender.close()


async def test_project_paths_are_checked(server: RunningServer, tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    (outer / "inner").mkdir(parents=True)
    (tmp_path / "file.txt").write_text("not a directory")
    ws = await raw_socket(server)
    try:
        added = await reply(ws, {"type": "project.add", "id": 1, "path": str(outer / "inner")})
        assert added["type"] == "ack" and added["project"]["name"] == "inner"
        cases = {
            str(outer / "inner" / "."): "duplicate",
            str(outer): "contains",
            str(tmp_path / "file.txt"): "not_a_directory",
            str(tmp_path / "missing"): "not_found",
        }
        (outer / "inner" / "deeper").mkdir()
        cases[str(outer / "inner" / "deeper")] = "nested"
        for path, code in cases.items():
            answer = await reply(ws, {"type": "project.add", "id": path, "path": path})
            assert (answer["type"], answer["code"], answer["id"]) == ("error", code, path)
        taken = await reply(
            ws, {"type": "project.add", "id": 2, "path": str(tmp_path), "name": "inner"}
        )
        assert taken["code"] in {"contains", "name_taken"}
        listed = await reply(ws, {"type": "project.list", "id": 3})
        assert [p["name"] for p in listed["projects"]] == ["inner"]
    finally:
        await ws.close()


async def test_allowed_roots_confine_projects(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, tmp_path: Path
) -> None:
    (tmp_path / "allowed" / "p").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    server = servers.start(bundled_claude_bin.path, "--allowed-root", str(tmp_path / "allowed"))
    async with await connect(server) as client:
        await client.add_project(str(tmp_path / "allowed" / "p"))
        with pytest.raises(RequestError, match="outside_roots"):
            await client.add_project(str(tmp_path / "elsewhere"))


async def test_since_beyond_the_last_event_is_an_error(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as client:
        project = await client.add_project(str(project_dir))
        assert await client.subscribe(project["id"], since=0) == 0
        ws = await raw_socket(server)
        try:
            answer = await reply(
                ws, {"type": "subscribe", "id": 1, "project": project["id"], "since": 5}
            )
            assert answer["code"] == "since_out_of_range"
            not_subscribed = await reply(
                ws, {"type": "unsubscribe", "id": 2, "project": project["id"]}
            )
            assert not_subscribed["code"] == "not_subscribed"
            await still_works(ws)
        finally:
            await ws.close()


async def test_a_full_queue_refuses_prompts_and_removal_cancels_everything(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"text": "slow", "delay": 30}))
    server = servers.start(bundled_claude_bin.path, "--max-queued-runs", "1")
    async with await connect(server) as client, await connect(server) as watcher:
        project = await client.add_project(str(project_dir))
        await client.prompt(project["id"], "runs")
        assert await asyncio.to_thread(scripted_model.wait_for_requests, 1, 30)
        await client.prompt(project["id"], "waits")
        with pytest.raises(RequestError, match="queue_full"):
            await client.prompt(project["id"], "refused")
        await client.remove_project(project["id"])
        assert await client.projects() == []
        async with asyncio.timeout(20):
            async for message in watcher.messages():
                if message["type"] == "project_removed":
                    assert message["project"] == project["id"]
                    break
    assert [s["pid"] for s in servers.spawned_argv()]  # the CLI did start...
    assert processes.wait_exited([s["pid"] for s in servers.spawned_argv()], 10) == []


async def drain_until_closed(ws: Any) -> int:
    """Read what the socket buffers still hold until the close frame; count it."""
    received = 0
    async with asyncio.timeout(60):
        try:
            while True:
                await ws.recv()
                received += 1
        except websockets.ConnectionClosed:
            return received


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_a_client_that_stops_reading_is_closed_and_the_others_keep_up(
    servers: ServerFactory, project_dir: Path
) -> None:
    lines = 40_000  # about 40 MB of events: far more than one client's 1 MiB queue
    # The stalled client reads nothing after the subscribe (max_queue=1 stops its
    # library reading the socket, and its receive buffer is kept small). The agent
    # prints at most about 5 MB/s, which the reader, a Python client, keeps up with
    # (at full speed the hub outruns it, and it too would be cut off, as designed).
    server = servers.start(
        FAKE_AGENT,
        "--subscriber-queue-bytes",
        str(1024 * 1024),
        record_spawns=False,
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N=str(lines),
        FAKE_AGENT_PAUSE="0.02",
    )
    async with await connect(server) as client:
        project = await client.add_project(str(project_dir))
    stalled = await raw_socket(server, max_queue=1, sock=small_buffer_socket(server))
    reader = await raw_socket(server, max_size=None)
    try:
        await stalled.send(json.dumps({"type": "subscribe", "project": project["id"]}))
        await reply(reader, {"type": "subscribe", "id": 1, "project": project["id"]})
        before = rss_kib(server.process.pid)
        await reader.send(
            json.dumps({"type": "prompt", "id": 2, "project": project["id"], "text": "go"})
        )
        events = 0
        async with asyncio.timeout(90):
            while True:
                frame = await reader.recv()
                if '"kind":"cli"' in frame:
                    events += 1
                if '"state":"completed"' in frame or '"state":"failed"' in frame:
                    break
        growth = rss_kib(server.process.pid) - before
        assert events == lines + 2  # init, the lines, the result: nothing lost
        assert growth < 20 * 1024, f"server grew by {growth} KiB"
        received = await drain_until_closed(stalled)
        assert (stalled.close_code, stalled.close_reason) == (4008, "slow consumer")
        assert received < lines
        await still_works(reader)
    finally:
        await stalled.close()
        await reader.close()


async def test_one_connection_replays_two_long_histories_in_full(
    servers: ServerFactory, tmp_path: Path
) -> None:
    lines = 1500  # about 1.5 MB of history per project, against a 64 KiB queue
    server = servers.start(
        FAKE_AGENT,
        "--subscriber-queue-bytes",
        str(64 * 1024),
        record_spawns=False,
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N=str(lines),
    )
    names = ("first", "second")
    async with await connect(server) as client:
        for name in names:
            (tmp_path / name).mkdir()
            await client.add_project(str(tmp_path / name), name=name)
            await client.prompt(name, "go")
        async with asyncio.timeout(60):  # nobody watches live: wait for both runs
            while any(p["status"] != "idle" or p["head"] < lines for p in await client.projects()):
                await asyncio.sleep(0.2)
        listed = await client.projects()
    heads = {p["name"]: p["head"] for p in listed}
    ids = {p["id"]: p["name"] for p in listed}
    ws = await raw_socket(server, max_size=None)
    try:
        for name in names:
            await ws.send(json.dumps({"type": "subscribe", "project": name}))
        seqs: dict[str, list[int]] = {}
        caught_up: set[str] = set()
        async with asyncio.timeout(60):
            while len(caught_up) < 2:
                message = json.loads(await ws.recv())
                if message["type"] == "event":
                    seqs.setdefault(ids[message["project"]], []).append(message["seq"])
                elif message["type"] == "caught_up":
                    caught_up.add(ids[message["project"]])
        for name in names:
            assert seqs[name] == list(range(1, heads[name] + 1))
    finally:
        await ws.close()


async def test_a_browser_may_offer_its_token_as_a_subprotocol(servers: ServerFactory) -> None:
    """Browsers cannot set headers on a WebSocket; the token then travels as the
    subprotocol bearer.TOKEN, next to switchboard, which the server chooses."""
    server = servers.start(FAKE_AGENT, record_spawns=False)
    url = f"{server.ws_url}/ws"

    def offering(token: str) -> list[Subprotocol]:
        return [Subprotocol("switchboard"), Subprotocol(f"bearer.{token}")]

    async with websockets.connect(url, subprotocols=offering(server.token)) as ws:
        assert ws.subprotocol == "switchboard"
        assert json.loads(await ws.recv())["type"] == "connected"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, subprotocols=offering("wrong"))
    assert refused.value.response.status_code == 401


async def test_a_batched_replay_comes_in_events_frames_whole_and_live_events_one_a_frame(
    servers: ServerFactory, tmp_path: Path
) -> None:
    """``batch`` changes how the replay is framed, never what arrives: every event once,
    in order, across the replay and the events of a run printing meanwhile; once caught
    up, live events come one a frame."""
    lines = 2000  # about 2 MB of history: many events frames
    server = servers.start(
        FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="turns", FAKE_AGENT_N=str(lines)
    )
    (tmp_path / "p").mkdir()
    seqs: list[int] = []
    frames: dict[str, int] = {}

    async def read_until(ws: Any, done: Any) -> None:
        async with asyncio.timeout(60):
            while True:
                text = await ws.recv()
                message = json.loads(text)
                kind = message["type"]
                frames[kind] = frames.get(kind, 0) + 1
                if kind == "events":
                    assert message["project"] == project and "caught_up" not in frames
                    assert len(text) < 256 * 1024 + 8 * 1024  # bounded (+ one event)
                    assert all(e["type"] == "event" for e in message["events"])
                    seqs.extend(e["seq"] for e in message["events"])
                elif kind == "event":
                    assert "caught_up" in frames  # live ones come one a frame
                    seqs.append(message["seq"])
                if done(message):
                    return

    def finished(prompt: str) -> Any:
        def check(message: dict[str, Any]) -> bool:
            data = message.get("data") or {}
            return bool(
                message["type"] == "event"
                and message["kind"] == "run"
                and data["prompt"] == prompt
                and data["state"] == "completed"
            )

        return check

    async with await connect(server) as client:
        project = (await client.add_project(str(tmp_path / "p"), name="p"))["id"]
        await client.prompt("p", "go")
        async with asyncio.timeout(60):
            while (await client.projects())[0]["head"] < lines:
                await asyncio.sleep(0.2)
        ws = await raw_socket(server, max_size=None)
        try:
            await ws.send(json.dumps({"type": "subscribe", "project": "p", "batch": True}))
            await client.prompt("p", "again")  # prints while the replay is under way
            await read_until(ws, lambda message: message["type"] == "caught_up")
            await client.prompt("p", "live")
            await read_until(ws, finished("live"))
        finally:
            await ws.close()
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) > 2 * lines  # the first run, and the live one at least
    assert frames["events"] > 5 and frames["caught_up"] == 1 and frames["event"] > lines


async def test_with_compression_offered_deflate_and_plain_clients_get_the_same_events(
    servers: ServerFactory, tmp_path: Path
) -> None:
    """Frames to a client that negotiated permessage-deflate are framed by websockets;
    to one that did not, by the hub's own framing: both read the same events."""
    server = servers.start(
        FAKE_AGENT,
        record_spawns=False,
        SWITCHBOARD_WS_COMPRESSION="true",
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N="300",
    )
    (tmp_path / "p").mkdir()
    deflate = await raw_socket(server, max_size=None)
    plain = await raw_socket(server, max_size=None, compression=None)
    try:
        assert deflate.response.headers.get("Sec-WebSocket-Extensions", "").startswith(
            "permessage-deflate"
        )
        assert "Sec-WebSocket-Extensions" not in plain.response.headers
        async with await connect(server) as client:
            await client.add_project(str(tmp_path / "p"), name="p")
            for ws in (deflate, plain):
                assert (await reply(ws, {"type": "subscribe", "id": 1, "project": "p"}))[
                    "type"
                ] == "ack"
            await client.prompt("p", "go")
            seen = [await events_until_completed(ws) for ws in (deflate, plain)]
    finally:
        await deflate.close()
        await plain.close()
    assert seen[0] == seen[1]
    assert len(seen[0]) > 300


async def events_until_completed(ws: Any) -> list[tuple[int, str]]:
    """(seq, kind) of each event up to the first completed run."""
    got: list[tuple[int, str]] = []
    async with asyncio.timeout(60):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] != "event":
                continue
            got.append((message["seq"], message["kind"]))
            if message["kind"] == "run" and message["data"]["state"] == "completed":
                return got
