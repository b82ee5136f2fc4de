"""/ws/claude with a fault-injecting fake agent, through a real server process."""

import json
import signal
import uuid

import pytest
import websockets

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.processes import group_members, pids_with_env, wait_group_gone
from tests.support.server import collect, run_prompt


def fake_server(servers: ServerFactory, mode: str, *args: str, **env: str) -> object:
    return servers.start(FAKE_AGENT, *args, record_spawns=False, FAKE_AGENT_MODE=mode, **env)


async def test_agent_crash_gives_error_frame_with_stderr_and_1011(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="crash")
    run = await run_prompt(server, "hi")
    assert (run.close_code, run.close_reason) == (1011, "claude exited with status 3")
    assert run.messages[0]["subtype"] == "init"
    [error] = run.errors
    assert error["exit_code"] == 3
    assert "fake agent: something broke" in error["stderr"]


async def test_garbage_lines_become_error_frames_and_the_run_continues(
    servers: ServerFactory,
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="garbage")
    run = await run_prompt(server, "hi")
    assert run.close_code == 1000
    kinds = [m.get("type") or m["error"].split(" that ")[1] for m in run.messages]
    assert kinds == [
        "system",
        "is not JSON (16 bytes)",
        "is JSON but not an object (9 bytes)",
        "is not valid UTF-8 (12 bytes)",
        "result",
    ]
    assert run.messages[1]["line"] == "this is not json"


async def test_overlong_line_is_reported_and_the_rest_streams(servers: ServerFactory) -> None:
    server = servers.start(
        FAKE_AGENT,
        "--max-line-bytes",
        "1000",
        record_spawns=False,
        FAKE_AGENT_MODE="overlong",
        FAKE_AGENT_N="5000",
    )
    run = await run_prompt(server, "hi")
    assert run.close_code == 1000
    assert run.messages[0]["error"].endswith("exceeds the line length limit (5029 bytes)")
    assert run.messages[1]["type"] == "result"


async def test_prompt_reaches_the_agent_on_stdin(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="ok")
    run = await run_prompt(server, "ping \u00e9")
    assert run.close_code == 1000
    assert run.result["result"] == "ping \u00e9"


async def test_extra_frames_get_an_error_and_do_not_disturb_the_run(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="hang")
    async with server.connect() as ws:
        await ws.recv()
        await ws.send(json.dumps({"prompt": "a", "meta": "M"}))
        assert json.loads(await ws.recv())["subtype"] == "init"
        await ws.send(json.dumps({"prompt": "b", "meta": "M"}))
        reply = json.loads(await ws.recv())
        assert reply == {"error": "one prompt per connection; frame ignored"}


async def test_binary_frame_is_refused(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with server.connect() as ws:
        await ws.recv()
        await ws.send(b'{"prompt": "p", "meta": "M"}')
        run = await collect(ws)
    assert (run.close_code, run.close_reason) == (1008, "expected a text frame")


async def test_frame_over_the_message_limit_closes_1009(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, "--max-message-bytes", "4096", record_spawns=False)
    async with server.connect() as ws:
        await ws.recv()
        await ws.send(json.dumps({"prompt": "x" * 5000, "meta": "M"}))
        run = await collect(ws)
    assert run.close_code == 1009


async def test_missing_claude_binary_gives_error_frame_and_1011(servers: ServerFactory) -> None:
    server = servers.start(servers.tmp_path / "no-such-claude", record_spawns=False)
    run = await run_prompt(server, "hi")
    assert (run.close_code, run.close_reason) == (1011, "claude not found")
    assert "not an executable file" in run.errors[0]["error"]


async def test_sigterm_closes_sockets_1001_stops_agents_and_exits_0(servers: ServerFactory) -> None:
    meta = "SHUTDOWN-" + uuid.uuid4().hex[:8].upper()
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="spawn")
    async with server.connect() as ws:
        await ws.recv()
        await ws.send(json.dumps({"prompt": "p", "meta": meta}))
        family = json.loads(await ws.recv())
        pgid = family["pid"]
        assert set(group_members(pgid)) >= {pgid, *family["pids"]}
        server.process.send_signal(signal.SIGTERM)
        run = await collect(ws)
        assert (run.close_code, run.close_reason) == (1001, "server shutting down")
    assert server.process.wait(timeout=15) == 0
    assert wait_group_gone(pgid, timeout=5) == []
    assert pids_with_env("SWITCHBOARD_META", meta) == []


async def test_sigint_also_exits_0(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0


async def test_other_clients_are_undisturbed_by_a_bad_one(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="ok")
    async with server.connect() as bad:
        await bad.recv()
        await bad.send("{broken")
        assert (await collect(bad)).close_code == 1008
    good = await run_prompt(server, "still fine")
    assert good.result["result"] == "still fine"


@pytest.mark.parametrize("path", ["/ws/claude", "/ws/other"])
async def test_unknown_token_is_refused_on_every_websocket_path(
    servers: ServerFactory, path: str
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{server.ws_url}{path}"):
            pass
    assert refused.value.response.status_code == 401


async def test_agent_that_exits_before_reading_the_prompt_reports_its_status(
    servers: ServerFactory,
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="exit-early")
    run = await run_prompt(server, "hi")
    assert (run.close_code, run.close_reason) == (1011, "claude exited with status 5")
    [error] = run.errors
    assert "unknown option" in error["stderr"]


async def test_second_signal_kills_every_run_and_exits_at_once(servers: ServerFactory) -> None:
    meta = "FORCED-" + uuid.uuid4().hex[:8].upper()
    # The agent ignores SIGTERM and the grace is long: only a forced exit is quick.
    server = servers.start(
        FAKE_AGENT, "--kill-grace", "60", record_spawns=False, FAKE_AGENT_MODE="stubborn"
    )
    async with server.connect() as ws:
        await ws.recv()
        await ws.send(json.dumps({"prompt": "p", "meta": meta}))
        pgid = json.loads(await ws.recv())["pid"]
        server.process.send_signal(signal.SIGTERM)
        server.process.send_signal(signal.SIGINT)  # a second SIGTERM could merge with the first
        assert server.process.wait(timeout=15) == 0
    assert wait_group_gone(pgid, timeout=5) == []


async def test_a_client_that_never_sends_its_prompt_is_closed_1008(
    servers: ServerFactory,
) -> None:
    server = servers.start(
        FAKE_AGENT, "--prompt-timeout", "0.5", record_spawns=False, FAKE_AGENT_MODE="ok"
    )
    async with server.connect() as idle:
        assert json.loads(await idle.recv()) == {"info": "send {prompt,meta}"}
        run = await collect(idle)  # sends nothing
    assert (run.close_code, run.close_reason) == (1008, "no prompt received in time")
    assert run.frames == []
    assert (await run_prompt(server, "still served")).result["result"] == "still served"
