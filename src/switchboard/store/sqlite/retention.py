"""Projects' own retention policies (table ``project_retention``), kept in memory too."""

import asyncio

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.store.records import RetentionPolicy
from switchboard.store.sqlite.schema import project_retention
from switchboard.store.sqlite.writer import Writer


class SqliteRetentionStore:
    """Each project's own policy, if it set one. :meth:`load` once at start."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._policies: dict[str, RetentionPolicy] = {}

    async def load(self) -> None:
        def read() -> dict[str, RetentionPolicy]:
            with self._engine.connect() as connection:
                rows = connection.execute(select(project_retention)).mappings()
                return {
                    row["project_id"]: RetentionPolicy(row["max_age_seconds"], row["max_bytes"])
                    for row in rows
                }

        self._policies = await asyncio.to_thread(read)

    def of_project(self, project_id: str) -> RetentionPolicy | None:
        return self._policies.get(project_id)

    async def set(self, project_id: str, policy: RetentionPolicy) -> None:
        """Store the project's own policy (all fields None: it follows the server's)."""
        row = {
            "project_id": project_id,
            "max_age_seconds": policy.max_age_seconds,
            "max_bytes": policy.max_bytes,
        }

        def write(connection: Connection) -> None:
            connection.execute(
                delete(project_retention).where(project_retention.c.project_id == project_id)
            )
            if policy != RetentionPolicy():
                connection.execute(insert(project_retention), row)

        await self._writer.submit(write)
        if policy == RetentionPolicy():
            self._policies.pop(project_id, None)
        else:
            self._policies[project_id] = policy

    def forget_project(self, project_id: str) -> None:
        """The project was removed (its row went with it)."""
        self._policies.pop(project_id, None)
