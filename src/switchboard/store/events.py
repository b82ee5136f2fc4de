"""The per-project event log: append with gapless ``seq`` numbers, read after a ``seq``."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.engine import Connection

from switchboard.exceptions import StoreError
from switchboard.store.schema import events
from switchboard.store.writer import Writer


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its kind (``cli``, ``run``, …) and its JSON text."""

    kind: str
    body: str
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    project_id: str
    seq: int
    epoch: int
    run_id: str | None
    kind: str
    body: str
    created_at: float


class EventLog:
    """Assigns ``seq`` on the event loop (so call order is seq order) and persists.

    ``append`` returns only once the events are committed: a caller that sends events
    after ``append`` never sends one that a crash could lose. Call :meth:`load_heads`
    once at start; this object must be the only writer of the ``events`` table.
    """

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._heads: dict[str, int] = {}
        self._failed: dict[str, BaseException] = {}  # projects whose log stopped

    async def load_heads(self) -> None:
        """Read the last ``seq`` of every project."""

        def read() -> dict[str, int]:
            query = select(events.c.project_id, func.max(events.c.seq)).group_by(
                events.c.project_id
            )
            with self._engine.connect() as connection:
                return {row[0]: int(row[1]) for row in connection.execute(query)}

        self._heads = await asyncio.to_thread(read)

    def head(self, project_id: str) -> int:
        """The last ``seq`` assigned in ``project_id`` (0 for none)."""
        return self._heads.get(project_id, 0)

    async def append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        """Persist ``items`` as the next events of ``project_id``; return them with seqs.

        If the database refuses a write, that project's log stops taking appends
        (raising :class:`StoreError`): continuing would leave a gap in its sequence.
        """
        if project_id in self._failed:
            raise StoreError(
                f"the event log of {project_id} stopped after a failed write"
            ) from self._failed[project_id]
        if not items:
            return []
        first = self.head(project_id) + 1
        self._heads[project_id] = first + len(items) - 1
        now = time.time()
        stored = [
            StoredEvent(project_id, first + i, epoch, item.run_id, item.kind, item.body, now)
            for i, item in enumerate(items)
        ]
        rows = [
            {
                "project_id": e.project_id,
                "seq": e.seq,
                "epoch": e.epoch,
                "run_id": e.run_id,
                "kind": e.kind,
                "body": e.body,
                "created_at": e.created_at,
            }
            for e in stored
        ]

        def write(connection: Connection) -> None:
            connection.execute(insert(events), rows)

        try:
            await self._writer.submit(write)
        except Exception as exc:
            self._failed[project_id] = exc
            raise StoreError(f"could not persist events of {project_id}: {exc}") from exc
        return stored

    async def read(self, project_id: str, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` stored events of ``project_id`` with ``seq > after``, in order."""
        query = (
            select(events)
            .where(events.c.project_id == project_id, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )

        def read() -> list[StoredEvent]:
            with self._engine.connect() as connection:
                return [StoredEvent(**row._mapping) for row in connection.execute(query)]

        return await asyncio.to_thread(read)
