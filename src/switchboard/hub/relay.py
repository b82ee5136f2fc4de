"""What the other nodes of a cluster do, brought to this node's listeners.

- Stored events: a doorbell (:class:`~switchboard.store.ports.CommitFeed`) says that a
  project's log reached a seq; the events are then read from the log, by seq, as a
  replay reads them (:meth:`~switchboard.hub.bus.EventBus.catch_up`), one catch-up at
  a time per project, so that listeners get each event once and in order. After the
  doorbell reconnects, every project's head is read again: what rang meanwhile is lost.
- Token deltas, live only, and each project's status come over the node link.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from switchboard.hub.bus import EventBus

log = logging.getLogger(__name__)

CATCH_UP_TRIES = 5
RETRY_SECONDS = 0.5
"""A catch-up that fails (the store is away) tries again after this, times its try."""


class Relay:
    def __init__(self, bus: EventBus, is_mine: Callable[[str], bool]) -> None:
        self._bus = bus
        self._is_mine = is_mine
        self._wanted: dict[str, int] = {}
        """The seq each project's log reached, as the latest doorbell said."""
        self._catching_up: dict[str, asyncio.Task[None]] = {}
        self._resyncs: set[asyncio.Task[None]] = set()

    def rang(self, project_id: str, seq: int) -> None:
        """A project's log reached ``seq`` (on any node, this one included)."""
        if self._is_mine(project_id) or seq <= self._wanted.get(project_id, 0):
            return
        self._wanted[project_id] = seq
        if project_id not in self._catching_up:
            task = asyncio.create_task(self._catch_up(project_id), name=f"relay-{project_id}")
            self._catching_up[project_id] = task

    def resync(self) -> None:
        """The doorbell (re)connected: read every project's head, as if each rang."""
        task = asyncio.create_task(self._resync(), name="relay-resync")
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def settle(self, project_id: str) -> None:
        """Wait for the project's catch-up under way, if any (before this node takes
        the project over and appends to it)."""
        task = self._catching_up.get(project_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self._wanted.pop(project_id, None)

    def delta(self, project_id: str, frame: str) -> None:
        """A live delta of a project another node runs."""
        if not self._is_mine(project_id):
            self._bus.publish_delta(project_id, frame)

    async def close(self) -> None:
        tasks = [*self._catching_up.values(), *self._resyncs]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def forget(self, project_id: str) -> None:
        """The project was removed."""
        self._wanted.pop(project_id, None)

    async def caught_up(self, project_id: str, seq: int) -> None:
        """Bring listeners here up to ``seq`` (a client asks for a seq the doorbell has
        not reached yet), and wait for it."""
        self.rang(project_id, seq)
        task = self._catching_up.get(project_id)
        if task is not None:
            await asyncio.gather(asyncio.shield(task), return_exceptions=True)

    async def _catch_up(self, project_id: str) -> None:
        failures = 0
        try:
            while not self._is_mine(project_id) and project_id in self._wanted:
                target = self._wanted[project_id]
                try:
                    await self._bus.catch_up(project_id, target)
                except Exception:  # the store is away: try again shortly, a few times
                    failures += 1
                    if failures >= CATCH_UP_TRIES:
                        raise
                    await asyncio.sleep(RETRY_SECONDS * failures)
                    continue
                if self._wanted.get(project_id) == target:
                    return
        except Exception:
            log.exception("project %s: could not read what another node appended", project_id)
            self._wanted.pop(project_id, None)  # the next doorbell or sync tries afresh
        finally:
            self._catching_up.pop(project_id, None)

    async def _resync(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            try:
                heads = await self._bus.log.stored_heads()
            except Exception as exc:
                log.warning("could not read the projects' heads after the doorbell: %s", exc)
                return
            for project_id, seq in heads.items():
                self.rang(project_id, seq)
