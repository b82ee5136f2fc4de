"""One connection's subscription to one project: history after ``since``, then live.

The subscription is registered on the bus *before* history is read, and a
:class:`~switchboard.protocol.replay.ReplayCursor` merges the two, so nothing falls
between them and nothing comes twice. History is read in chunks of ``chunk`` events
off the event loop, and the next chunk is read only once the connection's outbox has
room: a replay of any length never holds the loop or memory for long. A subscription
asked with ``batch`` sends the replay in ``events`` frames of at most
``BATCH_CHARS`` characters (a larger event goes alone), which costs a client far less
than a frame per event: a browser spends about as much on each WebSocket message as on
parsing a small one.
"""

import asyncio
import contextlib
import logging

from switchboard.hub.bus import EventBus
from switchboard.hub.fanout import WireEvent
from switchboard.protocol.messages import CaughtUp, encode, events_frame
from switchboard.protocol.replay import ReplayCursor
from switchboard.server.outbox import Outbox
from switchboard.server.text_frames import slices

log = logging.getLogger(__name__)

REPLAY_CHUNK = 200
BATCH_CHARS = 256 * 1024
"""An ``events`` frame holds events up to about this size (at most one more)."""


class Subscription:
    """A replay task runs while the cursor is behind the live stream, and only then:
    an idle subscriber that has caught up holds no task."""

    __slots__ = (
        "_batch",
        "_bus",
        "_chunk",
        "_outbox",
        "_stopped",
        "_task",
        "cursor",
        "project_id",
    )

    def __init__(
        self,
        project_id: str,
        since: int,
        bus: EventBus,
        outbox: Outbox,
        chunk: int = REPLAY_CHUNK,
        *,
        batch: bool = False,
    ) -> None:
        self.project_id = project_id
        self.cursor: ReplayCursor[WireEvent] = ReplayCursor(since)
        self._bus = bus
        self._outbox = outbox
        self._chunk = chunk
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        self._bus.subscribe(self.project_id, self)
        self._catch_up()

    def _catch_up(self) -> None:
        """Start the replay task unless it runs (it ends once the cursor is live)."""
        if self._task is None and not self._stopped and not self._outbox.closed:
            self._task = asyncio.create_task(self._replay(), name=f"replay-{self.project_id}")

    def cancel(self) -> None:
        """Stop receiving and replaying now (the replay task ends on its own)."""
        self._stopped = True
        self._bus.unsubscribe(self.project_id, self)
        if self._task is not None:
            self._task.cancel()

    async def stop(self) -> None:
        """Cancel, and wait for the replay task to end."""
        self.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- Listener -----------------------------------------------------------------------

    def on_event(self, event: WireEvent) -> None:
        cursor = self.cursor
        if cursor.live and event.seq == cursor.last + 1:  # the common case, inlined
            cursor.last = event.seq
            self._outbox.put(event.frame)
            return
        for ready in cursor.on_live(event):
            self._outbox.put(ready.frame)
        if not cursor.live:
            self._catch_up()

    def on_delta(self, frame: str) -> None:
        if self.cursor.live:
            self._outbox.put(frame)

    def reading_after(self) -> int | None:
        """Reader: while replaying, the log after this seq is still to be read."""
        return self.cursor.wants_read()

    # -- replay -------------------------------------------------------------------------

    async def _replay(self) -> None:
        try:
            await self._replay_until_live()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("replay of %s failed", self.project_id)
            self._outbox.fail(f"replay failed: {exc}")
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    async def _replay_until_live(self) -> None:
        while not self._outbox.closed:
            after = self.cursor.wants_read()
            if after is None:
                return
            await self._outbox.wait_for_room()
            batch = await self._bus.read(self.project_id, after, self._chunk)
            was_live = self.cursor.live
            frames = [
                event.frame
                for event in self.cursor.on_stored(batch, exhausted=len(batch) < self._chunk)
            ]
            if self._batch:
                for part in slices(frames, BATCH_CHARS):
                    self._outbox.put_always(events_frame(self.project_id, part))
            else:
                for frame in frames:
                    self._outbox.put_always(frame)
            self._bus.tallies.events_replayed += len(frames)
            if self.cursor.live and not was_live:
                caught_up = CaughtUp(project=self.project_id, seq=self.cursor.last)
                self._outbox.put_always(encode(caught_up))
