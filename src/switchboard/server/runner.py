"""Run the server: bind, print the banner, serve, and shut down in order on SIGINT/SIGTERM.

uvicorn's own shutdown closes WebSockets with 1012 and re-raises the signal after
serving (so the process would not exit 0). Switchboard owns the sequence instead:
stop accepting → close every connection with 1001 (each stops its CLI process group) →
let uvicorn finish → exit 0. A second signal forces an immediate exit.

Connections are accepted by Switchboard's :class:`~switchboard.server.acceptor.Acceptor`
rather than asyncio's server: it applies the connection caps before anything is
allocated, and survives running out of file descriptors without flooding the log.
"""

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Generator

import uvicorn

from switchboard.agents.base import AgentDriver
from switchboard.config import Settings
from switchboard.hub.hub import Hub
from switchboard.log_format import uvicorn_formatters
from switchboard.server import log_redaction
from switchboard.server.acceptor import Acceptor, open_files_shortfall, raise_open_files_limit
from switchboard.server.app import create_app
from switchboard.server.connections import ConnectionLimits
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.metrics import LoopLag
from switchboard.server.protocols import (
    GuardedH11Protocol,
    GuardedWebSocketProtocol,
    protocol_factory,
)

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 10.0
LISTEN_BACKLOG = 2048


class SwitchboardServer(uvicorn.Server):
    """uvicorn.Server with Switchboard's shutdown order."""

    def __init__(
        self,
        config: uvicorn.Config,
        tracker: ConnectionTracker,
        hub: Hub,
        early_signals: list[int] | None,
        *,
        limits: ConnectionLimits,
        handshake_timeout: float,
    ) -> None:
        """``early_signals`` None: the program embedding the server owns the signals."""
        super().__init__(config)
        self.tracker = tracker
        self.hub = hub
        self.limits = limits
        self.handshake_timeout = handshake_timeout
        self.acceptors: list[Acceptor] = []
        self._early_signals = early_signals
        self._shutdown_task: asyncio.Task[None] | None = None
        self._loop_lag = LoopLag(hub.telemetry.event_loop_lag_seconds.observe)
        self.ready = asyncio.Event()
        """Set once the server listens (uvicorn itself only flips ``started``)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is None:
            raise ValueError("Switchboard serves on sockets it bound itself")
        await super().startup(sockets=[])  # uvicorn listens on none: the acceptors do
        if not self.started:
            return
        create = protocol_factory(
            self.config, self.server_state, self.lifespan.state, self.limits, self.handshake_timeout
        )
        for sock in sockets:
            acceptor = Acceptor(sock, create, self.limits)
            acceptor.start()
            self.acceptors.append(acceptor)
        self._loop_lag.start()
        self.ready.set()

    def stop_accepting(self) -> None:
        for acceptor in self.acceptors:
            acceptor.stop()  # closes the listening socket

    async def on_tick(self, counter: int) -> bool:
        if counter % 10 == 0:  # once a second: report what throttled logs held back
            self.limits.flush_logs()
            for acceptor in self.acceptors:
                acceptor.flush_logs()
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stop_accepting()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if self._early_signals is None:
            yield
            return
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self.begin_shutdown, sig)
        if self._early_signals:  # arrived before the loop was listening for them
            self.begin_shutdown(self._early_signals[0])
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    def begin_shutdown(self, sig: int = signal.SIGTERM) -> None:
        """Drain and stop; a second call kills every run and exits at once."""
        if self._shutdown_task is not None:
            log.warning("second signal: killing every run and exiting now")
            self.tracker.kill_all()
            self.hub.kill_all()
            self._shutdown_task.cancel()
            self.force_exit = True
            self.should_exit = True
            return
        log.info("received %s: shutting down", signal.Signals(sig).name)
        self._shutdown_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        self.stop_accepting()
        self.hub.stop_accepting()
        await self.tracker.drain(DRAIN_TIMEOUT)
        self.should_exit = True

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().serve(sockets)
            if self._shutdown_task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._shutdown_task
        finally:
            await self._loop_lag.stop()
            await self.hub.close()


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so that port 0 reports the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)  # connections queue from now on, before uvicorn starts
    sock.set_inheritable(True)
    return sock


def server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def record_early_signals() -> list[int]:
    """Until the event loop takes over, remember SIGINT/SIGTERM instead of dying on them."""
    received: list[int] = []

    def remember(sig: int, frame: object) -> None:
        received.append(sig)

    signal.signal(signal.SIGINT, remember)
    signal.signal(signal.SIGTERM, remember)
    return received


def raise_open_files(settings: Settings) -> None:
    """Every connection is a file descriptor: take all the kernel allows, and say so."""
    before, limit = raise_open_files_limit()
    raised = f" (raised from {before})" if limit != before else ""
    log.info("open files limit: %d%s", limit, raised)
    shortfall = open_files_shortfall(limit, settings.max_connections)
    if shortfall is not None:
        log.warning("%s", shortfall)


def build_server(
    settings: Settings,
    token: str,
    hub: Hub,
    ws_claude_agents: AgentDriver,
    early_signals: list[int] | None,
) -> SwitchboardServer:
    """The uvicorn server for the app (``early_signals`` None: no signal handling), with
    tokens kept out of its logs (an embedding program's too)."""
    log_redaction.install()
    tracker = ConnectionTracker()
    limits = ConnectionLimits(
        settings.max_connections,
        settings.max_connections_per_client,
        logging.getLogger("switchboard.server.connections"),
    )
    app = create_app(
        settings, token, tracker, hub, ws_claude_agents=ws_claude_agents, limits=limits
    )
    config = uvicorn.Config(
        app,
        http=GuardedH11Protocol,
        ws=GuardedWebSocketProtocol,
        ws_max_size=settings.max_message_bytes,
        ws_ping_interval=settings.ping_interval,
        ws_ping_timeout=settings.ping_timeout,
        ws_per_message_deflate=settings.ws_compression,
        lifespan="off",
        log_level=settings.log_level,
        log_config=uvicorn_formatters(log_redaction.uvicorn_log_config(), settings.log_format),
        timeout_graceful_shutdown=int(DRAIN_TIMEOUT),
    )
    return SwitchboardServer(
        config,
        tracker,
        hub,
        early_signals,
        limits=limits,
        handshake_timeout=settings.handshake_timeout,
    )
