"""Budgets on a real database: the ledger (runs' own cost by the UTC day they ended),
a project's own limits over the server's defaults, and what the hub does with them,
driven by an in-memory agent that reports what its turns cost."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from switchboard.agents.base import (
    AskHandler,
    CostSoFar,
    LaunchSpec,
    OutputLine,
    TurnEnded,
    TurnMetrics,
)
from switchboard.compose import hub_limits, session_settings
from switchboard.config import Settings
from switchboard.hub.budgets import Budgets, day_bounds, utc_day
from switchboard.hub.fanout import LocalBroadcaster, WireEvent
from switchboard.hub.hub import Hub, HubError
from switchboard.hub.parts import HubParts
from switchboard.hub.runs import Run
from switchboard.protocol.messages import RunOptions
from switchboard.store.records import BudgetLimits, RunRecord
from switchboard.store.sqlite import open_stores
from switchboard.store.sqlite.budgets import SqliteBudgetStore
from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.migrate import upgrade
from switchboard.store.sqlite.runs import SqliteRunStore
from switchboard.store.sqlite.schema import projects
from switchboard.store.sqlite.writer import Writer
from tests.support.echo_agent import EchoAgent, EchoDriver, line
from tests.support.hub import finishes

pytestmark = pytest.mark.timeout(60)

MIDNIGHT = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
"""The start of 2026-03-01, UTC."""


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the ledger and the limits, on the store --------------------------------------------


@pytest.fixture
def stored(engine: Engine) -> Engine:
    with engine.begin() as connection:
        for name in ("alpha", "beta"):
            connection.execute(
                insert(projects).values(id=name, path=f"/p/{name}", name=name, created_at=0.0)
            )
    return engine


async def finished_run(
    runs: SqliteRunStore, project: str, finished_at: float, cost: float | None
) -> None:
    record = RunRecord(
        id=f"{project}-{finished_at}",
        project_id=project,
        prompt="p",
        options=RunOptions(),
        state="completed",
        created_at=finished_at - 10,
        origin="client",
        started_at=finished_at - 10,
        finished_at=finished_at,
        cost_usd=cost,
    )
    await runs.insert(record)


def test_a_utc_day_runs_from_midnight_to_midnight() -> None:
    assert utc_day(MIDNIGHT - 1).isoformat() == "2026-02-28"
    assert utc_day(MIDNIGHT).isoformat() == "2026-03-01"
    assert day_bounds(utc_day(MIDNIGHT + 3600)) == (MIDNIGHT, MIDNIGHT + 86400)


async def test_the_day_s_spend_is_what_runs_that_ended_that_utc_day_cost(
    stored: Engine, writer: Writer
) -> None:
    runs = SqliteRunStore(stored, writer)
    await finished_run(runs, "alpha", MIDNIGHT - 1, 5.0)  # yesterday, by a second
    await finished_run(runs, "alpha", MIDNIGHT, 0.25)
    await finished_run(runs, "alpha", MIDNIGHT + 3600, 0.5)
    await finished_run(runs, "alpha", MIDNIGHT + 7200, None)  # no figures: nothing
    await finished_run(runs, "beta", MIDNIGHT + 60, 2.0)
    clock = Clock(MIDNIGHT + 4000)
    budgets = Budgets(SqliteBudgetStore(stored, writer), BudgetLimits(daily_usd=1.0), clock)
    await budgets.load()
    assert budgets.spent_today("alpha") == 0.75
    assert budgets.spent_today("beta") == 2.0
    assert budgets.refusal("alpha", "alpha") is None
    assert "reaches its daily budget of $1.00" in str(budgets.refusal("beta", "beta"))

    budgets.run_ended("alpha", MIDNIGHT + 5000, 0.25)
    assert budgets.spent_today("alpha") == 1.0
    assert budgets.refusal("alpha", "alpha") is not None, "reaching the budget is enough"
    with pytest.raises(HubError) as refused:
        budgets.check("alpha", "alpha")
    assert refused.value.code == "budget_exceeded"

    clock.now = MIDNIGHT + 86400 + 1  # the next UTC day: nothing spent yet
    assert budgets.spent_today("alpha") == 0.0
    budgets.run_ended("alpha", clock.now, 0.125)
    budgets.run_ended("alpha", MIDNIGHT + 86400 - 1, 0.5)  # ended before midnight
    assert budgets.spent_today("alpha") == 0.125
    assert budgets.refusal("alpha", "alpha") is None


async def test_a_project_s_own_limits_win_over_the_defaults_and_are_kept(
    stored: Engine, writer: Writer
) -> None:
    defaults = BudgetLimits(daily_usd=10.0, run_usd=1.0)
    budgets = Budgets(SqliteBudgetStore(stored, writer), defaults, Clock(MIDNIGHT))
    await budgets.load()
    await budgets.set("alpha", BudgetLimits(daily_usd=2.0))
    assert budgets.limits("alpha") == BudgetLimits(2.0, 1.0)
    assert budgets.limits("beta") == defaults
    info = budgets.info("alpha")
    assert (info.daily_usd, info.run_usd, info.own_daily_usd, info.own_run_usd) == (
        2.0,
        1.0,
        2.0,
        None,
    )
    await budgets.set("beta", BudgetLimits(run_usd=0.0))  # 0: nothing may be spent

    again = Budgets(SqliteBudgetStore(stored, writer), defaults, Clock(MIDNIGHT))
    await again.load()
    assert again.limits("alpha") == BudgetLimits(2.0, 1.0)
    assert again.limits("beta") == BudgetLimits(10.0, 0.0)
    await again.set("alpha", BudgetLimits())  # back to the server's
    assert again.limits("alpha") == defaults
    assert again.info("alpha").own_daily_usd is None


async def test_a_run_may_cost_its_budget_or_what_is_left_of_the_day_s(
    stored: Engine, writer: Writer
) -> None:
    clock = Clock(MIDNIGHT + 60)
    store = SqliteBudgetStore(stored, writer)
    budgets = Budgets(store, BudgetLimits(daily_usd=3.0, run_usd=1.0), clock)
    await budgets.load()
    limit = budgets.run_limit("alpha")
    assert limit is not None and limit.amount == 1.0
    assert limit.passed_by(1.0) is None
    assert limit.passed_by(1.5) == (
        "budget_exceeded: the run had cost $1.50, more than its per-run budget of $1.00; "
        "it was stopped"
    )
    budgets.run_ended("alpha", clock.now, 2.5)
    limit = budgets.run_limit("alpha")
    assert limit is not None and limit.amount == 0.5
    assert "the $0.50 left of the project's daily budget of $3.00" in limit.words
    await budgets.set("beta", BudgetLimits(daily_usd=None, run_usd=None))
    no_limits = Budgets(store, BudgetLimits(), clock)
    await no_limits.load()
    assert no_limits.run_limit("alpha") is None
    assert no_limits.refusal("alpha", "alpha") is None


# -- the hub ------------------------------------------------------------------------------


class SpendingAgent(EchoAgent):
    """An echo agent whose prompts say what their turn costs: ``spend 0.4`` ends
    costing 0.4; ``run away 0.4`` reports 0.4 so far, then works until cancelled;
    ``wait 0.4`` ends costing 0.4 once the test releases it; ``last 0.4`` reports 0.4
    so far and ends with the same batch (its last call passed the limit)."""

    release = asyncio.Event()

    async def _reply(self, text: str) -> None:
        words = text.split()
        cost = float(words[-1])
        if words[0] == "run":
            self.emit([CostSoFar(cost)])
            await self._cancelled.wait()
        elif words[0] == "wait":
            await SpendingAgent.release.wait()
        elif words[0] == "last":
            metrics = TurnMetrics(0, 1, cost, None, self.session_id)
            self.emit([CostSoFar(cost), TurnEnded(metrics, None, False)])
            return
        else:
            self.emit([CostSoFar(cost / 2)])
        metrics = TurnMetrics(0, 1, cost, None, self.session_id)
        self.emit([OutputLine(line(type="reply", text=text)), TurnEnded(metrics, None, False)])


class SpendingDriver(EchoDriver):
    async def launch(self, spec: LaunchSpec, handler: AskHandler | None) -> EchoAgent:
        agent = SpendingAgent(spec, handler)
        self.launched.append(agent)
        return agent


@pytest.fixture
async def hub(store_url: str) -> AsyncIterator[Callable[..., Any]]:
    opened: list[Hub] = []

    async def make(**settings: Any) -> Hub:
        engine = open_engine(store_url)
        upgrade(engine)
        stores = open_stores(engine)
        chosen = hub_limits(Settings(allowed_roots=(), **settings))
        sessions = replace(session_settings(Settings()), kill_grace=0.3, interrupt_grace=1.0)
        parts = HubParts(
            stores, LocalBroadcaster(stores.events.head), SpendingDriver(), sessions, chosen
        )
        made = Hub(parts)
        await made.start()
        opened.append(made)
        return made

    SpendingAgent.release = asyncio.Event()
    yield make
    for made in opened:
        await made.close()


async def ended(hub: Hub, project: str, run: Run) -> dict[str, Any]:
    """The run's last state, once it finished."""
    done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    class Watch:
        def on_event(self, event: WireEvent) -> None:
            message = json.loads(event.frame)
            if finishes(message, run.id) and not done.done():
                done.set_result(dict(message["data"]))

        def on_delta(self, frame: str) -> None: ...

    watch = Watch()
    hub.events.subscribe(project, watch)
    try:
        for event in await hub.events.read(project, 0, 10_000):
            watch.on_event(event)
        return await asyncio.wait_for(done, 30)
    finally:
        hub.events.unsubscribe(project, watch)


