"""Projects' own budgets (table ``project_budgets``, kept in memory too) and what
projects spent: their runs' own cost (``runs.cost_usd``) by when each run finished."""

import asyncio

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.engine import Connection

from switchboard.store.records import BudgetLimits
from switchboard.store.sqlite.schema import project_budgets, runs
from switchboard.store.sqlite.writer import Writer


class SqliteBudgetStore:
    """Each project's own limits, if it set any. :meth:`load` once at start."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._limits: dict[str, BudgetLimits] = {}

    async def load(self) -> None:
        def read() -> dict[str, BudgetLimits]:
            with self._engine.connect() as connection:
                rows = connection.execute(select(project_budgets)).mappings()
                return {
                    row["project_id"]: BudgetLimits(row["daily_usd"], row["run_usd"])
                    for row in rows
                }

        self._limits = await asyncio.to_thread(read)

    def of_project(self, project_id: str) -> BudgetLimits | None:
        return self._limits.get(project_id)

    async def set(self, project_id: str, limits: BudgetLimits) -> None:
        """Store the project's own limits (all fields None: it follows the server's)."""
        row = {"project_id": project_id, "daily_usd": limits.daily_usd, "run_usd": limits.run_usd}
        follows = limits == BudgetLimits()

        def write(connection: Connection) -> None:
            connection.execute(
                delete(project_budgets).where(project_budgets.c.project_id == project_id)
            )
            if not follows:
                connection.execute(insert(project_budgets), row)

        await self._writer.submit(write)
        if follows:
            self._limits.pop(project_id, None)
        else:
            self._limits[project_id] = limits

    def forget_project(self, project_id: str) -> None:
        """The project was removed (its row went with it)."""
        self._limits.pop(project_id, None)

    async def spent(self, start: float, end: float) -> dict[str, float]:
        """What each project's runs that finished in ``[start, end)`` cost."""
        query = (
            select(runs.c.project_id, func.sum(runs.c.cost_usd))
            .where(runs.c.finished_at >= start, runs.c.finished_at < end)
            .where(runs.c.cost_usd.is_not(None))
            .group_by(runs.c.project_id)
        )

        def read() -> dict[str, float]:
            with self._engine.connect() as connection:
                return {row[0]: float(row[1]) for row in connection.execute(query)}

        return await asyncio.to_thread(read)
