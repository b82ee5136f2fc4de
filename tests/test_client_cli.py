"""Connecting and reconnecting, for the client commands (the commands: tests/e2e)."""

import argparse
import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from switchboard import client_cli
from switchboard.client import ConnectionLost
from switchboard.exceptions import ConfigError
from tests.conftest import FAKE_AGENT, ServerFactory


def test_which_losses_are_worth_reconnecting_after() -> None:
    for code in (4008, 1001, 1006, 1012, 1013):
        assert client_cli._resumable(ConnectionLost(code, ""))
    for final in (4003, 1011, 1000, None):  # revoked, failed, closed on purpose, unknown
        assert not client_cli._resumable(ConnectionLost(final, ""))


def options(url: str, token: str = "t") -> argparse.Namespace:
    return argparse.Namespace(server=url, token=token, data_dir=None)


def unused_port() -> int:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        return int(placeholder.getsockname()[1])


@asynccontextmanager
async def answering(status_line: bytes) -> AsyncIterator[str]:
    """A server that answers every request with ``status_line`` (a proxy in trouble)."""

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(status_line + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(reply, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_refused_token_is_final_and_a_failing_proxy_is_worth_a_retry(
    servers: ServerFactory,
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    with pytest.raises(ConfigError, match=r"HTTP 401 \(wrong token\?\)") as refused:
        await client_cli._connect(options(server.url, "wrong"))
    assert not isinstance(refused.value, client_cli.ServerAway)
    async with answering(b"HTTP/1.1 502 Bad Gateway") as proxy:
        with pytest.raises(client_cli.ServerAway, match="HTTP 502"):
            await client_cli._connect(options(proxy))
    with pytest.raises(client_cli.ServerAway, match="cannot connect"):
        await client_cli._connect(options(f"http://127.0.0.1:{unused_port()}"))


async def test_reconnecting_to_a_server_that_stays_away_gives_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(client_cli, "RECONNECT_SECONDS", 1.0)
    monkeypatch.setattr(client_cli, "FIRST_RECONNECT_DELAY", 0.1)
    reconnector = client_cli.Reconnector(options(f"http://127.0.0.1:{unused_port()}"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ConfigError, match="gave up reconnecting"):
        await reconnector.reconnect(ConnectionLost(1001, "server shutting down"))
    assert 0.5 < loop.time() - started < 5  # it waited 0.1 + 0.2 + 0.4 s, then gave up
    assert "reconnecting" in capsys.readouterr().err
    assert reconnector.delay > 0.1
    reconnector.progress()  # an event arrived: the next loss starts afresh
    assert reconnector.delay == 0.1 and reconnector.since_progress is None
