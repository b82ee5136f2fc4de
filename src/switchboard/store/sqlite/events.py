"""The per-project event log: append with gapless ``seq`` numbers, read after a ``seq``,
and forget the oldest events (retention) without leaving a gap in what is kept.

Gaplessness is checked by the database itself: each write first reads the project's
last stored ``seq`` and refuses to go on unless its own events follow it. A failed write
(disk full, I/O error) therefore fails every write of the project queued behind it,
and the next append re-reads the last stored ``seq`` and numbers on from there: the
numbers the failed writes had taken are taken again, and no reader ever saw them.
"""

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select
from sqlalchemy.engine import Connection

from switchboard.exceptions import LeaseLost, StoreError
from switchboard.store.records import NewEvent, StoredEvent
from switchboard.store.sqlite.doorbell import doorbell_payload
from switchboard.store.sqlite.event_statements import (
    COLUMNS,
    CompiledInsert,
    CompiledLastSeq,
    CompiledReadAfter,
)
from switchboard.store.sqlite.leases import LeaseCheck
from switchboard.store.sqlite.marks import ResumeMarks
from switchboard.store.sqlite.schema import events
from switchboard.store.sqlite.writer import Writer

TRIM_CHUNK = 1000
"""Events deleted per write transaction when a log is trimmed (appends go on between)."""
SIZE_SCAN_ROWS = 500
"""Rows fetched at a time while measuring the newest events of a log."""