async def test_a_run_over_its_budget_is_stopped_and_its_cost_counted(
    hub: Callable[..., Any], tmp_path: Path
) -> None:
    made: Hub = await hub(budget_run_usd=0.5)
    project = await made.add_project(str(tmp_path), None)
    within = await made.submit(project.id, "spend 0.4", RunOptions())
    assert (await ended(made, project.id, within))["state"] == "completed"
    away = await made.submit(project.id, "run away 0.75", RunOptions())
    final = await ended(made, project.id, away)
    assert final["state"] == "interrupted"
    assert final["error"] == (
        "budget_exceeded: the run had cost $0.75, more than its per-run budget of $0.50; "
        "it was stopped"
    )
    assert final["cost_usd"] == 0.75
    budget = made.project_info(project.id).budget
    assert (budget.run_usd, budget.spent_today_usd) == (0.5, 1.15)


async def test_a_run_whose_last_call_passes_its_budget_as_it_ends_is_not_called_cancelled(
    hub: Callable[..., Any], tmp_path: Path
) -> None:
    made: Hub = await hub(budget_run_usd=0.5)
    project = await made.add_project(str(tmp_path), None)
    run = await made.submit(project.id, "last 0.75", RunOptions())
    final = await ended(made, project.id, run)
    assert (final["state"], final["error"], final["cost_usd"]) == ("completed", None, 0.75)
    assert made.project_info(project.id).budget.spent_today_usd == 0.75


