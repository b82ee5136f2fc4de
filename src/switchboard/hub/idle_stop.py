"""Stopping a project's agent process once it has been idle long enough: ``idle_timeout``
seconds after its last turn, or, while it still reports background work, as long as
``background_timeout`` allows (that work dies with the process)."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from switchboard.hub.turn import LiveAgent

log = logging.getLogger(__name__)


class IdleStop:
    def __init__(
        self,
        project_id: str,
        idle_timeout: float,
        background_timeout: float,
        *,
        watched: Callable[[], LiveAgent | None],
        in_turn: Callable[[], bool],
        stop: Callable[[], Awaitable[None]],
    ) -> None:
        self._project_id = project_id
        self.idle_timeout = idle_timeout
        self._background_timeout = background_timeout
        self._watched = watched
        """The process to stop when idle (None: none, or the session is closed)."""
        self._in_turn = in_turn
        self._stop = stop
        self._timer: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Task[None] | None = None

    def schedule(self, delay: float) -> None:
        """Look again in ``delay`` seconds (instead of when it was due)."""
        self.cancel()
        if self._watched() is not None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._begin)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def finished(self) -> None:
        """Wait for a stop under way, if any."""
        if self._stopping is not None:
            await self._stopping

    def _begin(self) -> None:
        self._timer = None
        process = self._watched()
        if self._in_turn() or self._stopping is not None or process is None:
            return
        pending = process.agent.background_pending()
        if pending and not process.retired:
            idle_for = time.monotonic() - process.idle_since
            left = self._background_timeout - idle_for
            if left > 0:
                self.schedule(min(self.idle_timeout, left))
                return
            log.warning(
                "stopping the agent of project %s with %d background tasks still pending "
                "after %.0f s without a turn (--background-timeout)",
                self._project_id,
                pending,
                idle_for,
            )
        self._stopping = asyncio.create_task(self._run(), name="idle-stop")

    async def _run(self) -> None:
        try:
            log.info("stopping the idle agent of project %s", self._project_id)
            await self._stop()
        finally:
            self._stopping = None