class SqliteEventLog:
    """Assigns ``seq`` on the event loop (so call order is seq order) and persists.

    ``append`` returns only once the events are committed: a caller that sends events
    after ``append`` never sends one that a crash could lose. Call :meth:`load_heads`
    once at start; this object must be the only writer of the ``events`` table.
    """

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._heads: dict[str, int] = {}
        self._firsts: dict[str, int] = {}  # the oldest seq kept, where it is not 1
        self._failed: dict[str, BaseException] = {}  # a write failed: re-read the head
        self._resyncing: dict[str, asyncio.Future[None]] = {}
        self._appended: dict[str, int] = {}  # characters appended since start
        self._insert = CompiledInsert(engine)
        self._last_seq = CompiledLastSeq(engine)
        self._read_after = CompiledReadAfter(engine)
        self._marks = ResumeMarks(engine, writer)
        self.doorbell: str | None = None
        """The NOTIFY channel each append rings in its transaction, on a cluster's
        shared PostgreSQL (:mod:`.doorbell`); None: no other node listens."""
        self.fence: str | None = None
        """On a cluster's node, its id: an append commits only while the node holds the
        project's lease (checked in the same transaction)."""
        self._lease_held = LeaseCheck(engine)

    async def load_heads(self) -> None:
        """Read the first and last ``seq`` of every project."""

        def read() -> list[tuple[str, int, int]]:
            query = select(
                events.c.project_id, func.min(events.c.seq), func.max(events.c.seq)
            ).group_by(events.c.project_id)
            with self._engine.connect() as connection:
                return [(row[0], int(row[1]), int(row[2])) for row in connection.execute(query)]

        rows = await asyncio.to_thread(read)
        self._heads = {project_id: last for project_id, _first, last in rows}
        self._firsts = {project_id: first for project_id, first, _last in rows if first > 1}

    def head(self, project_id: str) -> int:
        """The last ``seq`` assigned in ``project_id`` (0 for none)."""
        return self._heads.get(project_id, 0)

    def note_head(self, project_id: str, seq: int) -> None:
        """Another node appended up to ``seq`` (its doorbell rang)."""
        if seq > self._heads.get(project_id, 0):
            self._heads[project_id] = seq

    async def reload(self, project_id: str) -> None:
        """Read the project's first and last stored ``seq`` again: another node may
        have appended or trimmed since this one last did (before it appends here)."""
        query = select(func.min(events.c.seq), func.max(events.c.seq)).where(
            events.c.project_id == project_id
        )

        def read() -> tuple[int, int]:
            with self._engine.connect() as connection:
                row = connection.execute(query).one()
                return int(row[0] or 1), int(row[1] or 0)

        first, last = await asyncio.to_thread(read)
        self._heads[project_id] = last
        if first > 1:
            self._firsts[project_id] = first
        else:
            self._firsts.pop(project_id, None)
        self._failed.pop(project_id, None)

    async def stored_heads(self) -> dict[str, int]:
        """The last stored ``seq`` of every project that has events."""
        query = select(events.c.project_id, func.max(events.c.seq)).group_by(events.c.project_id)

        def read() -> dict[str, int]:
            with self._engine.connect() as connection:
                return {str(row[0]): int(row[1]) for row in connection.execute(query)}

        return await asyncio.to_thread(read)

    def first(self, project_id: str) -> int:
        """The oldest ``seq`` still kept in ``project_id``: 1 unless it was trimmed."""
        return self._firsts.get(project_id, 1)

    def appended_chars(self, project_id: str) -> int:
        """Characters of event bodies appended to ``project_id`` since start."""
        return self._appended.get(project_id, 0)

    def forget(self, project_id: str) -> None:
        """The project was removed (its events went with it)."""
        for table in (self._heads, self._firsts, self._failed, self._appended):
            table.pop(project_id, None)

    async def append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent], mark: str | None = None
    ) -> list[StoredEvent]:
        """Persist ``items`` as the next events of ``project_id``; return them with seqs.
        ``mark`` (if given) becomes the project's resume mark in the same transaction.

        If the database refuses the write, :class:`StoreError` is raised, and so it is
        for the project's writes already queued behind it (the database refuses any
        write that would not follow the last stored event). The next append numbers on
        from the last stored event: the log never has a gap.
        """
        if project_id in self._failed:
            await self._resync(project_id)
        if not items:
            return []
        first = self.head(project_id) + 1
        self._heads[project_id] = first + len(items) - 1
        self._appended[project_id] = self.appended_chars(project_id) + sum(
            len(item.body) for item in items
        )
        now = time.time()
        stored = [
            StoredEvent(project_id, first + i, epoch, item.run_id, item.kind, item.body, now)
            for i, item in enumerate(items)
        ]
        compiled, last_seq, write_mark = self._insert, self._last_seq, self._marks.write
        doorbell, fence, lease_held = self.doorbell, self.fence, self._lease_held

        def write(connection: Connection) -> None:  # on the writer thread
            lease_held.require(connection, project_id, fence)
            last = last_seq(connection, project_id)
            if last != first - 1:
                raise StoreError(
                    f"refused events {first}.. of {project_id}: its log ends at {last} "
                    "(an earlier write failed, or another node appended)"
                )
            connection.exec_driver_sql(compiled.sql, compiled.parameters(stored))
            if mark is not None:
                write_mark(connection, project_id, mark)
            if doorbell is not None:  # sent by PostgreSQL when this commits
                payload = doorbell_payload(project_id, stored[-1].seq)
                connection.exec_driver_sql("SELECT pg_notify(%s, %s)", (doorbell, payload))

        try:
            await self._writer.submit(write)
        except Exception as exc:
            # Earlier writes have settled (in order): the log ends before ``first``.
            self._heads[project_id] = min(self.head(project_id), first - 1)
            self._failed[project_id] = exc
            if isinstance(exc, LeaseLost):
                raise
            raise StoreError(f"could not persist events of {project_id}: {exc}") from exc
        return stored

    async def resume_mark(self, project_id: str) -> tuple[str, str | None] | None:
        return await self._marks.read(project_id)

    async def keep_mark(self, project_id: str, mark: str, run_id: str | None) -> None:
        await self._marks.keep(project_id, mark, run_id)

    async def _resync(self, project_id: str) -> None:
        """After a failed write: read the last stored seq (behind every write queued
        so far) and number on from it. Concurrent appends share one read."""
        pending = self._resyncing.get(project_id)
        if pending is None:
            pending = asyncio.ensure_future(self._read_last_stored(project_id))
            self._resyncing[project_id] = pending
            pending.add_done_callback(lambda _done: self._resyncing.pop(project_id, None))
        await asyncio.shield(pending)

    async def _read_last_stored(self, project_id: str) -> None:
        last_seq = self._last_seq
        last = await self._writer.submit(lambda connection: last_seq(connection, project_id))
        self._heads[project_id] = last
        self._failed.pop(project_id, None)

    # -- retention ----------------------------------------------------------------------

    async def age_cutoff(self, project_id: str, older_than: float, last: int) -> int:
        """The newest seq, up to ``last``, of an event stored before the time
        ``older_than``; 0 when there is none. Events are stored in time order, so a
        binary search reads a few rows, however long the log."""
        query = select(events.c.created_at).where(
            events.c.project_id == project_id, events.c.seq == bindparam("seq")
        )

        def search() -> int:
            low, high = self.first(project_id), last  # the answer is in [low - 1, high]
            found = 0
            with self._engine.connect() as connection:
                while low <= high:
                    middle = (low + high) // 2
                    created = connection.execute(query, {"seq": middle}).scalar()
                    if created is None:  # trimmed meanwhile
                        low = middle + 1
                    elif created < older_than:
                        found, low = middle, middle + 1
                    else:
                        high = middle - 1
            return found

        return await asyncio.to_thread(search)

    async def size_cutoff(self, project_id: str, max_chars: int, last: int) -> tuple[int, int]:
        """Measure the newest events up to ``last``: the seq of the newest event that
        does not fit in ``max_chars`` together with the events after it (0: they all
        fit), and the characters of the events that fit. Reads at most about
        ``max_chars`` of the log."""
        query = (
            select(events.c.seq, func.length(events.c.body))
            .where(events.c.project_id == project_id, events.c.seq <= last)
            .order_by(events.c.seq.desc())
        )

        def scan() -> tuple[int, int]:
            kept = 0
            with self._engine.connect() as connection:
                rows = connection.execute(query)
                try:
                    while batch := rows.fetchmany(SIZE_SCAN_ROWS):
                        for seq, size in batch:
                            if kept + int(size or 0) > max_chars:
                                return int(seq), kept
                            kept += int(size or 0)
                finally:
                    rows.close()
            return 0, kept

        return await asyncio.to_thread(scan)

    async def trim(self, project_id: str, up_to: int) -> int:
        """Forget the events of ``project_id`` with ``seq <= up_to``, oldest first.

        The caller checks that nobody still needs them. :meth:`first` says so at once
        (before this first waits), so no read starts in the trimmed part; the rows are
        deleted in transactions of :data:`TRIM_CHUNK` events. Returns how many."""
        start = self.first(project_id)
        if up_to < start:
            return 0
        self._firsts[project_id] = up_to + 1
        deleted = 0
        for low in range(start, up_to + 1, TRIM_CHUNK):
            high = min(low + TRIM_CHUNK - 1, up_to)
            statement = delete(events).where(
                events.c.project_id == project_id, events.c.seq <= high
            )

            def remove(connection: Connection, statement: Any = statement) -> int:
                return int(connection.execute(statement).rowcount or 0)

            try:
                deleted += await self._writer.submit(remove)
            except Exception:
                # What is left from ``low`` on is whole: keep serving it; the next
                # trim deletes it.
                if self.first(project_id) == up_to + 1:
                    self._firsts[project_id] = low
                raise
        return deleted

    async def read_run(self, project_id: str, run_id: str | None, *kinds: str) -> list[StoredEvent]:
        """The stored events of one run (None: of no run) and of these kinds, in order."""
        query = (
            select(*(events.c[name] for name in COLUMNS))
            .where(
                events.c.project_id == project_id,
                events.c.run_id.is_(None) if run_id is None else events.c.run_id == run_id,
                events.c.kind.in_(kinds),
            )
            .order_by(events.c.seq)
        )

        def read() -> list[StoredEvent]:
            with self._engine.connect() as connection:
                return [StoredEvent(*row) for row in connection.execute(query)]

        return await asyncio.to_thread(read)

    async def read(self, project_id: str, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` stored events of ``project_id`` with ``seq > after``, in order."""
        read_after = self._read_after

        def read() -> list[StoredEvent]:
            with self._engine.connect() as connection:
                return read_after(connection, project_id, after, limit)

        return await asyncio.to_thread(read)
