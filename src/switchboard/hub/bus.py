"""Append events to a project's log and publish them to its subscribers, in seq order.

Events are published only after they are committed, so a subscriber never sees an
event a crash could lose; and publication follows ``seq`` order even when two appends
of one project commit concurrently (ReplayCursor relies on both). Each frame is encoded
once and shared by every subscriber.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from switchboard.protocol.messages import event_frame
from switchboard.store.events import EventLog, NewEvent, StoredEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WireEvent:
    """A stored event as sent: its seq and its ``event`` frame."""

    seq: int
    frame: str


def to_wire(event: StoredEvent) -> WireEvent:
    frame = event_frame(
        event.project_id,
        event.seq,
        epoch=event.epoch,
        run=event.run_id,
        kind=event.kind,
        body=event.body,
    )
    return WireEvent(event.seq, frame)


class Listener(Protocol):
    """A project's subscriber. Both calls must return at once (no awaiting)."""

    def on_event(self, event: WireEvent) -> None: ...

    def on_delta(self, frame: str) -> None: ...


@runtime_checkable
class Reader(Protocol):
    """A listener that also reads the stored log (a replay): retention keeps what it
    has yet to read."""

    def reading_after(self) -> int | None:
        """The seq after which it reads the log next; None while it does not read."""
        ...


class _Topic:
    __slots__ = ("listeners", "next_seq", "waiting")

    def __init__(self, next_seq: int) -> None:
        self.listeners: set[Listener] = set()
        self.next_seq = next_seq  # the seq to publish next
        self.waiting: dict[int, WireEvent] = {}  # committed, behind an earlier append


class EventBus:
    """The event log plus live fan-out, per project."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._topics: dict[str, _Topic] = {}
        self._appending: set[asyncio.Future[list[WireEvent]]] = set()

    def _topic(self, project_id: str) -> _Topic:
        topic = self._topics.get(project_id)
        if topic is None:
            topic = self._topics[project_id] = _Topic(self.log.head(project_id) + 1)
        return topic

    def head(self, project_id: str) -> int:
        """The seq of the project's last published event: every event up to it is
        stored and has gone to the listeners. (A seq taken by an append that has not
        committed yet is not counted: if that write fails, the number is taken again.)"""
        topic = self._topics.get(project_id)
        return topic.next_seq - 1 if topic is not None else self.log.head(project_id)

    def first(self, project_id: str) -> int:
        """The oldest seq the project's log still keeps (1 unless it was trimmed)."""
        return self.log.first(project_id)

    def oldest_read(self, project_id: str) -> int | None:
        """The lowest seq after which a listener of the project still reads the log
        (a replay under way), or None."""
        topic = self._topics.get(project_id)
        if topic is None:
            return None
        positions = [
            position
            for listener in topic.listeners
            if isinstance(listener, Reader) and (position := listener.reading_after()) is not None
        ]
        return min(positions, default=None)

    def subscribe(self, project_id: str, listener: Listener) -> None:
        self._topic(project_id).listeners.add(listener)

    def unsubscribe(self, project_id: str, listener: Listener) -> None:
        topic = self._topics.get(project_id)
        if topic is not None:
            topic.listeners.discard(listener)

    def forget(self, project_id: str) -> list[Listener]:
        """Drop a removed project's topic; returns the listeners it had."""
        self.log.forget(project_id)
        topic = self._topics.pop(project_id, None)
        return list(topic.listeners) if topic else []

    def listener_count(self, project_id: str) -> int:
        topic = self._topics.get(project_id)
        return len(topic.listeners) if topic else 0

    async def append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent]
    ) -> list[WireEvent]:
        """Persist ``items``, then publish them (and any earlier ones now in order).

        Once called, it completes even if the caller is cancelled: the seqs are taken
        at once, and a seq that is never published would hold up every later one.
        """
        task = asyncio.ensure_future(self._append(project_id, epoch, items))
        self._appending.add(task)
        task.add_done_callback(self._appended)
        return await asyncio.shield(task)

    def _appended(self, task: "asyncio.Future[list[WireEvent]]") -> None:
        self._appending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("append failed: %s", task.exception())

    async def _append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent]
    ) -> list[WireEvent]:
        topic = self._topic(project_id)
        stored = await self.log.append(project_id, epoch, items)
        wire = [to_wire(event) for event in stored]
        for event in wire:
            topic.waiting[event.seq] = event
        while (ready := topic.waiting.pop(topic.next_seq, None)) is not None:
            topic.next_seq += 1
            for listener in tuple(topic.listeners):
                listener.on_event(ready)
        return wire

    def publish_delta(self, project_id: str, frame: str) -> None:
        """Send a live-only frame (no seq, not stored) to the project's subscribers."""
        topic = self._topics.get(project_id)
        if topic is None:
            return
        for listener in tuple(topic.listeners):
            listener.on_delta(frame)

    async def read(self, project_id: str, after: int, limit: int) -> list[WireEvent]:
        return [to_wire(event) for event in await self.log.read(project_id, after, limit)]
