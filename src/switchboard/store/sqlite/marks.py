"""Resume marks (table ``resume_marks``): one per project, written by the event log in
the transaction that stores the events it describes, so that the mark never claims an
event the log lacks, nor misses one it has."""

import asyncio

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from switchboard.store.sqlite.schema import resume_marks
from switchboard.store.sqlite.writer import Writer


class ResumeMarks:
    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer

    @staticmethod
    def write(connection: Connection, project_id: str, mark: str) -> None:
        """Set the project's mark (on the writer thread, within a write job)."""
        where = resume_marks.c.project_id == project_id
        changed = connection.execute(update(resume_marks).where(where).values(mark=mark))
        if changed.rowcount == 0:
            connection.execute(insert(resume_marks).values(project_id=project_id, mark=mark))

    async def keep(self, project_id: str, mark: str) -> None:
        write = self.write
        await self._writer.submit(lambda connection: write(connection, project_id, mark))

    async def read(self, project_id: str) -> str | None:
        query = select(resume_marks.c.mark).where(resume_marks.c.project_id == project_id)

        def read() -> str | None:
            with self._engine.connect() as connection:
                found = connection.execute(query).scalar()
            return None if found is None else str(found)

        return await asyncio.to_thread(read)
