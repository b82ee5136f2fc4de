"""The audit list (table ``audit``): who prompted, answered or changed what, newest
first. It is bounded: past :data:`MAX_ENTRIES` the oldest entries go."""

import asyncio
import json
import time
from typing import Any

from sqlalchemy import Engine, RowMapping, delete, func, insert, select
from sqlalchemy.engine import Connection

from switchboard.protocol.people import AuditEntry
from switchboard.store.sqlite.schema import audit
from switchboard.store.sqlite.writer import Writer

MAX_ENTRIES = 100_000
"""The most entries kept; older ones are deleted as new ones come."""
PRUNE_EVERY = 500
"""Look for entries past the limit once per this many appends (a cheap bound)."""


class SqliteAuditStore:
    """Appends through the writer thread; reads off the event loop."""

    def __init__(
        self,
        engine: Engine,
        writer: Writer,
        max_entries: int = MAX_ENTRIES,
        prune_every: int = PRUNE_EVERY,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._max_entries = max_entries
        self._prune_every = prune_every
        self._appended = 0

    async def append(
        self,
        by: str,
        token_id: str | None,
        action: str,
        project_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        row = {
            "at": time.time(),
            "by": by,
            "token_id": token_id,
            "action": action,
            "project_id": project_id,
            "detail": json.dumps(detail, ensure_ascii=False),
        }
        self._appended += 1
        prune = self._appended % self._prune_every == 0 or self._appended == 1
        keep = self._max_entries

        def write(connection: Connection) -> None:
            connection.execute(insert(audit), row)
            if prune:
                newest = connection.execute(select(func.max(audit.c.id))).scalar_one()
                connection.execute(delete(audit).where(audit.c.id <= newest - keep))

        await self._writer.submit(write)

    async def entries(
        self, project_id: str | None = None, before: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The newest ``limit`` entries (of ``project_id``; older than id ``before``)."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if project_id is not None:
            query = query.where(audit.c.project_id == project_id)
        if before is not None:
            query = query.where(audit.c.id < before)

        def read() -> list[AuditEntry]:
            with self._engine.connect() as connection:
                return [_entry(row) for row in connection.execute(query).mappings()]

        return await asyncio.to_thread(read)


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        by=row["by"],
        token_id=row["token_id"],
        action=row["action"],
        project=row["project_id"],
        detail=json.loads(row["detail"]),
    )
