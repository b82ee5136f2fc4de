"""The agent's end of ``/ws/agent``: dial out to the hub, say hello, keep the link alive
with heartbeats, and dial again whenever it drops, forever.

Retries wait a bounded, jittered backoff (so that many agents cut off together do not
dial back in step). Given several addresses (a cluster's nodes: ``--server A,B,C``), a
dial that fails moves on to the next one; a link that drops is dialled at the same
address first. Some refusals end the program instead, since retrying cannot help:
a token the hub does not know (HTTP 401/403), a revoked token (4003), a hello the hub
refused (1008: another agent's name), and a proxy that cannot be used. The connection
goes through the HTTP(S) proxy the environment names (``HTTPS_PROXY``, ``HTTP_PROXY``,
``NO_PROXY``), as ``websockets`` does by default (a hub on loopback too, unless
``NO_PROXY`` names it).
"""

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidProxy, InvalidStatus

from switchboard import __version__
from switchboard.agents.base import AgentDriver
from switchboard.exceptions import SwitchboardError
from switchboard.protocol.agent_link import (
    LinkAck,
    LinkCommand,
    LinkError,
    LinkHeartbeat,
    LinkHeartbeatAck,
    LinkHello,
    LinkWelcome,
    parse_from_hub,
)
from switchboard.protocol.close_codes import CloseCode
from switchboard.remote_agent.host import SessionHost
from switchboard.remote_agent.processes import LocalProcesses
from switchboard.remote_agent.spool import Spool

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
"""Seconds: the first retry waits up to BACKOFF_FIRST, each next one twice as long, up
to BACKOFF_MAX, each a random part (half to all) of that."""
OPEN_TIMEOUT = 10.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
FINAL_CLOSE_CODES = frozenset({CloseCode.TOKEN_REVOKED, CloseCode.POLICY_VIOLATION})


class LinkRefused(SwitchboardError):
    """The hub will not take this agent as it is configured: retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "link_refused")


@dataclass(slots=True)
class AgentConfig:
    server: str
    """The hub's address (http://, https://, ws:// or wss://), or several, comma-separated
    (the nodes of a cluster: each is tried in turn)."""
    token: str
    driver: AgentDriver
    """Runs the agent processes the hub asks for (the Claude Code CLI's driver)."""
    spool: Spool
    """Keeps what the processes say until the hub has it."""
    name: str | None = None
    allowed_roots: tuple[Path, ...] = ()
    processes: LocalProcesses | None = None
    """Confines and records the CLIs (None: neither, as in tests of the link alone)."""
    containment: str = "auto"
    """How the CLIs are confined (``--process-containment``)."""


def agent_url(server: str) -> str:
    """The ``/ws/agent`` URL of the hub at ``server``."""
    parts = urlsplit(server if "://" in server else f"http://{server}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/ws/agent", "", ""))


