"""Retention: trim each project's event log to its policy, now and then, off the loop.

A pass looks at every project whose policy (its own, else the server's) limits its
log. It finds the newest event the policy lets go (by age: a binary search over the
stored times; by size: a scan of the newest events, skipped while what was appended
since the last scan cannot have reached the limit) and deletes it and everything
older, oldest first. Reads run in threads and deletes on the store's writer thread; the
event loop only decides.

Never deleted: the newest event (numbering goes on from it), and anything a replay
under way has yet to read. The oldest seq kept (``first_seq``) moves before anything is
deleted, so a ``subscribe`` asking for older history is told ``history_trimmed``
instead of being given a gap.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from switchboard.exceptions import StoreError
from switchboard.hub.bus import EventBus
from switchboard.store.ports import RetentionStore
from switchboard.store.records import RetentionPolicy

log = logging.getLogger(__name__)


class Retention:
    """Owns the trimming; :meth:`run` is the periodic task (its owner cancels it)."""

    def __init__(
        self,
        bus: EventBus,
        store: RetentionStore,
        *,
        server_policy: RetentionPolicy,
        interval: float,
        changed: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self._store = store
        self.server_policy = server_policy
        self._interval = interval
        self._changed = changed
        self._clock = clock
        self._measured: dict[str, tuple[int, int]] = {}
        """Per project: characters kept when its size was last measured, and how many
        had been appended (since start) then."""
        self._poked = asyncio.Event()

    def policy(self, project_id: str) -> RetentionPolicy:
        """The policy in force for the project: its own, field by field over the server's."""
        return self.server_policy.under(self._store.of_project(project_id))

    def poke(self) -> None:
        """Run a pass soon (a policy changed) instead of at the next interval."""
        self._poked.set()

    def forget(self, project_id: str) -> None:
        self._measured.pop(project_id, None)

    async def run(self, projects: Callable[[], Iterable[str]]) -> None:
        """A pass over ``projects()`` now, then every ``interval`` seconds (or when
        poked), until cancelled. A failing project is logged and tried next pass."""
        while True:
            self._poked.clear()
            for project_id in list(projects()):
                try:
                    await self.trim(project_id)
                except StoreError as exc:
                    log.warning("could not trim the event log of %s: %s", project_id, exc)
                except Exception:
                    log.exception("trimming the event log of %s failed", project_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), self._interval)

    async def trim(self, project_id: str) -> int:
        """Trim one project's log to its policy now; returns how many events went."""
        policy = self.policy(project_id)
        bus, events = self._bus, self._bus.log
        last = bus.head(project_id)
        if not policy.limits or last <= events.first(project_id):
            return 0
        cutoff = by_size = 0
        if policy.max_age_seconds is not None:
            older_than = self._clock() - policy.max_age_seconds
            cutoff = await events.age_cutoff(project_id, older_than, last)
        if policy.max_bytes is not None and self._may_exceed(project_id, policy.max_bytes):
            appended = events.appended_chars(project_id)
            by_size, kept = await events.size_cutoff(project_id, policy.max_bytes, last)
            self._measured[project_id] = (kept, appended)
            cutoff = max(cutoff, by_size)
        # From here to the first wait inside trim(), nothing else runs: these bounds hold.
        reading = bus.oldest_read(project_id)
        up_to = min(cutoff, bus.head(project_id) - 1)
        if reading is not None:
            up_to = min(up_to, reading)
        if by_size > up_to:  # more is kept than measured: measure again next time
            self._measured.pop(project_id, None)
        if up_to < events.first(project_id):
            return 0
        try:
            deleted = await events.trim(project_id, up_to)
        finally:
            self._changed(project_id)
        log.info("trimmed %d events of project %s (kept %d on)", deleted, project_id, up_to + 1)
        return deleted

    def _may_exceed(self, project_id: str, max_chars: int) -> bool:
        measured = self._measured.get(project_id)
        if measured is None:
            return True
        kept, appended_then = measured
        return kept + self._bus.log.appended_chars(project_id) - appended_then > max_chars
