"""Append events to a project's log, then publish them to its listeners, in seq order.

The bus joins the store's :class:`~switchboard.store.ports.EventLog` and a
:class:`~switchboard.hub.fanout.Broadcaster`. Events are published only after they
are committed, so a listener never sees an event a crash could lose; and publication
follows ``seq`` order even when two appends of one project commit concurrently
(ReplayCursor relies on both). Each frame is encoded once and shared by every listener.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence

from switchboard.hub.fanout import Broadcaster, Listener, Reader, WireEvent
from switchboard.protocol.messages import event_frame
from switchboard.store.ports import EventLog
from switchboard.store.records import NewEvent, StoredEvent
from switchboard.telemetry import Tallies

log = logging.getLogger(__name__)

CATCH_UP_PAGE = 1000
"""Events read at a time when another node's appends are brought to listeners here."""


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


class EventBus:
    """The event log plus live fan-out, per project."""

    def __init__(
        self, log: EventLog, broadcaster: Broadcaster, tallies: Tallies | None = None
    ) -> None:
        self.log = log
        self.tallies = tallies if tallies is not None else Tallies()
        """Where events appended and replayed are counted (``/metrics``)."""
        self._fanout = broadcaster
        self._appending: set[asyncio.Future[list[WireEvent]]] = set()
        self.publish_delta: Callable[[str, str], None] = broadcaster.publish_delta
        """``publish_delta(project_id, frame)``: send a live-only frame (no seq, not
        stored) to the project's listeners. (The broadcaster's own method: a token
        delta takes no extra call on its way.)"""

    def head(self, project_id: str) -> int:
        """The seq of the project's last published event: every event up to it is
        stored and has gone to the listeners. (A seq taken by an append that has not
        committed yet is not counted: if that write fails, the number is taken again.)"""
        return self._fanout.head(project_id)

    def first(self, project_id: str) -> int:
        """The oldest seq the project's log still keeps (1 unless it was trimmed)."""
        return self.log.first(project_id)

    def oldest_read(self, project_id: str) -> int | None:
        """The lowest seq after which a listener of the project still reads the log
        (a replay under way), or None."""
        positions = [
            position
            for listener in self._fanout.listeners(project_id)
            if isinstance(listener, Reader) and (position := listener.reading_after()) is not None
        ]
        return min(positions, default=None)

    def subscribe(self, project_id: str, listener: Listener) -> None:
        self._fanout.subscribe(project_id, listener)

    def unsubscribe(self, project_id: str, listener: Listener) -> None:
        self._fanout.unsubscribe(project_id, listener)

    def forget(self, project_id: str) -> list[Listener]:
        """Drop a removed project's topic; returns the listeners it had."""
        self.log.forget(project_id)
        return self._fanout.forget(project_id)

    def listener_count(self, project_id: str) -> int:
        return len(self._fanout.listeners(project_id))

    async def append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent], mark: str | None = None
    ) -> list[WireEvent]:
        """Persist ``items`` (and ``mark``, the project's resume mark, with them), then
        publish them (and any earlier ones now in order).

        Once called, it completes even if the caller is cancelled: the seqs are taken
        at once, and a seq that is never published would hold up every later one.
        """
        task = asyncio.ensure_future(self._append(project_id, epoch, items, mark))
        self._appending.add(task)
        task.add_done_callback(self._appended)
        return await asyncio.shield(task)

    def _appended(self, task: "asyncio.Future[list[WireEvent]]") -> None:
        self._appending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("append failed: %s", task.exception())

    async def _append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent], mark: str | None
    ) -> list[WireEvent]:
        topic = self._fanout.topic(project_id)  # before the log takes the seqs
        stored = await self.log.append(project_id, epoch, items, mark)
        self.tallies.events_appended += len(stored)
        wire = [to_wire(event) for event in stored]
        topic.publish(wire)
        return wire

    async def catch_up(self, project_id: str, seq: int) -> None:
        """Another node of a cluster appended the project's events up to ``seq``: hand
        the listeners here those they lack, read from the log in order. One call at a
        time per project (:class:`~switchboard.hub.relay.Relay` sees to it)."""
        self.log.note_head(project_id, seq)
        if self._fanout.advance(project_id, seq):  # nobody here listens
            return
        topic = self._fanout.topic(project_id)
        while (head := self._fanout.head(project_id)) < seq:
            stored = await self.log.read(project_id, head, CATCH_UP_PAGE)
            if not stored:
                return  # not visible here yet: the next doorbell brings it
            if stored[0].seq != head + 1:
                await self.log.reload(project_id)  # the oldest seq the owner kept
                first = self.log.first(project_id)
                if stored[0].seq < first:
                    continue  # the owner's trim went on meanwhile: read again
                if stored[0].seq > first:
                    log.error("project %s: its log has a hole after %s", project_id, head)
                    return
                log.warning(
                    "project %s: events %s..%s were trimmed by its owner before this node "
                    "read them; its listeners here resume past them",
                    project_id,
                    head + 1,
                    stored[0].seq - 1,
                )
                self._fanout.skip(project_id, stored[0].seq)
            topic.publish([to_wire(event) for event in stored])

    async def read(self, project_id: str, after: int, limit: int) -> list[WireEvent]:
        return [to_wire(event) for event in await self.log.read(project_id, after, limit)]
