"""What a cluster's node does when it takes a project over, lets one go, or hears that
another node changed what every node keeps in memory (projects, tokens, push
subscriptions).

Taking over: read again what the previous owner may have changed (the project's
record, rules, retention, back-channel, budgets, the log's first and last seq), bring
this node's listeners up to the log's head, then recover as after a restart (a run the
previous owner was executing ends ``interrupted``, unless it runs on a remote agent and
goes on there; queued runs queue here) and start the project's worker. Letting go: stop
its CLI (a process on a remote agent goes on, for the next owner to take back) and its
worker; its queued runs stay queued in the store for the next owner.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable

from switchboard.hub.access import Access
from switchboard.hub.budgets import Budgets
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.registry import ProjectRegistry
from switchboard.hub.restart import RestartRecovery
from switchboard.hub.scheduler import Scheduler
from switchboard.protocol.messages import ProjectStatus
from switchboard.store.ports import Stores
from switchboard.store.records import ProjectRecord

log = logging.getLogger(__name__)

TAKEN_OVER = "the node running it stopped during this run; another node took the project over"


class Takeover:
    def __init__(
        self,
        stores: Stores,
        registry: ProjectRegistry,
        scheduler: Scheduler,
        *,
        recovery: RestartRecovery,
        budgets: Budgets,
        access: Access,
        confirmations: ConfirmationBook,
        close_project: Callable[[ProjectRecord], Awaitable[None]],
    ) -> None:
        """``close_project``: forget, here, a project removed on another node."""
        self._stores = stores
        self._registry = registry
        self._scheduler = scheduler
        self._recovery = recovery
        self._budgets = budgets
        self._access = access
        self._confirmations = confirmations
        self._close_project = close_project

    async def adopt(self, project_ids: list[str]) -> None:
        """Set up projects this node has just taken, and start their queues. What the
        previous owners may have changed is read once for them all."""
        stores = self._stores
        await self.sync_projects()
        for cached in (stores.rules, stores.retention, stores.back_channel):
            await cached.load()
        await self._budgets.load()
        bus = self._registry.bus
        states = [s for p in project_ids if (s := self._registry.state(p)) is not None]
        for state in states:  # (a project removed meanwhile has no state)
            await bus.log.reload(state.id)
            await bus.catch_up(state.id, bus.log.head(state.id))
        async with contextlib.AsyncExitStack() as held:
            for state in states:  # a prompt coming meanwhile queues after the recovery
                await held.enter_async_context(state.changing)
            await self._recovery.reopen([state.id for state in states], cause=TAKEN_OVER)
        for state in states:
            if self._registry.owners.is_mine(state.id):  # (not lost meanwhile)
                self._scheduler.start_work(state)
                self._registry.notify_status(state.id)

    async def drop(self, project_id: str) -> None:
        """Stop working on a project this node no longer owns."""
        state = self._registry.state(project_id)
        if state is None:
            return
        state.elsewhere = True  # its worker stops; nothing here records runs any more
        state.queue.clear()  # (still queued in the store: the next owner runs them)
        state.wake.set()
        for run in (state.running, state.follow_up):
            if run is not None:  # the next owner closes its questions, or asks them again
                self._confirmations.leave_open(run.id)
        left = state.session.hand_over() is not None  # on an agent: it goes on
        await state.session.close()
        await state.stop_tasks(leave_run=left)
        state.worker = None
        self._registry.notify(ProjectStatus(project=self._registry.info(project_id)))

    async def reload(self, what: str) -> None:
        """Another node changed ``what``: read it again from the store."""
        if what == "projects":
            await self.sync_projects()
        elif what == "tokens":
            await self._access.reload()
        elif what == "push":
            await self._stores.push.load()

    async def sync_projects(self) -> None:
        """Open the projects added on other nodes, forget those removed there."""
        records = self._registry.records
        known = {record.id: record for record in records.all()}
        await records.load()
        stored = {record.id for record in records.all()}
        for record in records.all():
            if self._registry.state(record.id) is None:
                self._scheduler.open(record.id, work=False)
                self._registry.notify(ProjectStatus(project=self._registry.info(record.id)))
        for state in self._registry.states():
            if state.id not in stored and not state.removing and state.id in known:
                log.info("project %s was removed on another node", state.id)
                await self._close_project(known[state.id])
