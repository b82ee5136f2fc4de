"""Reconnecting after a lost connection (the commands themselves: tests/e2e)."""

import argparse
import asyncio
import socket

import pytest

from switchboard import client_cli
from switchboard.client import ConnectionLost
from switchboard.exceptions import ConfigError


def test_which_losses_are_worth_reconnecting_after() -> None:
    assert client_cli._resumable(ConnectionLost(4008, "slow consumer"))
    assert client_cli._resumable(ConnectionLost(1001, "server shutting down"))
    assert client_cli._resumable(ConnectionLost(1006, ""))
    assert not client_cli._resumable(ConnectionLost(4003, "token revoked"))
    assert not client_cli._resumable(ConnectionLost(1011, "internal error"))


async def test_reconnecting_to_a_server_that_stays_away_gives_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    monkeypatch.setattr(client_cli, "RECONNECT_SECONDS", 1.0)
    monkeypatch.setattr(client_cli, "FIRST_RECONNECT_DELAY", 0.1)
    args = argparse.Namespace(server=f"http://127.0.0.1:{port}", token="t", data_dir=None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ConfigError, match="cannot connect"):
        await client_cli._reconnect(args, ConnectionLost(1001, "server shutting down"))
    assert 0.5 < loop.time() - started < 5  # it tried for a while (0.1 + 0.2 + 0.4 s), then gave up
    assert "reconnecting" in capsys.readouterr().err
