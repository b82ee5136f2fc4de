"""A run from ``running`` to its end: start its turn, keep it within the run timeout
and its budget (:mod:`~switchboard.hub.budgets`), stop it when cancelled, and record
how it ended (its cost goes to the ledger as its end is stored).

Every state change of a run is saved to the run store and appended to the project's
log (``kind: "run"``) before anyone hears of it. When the log refuses a write (disk
full), the project stops taking runs until the data dir has room again, and the run's
end is recorded as soon as the log takes writes.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from switchboard import log_format
from switchboard.exceptions import AgentError, LeaseLost, StoreError
from switchboard.hub.budgets import Budgets
from switchboard.hub.confirmation import ExpiryReason
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.project_state import STOP_MARGIN, ProjectState
from switchboard.hub.registry import ProjectRegistry
from switchboard.hub.runs import Run
from switchboard.hub.session import UNRECORDED
from switchboard.hub.turn import TurnOutcome
from switchboard.protocol.messages import RunInfo, RunOptions
from switchboard.store.ports import RunStore
from switchboard.store.records import NewEvent
from switchboard.telemetry import Telemetry

log = logging.getLogger(__name__)

PERSON_POLL_SECONDS = 1.0
"""While the run's time is up but a person is still being asked, look again this often."""
STORE_RETRY_SECONDS = 5.0
"""While a project's log refuses writes, how often its worker tries again (a new prompt
tries at once)."""


@dataclass(frozen=True, slots=True)
class RunTimes:
    """How long a run may take, and how long a stopping one gets."""

    run_timeout: float
    stop_grace: float
    """Seconds a cancelled turn gets to end (interrupt, then kill) before the CLI is
    killed outright."""
    min_free_disk: int
    """After a project's log refused a write, its runs wait for this much free space."""


