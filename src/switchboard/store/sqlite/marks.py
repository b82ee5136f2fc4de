"""Resume marks (table ``resume_marks``): one per project, written by the event log in
the transaction that stores the events it describes, so that the mark never claims an
event the log lacks, nor misses one it has."""

import asyncio

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection

from switchboard.store.sqlite.schema import resume_marks
from switchboard.store.sqlite.writer import Writer


class ResumeMarks:
    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer

    @staticmethod
    def write(connection: Connection, project_id: str, mark: str) -> None:
        """Move the project's mark (on the writer thread, within a write job); the run
        it belongs to stays as it was."""
        where = resume_marks.c.project_id == project_id
        changed = connection.execute(update(resume_marks).where(where).values(mark=mark))
        if changed.rowcount == 0:
            connection.execute(insert(resume_marks).values(project_id=project_id, mark=mark))

    async def keep(self, project_id: str, mark: str, run_id: str | None) -> None:
        """Set the project's mark, and the run whose turn begins."""

        def write(connection: Connection) -> None:
            where = resume_marks.c.project_id == project_id
            connection.execute(delete(resume_marks).where(where))
            row = {"project_id": project_id, "mark": mark, "run_id": run_id}
            connection.execute(insert(resume_marks).values(**row))

        await self._writer.submit(write)

    async def read(self, project_id: str) -> tuple[str, str | None] | None:
        columns = (resume_marks.c.mark, resume_marks.c.run_id)
        query = select(*columns).where(resume_marks.c.project_id == project_id)

        def read() -> tuple[str, str | None] | None:
            with self._engine.connect() as connection:
                found = connection.execute(query).first()
            if found is None:
                return None
            return str(found[0]), None if found[1] is None else str(found[1])

        return await asyncio.to_thread(read)