async def test_a_queued_run_whose_turn_comes_over_the_daily_budget_does_not_start(
    hub: Callable[..., Any], tmp_path: Path
) -> None:
    made: Hub = await hub(budget_daily_usd=1.0)
    (tmp_path / "one").mkdir()
    (tmp_path / "other").mkdir()
    project = await made.add_project(str(tmp_path / "one"), None)
    elsewhere = await made.add_project(str(tmp_path / "other"), None)
    costly = await made.submit(project.id, "wait 1.0", RunOptions())
    queued = await made.submit(project.id, "spend 0.1", RunOptions())
    SpendingAgent.release.set()
    assert (await ended(made, project.id, costly))["state"] == "completed"
    final = await ended(made, project.id, queued)
    assert final["state"] == "failed"
    assert final["started_at"] is None
    assert final["error"].startswith("budget_exceeded: not started: ")
    with pytest.raises(HubError) as refused:
        await made.submit(project.id, "spend 0.1", RunOptions())
    assert refused.value.code == "budget_exceeded"
    assert made.project_info(project.id).budget.spent_today_usd == 1.0

    # Another project's spend is its own; a project's own budget is its own too.
    done = await made.submit(elsewhere.id, "spend 0.1", RunOptions())
    assert (await ended(made, elsewhere.id, done))["state"] == "completed"
    raised = await made.set_budget(project.id, 5.0, None)
    assert (raised.budget.daily_usd, raised.budget.own_daily_usd) == (5.0, 5.0)
    again = await made.submit(project.id, "spend 0.1", RunOptions())
    assert (await ended(made, project.id, again))["state"] == "completed"
    assert made.project_info(elsewhere.id).budget.daily_usd == 1.0