class RunLifecycle:
    def __init__(
        self,
        registry: ProjectRegistry,
        runs: RunStore,
        confirmations: ConfirmationBook,
        agent_name: str,
        times: RunTimes,
        *,
        telemetry: Telemetry | None = None,
        on_ended: Callable[[RunInfo], None] | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        """``on_ended``: told of each run once its end is recorded (alerts); it must
        return at once."""
        self._registry = registry
        self._telemetry = telemetry
        self._on_ended = on_ended
        self._budgets = budgets
        self._runs = runs
        self._confirmations = confirmations
        self._agent_name = agent_name
        self._times = times
        self.closing = False
        """True while the hub stops the CLIs: runs ending now are ``interrupted``."""

    async def record(
        self, state: ProjectState, run: Run, saved: bool = False, notify: bool = True
    ) -> None:
        """Save the run's state, log it as an event, tell the listeners (``notify``).
        Only on the node that owns the project (another owns it after a takeover)."""
        self._registry.check_mine(state.id)
        if not saved:
            await self._runs.save(run.record())
        if run.finished and self._budgets is not None and not run.cost_counted:
            run.cost_counted = True  # stored: it counts (before anyone hears of its end)
            self._budgets.run_ended(run.project_id, run.finished_at, run.cost_usd)
        event = NewEvent("run", run.info().model_dump_json(), run.id)
        await self._registry.append(state.id, event)
        if run.finished:
            if not run.end_recorded.is_set():
                self._count_end(run)
                if self._on_ended is not None:
                    self._on_ended(run.info())
            run.end_recorded.set()
        if notify:
            self._registry.notify_status(state.id, while_stopping=True)

    def _count_end(self, run: Run) -> None:
        """The run's end is recorded, once: its state, time and cost go to the metrics."""
        if self._telemetry is None:
            return
        record = self._registry.records.find(run.project_id)
        name = record.name if record is not None else run.project_id
        took = (
            run.finished_at - run.started_at
            if run.started_at is not None and run.finished_at is not None
            else None
        )
        self._telemetry.run_finished(name, run.state, took, run.cost_usd, run.usage)

    async def insert(self, state: ProjectState, run: Run, notify: bool = True) -> None:
        """Store a new run, and log it."""
        self._registry.check_mine(state.id)
        await self._runs.insert(run.record())
        await self.record(state, run, saved=True, notify=notify)

    async def execute(self, state: ProjectState, run: Run) -> None:
        """Run a prompt's turn to its end (the worker took it from the queue)."""
        with log_format.bound(run=run.id):
            await self._execute(state, run)

    async def _execute(self, state: ProjectState, run: Run) -> None:
        project = self._registry.records.get(state.id)
        if self._budgets is not None and not self._budgets.admit(run, project.name):
            await self.record(state, run)  # over the daily budget: it ends unstarted
            return
        run.state = "running"
        run.started_at = time.time()
        await self.record(state, run)
        if run.options.permission_mode is None and project.permission_mode is not None:
            # The project's mode as it is now, when the run starts.
            run.options = run.options.model_copy(
                update={"permission_mode": project.permission_mode}
            )
            run.mode_from_project = True
        turn = asyncio.create_task(state.session.execute(run, project), name=f"run-{run.id}")
        await self._supervise(state, run, turn)

    async def resume(self, state: ProjectState, run: Run, ended: Awaitable[TurnOutcome]) -> None:
        """See a run an earlier hub left under way (on a remote agent) to its end: it
        is ``running`` already; its turn ends when ``ended`` does."""
        with log_format.bound(run=run.id):
            run.cost_limit = self._budgets.run_limit(state.id) if self._budgets else None
            turn = asyncio.ensure_future(ended)
            await self._supervise(state, run, turn)

    async def start_follow_up(self, state: ProjectState) -> Run | None:
        """The CLI began a turn by itself (its background work finished): record a run
        for it, owned by a task that sees it to its end like any other run."""
        if self._registry.stopping(state) or self.closing:
            return None
        run = Run.new(state.id, "", RunOptions(), origin="claude")
        run.state, run.started_at = "running", time.time()
        run.cost_limit = self._budgets.run_limit(state.id) if self._budgets else None
        await self._runs.insert(run.record())
        state.follow_up = run  # counted as under way in the status that follows
        await self.record(state, run, saved=True)
        with log_format.bound(project=state.id, run=run.id, connection=None):  # for its tasks
            turn = asyncio.create_task(state.session.follow(run), name=f"run-{run.id}")
            state.follow_task = asyncio.create_task(
                self._see_follow_up_through(state, run, turn), name=f"follow-up-{run.id}"
            )
        return run

    async def _see_follow_up_through(
        self, state: ProjectState, run: Run, turn: asyncio.Task[TurnOutcome]
    ) -> None:
        try:
            await self._supervise(state, run, turn)
        except StoreError as exc:
            self.log_failed(state, exc)
            await self.record_once_the_store_can(state, run, exc)
        except Exception:
            log.exception("follow-up run %s failed unexpectedly", run.id)
            await self.fail_quietly(state, run)
        finally:
            state.follow_up = None
            state.follow_task = None
            state.wake.set()
            self._registry.notify_status(state.id)

    async def _supervise(
        self, state: ProjectState, run: Run, turn: asyncio.Task[TurnOutcome]
    ) -> None:
        """Wait for a run's turn within the run timeout, stop it if it is cancelled or
        its time is up, and record how it ended."""
        cancelled = asyncio.create_task(run.cancel_requested.wait())
        try:
            try:
                done = await self._wait_within_run_timeout(run, {turn, cancelled})
            except asyncio.CancelledError:  # the hub stops, the run goes on without it
                turn.cancel()
                raise
            timed_out = not done
            stopped = turn not in done
            if stopped:
                by_client = run.cancel_requested.is_set() and run.stop_reason is None
                reason: ExpiryReason = "cancelled" if by_client else "ended"
                await self._confirmations.expire_where(reason, run_id=run.id)
                await state.session.cancel()
                await self._wait_for_stop(state, turn)
            if turn.done() and not turn.cancelled():
                outcome = turn.result()
            else:
                outcome = TurnOutcome(None, "the run would not stop and was abandoned")
        except AgentError as exc:
            why = f"{self._agent_name} could not start: {exc}"
            outcome, timed_out, stopped = TurnOutcome(None, why), False, False
        finally:
            cancelled.cancel()
        await self._confirmations.expire_where("ended", run_id=run.id)
        self._confirmations.forget_run(run.id)
        self._conclude(run, outcome, timed_out, stopped)
        state.cost_usd += run.cost_usd or 0.0
        if outcome.ended is not None and outcome.ended.lost_session:
            state.session.retire()  # the CLI exits; the next run starts afresh
            await self._registry.records.set_session(state.id, None)
        if outcome.store_error is not None:
            self.log_failed(state, outcome.store_error)
        await self.record(state, run)

    async def _wait_within_run_timeout(
        self, run: Run, tasks: set[asyncio.Task[Any]]
    ) -> set[asyncio.Task[Any]]:
        """Wait until one of ``tasks`` is done or the run's time is up. Time with a
        confirmation waiting for a person does not count: a question may wait out its
        own (longer) timeout, paused or not."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            used = loop.time() - started - self._confirmations.person_seconds(run.id)
            left = self._times.run_timeout - used
            if left <= 0 and not self._confirmations.has_pending(run.id):
                return set()
            wait = left if left > 0 else PERSON_POLL_SECONDS
            done, _ = await asyncio.wait(
                tasks, timeout=max(wait, 0.01), return_when=asyncio.FIRST_COMPLETED
            )
            if done:
                return done

    async def _wait_for_stop(self, state: ProjectState, turn: asyncio.Task[TurnOutcome]) -> None:
        """After a cancel: give the turn the grace periods to end, then kill the CLI; a
        turn that still has not ended is abandoned."""
        grace = self._times.stop_grace + STOP_MARGIN
        done, _ = await asyncio.wait({turn}, timeout=grace)
        if not done:
            log.warning("run did not stop within %.1f s; killing its CLI", grace)
            await state.session.kill()
            done, _ = await asyncio.wait({turn}, timeout=STOP_MARGIN)
        if not done:
            turn.cancel()
            await asyncio.wait({turn}, timeout=STOP_MARGIN)

    def _conclude(self, run: Run, outcome: TurnOutcome, timed_out: bool, stopped: bool) -> None:
        run.finished_at = time.time()
        ended = outcome.ended
        if ended is not None:
            run.take_metrics(ended.metrics)
        if run.cost_usd is None:  # stopped without its figures: what it said last
            run.cost_usd = run.cost_so_far
        if self.closing and ended is None:
            run.state, run.error = "interrupted", "the server shut down during this run"
        elif run.stop_reason is not None and (stopped or ended is None):  # over its budget
            run.state, run.error = "interrupted", run.stop_reason
        elif run.cancel_requested.is_set() and run.stop_reason is None:
            run.state, run.error = "cancelled", "cancelled by a client"
        elif outcome.interrupted and ended is None:
            run.state, run.error = "interrupted", outcome.error
        elif timed_out:
            run.state = "failed"
            run.error = f"timed out after {self._times.run_timeout:g} s; claude was stopped"
        elif ended is None:
            why = outcome.error or f"{self._agent_name} ended without a result"
            run.state, run.error = "failed", why
        elif ended.failure is not None:
            run.state, run.error = "failed", ended.failure
        else:
            run.state = "completed"

    # -- when the log refuses writes ----------------------------------------------------

    async def fail_quietly(self, state: ProjectState, run: Run) -> None:
        """Record a run that broke the worker as failed, if the store still lets us."""
        run.state, run.error, run.finished_at = "failed", "internal error", time.time()
        try:
            await self.record(state, run)
        except Exception:
            log.exception("could not record run %s as failed", run.id)

    def log_failed(self, state: ProjectState, error: StoreError) -> None:
        """The project's log refused a write (disk full, I/O error): the project stops
        (its run was stopped; no other starts) until the data dir has room again, and
        everyone is told why (``store_error``)."""
        if isinstance(error, LeaseLost):  # another node owns the project now: not a disk
            log.warning("project %s: %s", state.id, error)
            return
        log.error("the event log of project %s refuses writes (%s); its runs wait", state.id, error)
        state.store_error = (
            f"{UNRECORDED}: {error}; its runs wait until the data dir has "
            f"{self._times.min_free_disk} bytes free (--min-free-disk)"
        )
        self._registry.notify_status(state.id)

    async def record_once_the_store_can(
        self, state: ProjectState, run: Run, error: StoreError
    ) -> None:
        """Record how a run ended whose record the log refused: as soon as the log
        takes writes again (a new prompt has the worker try at once, else it tries every
        ``STORE_RETRY_SECONDS``)."""
        if not run.finished:
            run.state, run.finished_at = "failed", time.time()
            run.error = f"{UNRECORDED}: {error}"
        while not self._registry.stopping(state):
            state.wake.clear()
            try:
                await self.record(state, run, notify=False)
            except StoreError:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.wake.wait(), STORE_RETRY_SECONDS)
                continue
            return
