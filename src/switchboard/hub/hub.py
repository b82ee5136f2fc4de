"""The hub: the facade the server talks to, and the parts it is built from.

Each part has one job, in its own module:

- :mod:`~switchboard.hub.registry`: which projects are open, what clients see of them;
- :mod:`~switchboard.hub.scheduler`: each project's queue and worker;
- :mod:`~switchboard.hub.run_lifecycle`: a run from start to its recorded end;
- :mod:`~switchboard.hub.restart`: what a previous server left behind;
- :mod:`~switchboard.hub.access`: scoped tokens;
- :mod:`~switchboard.hub.project_settings`: permission modes, rules, sessions, retention;
- :mod:`~switchboard.hub.budgets`: what projects may spend, and spent today;
- :mod:`~switchboard.hub.skill_api`: skill events and questions from producers;
- :mod:`~switchboard.hub.confirmations`: what Claude and skills ask a person;
- :mod:`~switchboard.hub.session`: a project's agent session, one turn at a time;
- :mod:`~switchboard.hub.parts`: all of them wired together, started and stopped.

The hub receives its ports (stores, broadcaster, agent driver) and builds no store.
The server uses only the methods below; nothing reaches past them.
"""

from collections.abc import Awaitable
from pathlib import Path

from switchboard.agents.remote.driver import LinkChannel
from switchboard.hub.agent_sessions import AgentSessions
from switchboard.hub.agents import AgentLinkEnd, AgentListener
from switchboard.hub.cluster_view import ClusterView
from switchboard.hub.confirmation import Confirmation, Deliver
from switchboard.hub.parts import HubParts
from switchboard.hub.people import People
from switchboard.hub.registry import HubError, StatusListener
from switchboard.hub.runs import Run
from switchboard.protocol.back_channel import Diagnostic, DiagnosticsInfo, TaskInfo
from switchboard.protocol.messages import (
    AgentInfo,
    ConfirmationInfo,
    ConfirmationRequest,
    ConfirmationResponse,
    PermissionMode,
    PermissionRuleInfo,
    ProjectInfo,
    ProjectStatus,
    RunInfo,
    RunOptions,
    StoredSessionInfo,
)
from switchboard.protocol.skills import SkillState
from switchboard.store.records import BudgetLimits, ProjectRecord

__all__ = ["Hub", "HubError"]


