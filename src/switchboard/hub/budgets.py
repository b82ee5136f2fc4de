"""Budgets: what each project may spend, in USD per UTC day and per run, and the
ledger of what it spent.

The ledger is the runs' own cost (``cost_usd``, the turn's figure, not the CLI
process's running total) as the run store keeps it, counted on the UTC day each run
ended. It lives in the database, so it survives restarts: at start the hub reads what
each project spent today, and adds each run's cost as its end is recorded.

- A prompt is refused (``budget_exceeded``) while what the project spent today reaches
  its daily budget; a queued run whose turn comes then ends ``failed`` without starting.
- A run gets a limit when it starts: its per-run budget, or what is left of the daily
  budget if that is less. The agent reports what the run's turn has cost so far while
  it runs (:class:`~switchboard.agents.base.CostSoFar`); once that passes the limit,
  the run is stopped and ends ``interrupted`` with an ``error`` beginning
  ``budget_exceeded:``. The agent reports after each model call, so a run may pass its
  limit by what one model call costs.
"""

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from switchboard.hub.cost_limit import BUDGET_EXCEEDED, CostLimit, usd
from switchboard.hub.registry import HubError
from switchboard.hub.runs import Run
from switchboard.protocol.messages import BudgetInfo
from switchboard.store.ports import BudgetStore
from switchboard.store.records import BudgetLimits


def utc_day(at: float) -> date:
    """The UTC day of a time (seconds since the epoch)."""
    return datetime.fromtimestamp(at, UTC).date()


def day_bounds(day: date) -> tuple[float, float]:
    """The day's first second and the next day's, in seconds since the epoch."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


class Budgets:
    """The server's default limits, each project's own, and what each spent."""

    def __init__(
        self,
        store: BudgetStore,
        defaults: BudgetLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.defaults = defaults
        self._clock = clock
        self._spent: dict[date, dict[str, float]] = {}
        """The ledger's recent days (today and yesterday), per project."""

    async def load(self) -> None:
        """Read each project's own limits and what each spent today."""
        await self._store.load()
        today = utc_day(self._clock())
        self._spent = {today: await self._store.spent(*day_bounds(today))}

    # -- what is in force ----------------------------------------------------------------

    def limits(self, project_id: str) -> BudgetLimits:
        """The project's limits in force: its own, else the server's defaults."""
        return self.defaults.under(self._store.of_project(project_id))

    def spent_today(self, project_id: str) -> float:
        """What the project's runs that ended today (UTC) cost."""
        return self._spent.get(utc_day(self._clock()), {}).get(project_id, 0.0)

    def info(self, project_id: str) -> BudgetInfo:
        limits, own = self.limits(project_id), self._store.of_project(project_id)
        return BudgetInfo(
            daily_usd=limits.daily_usd,
            run_usd=limits.run_usd,
            spent_today_usd=round(self.spent_today(project_id), 6),
            own_daily_usd=own.daily_usd if own is not None else None,
            own_run_usd=own.run_usd if own is not None else None,
        )

    # -- before and during a run -----------------------------------------------------------

    def refusal(self, project_id: str, name: str) -> str | None:
        """Why no run of the project may start now (None: one may)."""
        daily = self.limits(project_id).daily_usd
        spent = self.spent_today(project_id)
        if daily is None or spent < daily:
            return None
        return (
            f"{name} has spent {usd(spent)} today (UTC), which reaches its daily budget of "
            f"{usd(daily)}; raise the budget (project.budget) or wait for the next UTC day"
        )

    def check(self, project_id: str, name: str) -> None:
        """Refuse a prompt (``budget_exceeded``) while no run of the project may start."""
        refusal = self.refusal(project_id, name)
        if refusal is not None:
            raise HubError(BUDGET_EXCEEDED, refusal)

    def run_limit(self, project_id: str) -> CostLimit | None:
        """What a run that starts now may cost (None: no limit)."""
        limits = self.limits(project_id)
        candidates: list[CostLimit] = []
        if limits.run_usd is not None:
            words = f"its per-run budget of {usd(limits.run_usd)}"
            candidates.append(CostLimit(limits.run_usd, words))
        if limits.daily_usd is not None:
            left = max(limits.daily_usd - self.spent_today(project_id), 0.0)
            candidates.append(
                CostLimit(
                    left,
                    f"the {usd(left)} left of the project's daily budget of "
                    f"{usd(limits.daily_usd)} when it started",
                )
            )
        return min(candidates, key=lambda limit: limit.amount) if candidates else None

    def admit(self, run: Run, name: str) -> bool:
        """Whether a queued run whose turn came may start: if so, it gets its limit;
        if not (the project's daily budget is spent), it ends ``failed`` unstarted."""
        refusal = self.refusal(run.project_id, name)
        if refusal is None:
            run.cost_limit = self.run_limit(run.project_id)
            return True
        run.state, run.finished_at = "failed", self._clock()
        run.error = f"{BUDGET_EXCEEDED}: not started: {refusal}"
        return False

    def run_ended(self, project_id: str, finished_at: float | None, cost: float | None) -> None:
        """A run's end is recorded: its own cost counts on the UTC day it ended."""
        if not cost or finished_at is None:
            return
        day = utc_day(finished_at)
        spent = self._spent.setdefault(day, {})
        spent[project_id] = spent.get(project_id, 0.0) + cost
        oldest = utc_day(self._clock()) - timedelta(days=1)
        for old in [d for d in self._spent if d < oldest]:
            del self._spent[old]

    # -- settings ----------------------------------------------------------------------------

    async def set(self, project_id: str, limits: BudgetLimits) -> None:
        """The project's own limits (a field that is None follows the server's)."""
        await self._store.set(project_id, limits)

    def forget_project(self, project_id: str) -> None:
        self._store.forget_project(project_id)
        for spent in self._spent.values():
            spent.pop(project_id, None)
