"""Runs (table ``runs``): written as they change state, read back at start."""

import asyncio
import json
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from switchboard.protocol.messages import RunOptions
from switchboard.store.records import UNFINISHED, RunRecord
from switchboard.store.sqlite.leases import LeaseCheck
from switchboard.store.sqlite.schema import runs
from switchboard.store.sqlite.writer import Writer


class SqliteRunStore:
    """Writes runs through the store's writer thread; reads off the event loop."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self.fence: str | None = None
        """On a cluster's node, its id: a run is written only while the node holds its
        project's lease (checked in the same transaction)."""
        self._lease = LeaseCheck(engine)

    async def insert(self, run: RunRecord) -> None:
        row = {
            "id": run.id,
            "project_id": run.project_id,
            "prompt": run.prompt,
            "options": run.options.model_dump_json(exclude_none=True),
            "created_at": run.created_at,
            "origin": run.origin,
            "by": run.by,
            **_state_row(run),
        }

        fence, lease = self.fence, self._lease

        def write(connection: Connection) -> None:
            lease.require(connection, run.project_id, fence)
            connection.execute(insert(runs).values(**row))

        await self._writer.submit(write)

    async def save(self, run: RunRecord) -> None:
        row = _state_row(run)
        fence, lease = self.fence, self._lease

        def write(connection: Connection) -> None:
            lease.require(connection, run.project_id, fence)
            connection.execute(update(runs).where(runs.c.id == run.id).values(**row))

        await self._writer.submit(write)

    async def unfinished(self) -> list[RunRecord]:
        """Queued and running runs, oldest first (what a previous instance left)."""
        query = select(runs).where(runs.c.state.in_(UNFINISHED)).order_by(runs.c.created_at)

        def read() -> list[RunRecord]:
            with self._engine.connect() as connection:
                return [_from_row(row._mapping) for row in connection.execute(query)]

        return await asyncio.to_thread(read)

    async def of_project(
        self, project_id: str, limit: int, before: str | None = None
    ) -> list[RunRecord] | None:
        """The project's newest ``limit`` runs, newest first (``before``: a run's id, to
        page back from; None when the project has no such run)."""
        mine = runs.c.project_id == project_id
        order = (runs.c.created_at.desc(), runs.c.id.desc())

        def read() -> list[RunRecord] | None:
            query = select(runs).where(mine)
            with self._engine.connect() as connection:
                if before is not None:
                    anchor = connection.execute(
                        select(runs.c.created_at).where(mine, runs.c.id == before)
                    ).scalar_one_or_none()
                    if anchor is None:
                        return None
                    query = query.where(
                        or_(
                            runs.c.created_at < anchor,
                            and_(runs.c.created_at == anchor, runs.c.id < before),
                        )
                    )
                rows = connection.execute(query.order_by(*order).limit(limit))
                return [_from_row(row._mapping) for row in rows]

        return await asyncio.to_thread(read)

    async def costs_by_project(self) -> dict[str, float]:
        """What each project's runs have cost so far."""
        query = select(runs.c.project_id, func.coalesce(func.sum(runs.c.cost_usd), 0.0)).group_by(
            runs.c.project_id
        )

        def read() -> dict[str, float]:
            with self._engine.connect() as connection:
                return {row[0]: float(row[1]) for row in connection.execute(query)}

        return await asyncio.to_thread(read)


def _state_row(run: RunRecord) -> dict[str, Any]:
    """The columns that change as the run goes on."""
    return {
        "state": run.state,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_ms": run.duration_ms,
        "num_turns": run.num_turns,
        "cost_usd": run.cost_usd,
        "usage": json.dumps(run.usage) if run.usage is not None else None,
        "session_id": run.session_id,
        "error": run.error,
    }


def _from_row(row: Any) -> RunRecord:
    """A run as stored."""
    return RunRecord(
        id=row["id"],
        project_id=row["project_id"],
        prompt=row["prompt"],
        options=RunOptions.model_validate_json(row["options"] or "{}"),
        state=row["state"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        duration_ms=row["duration_ms"],
        num_turns=row["num_turns"],
        cost_usd=row["cost_usd"],
        usage=json.loads(row["usage"]) if row["usage"] is not None else None,
        error=row["error"],
        session_id=row["session_id"],
        origin=row["origin"],
        by=row["by"],
    )
