"""The scheduler: each project's run queue and the worker that takes it.

Runs queue per project (FIFO) and one runs at a time per project; a worker task per
project takes the next run when one of ``max_concurrent_runs`` slots is free, so
projects run in parallel. A turn Claude began by itself (a follow-up) goes before the
queue; a project whose log refused a write waits for free disk space first, and one
that lives on a remote agent waits while that agent is offline (its runs stay queued).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from switchboard import log_format
from switchboard.exceptions import StoreError
from switchboard.hub.project_state import ProjectState
from switchboard.hub.registry import HubError, ProjectRegistry
from switchboard.hub.run_lifecycle import STORE_RETRY_SECONDS, RunLifecycle
from switchboard.hub.runs import Run
from switchboard.hub.session import ProjectSession
from switchboard.hub.turn import TurnOutcome
from switchboard.protocol.messages import RunOptions

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        registry: ProjectRegistry,
        lifecycle: RunLifecycle,
        new_session: Callable[[ProjectState], ProjectSession],
        *,
        max_concurrent_runs: int,
        max_queued_runs: int,
        free_bytes: Callable[[], int | None],
        min_free_disk: int,
        ready: Callable[[str], bool],
    ) -> None:
        self._registry = registry
        self._lifecycle = lifecycle
        self._new_session = new_session
        self._slots = asyncio.Semaphore(max_concurrent_runs)
        self._max_queued = max_queued_runs
        self._free_bytes = free_bytes
        self._min_free_disk = min_free_disk
        self._ready = ready
        """Whether a project can run now (its remote agent, if it has one, is online)."""

    def open(self, project_id: str, *, work: bool = True) -> ProjectState:
        """Open a project: its session, and a worker for its queue (``work`` False: not
        yet, on a cluster's node that does not own the project)."""
        state = ProjectState(project_id, elsewhere=not work)
        state.session = self._new_session(state)
        self._registry.track(state)
        if work:
            self.start_work(state)
        return state

    def start_work(self, state: ProjectState) -> None:
        """Start the project's worker, unless it has one."""
        state.elsewhere = False
        if state.worker is None or state.worker.done():
            state.worker = asyncio.create_task(self._work(state), name=f"project-{state.id}")

    def requeue(self, state: ProjectState, run: Run) -> None:
        """A queued run an earlier server left: it runs in turn."""
        state.queue.append(run)
        state.wake.set()

    def resume(self, state: ProjectState, run: Run, ended: Awaitable[TurnOutcome]) -> None:
        """A run an earlier server left under way on a remote agent, taken back: the
        project's worker sees it to its end (``ended``) before the queue."""
        state.running, state.resumed = run, ended
        state.wake.set()

    async def submit(self, key: str, text: str, options: RunOptions, by: str | None = None) -> Run:
        """Queue a prompt as a run of the project (``by``: who sent it)."""
        async with self._registry.changing(key) as (record, state):
            if len(state.queue) >= self._max_queued:
                raise HubError(
                    "queue_full",
                    f"{record.name} already has {len(state.queue)} queued runs "
                    f"(the limit is {self._max_queued}); wait or cancel one",
                )
            run = Run.new(record.id, text, options)
            run.by = by
            await self._lifecycle.insert(state, run, notify=False)
            state.queue.append(run)
            state.wake.set()
        self._registry.notify_status(record.id, while_stopping=True)  # counts the run
        return run

    async def cancel(self, key: str, run_id: str | None) -> Run:
        """Cancel a queued run at once, or ask the running one to stop (it ends as
        ``cancelled`` once its turn has stopped)."""
        async with self._registry.changing(key) as (record, state):
            for running in (state.running, state.follow_up):
                if running is not None and run_id in (None, running.id):
                    running.cancel_requested.set()
                    return running
            queued = next((run for run in state.queue if run.id == run_id), None)
            if queued is not None:
                state.queue.remove(queued)
                queued.state = "cancelled"
                queued.finished_at = time.time()
                queued.error = "cancelled while queued"
                await self._lifecycle.record(state, queued)
                return queued
        if run_id is None:
            raise HubError("nothing_to_cancel", f"{record.name} has no running run")
        raise HubError(
            "nothing_to_cancel", f"{record.name} has no queued or running run {run_id!r}"
        )

    async def _work(self, state: ProjectState) -> None:
        """Take the project's runs one at a time, when a slot is free."""
        log_format.bind(project=state.id, run=None, connection=None)  # not its opener's
        stopping = self._registry.stopping
        while not stopping(state):
            if state.follow_task is not None:  # a turn Claude began goes first
                await asyncio.wait({state.follow_task})
                continue
            if state.resumed is not None:  # taken back at start: its agent may be away
                await self._take(state)
                continue
            if state.store_error is not None:  # its log failed: wait for room first
                await self._wait_for_room(state)
                continue
            if not state.queue or not self._ready(state.id):  # (its agent's return wakes it)
                state.wake.clear()
                await state.wake.wait()
                continue
            await self._take(state)

    async def _take(self, state: ProjectState) -> None:
        """Once a slot is free, see the run taken back at start, or else the next
        queued one, to its end; record how it ended even when that breaks."""
        unrecorded: StoreError | None = None
        async with self._slots:
            resumed, run = state.resumed, state.running
            if resumed is not None and run is not None:
                state.resumed = None
                running = self._lifecycle.resume(state, run, resumed)
            elif self._registry.stopping(state) or not state.queue or not self._ready(state.id):
                return
            else:
                run = state.running = state.queue.popleft()
                running = self._lifecycle.execute(state, run)
            try:
                await running
            except StoreError as exc:
                unrecorded = exc
            except Exception:
                log.exception("run %s failed unexpectedly", run.id)
                await self._lifecycle.fail_quietly(state, run)
            finally:
                state.running = None
        if unrecorded is not None:  # the slot is free for other projects meanwhile
            self._lifecycle.log_failed(state, unrecorded)
            await self._lifecycle.record_once_the_store_can(state, run, unrecorded)
        self._registry.notify_status(state.id)

    async def _wait_for_room(self, state: ProjectState) -> None:
        """After its log failed, the project's next run starts once the data dir has
        ``min_free_disk`` bytes free (looked at when a prompt comes, and every
        ``STORE_RETRY_SECONDS``)."""
        while not self._registry.stopping(state):
            state.wake.clear()
            free = await asyncio.to_thread(self._free_bytes)
            if free is None or free >= self._min_free_disk:
                state.store_error = None
                log.info("project %s runs again (%s bytes free)", state.id, free)
                self._registry.notify_status(state.id)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.wake.wait(), STORE_RETRY_SECONDS)
