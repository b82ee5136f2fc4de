"""Track live WebSocket sessions so that shutdown can close them in order."""

import asyncio
import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Drainable(Protocol):
    """A live session that can be asked to wind down (close 1001, stop its process)."""

    def request_shutdown(self) -> None: ...

    def kill_now(self) -> None:
        """Kill the session's processes at once (a forced exit cannot wait)."""

    async def wait_closed(self) -> None: ...


class SessionTracker:
    """Which sessions are live, and whether new ones are accepted."""

    def __init__(self) -> None:
        self.accepting = True
        self._sessions: set[Drainable] = set()

    def add(self, session: Drainable) -> None:
        self._sessions.add(session)

    def discard(self, session: Drainable) -> None:
        self._sessions.discard(session)

    def __len__(self) -> int:
        return len(self._sessions)

    def kill_all(self) -> None:
        """SIGKILL every live session's processes, synchronously."""
        self.accepting = False
        for session in list(self._sessions):
            session.kill_now()

    async def drain(self, grace: float) -> None:
        """Stop accepting, ask every session to shut down, wait for all of them.

        Idempotent. The processes of sessions that do not finish within ``grace``
        seconds are SIGKILLed.
        """
        self.accepting = False
        sessions = list(self._sessions)
        for session in sessions:
            session.request_shutdown()
        if not sessions:
            return
        waits = [asyncio.ensure_future(s.wait_closed()) for s in sessions]
        done, pending = await asyncio.wait(waits, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d session(s) did not close within %.1fs; killing", len(pending), grace)
            self.kill_all()
        for task in done:
            if task.exception() is not None:
                log.warning("session failed while closing: %r", task.exception())
