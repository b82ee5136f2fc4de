"""Track live WebSocket connections so that shutdown can close them in order."""

import asyncio
import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Drainable(Protocol):
    """A live connection that can be asked to wind down (close 1001, stop its process)."""

    def request_shutdown(self) -> None: ...

    def kill_now(self) -> None:
        """Kill the connection's processes at once (a forced exit cannot wait)."""

    async def wait_closed(self) -> None: ...


class ConnectionTracker:
    """Which connections are live, and whether new ones are accepted."""

    def __init__(self) -> None:
        self.accepting = True
        self._connections: set[Drainable] = set()

    def add(self, connection: Drainable) -> None:
        self._connections.add(connection)

    def discard(self, connection: Drainable) -> None:
        self._connections.discard(connection)

    def __len__(self) -> int:
        return len(self._connections)

    def connections(self) -> list[Drainable]:
        """The live connections, as of now."""
        return list(self._connections)

    def kill_all(self) -> None:
        """SIGKILL every live connection's processes, synchronously."""
        self.accepting = False
        for connection in list(self._connections):
            connection.kill_now()

    async def drain(self, grace: float) -> None:
        """Stop accepting, ask every connection to shut down, wait for all of them.

        Idempotent. The processes of connections that do not finish within ``grace``
        seconds are SIGKILLed.
        """
        self.accepting = False
        connections = list(self._connections)
        for connection in connections:
            connection.request_shutdown()
        if not connections:
            return
        waits = [asyncio.ensure_future(c.wait_closed()) for c in connections]
        done, pending = await asyncio.wait(waits, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d connection(s) did not close within %.1fs; killing", len(pending), grace)
            self.kill_all()
        for task in done:
            if task.exception() is not None:
                log.warning("connection failed while closing: %r", task.exception())
