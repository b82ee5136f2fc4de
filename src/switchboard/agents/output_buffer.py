"""Batches of CLI output between the reader task and the run's owner, bounded in bytes."""

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class OutputBuffer(Generic[T]):
    """A FIFO of batches. ``put`` waits while ``limit_bytes`` are queued; ``close`` never waits.

    The bound is on bytes rather than batches because one batch may hold a single
    line of many megabytes. A ``put`` is admitted whenever the queue is below the limit,
    so at most one batch overshoots it. After :meth:`close`, :meth:`get` returns what
    is left, then ``None``: closing never drops output and never blocks.
    """

    def __init__(self, limit_bytes: int) -> None:
        self._limit = limit_bytes
        self._items: deque[tuple[T, int]] = deque()
        self._queued = 0
        self._closed = False
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    @property
    def queued_bytes(self) -> int:
        return self._queued

    async def put(self, batch: T, size: int) -> None:
        while self._queued >= self._limit and not self._closed:
            self._room.clear()
            await self._room.wait()
        self._items.append((batch, size))
        self._queued += size
        self._ready.set()

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self._room.set()

    async def get(self) -> T | None:
        if not await self._wait_for_items():
            return None
        batch, size = self._items.popleft()
        self._queued -= size
        if self._queued < self._limit:
            self._room.set()
        return batch

    async def get_all(self) -> list[T] | None:
        """Every batch queued (at least one, waiting for it), oldest first; ``None``
        once closed and empty. A consumer that is slower than the producer for a while
        then takes what piled up in one go (a line at a time, each its own commit,
        would never catch up)."""
        if not await self._wait_for_items():
            return None
        batches = [batch for batch, _size in self._items]
        self._items.clear()
        self._queued = 0
        self._room.set()
        return batches

    async def _wait_for_items(self) -> bool:
        """Wait until a batch is queued: True, or False once closed and empty."""
        while not self._items:
            if self._closed:
                return False
            self._ready.clear()
            await self._ready.wait()
        return True
