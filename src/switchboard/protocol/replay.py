"""Merge a subscriber's history and live events into one stream: each event once, in order.

A subscriber asks for everything after ``since``. It is registered for live events
*before* its history is read, so nothing falls between the two; the cursor then sorts
out the overlap. Pure: the hub does the reading and the sending.

    cursor = ReplayCursor(since)
    while (after := cursor.wants_read()) is not None:
        batch = read_store(after, limit)                     # may interleave with...
        send(cursor.on_stored(batch, exhausted=len(batch) < limit))
    ...and for every live event meanwhile and afterwards:  send(cursor.on_live(event))

Live events are only ever published after they are stored, in ``seq`` order, so a live
event with seq *s* proves that 1..*s* can be read from the store.
"""

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


E = TypeVar("E", bound=Sequenced)

DEFAULT_MAX_PENDING = 1024
"""Live events held while replaying; past that they are dropped and read from the store."""


class ReplayGapError(Exception):
    """The store returned events with a hole in their seqs (the log is damaged)."""


class ReplayCursor(Generic[E]):
    """One subscriber's position: ``last`` is the seq of the last event handed out."""

    __slots__ = ("_dropped_up_to", "_max_pending", "_pending", "last", "live")

    def __init__(self, since: int, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.last = since
        self.live = False
        self._max_pending = max_pending
        self._pending: dict[int, E] = {}
        self._dropped_up_to = 0  # highest seq dropped from _pending (overflow)

    def wants_read(self) -> int | None:
        """Read the store after this seq next; ``None`` once the cursor is live."""
        return None if self.live else self.last

    def on_stored(self, events: Sequence[E], exhausted: bool) -> list[E]:
        """Take events read from the store (ascending). ``exhausted``: the read returned
        fewer than it asked for, so the store had nothing more when it was read."""
        out: list[E] = []
        for event in events:
            if event.seq <= self.last:
                continue  # already handed out live
            if event.seq != self.last + 1:
                raise ReplayGapError(f"store skipped from {self.last} to {event.seq}")
            out.append(event)
            self.last = event.seq
        if exhausted:
            out += self._join_pending()
        return out

    def on_live(self, event: E) -> list[E]:
        """Take a live event; returns what to send now."""
        if event.seq <= self.last:
            return []  # a duplicate of what replay already sent
        if self.live and event.seq == self.last + 1:
            self.last = event.seq
            return [event]
        if self.live:  # a hole in live delivery: fetch the missing part from the store
            self.live = False
        if len(self._pending) < self._max_pending:
            self._pending[event.seq] = event
        else:
            self._dropped_up_to = max(self._dropped_up_to, event.seq)
        return []

    def _join_pending(self) -> list[E]:
        """After an exhausted read: hand out buffered live events that follow on; go live
        if nothing is missing any more."""
        out: list[E] = []
        for seq in sorted(self._pending):
            if seq <= self.last:
                del self._pending[seq]
            elif seq == self.last + 1:
                out.append(self._pending.pop(seq))
                self.last = seq
            else:
                break  # a hole: the next read fills it
        if not self._pending and self.last >= self._dropped_up_to:
            self.live = True
        return out