class Hub:
    """Open with :meth:`start`, end with :meth:`close`."""

    def __init__(self, parts: HubParts) -> None:
        """``parts``: built from the ports the hub receives (see :class:`HubParts`)."""
        self._parts = parts
        self._registry = parts.registry
        self._scheduler = parts.scheduler
        self._settings = parts.settings
        self._confirmations = parts.confirmations
        self._runs = parts.runs
        self._agents = parts.agents
        self._skill_api = parts.skill_api
        self._back_channel = parts.back_channel
        self._budgets = parts.budgets
        self._allowed_roots = parts.allowed_roots
        self.events = parts.events
        """The event feed: the log, and its live fan-out (subscriptions read both)."""
        self.processes = parts.processes
        """The agent processes this server started (``/ws/claude`` records its own)."""
        self.telemetry = parts.telemetry
        """The server's metrics (``/metrics``): the hub and the stores feed them."""
        self.on_closed = parts.on_closed
        """Called at the very end of :meth:`close` (e.g. to release the data dir)."""
        self.publish_skill_event = parts.skill_api.publish
        """Log a skill event in a project, stamped with the time and its producer."""
        self.people = People(parts)
        """Tokens, the audit list, and alerts for people who are away."""
        self.cluster = ClusterView(parts)
        """This server's place in a cluster of nodes (inert on the only server)."""

    async def start(self) -> None:
        """Load state, clean up after a previous instance, resume queued runs."""
        await self._parts.start()

    async def close(self) -> None:
        """Stop every agent (running runs become ``interrupted``), then the store.
        Queued runs stay queued in the database and run after the next start."""
        await self._parts.close()

    def stop_accepting(self) -> None:
        """Shutdown has begun: refuse new work, start no queued run. A run whose agent
        goes away from now on (a remote agent's link is closed before the hub closes)
        ends ``interrupted``, as the runs still going at :meth:`close` do."""
        self._parts.stop_accepting()

    def kill_all(self) -> None:
        """SIGKILL every agent's process group at once (a forced exit)."""
        self._parts.kill_all()

    # -- what clients see -------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> None:
        self._registry.add_listener(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        self._registry.remove_listener(listener)

    def project(self, key: str) -> ProjectRecord:
        """The project ``key`` names (id, name or path), or ``unknown_project``."""
        return self._registry.project(key)

    def find_project(self, key: str) -> ProjectRecord | None:
        """The stored project ``key`` names, open or not; None if there is none."""
        return self._registry.records.find(key)

    def project_info(self, project_id: str) -> ProjectInfo:
        return self._registry.info(project_id)

    def project_infos(self) -> list[ProjectInfo]:
        return self._registry.infos()

    def running_runs(self) -> list[RunInfo]:
        return self._registry.running_runs()

    def head(self, project_id: str) -> int:
        return self.events.head(project_id)

    def first_seq(self, project_id: str) -> int:
        """The oldest seq retention kept."""
        return self.events.first(project_id)

    async def readiness(self) -> list[str]:
        """Why the hub cannot serve now (``/readyz``); empty when it can."""
        return await self._parts.readiness()

    def permission_modes(self) -> list[str]:
        """The modes the agent knows and this server allows, as clients offer them."""
        return self._settings.permission_modes()

    def pending_confirmations(self, project_id: str | None = None) -> list[ConfirmationInfo]:
        return self._confirmations.pending(project_id)

    def tasks(self, project_id: str | None = None) -> list[TaskInfo]:
        """A project's task list (None: every project's)."""
        return self._back_channel.tasks.tasks(project_id)

    def diagnostics(self, project_id: str) -> list[DiagnosticsInfo]:
        """The latest diagnostics clients published for the project, per file."""
        return self._back_channel.diagnostics.of_project(project_id)

    def running_skills(self, project_id: str | None = None) -> list[SkillState]:
        return self._skill_api.board.running(project_id)

    def skills_owned_by(self, owner: object) -> list[SkillState]:
        return self._skill_api.board.owned_by(owner)

    # -- projects and runs ------------------------------------------------------------

    async def add_project(
        self, path: str, name: str | None, agent: str | None = None
    ) -> ProjectInfo:
        """Register a directory: of this machine, or of the remote ``agent`` (which
        checks it, and must be online)."""
        self._registry.refuse_when_closing()
        records = self._registry.records
        if agent is None:
            record = await records.add(path, name, self._allowed_roots)
        else:
            roster = self._agents

            async def check(others: list[Path]) -> Path:
                return await roster.check_path(agent, path, others)

            record = await records.add_remote(agent, check, name)
        cluster = self._parts.cluster
        self._scheduler.open(record.id, work=cluster is None)
        if cluster is not None:  # this node takes it, unless another was quicker
            await cluster.claim(record.id)
            self._parts.changed("projects")
        info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        return info

    async def remove_project(self, key: str) -> ProjectRecord:
        """Cancel its runs, stop its CLI, forget it and its history."""
        self._registry.refuse_when_closing()
        record = self._registry.project(key)
        self._registry.check_mine(record.id)
        removed: list[ProjectRecord] = []

        async def delete() -> None:
            removed.append(await self._registry.records.remove(record.id))

        await self._parts.close_project(record, delete)
        self._parts.changed("projects")
        return removed[0]

    async def submit(self, key: str, text: str, options: RunOptions, by: str | None = None) -> Run:
        """Queue a prompt as a run of the project (``by``: the name of the token)."""
        self._registry.refuse_when_closing()
        self._settings.check_mode(options.permission_mode)
        record = self._registry.project(key)
        self._budgets.check(record.id, record.name)  # budget_exceeded: spent for today
        return await self._scheduler.submit(key, text, options, by)

    async def cancel(self, key: str, run_id: str | None) -> Run:
        """Cancel a queued run at once, or ask the running one to stop (it ends as
        ``cancelled`` once its CLI turn has stopped)."""
        return await self._scheduler.cancel(key, run_id)

    async def list_runs(self, key: str, limit: int, before: str | None = None) -> list[RunInfo]:
        """The project's newest ``limit`` runs as stored, newest first (``before``: a run's
        id, to page back from; ``unknown_run`` if the project has none of that id)."""
        project = self._registry.project(key)
        records = await self._runs.of_project(project.id, limit, before)
        if records is None:
            raise HubError("unknown_run", f"{project.name} has no run {before!r}")
        return [Run.from_record(record).info() for record in records]

    # -- the project's settings and session ----------------------------------------------

    async def new_session(self, key: str, by: str | None = None) -> ProjectInfo:
        """The project's next run starts a fresh session (``by``: the token's name)."""
        return await self._settings.new_session(key, by)

    async def list_sessions(self, key: str) -> list[StoredSessionInfo]:
        """The sessions the agent has stored for the project's directory."""
        return await self._settings.list_sessions(key)

    async def use_session(self, key: str, session_id: str) -> ProjectInfo:
        """Make a stored session the project's and import its history."""
        return await self._settings.use_session(key, session_id)

    async def set_permission_mode(
        self, key: str, mode: PermissionMode | None, by: str | None = None
    ) -> ProjectInfo:
        """The project's default mode from now on; a running run switches at once
        (``by``: the token's name)."""
        return await self._settings.set_permission_mode(key, mode, by)

    async def set_retention(
        self, key: str, max_age_seconds: float | None, max_bytes: int | None
    ) -> ProjectInfo:
        """The project's own retention policy (None: the server's; 0: no limit)."""
        return await self._settings.set_retention(key, max_age_seconds, max_bytes)

    async def set_back_channel(self, key: str, enabled: bool) -> ProjectInfo:
        """Turn the project's back-channel on or off (for its next CLI)."""
        return await self._settings.set_back_channel(key, enabled)

    async def set_budget(
        self, key: str, daily_usd: float | None, run_usd: float | None
    ) -> ProjectInfo:
        """The project's own budgets in USD (a None field follows the server's default).
        A run under way keeps the limit it started with."""
        async with self._registry.changing(key) as (record, _state):
            await self._budgets.set(record.id, BudgetLimits(daily_usd, run_usd))
            info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        return info

    async def publish_diagnostics(
        self, key: str, path: str, diagnostics: list[Diagnostic], by: str | None
    ) -> DiagnosticsInfo:
        """Replace the diagnostics of one file of the project (empty: clear them)."""
        self._registry.refuse_when_closing()
        async with self._registry.changing(key) as (record, _state):
            return await self._back_channel.diagnostics.publish(record, path, diagnostics, by)

    def rules_of(self, key: str) -> list[PermissionRuleInfo]:
        return self._settings.rules_of(key)

    async def remove_rule(self, key: str, rule_id: str) -> PermissionRuleInfo:
        return await self._settings.remove_rule(key, rule_id)

    # -- confirmations ------------------------------------------------------------------

    def confirmation_project(self, confirmation_id: str) -> str:
        """The project a pending confirmation belongs to (ConfirmationError if none)."""
        return self._confirmations.get(confirmation_id).project_id

    async def answer_confirmation(
        self, answer: ConfirmationResponse, by: str | None = None
    ) -> ConfirmationInfo:
        """Apply a client's answer (the first valid one wins); ``by``: the token's name."""
        answered = await self._confirmations.answer(
            answer.confirmation_id,
            answer.response,
            message=answer.message,
            updated_input=answer.updated_input,
            answers=answer.answers,
            remember=answer.remember,
            answered_by=by,
        )
        return answered.info()

    async def pause_confirmation(self, confirmation_id: str, paused: bool) -> ConfirmationInfo:
        return (await self._confirmations.set_paused(confirmation_id, paused)).info()

    async def withdraw_confirmation(self, confirmation_id: str) -> None:
        """Whoever asked stopped waiting."""
        await self._confirmations.withdraw(confirmation_id)

    # -- skills and producers (the skill API) ------------------------------------------

    async def ask_for_skill(
        self, request: ConfirmationRequest, producer: str, deliver: Deliver
    ) -> Confirmation:
        """Open a skill's confirmation in the project; ``deliver`` gets the outcome."""
        return await self._skill_api.ask(request, producer, deliver)

    # -- remote agents (their /ws/agent links) --------------------------------------------

    def agent_infos(self) -> list[AgentInfo]:
        return self._agents.infos()

    def agent_online(
        self, name: str, link: AgentLinkEnd, version: str, roots: list[str]
    ) -> AgentLinkEnd | None:
        """An agent's link is up; returns the link it replaces (to close), if any."""
        return self._agents.online(name, link, version, roots)

    def agent_settle(self, name: str) -> Awaitable[bool] | None:
        """On a cluster's node: the taking over of the agent's projects (whether all
        were taken), which its link waits for before it sorts the agent's processes
        out (None: nothing to wait for, on the only server)."""
        cluster = self._parts.cluster
        return cluster.agent_linked(name) if cluster is not None else None

    def agent_sessions(self, name: str) -> AgentSessions:
        """The processes the hub launched on the agent: its link routes their news
        and acknowledges it through this."""
        return self._agents.sessions(name)

    def agent_heard(self, name: str, link: LinkChannel) -> None:
        self._agents.heard(name, link)

    def agent_offline(self, name: str, link: LinkChannel) -> None:
        cluster = self._parts.cluster
        if self._agents.offline(name, link) and cluster is not None:
            cluster.agent_unlinked(name)

    def add_agent_listener(self, listener: AgentListener) -> None:
        self._agents.add_listener(listener)

    def remove_agent_listener(self, listener: AgentListener) -> None:
        self._agents.remove_listener(listener)