def addresses(server: str) -> list[str]:
    """The hub addresses ``server`` names (one, or several comma-separated)."""
    found = [part.strip() for part in server.split(",") if part.strip()]
    if not found:
        raise ValueError(f"no hub address in {server!r}")
    return found


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before dial number ``attempt`` (1 = the first retry)."""
    doublings = min(max(0, attempt - 1), 32)  # past the bound long before
    ceiling: float = min(BACKOFF_MAX, BACKOFF_FIRST * 2.0**doublings)
    return ceiling * (0.5 + rand() / 2)


@dataclass(slots=True)
class LinkState:
    """What the program knows of its link, for status lines and tests."""

    online: bool = False
    links: int = 0
    """Links that reached ``welcome`` so far."""
    last_error: str | None = None
    last_delay: float = 0.0
    """The wait before the latest dial again."""


async def run_agent(config: AgentConfig, state: LinkState | None = None) -> None:
    """Keep the agent linked to the hub until cancelled. Raises :class:`LinkRefused`."""
    state = state if state is not None else LinkState()
    processes = config.processes
    if processes is not None:  # what an earlier run of the agent left goes first
        await processes.open(config.containment)
    host = SessionHost(config.driver, config.allowed_roots, config.spool, processes)
    try:
        await _dial_forever(config, state, host)
    finally:
        await host.close_all()
        if processes is not None:
            await asyncio.to_thread(processes.close)


async def _dial_forever(config: AgentConfig, state: LinkState, host: SessionHost) -> None:
    attempt = 0
    hubs = addresses(config.server)
    turn = 0
    while True:
        server = hubs[turn % len(hubs)]
        try:
            welcomed = await _one_link(config, server, state, host)
        except LinkRefused:
            raise
        except (OSError, TimeoutError, ConnectionClosed, InvalidStatus, ValueError) as exc:
            state.last_error = _describe(exc)
            welcomed = False
        state.online = False
        attempt = 1 if welcomed else attempt + 1
        if not welcomed:
            turn += 1  # (a link that dropped: its hub first)
        delay = backoff(attempt)
        state.last_delay = delay
        log.warning(
            "link to %s down (%s); dialing %s in %.1f s",
            server,
            state.last_error,
            hubs[turn % len(hubs)],
            delay,
        )
        await asyncio.sleep(delay)


async def _one_link(config: AgentConfig, server: str, state: LinkState, host: SessionHost) -> bool:
    """Dial the hub at ``server``, say hello, serve the link until it drops; True if it
    got as far as ``welcome``."""
    try:
        connection = await websockets.connect(
            agent_url(server),
            subprotocols=["switchboard", f"bearer.{config.token}"],  # type: ignore[list-item]
            open_timeout=OPEN_TIMEOUT,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=None,  # the link has its own heartbeats
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise LinkRefused(f"the hub refused the token (HTTP {status})") from exc
        raise
    except (InvalidProxy, ImportError) as exc:  # ImportError: SOCKS without python-socks
        raise LinkRefused(f"cannot use the proxy: {exc}") from exc
    async with connection:
        hello = LinkHello(
            type="hello",
            name=config.name,
            version=__version__,
            allowed_roots=[str(root) for root in config.allowed_roots],
            spool=config.spool.spool_id,
            sessions=host.held(),
        )
        await connection.send(hello.model_dump_json())
        welcome = await _welcome(connection)
        state.online = True
        state.links += 1
        state.last_error = None
        log.info("linked to %s as %s", server, welcome.name)
        await _serve(connection, welcome, state, host)
    return True


async def _welcome(connection: ClientConnection) -> LinkWelcome:
    try:
        async with asyncio.timeout(OPEN_TIMEOUT):
            first = parse_from_hub(str(await connection.recv()))
    except ConnectionClosed as exc:
        _refuse_if_final(exc)
        raise
    if not isinstance(first, LinkWelcome):
        raise ValueError(f"expected welcome, got {first.type}")
    return first


async def _serve(
    connection: ClientConnection, welcome: LinkWelcome, state: LinkState, host: SessionHost
) -> None:
    """Do the hub's commands, send what the spool holds, answer the hub's heartbeats and
    send ours; end when the hub goes silent or the link drops (the processes go on, for
    the hub's grace period)."""
    heard = time.monotonic()
    sending = asyncio.Lock()

    async def send_text(text: str) -> None:
        async with sending:
            await connection.send(text)

    async def send(message: dict[str, Any]) -> None:
        await send_text(json.dumps(message))

    spooled = asyncio.create_task(
        host.linked(send, send_text, welcome.max_message_bytes, welcome.link_grace)
    )

    async def beat() -> None:
        while True:
            await asyncio.sleep(min(welcome.heartbeat_interval, welcome.heartbeat_timeout))
            if time.monotonic() - heard >= welcome.heartbeat_timeout:
                state.last_error = f"nothing from the hub for {welcome.heartbeat_timeout:g} s"
                await connection.close(CloseCode.GOING_AWAY, "hub silent")
                return
            await send_text(LinkHeartbeat(sent_at=time.time()).model_dump_json())

    beating = asyncio.create_task(beat())
    try:
        async for frame in connection:
            heard = time.monotonic()
            message = parse_from_hub(str(frame))
            if isinstance(message, LinkCommand):
                host.take(message)
            elif isinstance(message, LinkAck):
                host.acked(message.seq)
            elif isinstance(message, LinkHeartbeat):
                await send_text(LinkHeartbeatAck(sent_at=message.sent_at).model_dump_json())
            elif isinstance(message, LinkError):
                log.warning("the hub could not take a message: %s", message.message)
    except ConnectionClosed as exc:
        _refuse_if_final(exc)
        state.last_error = _describe(exc)
    finally:
        for task in (beating, spooled):
            task.cancel()
        await asyncio.gather(beating, spooled, return_exceptions=True)
    if connection.close_code is not None:
        state.last_error = state.last_error or _close_text(
            connection.close_code, connection.close_reason
        )
        if connection.close_code in FINAL_CLOSE_CODES:
            raise LinkRefused(_close_text(connection.close_code, connection.close_reason))


def _refuse_if_final(exc: ConnectionClosed) -> None:
    received = exc.rcvd
    if received is not None and received.code in FINAL_CLOSE_CODES:
        raise LinkRefused(_close_text(received.code, received.reason)) from exc


def _close_text(code: int | None, reason: str | None) -> str:
    return f"closed {code}" + (f": {reason}" if reason else "")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed) and exc.rcvd is not None:
        return _close_text(exc.rcvd.code, exc.rcvd.reason)
    return str(exc) or type(exc).__name__
