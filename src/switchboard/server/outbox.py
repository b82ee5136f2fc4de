"""A connection's bounded send queue: what the hub has handed over, not yet sent.

The hub never waits for a client: it puts frames here and moves on. A writer task,
started by ``on_ready`` when frames arrive and ended when none are left, takes them
and sends them as fast as the client reads. Live frames and replies to requests that
would push the queue past its limit mark the client as a slow consumer instead (the
connection then closes with 4008 and the client resumes with ``since``): a client that
sends requests and never reads the answers cannot make the server hold them. Replay
is not subject to the limit: it waits for room before reading more
(:meth:`wait_for_room`).

An idle connection holds one of these, so it keeps no Events and no task: a waiter
gets a future only while it waits.
"""

import asyncio
from collections.abc import Callable


def _wake(waiter: "asyncio.Future[None] | None") -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Outbox:
    __slots__ = (
        "_exempt",
        "_frames",
        "_on_close",
        "_on_ready",
        "_room_waiters",
        "closed",
        "failure",
        "limit",
        "overflowed",
        "size",
    )

    def __init__(
        self,
        limit_bytes: int,
        on_ready: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.limit = limit_bytes
        self.size = 0
        self._exempt = 0  # bytes of queued frames the limit does not apply to
        self.overflowed = False
        self.failure: str | None = None
        self.closed = False
        self._frames: list[str] = []  # (a list: an empty deque costs a 0.5 KiB block)
        self._on_ready = on_ready  # called when a frame arrives in an empty outbox
        self._on_close = on_close
        # wait_for_room() callers (one per replaying subscription of the connection)
        self._room_waiters: list[asyncio.Future[None]] | None = None

    def put(self, frame: str) -> bool:
        """Queue a live frame or a reply; False (and the outbox is done) if it does not
        fit."""
        if self.closed:
            return False
        if self.size - self._exempt + len(frame) > self.limit and self._frames:
            self.overflowed = True
            self.close()
            return False
        self._append(frame)
        return True

    def put_always(self, frame: str) -> None:
        """Queue a frame the limit does not apply to: replay (which waits for room
        before reading more) and the ``connected`` snapshot."""
        if not self.closed:
            self._append(frame)
            self._exempt += len(frame)

    def _append(self, frame: str) -> None:
        was_empty = not self._frames
        self._frames.append(frame)
        self.size += len(frame)
        if was_empty and self._on_ready is not None:
            self._on_ready()

    async def wait_for_room(self) -> None:
        """Return once the outbox is at most half full (or closed)."""
        while self.size > self.limit // 2 and not self.closed:
            waiter = asyncio.get_running_loop().create_future()
            if self._room_waiters is None:
                self._room_waiters = []
            self._room_waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._room_waiters is not None and waiter in self._room_waiters:
                    self._room_waiters.remove(waiter)  # cancelled while waiting

    def take(self) -> list[str]:
        """Every queued frame (none once closed)."""
        if self.closed or not self._frames:
            return []
        frames, self._frames = self._frames, []
        self.size = self._exempt = 0
        self._wake_room_waiters()
        return frames

    def _wake_room_waiters(self) -> None:
        waiters, self._room_waiters = self._room_waiters, None
        for waiter in waiters or ():
            _wake(waiter)

    def fail(self, reason: str) -> None:
        """Close because the server cannot go on serving this connection."""
        self.failure = reason
        self.close()

    def close(self) -> None:
        """Drop what is queued and wake everyone up. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._frames = []
        self.size = self._exempt = 0
        self._wake_room_waiters()
        if self._on_close is not None:
            self._on_close()
