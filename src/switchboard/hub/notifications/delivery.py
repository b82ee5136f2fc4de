"""Blocking sends (HTTP POSTs to push services and webhooks) off the event loop, bounded.

``pywebpush`` and ``requests`` block. Each send runs on a small thread pool of its own,
never on the event loop and never on the loop's default executor (which the store's
reads share): a push service that is slow or down ties up these threads and nothing
else. At most ``max_pending`` sends wait or run at once; beyond that a send is dropped
and logged (an alert is worth little late), so a dead service cannot grow a backlog.
Each send is bounded by its own HTTP timeout; closing waits for those under way at
most ``close_timeout`` seconds.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_PENDING = 256
"""Sends waiting or under way at once, per sender kind; more are dropped (logged)."""
WORKERS = 2
"""Threads per sender kind: sends to several endpoints overlap, a stuck one does not
stop the rest."""


class Deliveries:
    """One kind of send (``name``: web push, webhook), its threads and its bound."""

    def __init__(self, name: str, max_pending: int = MAX_PENDING, workers: int = WORKERS) -> None:
        self.name = name
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"switchboard-{name}")
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.dropped = 0
        """Sends refused because ``max_pending`` were under way."""

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(
        self, send: Callable[[], T], after: Callable[[T], Awaitable[None]], label: str
    ) -> bool:
        """Run ``send`` on a thread, then ``after`` with its result on the loop. False
        (and logged) when full or closed. A failure of either is logged, never raised."""
        if self._closed:
            return False
        if len(self._tasks) >= self.max_pending:
            self.dropped += 1
            log.warning(
                "%s: %d sends under way; dropped the one to %s", self.name, len(self._tasks), label
            )
            return False
        task = asyncio.get_running_loop().create_task(self._deliver(send, after, label))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _deliver(
        self, send: Callable[[], T], after: Callable[[T], Awaitable[None]], label: str
    ) -> None:
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._pool, send)
            await after(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s to %s failed: %s", self.name, label, exc)

    async def idle(self) -> None:
        """Wait until no send is under way (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    async def aclose(self, close_timeout: float) -> None:
        """Take no more sends; wait for those under way (at most ``close_timeout``),
        then let the threads go (a POST still running ends by its own timeout)."""
        self._closed = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), close_timeout)
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*tuple(self._tasks), return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)
