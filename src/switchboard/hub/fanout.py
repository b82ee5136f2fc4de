"""Fan-out: a project's stored events and live deltas go to its listeners.

The event bus appends to the log, then hands the committed events to a
:class:`Broadcaster`; :class:`LocalBroadcaster` serves the listeners of this process
(one that reaches other nodes can take its place). Appends of one project may commit
in any order; a topic publishes in ``seq`` order regardless, holding an event back
until every earlier one has gone out, so a listener sees each event once, in order,
with no gap (ReplayCursor relies on it). Each frame is encoded once and shared by
every listener.
"""

from collections.abc import Callable, Collection, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from switchboard.telemetry import Tallies


class WireEvent(NamedTuple):
    """A stored event as sent: its seq and its ``event`` frame."""

    seq: int
    frame: str


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


class Topic(Protocol):
    """Where one project's committed events are published."""

    def publish(self, events: Sequence[WireEvent]) -> None:
        """Committed events (consecutive seqs): each goes to the listeners once every
        event before it has."""
        ...


class Broadcaster(Protocol):
    """Per project: its listeners, and what has been published to them."""

    def topic(self, project_id: str) -> Topic:
        """The project's topic. Take it *before* appending (a new topic starts after
        the log's head), and publish the append's events to the topic taken."""
        ...

    def head(self, project_id: str) -> int:
        """The seq of the project's last published event (before any: the log's head)."""
        ...

    def subscribe(self, project_id: str, listener: Listener) -> None: ...

    def unsubscribe(self, project_id: str, listener: Listener) -> None: ...

    def listeners(self, project_id: str) -> Collection[Listener]:
        """The project's listeners here."""
        ...

    def forget(self, project_id: str) -> list[Listener]:
        """Drop a removed project's topic; returns the listeners it had."""
        ...

    def publish_delta(self, project_id: str, frame: str) -> None:
        """Send a live-only frame (no seq, not stored) to the project's listeners."""
        ...

    def advance(self, project_id: str, seq: int) -> bool:
        """Another node appended up to ``seq``: a topic here with no listeners moves
        on past it unread. False if the topic has listeners (they need the events)."""
        ...

    def skip(self, project_id: str, first: int) -> None:
        """The log no longer has the events before ``first`` (another node trimmed them
        before this one read them): publishing goes on from ``first``. A listener then
        sees a hole, reads it from the log, and fails as a damaged replay would; its
        client resumes and learns of the trim (``history_trimmed``)."""
        ...


class _Topic:
    __slots__ = ("listeners", "next_seq", "tallies", "waiting")

    def __init__(self, next_seq: int, tallies: Tallies) -> None:
        self.tallies = tallies
        self.listeners: set[Listener] = set()
        self.next_seq = next_seq  # the seq to publish next
        self.waiting: dict[int, WireEvent] = {}  # committed, behind an earlier append

    def publish(self, events: Sequence[WireEvent]) -> None:
        waiting = self.waiting
        for event in events:
            waiting[event.seq] = event
        while (ready := waiting.pop(self.next_seq, None)) is not None:
            self.next_seq += 1
            listeners = tuple(self.listeners)
            self.tallies.events_delivered += len(listeners)
            for listener in listeners:
                listener.on_event(ready)


class LocalBroadcaster:
    """The listeners of this process. ``log_head`` gives the last seq a project's log
    has assigned: a new topic publishes from the one after it. ``tallies`` counts the
    events handed to listeners (``/metrics``)."""

    def __init__(self, log_head: Callable[[str], int], tallies: Tallies | None = None) -> None:
        self._log_head = log_head
        self._tallies = tallies if tallies is not None else Tallies()
        self._topics: dict[str, _Topic] = {}

    def topic(self, project_id: str) -> _Topic:
        topic = self._topics.get(project_id)
        if topic is None:
            topic = self._topics[project_id] = _Topic(self._log_head(project_id) + 1, self._tallies)
        return topic

    def head(self, project_id: str) -> int:
        topic = self._topics.get(project_id)
        return topic.next_seq - 1 if topic is not None else self._log_head(project_id)

    def subscribe(self, project_id: str, listener: Listener) -> None:
        self.topic(project_id).listeners.add(listener)

    def unsubscribe(self, project_id: str, listener: Listener) -> None:
        topic = self._topics.get(project_id)
        if topic is not None:
            topic.listeners.discard(listener)

    def listeners(self, project_id: str) -> Collection[Listener]:
        topic = self._topics.get(project_id)
        return topic.listeners if topic is not None else ()

    def forget(self, project_id: str) -> list[Listener]:
        topic = self._topics.pop(project_id, None)
        return list(topic.listeners) if topic else []

    def advance(self, project_id: str, seq: int) -> bool:
        topic = self._topics.get(project_id)
        if topic is None:
            return True
        if topic.listeners or topic.waiting:
            return False
        topic.next_seq = max(topic.next_seq, seq + 1)
        return True

    def skip(self, project_id: str, first: int) -> None:
        topic = self._topics.get(project_id)
        if topic is not None and topic.next_seq < first:
            topic.next_seq = first
            for seq in [seq for seq in topic.waiting if seq < first]:
                del topic.waiting[seq]

    def publish_delta(self, project_id: str, frame: str) -> None:
        topic = self._topics.get(project_id)
        if topic is None:
            return
        for listener in tuple(topic.listeners):
            listener.on_delta(frame)
