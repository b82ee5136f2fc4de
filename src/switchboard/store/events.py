"""The per-project event log: append with gapless ``seq`` numbers, read after a ``seq``."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


class _CompiledInsert:
    """The events INSERT compiled once for the engine's dialect, run as a plain DBAPI
    ``executemany``: the hot path of every CLI line, where SQLAlchemy's per-statement
    work would cost more than the insert itself."""

    def __init__(self, engine: Engine) -> None:
        compiled = insert(events).compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self._order = list(compiled.positiontup or ()) if compiled.positional else None
        self._as_columns = self._order == list(_COLUMNS)

    def parameters(self, stored: Sequence[StoredEvent]) -> list[Any]:
        if self._as_columns:  # SQLite: the common case, spelled out
            return [
                (e.project_id, e.seq, e.epoch, e.run_id, e.kind, e.body, e.created_at)
                for e in stored
            ]
        if self._order is None:
            return [{name: getattr(e, name) for name in _COLUMNS} for e in stored]
        order = self._order
        return [tuple(getattr(e, name) for name in order) for e in stored]


_COLUMNS = ("project_id", "seq", "epoch", "run_id", "kind", "body", "created_at")


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
        self._insert = _CompiledInsert(engine)

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
        compiled = self._insert

        def write(connection: Connection) -> None:  # on the writer thread
            connection.exec_driver_sql(compiled.sql, compiled.parameters(stored))

        try:
            await self._writer.submit(write)
        except Exception as exc:
            self._failed[project_id] = exc
            raise StoreError(f"could not persist events of {project_id}: {exc}") from exc
        return stored

    async def read_run(self, project_id: str, run_id: str | None, *kinds: str) -> list[StoredEvent]:
        """The stored events of one run (None: of no run) and of these kinds, in order."""
        query = (
            select(*(events.c[name] for name in _COLUMNS))
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
        query = (
            select(*(events.c[name] for name in _COLUMNS))  # StoredEvent's field order
            .where(events.c.project_id == project_id, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )

        def read() -> list[StoredEvent]:
            with self._engine.connect() as connection:
                return [StoredEvent(*row) for row in connection.execute(query)]

        return await asyncio.to_thread(read)
