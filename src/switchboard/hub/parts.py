"""The hub's parts, wired together, and their start and stop (the :class:`Hub` facade
in :mod:`switchboard.hub.hub` is what the server sees)."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import get_args

from switchboard.agents.base import AgentDriver
from switchboard.agents.remote.driver import RemoteDriver
from switchboard.exceptions import ConfigError
from switchboard.hub.access import Access
from switchboard.hub.agents import AgentRoster
from switchboard.hub.back_channel import BackChannel
from switchboard.hub.budgets import Budgets
from switchboard.hub.bus import EventBus
from switchboard.hub.cluster import ClusterNode, ClusterPorts
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.diagnostics import DiagnosticsBoard
from switchboard.hub.fanout import Broadcaster
from switchboard.hub.limits import HubLimits
from switchboard.hub.notifications.service import (
    NO_NOTIFICATIONS,
    NotificationService,
    NotifySettings,
)
from switchboard.hub.notify import CommandNotifier
from switchboard.hub.processes import ProcessRegistry
from switchboard.hub.project_closing import close_project
from switchboard.hub.project_settings import ProjectSettings
from switchboard.hub.project_state import ProjectState
from switchboard.hub.registry import ProjectRegistry
from switchboard.hub.restart import RestartRecovery
from switchboard.hub.retention import Retention
from switchboard.hub.run_lifecycle import RunLifecycle, RunTimes
from switchboard.hub.scheduler import Scheduler
from switchboard.hub.session import ProjectSession
from switchboard.hub.session_services import SessionServices, SessionSettings
from switchboard.hub.skill_api import SkillApi
from switchboard.hub.takeover import Takeover
from switchboard.hub.tasks import TaskBoard
from switchboard.protocol.messages import (
    AgentStatus,
    ConfirmationEvent,
    ConfirmationInfo,
    PermissionMode,
    ProjectRemoved,
    ProjectStatus,
)
from switchboard.store.ports import Stores
from switchboard.store.records import NewEvent, ProjectRecord
from switchboard.telemetry import Telemetry

log = logging.getLogger(__name__)


class HubParts:
    """Every part of the hub, built from its ports and limits."""

    def __init__(
        self,
        stores: Stores,
        broadcaster: Broadcaster,
        agents: AgentDriver,
        session_settings: SessionSettings,
        limits: HubLimits,
        *,
        telemetry: Telemetry | None = None,
        notify: NotifySettings = NO_NOTIFICATIONS,
        cluster: ClusterPorts | None = None,
    ) -> None:
        """``telemetry``: the server's metrics, which the stores feed too (None: a
        registry of the hub's own); ``notify``: Web Push and ``--notify-url``;
        ``cluster``: this server is one node of a cluster (None: the only server)."""
        unknown = set(agents.permission_modes) - set(get_args(PermissionMode))
        if unknown:
            raise ConfigError(f"{agents.name} offers modes the protocol lacks: {sorted(unknown)}")
        self._stores = stores
        self.allowed_roots = limits.allowed_roots
        self._agents = agents
        self._session_settings = session_settings
        self.telemetry = telemetry if telemetry is not None else Telemetry()
        self.events = EventBus(stores.events, broadcaster, self.telemetry.tallies)
        instance = uuid.uuid4().hex  # a node's: NODE/ID (it stops only its own leftovers)
        self.processes = ProcessRegistry(
            stores.processes, instance if cluster is None else f"{cluster.node_id}/{instance}"
        )
        self.retention = Retention(
            self.events,
            stores.retention,
            server_policy=limits.retention,
            interval=limits.retention_interval,
            # the registry needs the retention to describe projects: it comes next
            changed=lambda project_id: self.registry.notify_status(project_id),  # noqa: PLW0108
        )
        self.agents = AgentRoster(
            stores.tokens,
            limits.agent_link_grace,
            self._work_of,
            node_id=cluster.node_id if cluster is not None else None,
        )
        self.budgets = Budgets(stores.budgets, limits.budgets)
        self.registry = ProjectRegistry(
            stores.projects,
            self.events,
            self.retention,
            self.agents.is_online,
            budget_of=self.budgets.info,
        )
        self.agents.add_listener(self._agent_changed)
        self.registry.add_listener(self._project_changed)
        self.notifications = NotificationService(notify, stores.push, self._project_name)
        self._notifier = (
            CommandNotifier(list(limits.on_confirmation)) if limits.on_confirmation else None
        )
        self.confirmations = ConfirmationBook(
            self._record_confirmation,
            {
                "tool_permission": limits.permission_timeout,
                "question": limits.question_timeout,
                "plan": limits.plan_timeout,
                "approval": limits.permission_timeout,
            },
            stores.rules,
            self._confirmation_opened,
            telemetry=self.telemetry,
        )
        self._notification_command = (
            CommandNotifier(list(limits.on_notification), option="--on-notification")
            if limits.on_notification
            else None
        )
        self.back_channel = BackChannel(
            stores.back_channel,
            TaskBoard(stores.back_channel, self.registry.append),
            DiagnosticsBoard(stores.back_channel, self.registry.append),
            self.confirmations,
            self.registry.append,
            notifier=self._notification_command,
        )
        self.access = Access(stores.tokens, self.registry)
        self.access.add_listener(self.notifications.subscriptions.token_revoked)
        self.audit = stores.audit
        self.runs = stores.runs
        self.skill_api = SkillApi(self.registry, self.confirmations)
        self.lifecycle = RunLifecycle(
            self.registry,
            stores.runs,
            self.confirmations,
            agents.name,
            RunTimes(
                run_timeout=limits.run_timeout,
                stop_grace=session_settings.interrupt_grace + session_settings.kill_grace,
                min_free_disk=limits.min_free_disk,
            ),
            telemetry=self.telemetry,
            on_ended=self.notifications.alerts.run_ended,
            budgets=self.budgets,
        )
        self.scheduler = Scheduler(
            self.registry,
            self.lifecycle,
            self._open_session,
            max_concurrent_runs=limits.max_concurrent_runs,
            max_queued_runs=limits.max_queued_runs,
            free_bytes=stores.free_bytes,
            min_free_disk=limits.min_free_disk,
            ready=self._can_run,
        )
        self.settings = ProjectSettings(
            self.registry,
            agents,
            stores.rules,
            stores.retention,
            self.retention,
            driver_for=self.driver_for,
            allow_bypass=limits.allow_bypass_permissions,
        )
        self.recovery = RestartRecovery(
            self.registry,
            stores.runs,
            scheduler=self.scheduler,
            lifecycle=self.lifecycle,
            record_confirmation=self._record_confirmation,
            fail_skill=self.skill_api.publish,
            driver_for=self.driver_for,
        )
        self.cluster: ClusterNode | None = None
        """This server as a cluster's node (None: the only server)."""
        if cluster is not None:
            takeover = Takeover(
                stores,
                self.registry,
                self.scheduler,
                recovery=self.recovery,
                budgets=self.budgets,
                access=self.access,
                confirmations=self.confirmations,
                close_project=self.close_project,
            )
            self.cluster = ClusterNode(
                cluster,
                stores.leases,
                self.events,
                self.registry,
                takeover=takeover,
                agents=self.agents,
                presence=self.notifications.alerts.report_presence,
            )
            self.registry.owners = self.cluster.ownership
        self._trimming: asyncio.Task[None] | None = None
        self.on_closed: list[Callable[[], None]] = []

    def changed(self, what: str) -> None:
        """Tell a cluster's other nodes to read ``what`` again (projects, tokens, push)."""
        if self.cluster is not None:
            self.cluster.changed(what)

    async def close_project(
        self, record: ProjectRecord, delete: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        """Stop a project's work and forget it here; ``delete``: remove it from the
        store meanwhile (None: another node of a cluster did)."""
        await close_project(
            self.registry,
            self.confirmations,
            record,
            delete=delete,
            forget=(
                self.settings.forget_project,
                self.budgets.forget_project,
                self.back_channel.forget_project,
                self.skill_api.board.forget_project,
            ),
        )
        self.telemetry.forget_project(record.name)

    def driver_for(self, project: ProjectRecord) -> AgentDriver:
        """The driver of a project's agent processes: local, or over its agent's link."""
        if project.agent is None:
            return self._agents
        name, local = project.agent, self._agents
        return RemoteDriver(
            local.name,
            local.permission_modes,
            name,
            lambda: self.agents.link(name),
            self.agents.sessions(name),
        )

    def _work_of(self, agent: str) -> tuple[list[str], list[str]]:
        """The ids of the agent's projects, and of their runs under way."""
        projects = [r.id for r in self.registry.records.all() if r.agent == agent]
        running = [
            run.id
            for project_id in projects
            if (state := self.registry.state(project_id)) is not None
            for run in (state.running, state.follow_up)
            if run is not None
        ]
        return projects, running

    def _project_name(self, project_id: str) -> str | None:
        record = self.registry.records.find(project_id)
        return record.name if record is not None else None

    def _confirmation_opened(self, confirmation: ConfirmationInfo) -> None:
        """A new confirmation no rule answered: the command, and an alert if no one
        is looking."""
        if self._notifier is not None:
            self._notifier.notify(confirmation)
        self.notifications.alerts.confirmation_opened(confirmation)

    def _can_run(self, project_id: str) -> bool:
        """A project on a remote agent runs only while the agent is online."""
        record = self.registry.records.find(project_id)
        return record is None or record.agent is None or self.agents.is_online(record.agent)

    def _project_changed(self, message: ProjectStatus | ProjectRemoved, _frame: str) -> None:
        """A run began or ended, or a project went: its agent's work may have changed."""
        if isinstance(message, ProjectRemoved):
            for name in self.agents.names():
                self.agents.work_changed(name)
        elif message.project.agent is not None:
            self.agents.work_changed(message.project.agent)

    def _agent_changed(self, status: AgentStatus, _frame: str) -> None:
        """An agent came or went: its projects' ``agent_online`` changed, and their
        queued runs may start."""
        for record in self.registry.records.all():
            if record.agent == status.agent.name:
                state = self.registry.state(record.id)
                if state is not None:
                    state.wake.set()
                self.registry.notify_status(record.id)

    def _open_session(self, state: ProjectState) -> ProjectSession:
        services = SessionServices(
            self.driver_for(self.registry.records.get(state.id)),
            self.events,
            self.registry.records,
            self.processes,
            self.confirmations,
            self.back_channel,
            follow_up=lambda: self.lifecycle.start_follow_up(state),
            changed=lambda: self.registry.notify_status(state.id),
        )
        return ProjectSession(state.id, self._session_settings, services)

    async def start(self) -> None:
        """Load state, clean up after a previous instance, resume queued runs."""
        stores = self._stores
        await self.events.log.load_heads()
        for loaded in (
            stores.projects,
            stores.rules,
            stores.tokens,
            stores.retention,
            stores.back_channel,
            stores.push,
        ):
            await loaded.load()
        await self.budgets.load()
        await self.processes.open(self._session_settings.process_containment)
        await self.processes.stop_leftovers()
        if self.cluster is None:
            await self.recovery.reopen()
        else:  # every project is open here; those this node may take, it recovers
            for record in stores.projects.all():
                self.scheduler.open(record.id, work=False)
            await self.cluster.start()
        owned = self.registry.owners.is_mine
        self._trimming = asyncio.create_task(
            self.retention.run(lambda: [p for p in self.registry.live_ids() if owned(p)]),
            name="retention",
        )

    async def close(self) -> None:
        """Stop every CLI (running runs become ``interrupted``), then the store. Queued
        runs stay queued in the database and run after the next start; a run under way
        on a remote agent goes on there, for the next start to take back."""
        self.registry.accepting = False
        self.lifecycle.closing = True
        self.confirmations.close()
        try:
            if self._trimming is not None:
                self._trimming.cancel()
                await asyncio.gather(self._trimming, return_exceptions=True)
            states = self.registry.states()
            left: set[str] = set()
            for state in states:
                state.wake.set()
                run = state.session.leave_working()  # on an agent: it goes on
                if run is not None:
                    self.confirmations.leave_open(run.id)
                    left.add(state.id)
                    log.info("run %s goes on on its agent, for the next start", run.id)
            await asyncio.gather(*(state.session.close() for state in states))
            await asyncio.gather(*(state.stop_tasks(state.id in left) for state in states))
            await self.confirmations.expire_where("ended")  # skills waiting in this process
            if self.cluster is not None:  # its runs have ended: the others may take over
                await self.cluster.close()
            await self.processes.close()
            for notifier in (self._notifier, self._notification_command):
                if notifier is not None:
                    await notifier.aclose()
            await self.notifications.aclose()
            self._stores.close()
        finally:
            for closed in self.on_closed:
                closed()

    async def readiness(self) -> list[str]:
        found = [] if self.registry.accepting else ["the server is shutting down"]
        found += [
            f"the event log of project {state.id} cannot be written: {state.store_error}"
            for state in self.registry.states()
            if state.store_error is not None
        ]
        return found + await asyncio.to_thread(self._stores.problems)

    def stop_accepting(self) -> None:
        self.registry.accepting = False
        self.lifecycle.closing = True

    def kill_all(self) -> None:
        """SIGKILL every CLI group at once (a forced exit)."""
        self.registry.accepting = False
        self.lifecycle.closing = True
        for state in self.registry.states():
            state.session.kill_now()

    async def _record_confirmation(
        self, project_id: str, run_id: str | None, body: ConfirmationEvent
    ) -> None:
        event = NewEvent("confirmation", body.model_dump_json(exclude_none=True), run_id)
        await self.registry.append(project_id, event)
