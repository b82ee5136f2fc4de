"""A connection's bounded send queue: what the hub has handed over, not yet sent.

The hub never waits for a client: it puts frames here and moves on. A writer task
takes them and sends them as fast as the client reads. Live frames that would push
the queue past its limit mark the client as a slow consumer instead (the connection
then closes with 4008 and the client resumes with ``since``). Replay is not subject to
the limit: it waits for room before reading more (:meth:`wait_for_room`).
"""

import asyncio
from collections import deque


class Outbox:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.size = 0
        self._exempt = 0  # bytes of queued frames the limit does not apply to
        self.overflowed = False
        self.failure: str | None = None
        self.closed = False
        self._frames: deque[str] = deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._done = asyncio.Event()

    def put(self, frame: str) -> bool:
        """Queue a live frame; False (and the outbox is done) if it does not fit."""
        if self.closed:
            return False
        if self.size - self._exempt + len(frame) > self.limit and self._frames:
            self.overflowed = True
            self.close()
            return False
        self._append(frame)
        return True

    def put_always(self, frame: str) -> None:
        """Queue a frame the limit does not apply to (replies, replay)."""
        if not self.closed:
            self._append(frame)
            self._exempt += len(frame)

    def _append(self, frame: str) -> None:
        self._frames.append(frame)
        self.size += len(frame)
        self._ready.set()
        if self.size > self.limit // 2:
            self._room.clear()

    async def wait_for_room(self) -> None:
        """Return once the outbox is at most half full (or closed)."""
        await self._room.wait()

    async def take(self) -> list[str]:
        """Every queued frame, waiting for one; an empty list once closed."""
        while not self._frames and not self.closed:
            self._ready.clear()
            await self._ready.wait()
        if self.closed:
            return []
        frames = list(self._frames)
        self._frames.clear()
        self.size = self._exempt = 0
        self._room.set()
        return frames

    async def wait_closed(self) -> None:
        """Return once the outbox is closed (on overflow, say, while a send is stuck)."""
        await self._done.wait()

    def fail(self, reason: str) -> None:
        """Close because the server cannot go on serving this connection."""
        self.failure = reason
        self.close()

    def close(self) -> None:
        """Drop what is queued and wake everyone up."""
        self.closed = True
        self._done.set()
        self._frames.clear()
        self.size = self._exempt = 0
        self._ready.set()
        self._room.set()
