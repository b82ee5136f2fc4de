"""Connections through a real server, from raw sockets: half-sent requests time out,
the caps push unauthenticated connections out first, running out of file descriptors
is logged in a few lines and survived. Each test checks that a client holding the token
(the neighbour) still connects and completes a prompt."""

import asyncio
import contextlib
import json
import os
import re
import resource
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import websockets

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.server import RunningServer, run_prompt

pytestmark = pytest.mark.timeout(90)

DEADLINE = 20.0
"""How long a test waits for the server to do what it must (it takes ~1 s)."""
TRICKLE = 0.25
"""Seconds between the bytes of a trickled request (one per read that times out)."""


def start(servers: ServerFactory, *args: str) -> RunningServer:
    return servers.start(FAKE_AGENT, *args, record_spawns=False, FAKE_AGENT_MODE="ok")


async def neighbour_completes_a_prompt(server: RunningServer, source: str = "127.0.0.1") -> None:
    run = await asyncio.wait_for(run_prompt(server, "still here", local_addr=(source, 0)), DEADLINE)
    assert run.close_code == 1000, run
    assert run.result["result"] == "still here"


class Raw:
    """A plain TCP connection to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, server: RunningServer, source: str = "127.0.0.1") -> "Raw":
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.port, local_addr=(source, 0)
        )
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_to_close(self) -> bytes:
        """Everything the server sends until it closes the connection."""
        received = b""
        async with asyncio.timeout(DEADLINE):
            while chunk := await self.read_some():
                received += chunk
        return received

    async def trickle(self, data: bytes) -> tuple[int, bytes]:
        """Send ``data`` a byte at a time, one every TRICKLE seconds, until the server
        closes the connection: (bytes sent, what it sent back)."""
        received = b""
        sent = 0
        async with asyncio.timeout(DEADLINE):
            while True:
                try:
                    chunk = await asyncio.wait_for(self.read_some(), TRICKLE)
                except TimeoutError:  # the server says nothing yet: next byte
                    if sent < len(data):
                        await self.send(data[sent : sent + 1])
                        sent += 1
                    continue
                if not chunk:
                    return sent, received
                received += chunk

    async def request(self, path: str = "/healthz") -> bytes:
        """A whole GET on this connection (kept alive); the response's head and body."""
        await self.send(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        async with asyncio.timeout(DEADLINE):
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            body = await self.reader.readexactly(int(length.group(1)) if length else 0)
        return head + body

    async def read_some(self) -> bytes:
        try:
            return await self.reader.read(65536)
        except ConnectionResetError:
            return b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@asynccontextmanager
async def raw_connections(
    server: RunningServer, count: int, source: str = "127.0.0.1"
) -> AsyncIterator[list[Raw]]:
    """``count`` connections that send nothing, opened one after the other."""
    opened: list[Raw] = []
    try:
        for _ in range(count):
            opened.append(await Raw.open(server, source))
        yield opened
    finally:
        for connection in opened:
            await connection.close()


@asynccontextmanager
async def raw_connection(server: RunningServer) -> AsyncIterator[Raw]:
    async with raw_connections(server, 1) as [connection]:
        yield connection


# -- the handshake timeout ------------------------------------------------------------------


async def test_a_request_line_trickled_slowly_gets_408_and_is_closed(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--handshake-timeout", "1")
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    async with raw_connection(server) as raw:
        sent, answer = await raw.trickle(request)
    assert sent < len(request)  # closed before the request was whole
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    await neighbour_completes_a_prompt(server)


async def test_a_websocket_upgrade_with_half_sent_headers_is_closed(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--handshake-timeout", "1")
    async with raw_connection(server) as raw:
        await raw.send(
            f"GET /ws/claude?token={server.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n".encode()  # and never the rest
        )
        await neighbour_completes_a_prompt(server)  # while it waits
        answer = await raw.read_to_close()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    await neighbour_completes_a_prompt(server)


async def test_a_connection_that_sends_nothing_is_closed_without_a_word(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--handshake-timeout", "1")
    async with raw_connection(server) as raw:
        assert await raw.read_to_close() == b""
    await neighbour_completes_a_prompt(server)
    assert "sent no complete request within 1 s" in server.log()


async def test_a_kept_alive_connection_trickling_its_next_request_is_closed(
    servers: ServerFactory,
) -> None:
    """uvicorn's keep-alive timer stops at the first byte of the next request."""
    server = start(servers, "--handshake-timeout", "1")
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    async with raw_connection(server) as raw:
        assert (await raw.request()).startswith(b"HTTP/1.1 200 OK\r\n")
        sent, answer = await raw.trickle(request)
    assert sent < len(request)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    await neighbour_completes_a_prompt(server)


# -- the caps ---------------------------------------------------------------------------------


async def test_a_flood_from_one_address_pushes_out_only_its_own_oldest(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--max-connections-per-client", "10")
    async with (
        raw_connection(server) as bystander,  # unauthenticated too, older than the flood
        raw_connections(server, 25, source="127.0.0.2") as flood,
    ):
        for pushed_out in flood[:15]:
            assert await pushed_out.read_to_close() == b""
        for kept in flood[15:]:  # still open: each gets an answer
            assert (await kept.request()).startswith(b"HTTP/1.1 200 OK\r\n")
        assert (await bystander.request()).startswith(b"HTTP/1.1 200 OK\r\n")
        await neighbour_completes_a_prompt(server)
    assert "--max-connections-per-client 10): closed the oldest unauthenticated one" in (
        server.log()
    )


async def test_a_client_with_the_token_gets_in_through_a_flood_on_its_own_address(
    servers: ServerFactory,
) -> None:
    """On 127.0.0.1 the flood and the client share the address, and its cap."""
    server = start(servers, "--max-connections-per-client", "10")
    async with raw_connections(server, 10) as flood:
        await neighbour_completes_a_prompt(server)  # took the place of the oldest
        assert await flood[0].read_to_close() == b""
        for kept in flood[1:]:
            assert (await kept.request()).startswith(b"HTTP/1.1 200 OK\r\n")


async def test_at_the_overall_cap_the_oldest_unauthenticated_connection_goes(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--max-connections", "8")
    async with raw_connections(server, 8, source="127.0.0.2") as flood:
        await neighbour_completes_a_prompt(server, source="127.0.0.3")
        assert await flood[0].read_to_close() == b""
        for kept in flood[1:]:
            assert (await kept.request()).startswith(b"HTTP/1.1 200 OK\r\n")
    assert "(--max-connections 8): closed the oldest unauthenticated one" in server.log()


async def test_when_every_connection_has_the_token_a_new_one_gets_503(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--max-connections-per-client", "3")
    url = f"{server.ws_url}/ws?token={server.token}"
    holders = [await websockets.connect(url) for _ in range(3)]
    try:
        for ws in holders:
            assert json.loads(await ws.recv())["type"] == "connected"
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, open_timeout=DEADLINE)
        assert refused.value.response.status_code == 503
        async with httpx.AsyncClient(timeout=DEADLINE) as http:
            response = await http.get(f"{server.url}/healthz")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "too many connections" in response.json()["error"]
        await holders[0].send(json.dumps({"type": "heartbeat", "id": "h"}))  # neighbour
        assert json.loads(await holders[0].recv())["type"] == "heartbeat_ack"
        await holders.pop().close()
        await neighbour_completes_a_prompt(server)  # a place is free again
    finally:
        for ws in holders:
            await ws.close()
    assert "refused a connection from 127.0.0.1 with 503" in server.log()


# -- file descriptors -----------------------------------------------------------------------


def test_the_soft_open_files_limit_is_raised_to_the_hard_one(servers: ServerFactory) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard < 1024:
        pytest.fail(f"this test needs a finite hard limit of 1024 or more, not {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))  # the server inherits it
    try:
        server = start(servers)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE) == (hard, hard)
    response = httpx.get(f"{server.url}/healthz", timeout=DEADLINE)
    assert response.status_code == 200
    server.stop()
    assert f"open files limit: {hard} (raised from 512)" in server.log()


async def test_running_out_of_file_descriptors_is_logged_briefly_and_survived(
    servers: ServerFactory,
) -> None:
    server = start(servers, "--handshake-timeout", "3")
    url = f"{server.ws_url}/ws?token={server.token}"
    async with websockets.connect(url) as neighbour:
        assert json.loads(await neighbour.recv())["type"] == "connected"
        in_use = len(os.listdir(f"/proc/{server.process.pid}/fd"))
        limit = in_use + 20
        resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (limit, limit))
        async with raw_connections(server, 40) as flood:  # the kernel queues them all
            # Until the first of them times out (3 s), the server cannot accept the
            # others; meanwhile the neighbour's connection works: a heartbeat every
            # TRICKLE seconds.
            async with asyncio.timeout(DEADLINE):
                while True:
                    try:
                        first = await asyncio.wait_for(flood[0].read_some(), TRICKLE)
                    except TimeoutError:
                        await neighbour.send(json.dumps({"type": "heartbeat", "id": "h"}))
                        assert json.loads(await neighbour.recv())["type"] == "heartbeat_ack"
                        continue
                    assert first == b""
                    break
            assert "cannot accept connections: EMFILE" in server.log()
            # Their places taken, the others are let in, and time out in turn.
            for connection in flood[1:]:
                assert await connection.read_to_close() == b""
        await neighbour.send(json.dumps({"type": "heartbeat", "id": "after"}))
        assert json.loads(await neighbour.recv())["id"] == "after"
    await neighbour_completes_a_prompt(server)
    server.stop()
    log = server.log()
    failures = re.findall(r"cannot accept connections: EMFILE .*limit (\d+)\)", log)
    assert failures and len(failures) <= 2, log  # the first, and one flush at shutdown
    assert int(failures[0]) == limit
    recovered = re.findall(r"accepting connections again, after (\d+) failed", log)
    assert 1 <= len(recovered) <= 2, log
    assert int(recovered[0]) >= 2, log  # several failures, one line
    assert "Traceback" not in log
    assert len(log.splitlines()) < 100
