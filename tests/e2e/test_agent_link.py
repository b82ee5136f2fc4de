"""Remote agents' links, end to end: ``switchboard agent`` as a separate process (its own
HOME) dials a real server's ``/ws/agent`` with an agent token; clients see it come
online, go offline when it falls silent past the heartbeat timeout, come back when it
redials, and go for good when its token is revoked."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.agents import HEARTBEATS, agent_status, agents, status_until, with_signal
from tests.support.hub import connect
from tests.support.netns import agent_namespace, namespace_problem
from tests.support.proxy import connect_proxy, holding_proxy
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(120)

__all__ = ["agents"]


def agents_listed(server: RunningServer) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "switchboard", "agents", "--server", server.url],
        env={**os.environ, "SWITCHBOARD_TOKEN": server.token},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


async def test_an_agent_comes_online_falls_silent_redials_and_is_revoked(
    servers: ServerFactory, agents: Callable[..., Any], tmp_path: Path
) -> None:
    server = servers.start(FAKE_AGENT, *HEARTBEATS, record_spawns=False)
    client = await connect(server)
    ack = await client.request("token.create", name="laptop", scope="agent")
    assert ack["token"]["scope"] == "agent" and ack["token"]["projects"] is None
    created = await agent_status(client)
    assert created["agent"] == {
        "name": "laptop",
        "online": False,
        "last_seen": None,
        "version": None,
        "allowed_roots": [],
        "projects": [],
        "running_runs": [],
        "node": None,
    }
    root = tmp_path / "code"
    root.mkdir()
    agent = await agents(server, ack["secret"], "--name", "laptop", "--allowed-root", str(root))
    online = await status_until(client, True)
    assert online["agent"]["allowed_roots"] == [str(root.resolve())]
    assert online["agent"]["version"] and online["agent"]["last_seen"]
    assert "laptop  online" in agents_listed(server)
    fresh = await connect(server)
    assert [a["name"] for a in fresh.snapshot["agents"] if a["online"]] == ["laptop"]
    await fresh.close()

    with_signal(agent, signal.SIGSTOP)  # silent: no heartbeats, no answers
    await status_until(client, False, timeout=10)
    assert "laptop  offline" in agents_listed(server)
    with_signal(agent, signal.SIGCONT)  # it finds its link closed (4010) and dials again
    await status_until(client, True, timeout=30)

    await client.request("token.revoke", token=ack["token"]["id"])
    while not (status := await agent_status(client))["removed"]:
        pass
    assert status["agent"]["name"] == "laptop"
    async with asyncio.timeout(30):
        _, err = await agent.communicate()
    assert agent.returncode == 2, err.decode()
    assert "4003" in err.decode() and "token revoked" in err.decode()
    assert agents_listed(server).startswith("no agents")
    await client.close()


async def test_an_agent_dials_back_in_after_the_hub_is_killed_and_restarted(
    servers: ServerFactory, agents: Callable[..., Any], tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port to come back on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--data-dir", str(tmp_path / "shared-data"), "--port", str(port), *HEARTBEATS]
    server = servers.start(FAKE_AGENT, *args, record_spawns=False)
    async with await connect(server) as client:
        secret = (await client.request("token.create", name="laptop", scope="agent"))["secret"]
        agent = await agents(server, secret)
        await status_until(client, True)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    again = servers.start(FAKE_AGENT, *args, record_spawns=False)
    async with await connect(again) as viewer:
        [known] = viewer.snapshot["agents"]
        assert known["name"] == "laptop"  # the token survived; presence is not stored
        if not known["online"]:
            await status_until(viewer, True, timeout=40)
    assert agent.returncode is None  # it kept dialling, never gave up


async def test_a_silent_network_cut_past_the_heartbeat_timeout_and_back(
    servers: ServerFactory, agents: Callable[..., Any]
) -> None:
    """The agent in its own network namespace; its link goes down (packets just stop:
    no FIN, no RST) for longer than the heartbeat timeout, then comes back."""
    problem = namespace_problem()
    if problem is not None:
        pytest.skip(f"no network namespace for the agent: {problem}")
    with agent_namespace() as namespace:
        host = ["--allowed-host", namespace.host_ip]
        server = servers.start(FAKE_AGENT, *HEARTBEATS, *host, record_spawns=False)
        async with (
            holding_proxy(server.port, host=namespace.host_ip) as (_, url),
            await connect(server) as client,
        ):
            secret = (await client.request("token.create", name="far", scope="agent"))["secret"]
            agent = await agents(server, secret, url=url, prefix=namespace.exec_prefix())
            await status_until(client, True)
            namespace.cut()
            cut_at = time.monotonic()
            await status_until(client, False, timeout=15)
            assert time.monotonic() - cut_at >= 1.0  # noticed by the silence, not a reset
            await asyncio.sleep(2.0)  # stays cut a while longer
            namespace.restore()
            await status_until(client, True, timeout=45)  # it dialled again, and got through
            assert agent.returncode is None


def proxy_env(proxy: str) -> dict[str, str]:
    """Environment naming ``proxy`` for HTTP and HTTPS, with no exceptions and no other
    proxy, in both cases (urllib prefers the lower-case name, and an empty one cancels
    the upper-case one), so that nothing of ours leaks in."""
    env: dict[str, str] = {}
    for scheme in ("http", "https", "no", "all", "ws", "wss", "socks"):
        value = proxy if scheme in ("http", "https") else ""
        env[f"{scheme.upper()}_PROXY"] = env[f"{scheme}_proxy"] = value
    return env


async def test_an_agent_reaches_the_hub_through_the_http_proxy_of_its_environment(
    servers: ServerFactory, agents: Callable[..., Any]
) -> None:
    server = servers.start(FAKE_AGENT, *HEARTBEATS, record_spawns=False)
    async with connect_proxy() as proxy, await connect(server) as client:
        secret = (await client.request("token.create", name="behind", scope="agent"))["secret"]
        await agents(server, secret, env=proxy_env(proxy.url))
        await status_until(client, True)
        assert urlsplit(server.url).netloc in proxy.targets  # tunnelled with CONNECT


async def test_an_agent_stops_on_a_proxy_it_cannot_use(
    servers: ServerFactory, agents: Callable[..., Any]
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as client:
        secret = (await client.request("token.create", name="stuck", scope="agent"))["secret"]
    agent = await agents(server, secret, env=proxy_env("ftp://127.0.0.1:1"))
    async with asyncio.timeout(30):
        _, err = await agent.communicate()
    assert agent.returncode == 2, err.decode()
    assert "cannot use the proxy: ftp://127.0.0.1:1" in err.decode()


async def test_a_stopped_agent_goes_offline_at_once_and_exits_cleanly(
    servers: ServerFactory, agents: Callable[..., Any]
) -> None:
    server = servers.start(FAKE_AGENT, *HEARTBEATS, record_spawns=False)
    client = await connect(server)
    ack = await client.request("token.create", name="box", scope="agent")
    agent = await agents(server, ack["secret"])  # its name: the token's
    await status_until(client, True)
    with_signal(agent, signal.SIGTERM)
    status = await status_until(client, False, timeout=5)  # its link closed, no timeout
    assert status["agent"]["name"] == "box"
    async with asyncio.timeout(15):
        await agent.wait()
    assert agent.returncode == 0
    await client.close()


async def test_an_agent_with_another_agents_name_or_a_bad_token_is_refused(
    servers: ServerFactory, agents: Callable[..., Any]
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    client = await connect(server)
    ack = await client.request("token.create", name="laptop", scope="agent")
    impostor = await agents(server, ack["secret"], "--name", "desktop")
    async with asyncio.timeout(30):
        _, err = await impostor.communicate()
    assert impostor.returncode == 2
    assert "belongs to agent 'laptop'" in err.decode()
    stranger = await agents(server, "not-a-token")
    async with asyncio.timeout(30):
        _, err = await stranger.communicate()
    assert stranger.returncode == 2 and "HTTP 401" in err.decode()
    await client.close()


async def test_each_token_opens_only_its_own_endpoint(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    client = await connect(server)
    agent_secret = (await client.request("token.create", name="a", scope="agent"))["secret"]
    producer = (await client.request("token.create", name="p"))["secret"]
    for path, token in (
        ("/ws/agent", server.token),
        ("/ws/agent", producer),
        ("/ws", agent_secret),
    ):
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(f"{server.ws_url}{path}?token={token}")
        assert refused.value.response.status_code == 403, path
    await client.close()


async def test_the_link_answers_bad_messages_and_closes_a_silent_agent(
    servers: ServerFactory,
) -> None:
    server = servers.start(
        FAKE_AGENT, *HEARTBEATS, "--max-message-bytes", "4096", record_spawns=False
    )
    client = await connect(server)
    secret = (await client.request("token.create", name="raw", scope="agent"))["secret"]
    url = f"{server.ws_url}/ws/agent?token={secret}"

    async with websockets.connect(url) as link:  # no hello first: refused
        await link.send('{"type":"heartbeat","sent_at":1}')
        assert await close_code(link) == 1008

    hello = '{"type":"hello","version":"test","allowed_roots":[]}'
    async with websockets.connect(url) as link:
        await link.send(hello)
        assert '"welcome"' in str(await link.recv())
        for bad, code in (
            ("not json", "bad_json"),
            ("[1]", "bad_message"),
            ('{"type":"launch_missiles"}', "unknown_type"),
            ('{"type":"heartbeat"}', "bad_message"),
            ("[" * 100 + "]" * 100, "bad_message"),
        ):
            await link.send(bad)
            reply = await next_reply(link, "error")
            assert f'"code":"{code}"' in reply, (bad, reply)
        await link.send('{"type":"heartbeat","sent_at":7.5}')
        assert '"sent_at":7.5' in await next_reply(link, "heartbeat_ack")
        # News of processes the hub never launched here, twice, and nonsense inside:
        # dropped (the agent writes into no project), acknowledged so that its spool
        # empties, and the link stays up.
        stray = '{"type":"output","seq":1,"session":"nobody","events":[{"kind":"launch"}],'
        for _ in range(2):
            await link.send(stray + '"background_pending":0,"turn_running":false}')
        await link.send('{"type":"reply","id":999,"result":{}}')
        assert '"seq":1' in await next_reply(link, "ack")
        await link.send('{"type":"heartbeat","sent_at":8.5}')
        assert '"sent_at":8.5' in await next_reply(link, "heartbeat_ack")
        assert await client.projects() == []  # nothing written anywhere
        await link.send("x" * 5000)  # over --max-message-bytes
        assert await close_code(link) == 1009

    async with websockets.connect(url, ping_interval=None) as link:
        await link.send(hello)
        await link.recv()
        assert await close_code(link) == 4010  # heartbeats came, and went unanswered
    await client.close()


async def next_reply(link: Any, kind: str) -> str:
    """The next frame of this type (heartbeats from the hub come in between)."""
    async with asyncio.timeout(10):
        while True:
            frame = str(await link.recv())
            if f'"type":"{kind}"' in frame:
                return frame


async def close_code(link: Any) -> int | None:
    """Read until the hub closes the link; the code it closed with."""
    try:
        async with asyncio.timeout(10):
            while True:
                await link.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
