"""Tokens stay out of the logs, and the records still format: with uvicorn's own
formatters and records built as uvicorn builds them, then in a real server's log."""

import json
import logging
import signal
from typing import Any

import httpx
import pytest
import websockets
from uvicorn.logging import AccessFormatter, DefaultFormatter
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from switchboard.server.log_redaction import RedactTokens
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import connect

SECRET = "s3cr3t-T0ken_value"
DEFAULT_FORMATTER = DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False)
"""uvicorn's formatter of its error log, as its logging configuration sets it up."""


class Lines(logging.Handler):
    """Formats every record it gets, letting formatting errors through (a
    StreamHandler would print them as ``--- Logging error ---`` and go on)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def uvicorn_logger(name: str, formatter: logging.Formatter) -> tuple[logging.Logger, Lines]:
    """A logger like uvicorn's ``name`` (configured as uvicorn does), not registered."""
    logger = logging.Logger(name, logging.DEBUG)
    lines = Lines(formatter)
    logger.addHandler(lines)
    logger.addFilter(RedactTokens())
    return logger, lines


def http_scope(path: str, query: str) -> Any:
    """The parts of an ASGI scope that uvicorn's log lines use."""
    return {
        "type": "http",
        "client": ("127.0.0.1", 50312),
        "method": "GET",
        "http_version": "1.1",
        "raw_path": path.encode(),
        "query_string": query.encode(),
    }


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        (f"token={SECRET}", "token=***"),
        (f"TOKEN={SECRET}", "TOKEN=***"),
        (f"Token={SECRET}&since=3", "Token=***&since=3"),
        (f"since=3&tok%65n={SECRET}", "since=3&tok%65n=***"),
        (f"next=/x?token={SECRET}", "next=/x?token=***"),
    ],
)
def test_an_access_line_keeps_its_path_and_loses_the_token(query: str, shown: str) -> None:
    formatter = AccessFormatter(
        '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    )
    logger, lines = uvicorn_logger("uvicorn.access", formatter)
    scope = http_scope("/ws-demo.html", query)
    logger.info(  # as uvicorn's h11 protocol logs each response
        '%s - "%s %s HTTP/%s" %d',
        get_client_addr(scope),
        scope["method"],
        get_path_with_query_string(scope),
        scope["http_version"],
        200,
    )
    assert lines.lines == [
        f'INFO:     127.0.0.1:50312 - "GET /ws-demo.html?{shown} HTTP/1.1" 200 OK'
    ]


def test_a_websocket_access_line_loses_the_token() -> None:
    logger, lines = uvicorn_logger("uvicorn.error", DEFAULT_FORMATTER)
    scope: Any = {**http_scope("/ws", f"TOKEN={SECRET}"), "type": "websocket"}
    logger.info(  # as uvicorn's websockets-sansio protocol logs an accepted handshake
        '%s - "WebSocket %s" [accepted]',
        get_client_addr(scope),
        get_path_with_query_string(scope),
    )
    assert lines.lines == ['INFO:     127.0.0.1:50312 - "WebSocket /ws?TOKEN=***" [accepted]']


def test_debug_lines_of_a_handshake_and_its_frames_lose_the_token() -> None:
    """At debug level, websockets' protocol (given uvicorn's logger) logs the request
    line, every header, and every frame."""
    logger, lines = uvicorn_logger("uvicorn.error", DEFAULT_FORMATTER)
    protocol = ServerProtocol(logger=logger)
    protocol.receive_data(
        f"GET /ws?TOKEN={SECRET} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: switchboard, bearer.{SECRET}\r\n"
        f"Authorization: Bearer {SECRET}\r\n"
        f"Referer: http://127.0.0.1/ws-demo.html?token={SECRET}\r\n\r\n".encode()
    )
    [request] = protocol.events_received()
    assert isinstance(request, Request)
    protocol.send_response(protocol.accept(request))
    ack = {"type": "ack", "id": 1, "token": {"id": "t1", "name": "n"}, "secret": SECRET}
    protocol.send_text(json.dumps(ack).encode())
    log = "\n".join(lines.lines)
    assert "GET /ws?TOKEN=*** HTTP/1.1" in log
    assert "bearer.***" in log and "Bearer ***" in log and "ws-demo.html?token=***" in log
    assert '"secret": "***"' in log
    assert SECRET not in log


def test_a_token_split_between_message_and_argument_is_redacted_too() -> None:
    logger, lines = uvicorn_logger("uvicorn.error", DEFAULT_FORMATTER)
    logger.warning("refused ?Token=%s from %s", SECRET, "127.0.0.1")
    assert lines.lines == ["WARNING:  refused ?Token=*** from 127.0.0.1"]


async def test_a_real_server_logs_no_token_and_no_error_at_debug_level(
    servers: ServerFactory,
) -> None:
    """HTTP and WebSocket requests offering the token in every way it can be spelled,
    and a scoped token's secret sent back in a frame: the log (stderr, debug level)
    keeps the paths, has no traceback, and holds neither; the banner (stdout) shows the
    token once."""
    server = servers.start(FAKE_AGENT, "--log-level", "debug", record_spawns=False)
    token, base = server.token, server.url
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        spellings = [f"token={token}", f"TOKEN={token}", f"tok%65n={token}", f"a=1&token={token}"]
        statuses = [(await http.get(f"/ws-demo.html?{query}")).status_code for query in spellings]
        assert statuses == [200, 401, 200, 200]
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/ws-demo.html", headers=bearer)).status_code == 200
        assert (await http.get(f"/nowhere?token={token}")).status_code == 404
    offer = [Subprotocol("switchboard"), Subprotocol(f"bearer.{token}")]
    async with websockets.connect(f"{server.ws_url}/ws", subprotocols=offer) as ws:
        await ws.recv()
    async with websockets.connect(f"{server.ws_url}/ws", additional_headers=bearer) as ws:
        await ws.recv()
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(f"{server.ws_url}/ws/claude?TOKEN={token}")
    async with await connect(server) as client:  # /ws?token=
        secret = (await client.request("token.create", name="bot"))["secret"]
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    assert server.process.stdout is not None
    printed = "".join(server.banner) + server.process.stdout.read()
    log = server.log()
    assert "Traceback" not in log and "Logging error" not in log
    assert token not in log and secret not in log
    assert '"GET /ws-demo.html?TOKEN=*** HTTP/1.1" 401' in log
    assert '"GET /nowhere?token=*** HTTP/1.1" 404' in log
    assert '"WebSocket /ws?token=***" [accepted]' in log
    assert "bearer.***" in log and "Bearer ***" in log  # debug: the headers were logged
    assert printed.count(token) == 1
    assert f"Web UI: {base}/#token={token}\n" in printed
