"""Runs: one prompt each, persisted in the ``runs`` table as they change state."""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection

from switchboard.agents.turns import TurnMetrics
from switchboard.protocol.messages import RunInfo, RunOptions, RunOrigin, RunState
from switchboard.store.schema import runs
from switchboard.store.writer import Writer

UNFINISHED: tuple[RunState, ...] = ("queued", "running")


@dataclass(slots=True)
class Run:
    id: str
    project_id: str
    prompt: str
    options: RunOptions
    state: RunState = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    duration_ms: int | None = None
    num_turns: int | None = None
    cost_usd: float | None = None
    usage: dict[str, Any] | None = None
    session_id: str | None = None
    error: str | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    mode_from_project: bool = False
    """The permission mode came from the project when the run started (so a change of
    the project's mode applies to it too)."""
    origin: RunOrigin = "client"

    @classmethod
    def new(
        cls, project_id: str, prompt: str, options: RunOptions, origin: RunOrigin = "client"
    ) -> "Run":
        return cls(uuid.uuid4().hex[:16], project_id, prompt, options, origin=origin)

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED

    def info(self) -> RunInfo:
        return RunInfo(
            id=self.id,
            project=self.project_id,
            state=self.state,
            prompt=self.prompt,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration_ms=self.duration_ms,
            num_turns=self.num_turns,
            cost_usd=self.cost_usd,
            usage=self.usage,
            session_id=self.session_id,
            error=self.error,
            origin=self.origin,
        )

    def take_metrics(self, metrics: TurnMetrics) -> None:
        """Copy the figures of the run's turn (its own cost, not the process's)."""
        self.duration_ms = metrics.duration_ms
        self.num_turns = metrics.num_turns
        self.cost_usd = metrics.cost_usd
        self.usage = metrics.usage
        self.session_id = metrics.session_id or self.session_id

    def _row(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": self.duration_ms,
            "num_turns": self.num_turns,
            "cost_usd": self.cost_usd,
            "usage": json.dumps(self.usage) if self.usage is not None else None,
            "session_id": self.session_id,
            "error": self.error,
        }


class RunStore:
    """Writes runs through the store's writer thread; reads off the event loop."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer

    async def insert(self, run: Run) -> None:
        row = {
            "id": run.id,
            "project_id": run.project_id,
            "prompt": run.prompt,
            "options": run.options.model_dump_json(exclude_none=True),
            "created_at": run.created_at,
            "origin": run.origin,
            **run._row(),
        }

        def write(connection: Connection) -> None:
            connection.execute(insert(runs).values(**row))

        await self._writer.submit(write)

    async def save(self, run: Run) -> None:
        row = run._row()

        def write(connection: Connection) -> None:
            connection.execute(update(runs).where(runs.c.id == run.id).values(**row))

        await self._writer.submit(write)

    async def unfinished(self) -> list[Run]:
        """Queued and running runs, oldest first (what a previous instance left)."""
        query = select(runs).where(runs.c.state.in_(UNFINISHED)).order_by(runs.c.created_at)

        def read() -> list[Run]:
            with self._engine.connect() as connection:
                return [_from_row(row._mapping) for row in connection.execute(query)]

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


def _from_row(row: Any) -> Run:
    return Run(
        id=row["id"],
        project_id=row["project_id"],
        prompt=row["prompt"],
        options=RunOptions.model_validate_json(row["options"] or "{}"),
        state=row["state"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        session_id=row["session_id"],
        origin=row["origin"],
    )
