"""The CLI process groups each server instance started (table ``agent_processes``)."""

import asyncio

from sqlalchemy import ColumnElement, Engine, and_, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.store.records import Leftover
from switchboard.store.sqlite.schema import agent_processes
from switchboard.store.sqlite.writer import Writer


def _others(instance: str) -> ColumnElement[bool]:
    """The rows of other instances: of the same node only, for a node's instance."""
    column = agent_processes.c.server_instance
    node, slash, _ = instance.rpartition("/")
    if not slash:
        return column != instance
    return and_(column != instance, column.startswith(node + "/", autoescape=True))


class SqliteProcessTable:
    """Writes through the store's writer thread; reads off the event loop."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer

    async def add(self, instance: str, process: Leftover, started_at: float) -> None:
        row = {
            "pgid": process.pgid,
            "server_instance": instance,
            "pid": process.pid,
            "start_ticks": process.start_ticks,
            "project_id": process.project_id,
            "run_id": process.run_id,
            "started_at": started_at,
            "marker": process.marker,
            "cgroup": process.cgroup,
        }

        def write(connection: Connection) -> None:
            connection.execute(insert(agent_processes).values(**row))

        await self._writer.submit(write)

    async def remove(self, instance: str, pgid: int) -> None:
        def write(connection: Connection) -> None:
            connection.execute(
                delete(agent_processes).where(
                    agent_processes.c.server_instance == instance,
                    agent_processes.c.pgid == pgid,
                )
            )

        await self._writer.submit(write)

    async def of_others(self, instance: str) -> list[Leftover]:
        query = select(agent_processes).where(_others(instance))

        def read() -> list[Leftover]:
            with self._engine.connect() as connection:
                return [
                    Leftover(
                        r.pgid, r.pid, r.start_ticks, r.project_id, r.run_id, r.marker, r.cgroup
                    )
                    for r in connection.execute(query)
                ]

        return await asyncio.to_thread(read)

    async def remove_others(self, instance: str) -> None:
        def write(connection: Connection) -> None:
            connection.execute(delete(agent_processes).where(_others(instance)))

        await self._writer.submit(write)
