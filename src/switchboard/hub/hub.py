"""The hub: projects, their run queues and sessions, and the state clients see.

Runs queue per project (FIFO) and one runs at a time per project; a worker task per
project takes the next run when one of ``max_concurrent_runs`` slots is free, so
projects run in parallel. Every state change of a run is saved to the ``runs`` table
and appended to the project's event log (``kind: "run"``) before anyone hears of it.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args

from switchboard.agents.base import AgentDriver
from switchboard.exceptions import AgentError, ConfigError, RequestRefused, StoreError
from switchboard.hub.bus import EventBus
from switchboard.hub.confirmations import Confirmation, ConfirmationBook, Deliver, ExpiryReason
from switchboard.hub.fanout import Broadcaster
from switchboard.hub.notify import ConfirmationNotifier
from switchboard.hub.recovery import ProcessRegistry
from switchboard.hub.retention import Retention
from switchboard.hub.running_skills import SkillBoard
from switchboard.hub.runs import Run
from switchboard.hub.session import UNRECORDED, ProjectSession, SessionServices, SessionSettings
from switchboard.hub.stored_sessions import StoredSessions
from switchboard.hub.turn import TurnOutcome
from switchboard.protocol.messages import (
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationInfo,
    ConfirmationRequest,
    PermissionMode,
    PermissionModeChanged,
    PermissionRuleInfo,
    ProjectInfo,
    ProjectRemoved,
    ProjectStatus,
    RetentionInfo,
    RunInfo,
    RunOptions,
    StoredSessionInfo,
    TokenInfo,
    encode,
)
from switchboard.protocol.skills import AnySkillEvent, SkillFailed, SkillQuestion, SkillState
from switchboard.store.ports import Stores
from switchboard.store.records import (
    NewEvent,
    PermissionRule,
    ProjectRecord,
    RetentionPolicy,
    ScopedToken,
    StoredEvent,
)

log = logging.getLogger(__name__)

PERSON_POLL_SECONDS = 1.0
"""While the run's time is up but a person is still being asked, look again this often."""
STOP_MARGIN = 5.0
"""Seconds on top of the grace periods before a run that will not stop is abandoned."""
RESERVED_PRODUCERS = frozenset({"embedded", "server token"})
"""Producer names the server gives; a scoped token may not take one."""
INTERRUPTED_SKILL = "the server stopped while this skill was running"
STORE_RETRY_SECONDS = 5.0
"""While a project's log refuses writes, how often its worker tries again (a new prompt
tries at once)."""


class HubError(RequestRefused):
    """A request the hub refuses."""


@dataclass(frozen=True, slots=True)
class HubLimits:
    max_concurrent_runs: int = 4
    max_queued_runs: int = 16
    run_timeout: float = 300.0
    allowed_roots: tuple[Path, ...] = ()
    permission_timeout: float = 600.0
    question_timeout: float = 600.0
    plan_timeout: float = 600.0
    allow_bypass_permissions: bool = False
    on_confirmation: tuple[str, ...] = ()
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """The server's retention policy (``--retention-max-age``, ``--retention-max-bytes``)."""
    retention_interval: float = 600.0
    min_free_disk: int = 64 * 1024 * 1024
    """After a project's log refused a write, its runs wait for this much free space."""


@dataclass(slots=True)
class _Project:
    id: str
    session: ProjectSession = field(init=False)
    queue: deque[Run] = field(default_factory=deque)
    running: Run | None = None
    follow_up: Run | None = None
    """A run Claude started itself (a follow-up turn), while it runs."""
    follow_task: asyncio.Task[None] | None = None
    cost_usd: float = 0.0
    """What the project's runs have cost so far."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    worker: asyncio.Task[None] | None = None
    removing: bool = False
    changing: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by requests that write the project's state, so that a removal waits for
    them (their writes would otherwise land after the project's rows are gone)."""
    store_error: str | None = None
    """Why the project's log refuses writes, while it does (its runs wait)."""


StatusListener = Callable[[ProjectStatus | ProjectRemoved, str], None]
"""Called with the message and its encoded frame (encoded once for every listener)."""
RevocationListener = Callable[[str], None]
"""Called with the id of a token that was just revoked."""


class Hub:
    """Open with :meth:`start`, end with :meth:`close`."""

    def __init__(
        self,
        stores: Stores,
        broadcaster: Broadcaster,
        agents: AgentDriver,
        session_settings: SessionSettings,
        limits: HubLimits,
    ) -> None:
        self._stores = stores
        unknown = set(agents.permission_modes) - set(get_args(PermissionMode))
        if unknown:
            raise ConfigError(f"{agents.name} offers modes the protocol lacks: {sorted(unknown)}")
        self.agents = agents
        self.limits = limits
        self.session_settings = session_settings
        self.instance = uuid.uuid4().hex
        self.projects = stores.projects
        self.bus = EventBus(stores.events, broadcaster)
        self.runs = stores.runs
        self.registry = ProcessRegistry(stores.processes, self.instance)
        self.rules = stores.rules
        self.tokens = stores.tokens
        self.retention_policies = stores.retention
        self.retention = Retention(
            self.bus,
            self.retention_policies,
            server_policy=limits.retention,
            interval=limits.retention_interval,
            changed=self._trimmed,
        )
        self._trimming: asyncio.Task[None] | None = None
        self.skills = SkillBoard()
        self.stored_sessions = StoredSessions(agents)
        self.notifier = (
            ConfirmationNotifier(list(limits.on_confirmation)) if limits.on_confirmation else None
        )
        self.confirmations = ConfirmationBook(
            self._record_confirmation,
            {
                "tool_permission": limits.permission_timeout,
                "question": limits.question_timeout,
                "plan": limits.plan_timeout,
            },
            self.rules,
            self.notifier.notify if self.notifier is not None else None,
        )
        self._slots = asyncio.Semaphore(limits.max_concurrent_runs)
        self._states: dict[str, _Project] = {}
        self._listeners: set[StatusListener] = set()
        self._revocation_listeners: set[RevocationListener] = set()
        self.accepting = True
        """False from the start of shutdown: requests that change state are refused."""
        self.closing = False
        """True while :meth:`close` stops the CLIs: runs ending now are ``interrupted``."""
        self.on_closed: list[Callable[[], None]] = []
        """Called at the very end of :meth:`close` (e.g. to release the data dir)."""

    # -- start and stop ---------------------------------------------------------------

    async def start(self) -> None:
        """Load state, clean up after a previous instance, resume queued runs."""
        await self.bus.log.load_heads()
        await self.projects.load()
        await self.rules.load()
        await self.tokens.load()
        await self.retention_policies.load()
        await self.registry.open(self.session_settings.process_containment)
        await self.registry.stop_leftovers()
        costs = await self.runs.costs_by_project()
        for record in self.projects.all():
            self._add_state(record.id).cost_usd = costs.get(record.id, 0.0)
            await self._close_what_skills_left_open(record.id)
        for run in map(Run.from_record, await self.runs.unfinished()):
            state = self._states.get(run.project_id)
            if state is None:
                continue
            if run.state == "running":
                await self._close_open_confirmations(run.project_id, run.id)
                run.state = "interrupted"
                run.finished_at = time.time()
                run.error = "the server stopped during this run"
                await self._record(state, run)
            else:
                state.queue.append(run)
                state.wake.set()
        self._trimming = asyncio.create_task(
            self.retention.run(self._live_project_ids), name="retention"
        )

    def _live_project_ids(self) -> list[str]:
        return [state.id for state in self._states.values() if not state.removing]

    async def close(self) -> None:
        """Stop every CLI (running runs become ``interrupted``), then the store. Queued
        runs stay queued in the database and run after the next start."""
        self.accepting = False
        self.closing = True
        self.confirmations.close()
        try:
            if self._trimming is not None:
                self._trimming.cancel()
                await asyncio.gather(self._trimming, return_exceptions=True)
            states = list(self._states.values())
            for state in states:
                state.wake.set()
            await asyncio.gather(*(state.session.close() for state in states))
            await asyncio.gather(*(_stop_worker(state) for state in states))
            await asyncio.gather(*(_stop_follow_up(state) for state in states))
            await self.confirmations.expire_where("ended")  # skills waiting in this process
            await self.registry.close()
            if self.notifier is not None:
                await self.notifier.aclose()
            self._stores.close()
        finally:
            for closed in self.on_closed:
                closed()

    def kill_all(self) -> None:
        """SIGKILL every CLI group at once (a forced exit)."""
        self.accepting = False
        self.closing = True
        for state in self._states.values():
            state.session.kill_now()

    # -- what clients see -------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> None:
        self._listeners.add(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        self._listeners.discard(listener)

    def add_revocation_listener(self, listener: RevocationListener) -> None:
        self._revocation_listeners.add(listener)

    def remove_revocation_listener(self, listener: RevocationListener) -> None:
        self._revocation_listeners.discard(listener)

    def project(self, key: str) -> ProjectRecord:
        record = self.projects.find(key)
        if record is None or record.id not in self._states or self._states[record.id].removing:
            raise HubError("unknown_project", f"no project {key!r}")
        return record

    def project_info(self, project_id: str) -> ProjectInfo:
        record = self.projects.get(project_id)
        state = self._states[project_id]
        running = state.running or state.follow_up
        return ProjectInfo(
            id=record.id,
            name=record.name,
            path=str(record.path),
            session_id=record.session_id,
            epoch=record.epoch,
            head=self.bus.head(record.id),
            status="running" if running is not None else "idle",
            running_run=running.id if running is not None else None,
            queued=len(state.queue),
            permission_mode=record.permission_mode,  # type: ignore[arg-type]
            total_cost_usd=round(state.cost_usd, 6),
            background_tasks=state.session.background_tasks,
            first_seq=self.bus.first(record.id),
            retention=RetentionInfo(**asdict(self.retention.policy(record.id))),
            store_error=state.store_error,
        )

    def project_infos(self) -> list[ProjectInfo]:
        return [self.project_info(r.id) for r in self.projects.all() if r.id in self._states]

    def running_runs(self) -> list[RunInfo]:
        return [
            run.info()
            for state in self._states.values()
            for run in (state.running, state.follow_up)
            if run is not None
        ]

    # -- what the server asks of the hub (its facade; nothing reaches past it) ---------

    @property
    def events(self) -> EventBus:
        """The event feed: the log, and its live fan-out (subscriptions read both)."""
        return self.bus

    def head(self, project_id: str) -> int:
        return self.bus.head(project_id)

    def first_seq(self, project_id: str) -> int:
        """The oldest seq retention kept."""
        return self.bus.first(project_id)

    def token_alive(self, token_id: str) -> bool:
        return self.tokens.exists(token_id)

    def find_token(self, secret: str) -> ScopedToken | None:
        return self.tokens.find(secret)

    def pending_confirmations(self, project_id: str | None = None) -> list[ConfirmationInfo]:
        return self.confirmations.pending(project_id)

    def running_skills(self, project_id: str | None = None) -> list[SkillState]:
        return self.skills.running(project_id)

    def skills_owned_by(self, owner: object) -> list[SkillState]:
        return self.skills.owned_by(owner)

    def confirmation_project(self, confirmation_id: str) -> str:
        """The project a pending confirmation belongs to (ConfirmationError if none)."""
        return self.confirmations.get(confirmation_id).project_id

    async def answer_confirmation(
        self,
        confirmation_id: str,
        response: str,
        *,
        message: str | None = None,
        updated_input: dict[str, Any] | None = None,
        answers: dict[str, str | list[str]] | None = None,
        remember: bool = False,
    ) -> ConfirmationInfo:
        answered = await self.confirmations.answer(
            confirmation_id,
            response,
            message=message,
            updated_input=updated_input,
            answers=answers,
            remember=remember,
        )
        return answered.info()

    async def pause_confirmation(self, confirmation_id: str, paused: bool) -> ConfirmationInfo:
        return (await self.confirmations.set_paused(confirmation_id, paused)).info()

    async def withdraw_confirmation(self, confirmation_id: str) -> None:
        """Whoever asked stopped waiting."""
        await self.confirmations.withdraw(confirmation_id)

    # -- requests -----------------------------------------------------------------------

    async def add_project(self, path: str, name: str | None) -> ProjectInfo:
        self._refuse_when_closing()
        record = await self.projects.add(path, name, self.limits.allowed_roots)
        self._add_state(record.id)
        info = self.project_info(record.id)
        self._notify(ProjectStatus(project=info))
        return info

    async def remove_project(self, key: str) -> ProjectRecord:
        """Cancel its runs, stop its CLI, forget it and its history."""
        self._refuse_when_closing()
        record = self.project(key)
        state = self._states[record.id]
        state.removing = True  # from now on, requests for it get unknown_project
        if state.running is not None:
            state.running.cancel_requested.set()
        state.wake.set()
        async with state.changing:  # requests already under way finish first
            state.queue.clear()
            await state.session.close()
            await _stop_worker(state)
            await _stop_follow_up(state)
            await self.confirmations.expire_where("ended", project_id=record.id)
            removed = await self.projects.remove(record.id)
            self.rules.forget_project(record.id)
            self.skills.forget_project(record.id)
            self.retention_policies.forget_project(record.id)
            self.retention.forget(record.id)
        del self._states[record.id]
        self.bus.forget(record.id)
        self._notify(ProjectRemoved(project=record.id))
        return removed

    async def submit(self, key: str, text: str, options: RunOptions) -> Run:
        """Queue a prompt as a run of the project."""
        self._refuse_when_closing()
        self._check_mode(options.permission_mode)
        async with self._changing(key) as (record, state):
            if len(state.queue) >= self.limits.max_queued_runs:
                raise HubError(
                    "queue_full",
                    f"{record.name} already has {len(state.queue)} queued runs "
                    f"(the limit is {self.limits.max_queued_runs}); wait or cancel one",
                )
            run = Run.new(record.id, text, options)
            await self.runs.insert(run.record())
            await self._record(state, run, saved=True, notify=False)
            state.queue.append(run)
            state.wake.set()
        self._notify(ProjectStatus(project=self.project_info(record.id)))  # counts the run
        return run

    async def cancel(self, key: str, run_id: str | None) -> Run:
        """Cancel a queued run at once, or ask the running one to stop (it ends as
        ``cancelled`` once its CLI turn has stopped)."""
        async with self._changing(key) as (record, state):
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
                await self._record(state, queued)
                return queued
        if run_id is None:
            raise HubError("nothing_to_cancel", f"{record.name} has no running run")
        raise HubError(
            "nothing_to_cancel", f"{record.name} has no queued or running run {run_id!r}"
        )

    async def new_session(self, key: str) -> ProjectInfo:
        """The project's next run starts a fresh Claude session."""
        async with self._changing(key) as (record, state):
            state.session.retire()
            await self.projects.set_session(record.id, None)
            body = '{"session_id":null,"reason":"session.new"}'
            await self.bus.append(record.id, record.epoch, [NewEvent("session", body)])
            info = self.project_info(record.id)
        self._notify(ProjectStatus(project=info))
        return info

    async def set_retention(
        self, key: str, max_age_seconds: float | None, max_bytes: int | None
    ) -> ProjectInfo:
        """The project's own retention policy (a None field follows the server's, 0 is
        no limit); a trimming pass follows at once."""
        async with self._changing(key) as (record, _state):
            await self.retention_policies.set(
                record.id, RetentionPolicy(max_age_seconds, max_bytes)
            )
            info = self.project_info(record.id)
        self._notify(ProjectStatus(project=info))
        self.retention.poke()
        return info

    def _trimmed(self, project_id: str) -> None:
        """Retention moved the project's first kept seq: tell everyone."""
        state = self._states.get(project_id)
        if state is not None:
            self._notify_status(state)

    async def list_sessions(self, key: str) -> list[StoredSessionInfo]:
        """The Claude sessions the CLI has stored for the project's directory."""
        return await self.stored_sessions.list(self.project(key))

    async def use_session(self, key: str, session_id: str) -> ProjectInfo:
        """Make a stored session the project's (its next run resumes it) and import its
        history. Refused while a run is under way: the history would interleave."""
        record = self.project(key)
        history = await self.stored_sessions.read(record, session_id)
        if history is None:
            raise HubError(
                "unknown_session", f"claude has no session {session_id!r} for {record.path}"
            )
        async with self._changing(key) as (record, state):
            if state.running is not None or state.follow_up is not None:
                raise HubError(
                    "busy", f"{record.name} has a run under way; wait for it or cancel it"
                )
            if record.session_id != session_id:
                state.session.retire()
                updated = await self.projects.set_session(record.id, session_id)
                await self.stored_sessions.append_history(self.bus, updated, session_id, history)
            info = self.project_info(record.id)
        self._notify(ProjectStatus(project=info))
        return info

    @contextlib.asynccontextmanager
    async def _changing(self, key: str) -> AsyncIterator[tuple[ProjectRecord, _Project]]:
        """The project, locked against removal for the duration of a request."""
        record = self.project(key)
        state = self._states[record.id]
        async with state.changing:
            if state.removing:
                raise HubError("unknown_project", f"no project {key!r}")
            yield record, state

    async def set_permission_mode(self, key: str, mode: PermissionMode | None) -> ProjectInfo:
        """The project's default mode from now on; a running run switches at once."""
        self._check_mode(mode)
        async with self._changing(key) as (record, state):
            await self.projects.set_permission_mode(record.id, mode)
            running = state.running
            follows_project = running is not None and (
                running.options.permission_mode is None or running.mode_from_project
            )
            switched = None
            if running is not None and follows_project and mode is not None:
                switched = running.id if await state.session.switch_mode(mode) else None
            body = PermissionModeChanged(mode=mode, run=switched).model_dump_json()
            event = NewEvent("permission_mode", body, switched)
            await self.bus.append(record.id, record.epoch, [event])
            info = self.project_info(record.id)
        self._notify(ProjectStatus(project=info))
        return info

    def permission_modes(self) -> list[str]:
        """The modes the agent knows and this server allows, as clients offer them."""
        allowed = self.limits.allow_bypass_permissions
        return [m for m in self.agents.permission_modes if allowed or m != "bypassPermissions"]

    def _check_mode(self, mode: str | None) -> None:
        if mode == "bypassPermissions" and not self.limits.allow_bypass_permissions:
            raise HubError(
                "permission_mode_not_allowed",
                "bypassPermissions is off on this server (--allow-bypass-permissions)",
            )
        if mode is not None and mode not in self.agents.permission_modes:
            known = ", ".join(self.agents.permission_modes)
            raise HubError(
                "permission_mode_not_allowed",
                f"{self.agents.name} has no permission mode {mode!r} (it knows: {known})",
            )

    def rules_of(self, key: str) -> list[PermissionRuleInfo]:
        return [rule_info(rule) for rule in self.rules.of_project(self.project(key).id)]

    async def remove_rule(self, key: str, rule_id: str) -> PermissionRuleInfo:
        async with self._changing(key) as (record, _state):
            rule = await self.rules.remove(record.id, rule_id)
        if rule is None:
            raise HubError("unknown_rule", f"{record.name} has no rule {rule_id!r}")
        return rule_info(rule)

    # -- skills and producers (the skill API) ------------------------------------------------

    async def publish_skill_event(
        self,
        key: str,
        event: AnySkillEvent,
        producer: str,
        owner: object = None,
        *,
        during_shutdown: bool = False,
    ) -> AnySkillEvent:
        """Store a skill event in the project's log (kind ``skill``), stamped with the
        time and who sent it, and keep ``running_skills`` up to date. ``owner`` (a
        connection) is who answers for the skill; ``during_shutdown`` lets the server
        record what a closing connection leaves behind."""
        if not during_shutdown:
            self._refuse_when_closing()
        async with self._changing(key) as (record, _state):
            stamped = event.model_copy(update={"at": time.time(), "producer": producer})
            body = stamped.model_dump_json(exclude_none=True)
            await self.bus.append(record.id, record.epoch, [NewEvent("skill", body)])
            self.skills.apply(record.id, stamped, owner)
        return stamped

    async def ask_for_skill(
        self, request: ConfirmationRequest, producer: str, deliver: Deliver
    ) -> Confirmation:
        """Open a skill's confirmation in the project; ``deliver`` gets the outcome."""
        self._refuse_when_closing()
        question = SkillQuestion(
            skill_id=request.skill_id,
            step_index=request.step_index,
            prompt=request.prompt,
            claude_suggestion=request.claude_suggestion,
            producer=producer,
        )
        async with self._changing(request.project) as (record, _state):
            return await self.confirmations.open_skill(
                record.id, question, request.options, request.timeout_seconds, deliver
            )

    async def create_token(
        self, name: str, scope: str, project_keys: list[str] | None
    ) -> tuple[TokenInfo, str]:
        """A scoped token and its secret (shown once). Its name is what its events
        record as their producer: unique, and not one the server uses itself."""
        if name in RESERVED_PRODUCERS:
            raise HubError("name_invalid", f"{name!r} is reserved; choose another name")
        if any(token.name == name for token in self.tokens.all()):
            raise HubError("name_taken", f"a token named {name!r} exists")
        projects = (
            tuple(dict.fromkeys(self.project(key).id for key in project_keys))
            if project_keys is not None
            else None
        )
        token, secret = await self.tokens.create(name, scope, projects)
        return token_info(token), secret

    def token_infos(self) -> list[TokenInfo]:
        return [token_info(token) for token in self.tokens.all()]

    async def revoke_token(self, token_id: str) -> TokenInfo:
        token = await self.tokens.revoke(token_id)
        if token is None:
            raise HubError("unknown_token", f"no token {token_id!r}")
        for listener in tuple(self._revocation_listeners):
            listener(token.id)
        return token_info(token)

    # -- running ------------------------------------------------------------------------

    def stop_accepting(self) -> None:
        """Shutdown has begun: refuse new work, start no queued run."""
        self.accepting = False

    def _refuse_when_closing(self) -> None:
        if not self.accepting:
            raise HubError("shutting_down", "the server is shutting down")

    def _add_state(self, project_id: str) -> _Project:
        state = _Project(project_id)
        services = SessionServices(
            self.agents,
            self.bus,
            self.projects,
            self.registry,
            self.confirmations,
            follow_up=lambda: self._start_follow_up(state),
            changed=lambda: self._notify_status(state),
        )
        state.session = ProjectSession(project_id, self.session_settings, services)
        state.worker = asyncio.create_task(self._work(state), name=f"project-{project_id}")
        self._states[project_id] = state
        return state

    def _notify_status(self, state: _Project) -> None:
        if not self._stopping(state):
            self._notify(ProjectStatus(project=self.project_info(state.id)))

    def _stopping(self, state: _Project) -> bool:
        return not self.accepting or state.removing

    async def _work(self, state: _Project) -> None:
        """Take the project's runs one at a time, when a slot is free."""
        while not self._stopping(state):
            if state.follow_task is not None:  # a turn Claude began goes first
                await asyncio.wait({state.follow_task})
                continue
            if state.store_error is not None:  # its log failed: wait for room first
                await self._wait_for_room(state)
                continue
            if not state.queue:
                state.wake.clear()
                await state.wake.wait()
                continue
            unrecorded: StoreError | None = None
            async with self._slots:
                if self._stopping(state) or not state.queue:
                    continue
                run = state.running = state.queue.popleft()
                try:
                    await self._execute(state, run)
                except StoreError as exc:
                    unrecorded = exc
                except Exception:
                    log.exception("run %s failed unexpectedly", run.id)
                    await self._fail_quietly(state, run)
                finally:
                    state.running = None
            if unrecorded is not None:  # the slot is free for other projects meanwhile
                self._log_failed(state, unrecorded)
                await self._record_once_the_store_can(state, run, unrecorded)
            if not self._stopping(state):
                self._notify(ProjectStatus(project=self.project_info(state.id)))

    def _log_failed(self, state: _Project, error: StoreError) -> None:
        """The project's log refused a write (disk full, I/O error): the project stops
        (its run was stopped; no other starts) until the data dir has room again, and
        everyone is told why (``store_error``)."""
        log.error("the event log of project %s refuses writes (%s); its runs wait", state.id, error)
        state.store_error = (
            f"{UNRECORDED}: {error}; its runs wait until the data dir has "
            f"{self.limits.min_free_disk} bytes free (--min-free-disk)"
        )
        self._notify_status(state)

    async def _record_once_the_store_can(
        self, state: _Project, run: Run, error: StoreError
    ) -> None:
        """Record how a run ended whose record the log refused: as soon as the log
        takes writes again (a new prompt has the worker try at once, else it tries every
        ``STORE_RETRY_SECONDS``)."""
        if not run.finished:
            run.state, run.finished_at = "failed", time.time()
            run.error = f"{UNRECORDED}: {error}"
        while not self._stopping(state):
            state.wake.clear()
            try:
                await self._record(state, run, notify=False)
            except StoreError:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.wake.wait(), STORE_RETRY_SECONDS)
                continue
            return

    async def _wait_for_room(self, state: _Project) -> None:
        """After its log failed, the project's next run starts once the data dir has
        ``min_free_disk`` bytes free (looked at when a prompt comes, and every
        ``STORE_RETRY_SECONDS``)."""
        while not self._stopping(state):
            state.wake.clear()
            free = await asyncio.to_thread(self._stores.free_bytes)
            if free is None or free >= self.limits.min_free_disk:
                state.store_error = None
                log.info("project %s runs again (%s bytes free)", state.id, free)
                self._notify_status(state)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.wake.wait(), STORE_RETRY_SECONDS)

    async def _execute(self, state: _Project, run: Run) -> None:
        run.state = "running"
        run.started_at = time.time()
        await self._record(state, run)
        project = self.projects.get(state.id)
        if run.options.permission_mode is None and project.permission_mode is not None:
            # The project's mode as it is now, when the run starts.
            run.options = run.options.model_copy(
                update={"permission_mode": project.permission_mode}
            )
            run.mode_from_project = True
        turn = asyncio.create_task(state.session.execute(run, project), name=f"run-{run.id}")
        await self._supervise(state, run, turn)

    async def _start_follow_up(self, state: _Project) -> Run | None:
        """The CLI began a turn by itself (its background work finished): record a run
        for it, owned by a task that sees it to its end like any other run."""
        if self._stopping(state) or self.closing:
            return None
        run = Run.new(state.id, "", RunOptions(), origin="claude")
        run.state, run.started_at = "running", time.time()
        await self.runs.insert(run.record())
        state.follow_up = run
        await self._record(state, run, saved=True)
        turn = asyncio.create_task(state.session.follow(run), name=f"run-{run.id}")
        state.follow_task = asyncio.create_task(
            self._see_follow_up_through(state, run, turn), name=f"follow-up-{run.id}"
        )
        return run

    async def _see_follow_up_through(
        self, state: _Project, run: Run, turn: asyncio.Task[TurnOutcome]
    ) -> None:
        try:
            await self._supervise(state, run, turn)
        except StoreError as exc:
            self._log_failed(state, exc)
            await self._record_once_the_store_can(state, run, exc)
        except Exception:
            log.exception("follow-up run %s failed unexpectedly", run.id)
            await self._fail_quietly(state, run)
        finally:
            state.follow_up = None
            state.follow_task = None
            state.wake.set()
            self._notify_status(state)

    async def _supervise(self, state: _Project, run: Run, turn: asyncio.Task[TurnOutcome]) -> None:
        """Wait for a run's turn within the run timeout, stop it if it is cancelled or
        its time is up, and record how it ended."""
        cancelled = asyncio.create_task(run.cancel_requested.wait())
        try:
            done = await self._wait_within_run_timeout(run, {turn, cancelled})
            timed_out = not done
            if turn not in done:
                reason: ExpiryReason = "cancelled" if run.cancel_requested.is_set() else "ended"
                await self.confirmations.expire_where(reason, run_id=run.id)
                await state.session.cancel()
                await self._wait_for_stop(state, turn)
            if turn.done() and not turn.cancelled():
                outcome = turn.result()
            else:
                outcome = TurnOutcome(None, "the run would not stop and was abandoned")
        except AgentError as exc:
            why = f"{self.agents.name} could not start: {exc}"
            outcome, timed_out = TurnOutcome(None, why), False
        finally:
            cancelled.cancel()
        await self.confirmations.expire_where("ended", run_id=run.id)
        self.confirmations.forget_run(run.id)
        self._conclude(run, outcome, timed_out)
        state.cost_usd += run.cost_usd or 0.0
        if self._lost_session(outcome):  # the CLI exits; the next run starts afresh
            state.session.retire()
            await self.projects.set_session(state.id, None)
        if outcome.store_error is not None:
            self._log_failed(state, outcome.store_error)
        await self._record(state, run)

    async def _wait_within_run_timeout(
        self, run: Run, tasks: set[asyncio.Task[Any]]
    ) -> set[asyncio.Task[Any]]:
        """Wait until one of ``tasks`` is done or the run's time is up. Time with a
        confirmation waiting for a person does not count: a question may wait out its
        own (longer) timeout, paused or not."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            used = loop.time() - started - self.confirmations.person_seconds(run.id)
            left = self.limits.run_timeout - used
            if left <= 0 and not self.confirmations.has_pending(run.id):
                return set()
            wait = left if left > 0 else PERSON_POLL_SECONDS
            done, _ = await asyncio.wait(
                tasks, timeout=max(wait, 0.01), return_when=asyncio.FIRST_COMPLETED
            )
            if done:
                return done

    async def _wait_for_stop(self, state: _Project, turn: asyncio.Task[TurnOutcome]) -> None:
        """After a cancel: give the turn the grace periods to end, then kill the CLI; a
        turn that still has not ended is abandoned."""
        settings = self.session_settings
        grace = settings.interrupt_grace + settings.kill_grace + STOP_MARGIN
        done, _ = await asyncio.wait({turn}, timeout=grace)
        if not done:
            log.warning("run did not stop within %.1f s; killing its CLI", grace)
            await state.session.kill()
            done, _ = await asyncio.wait({turn}, timeout=STOP_MARGIN)
        if not done:
            turn.cancel()
            await asyncio.wait({turn}, timeout=STOP_MARGIN)

    async def _fail_quietly(self, state: _Project, run: Run) -> None:
        """Record a run that broke the worker as failed, if the store still lets us."""
        run.state, run.error, run.finished_at = "failed", "internal error", time.time()
        try:
            await self._record(state, run)
        except Exception:
            log.exception("could not record run %s as failed", run.id)

    def _conclude(self, run: Run, outcome: TurnOutcome, timed_out: bool) -> None:
        run.finished_at = time.time()
        ended = outcome.ended
        if ended is not None:
            run.take_metrics(ended.metrics)
        if self.closing and ended is None:
            run.state, run.error = "interrupted", "the server shut down during this run"
        elif run.cancel_requested.is_set():
            run.state, run.error = "cancelled", "cancelled by a client"
        elif timed_out:
            run.state = "failed"
            run.error = f"timed out after {self.limits.run_timeout:g} s; claude was stopped"
        elif ended is None:
            why = outcome.error or f"{self.agents.name} ended without a result"
            run.state, run.error = "failed", why
        elif ended.failure is not None:
            run.state, run.error = "failed", ended.failure
        else:
            run.state = "completed"

    @staticmethod
    def _lost_session(outcome: TurnOutcome) -> bool:
        return outcome.ended is not None and outcome.ended.lost_session

    async def _close_open_confirmations(
        self, project_id: str, run_id: str | None, logged: list[StoredEvent] | None = None
    ) -> None:
        """A previous server died with these unanswered (those of a run, or with
        ``run_id`` None those skills asked): say they are closed. ``logged``: the
        confirmation events to go by, if already read."""
        if logged is None:
            logged = await self.bus.log.read_run(project_id, run_id, "confirmation")
        opened: list[str] = []
        for event in logged:
            body = json.loads(event.body)
            if body.get("type") == "confirmation_required":
                opened.append(body["confirmation"]["id"])
            elif body.get("type") in ("confirmation_answered", "confirmation_expired"):
                with contextlib.suppress(ValueError):
                    opened.remove(body["confirmation_id"])
        for confirmation_id in opened:
            body = ConfirmationExpired(
                confirmation_id=confirmation_id,
                reason="server_restart",
                fallback="deny" if run_id is not None else "let_claude",
            )
            await self._record_confirmation(project_id, run_id, body)

    async def _close_what_skills_left_open(self, project_id: str) -> None:
        """A previous server died while skills asked or ran (their producers' connections,
        or the embedding program, went with it): close their questions, then end the
        skills that started and never ended, in their producer's name. One read of
        the project's run-less events serves both."""
        logged = await self.bus.log.read_run(project_id, None, "confirmation", "skill")
        questions = [event for event in logged if event.kind == "confirmation"]
        await self._close_open_confirmations(project_id, None, questions)
        running: dict[str, str] = {}  # skill id -> producer
        for event in logged:
            if event.kind != "skill":
                continue
            body = json.loads(event.body)
            skill_id = str(body.get("skill_id"))
            if body.get("type") == "skill_started":
                running[skill_id] = str(body.get("producer") or "server")
            elif body.get("type") in ("skill_completed", "skill_failed"):
                running.pop(skill_id, None)
        for skill_id, producer in running.items():
            failed = SkillFailed(skill_id=skill_id, error=INTERRUPTED_SKILL)
            await self.publish_skill_event(project_id, failed, producer)

    async def _record_confirmation(
        self, project_id: str, run_id: str | None, body: ConfirmationEvent
    ) -> None:
        epoch = self.projects.get(project_id).epoch
        event = NewEvent("confirmation", body.model_dump_json(exclude_none=True), run_id)
        await self.bus.append(project_id, epoch, [event])

    async def _record(
        self, state: _Project, run: Run, saved: bool = False, notify: bool = True
    ) -> None:
        """Save the run's state, log it as an event, tell the listeners (``notify``)."""
        if not saved:
            await self.runs.save(run.record())
        record = self.projects.get(state.id)
        info = run.info()
        await self.bus.append(
            state.id, record.epoch, [NewEvent("run", info.model_dump_json(), run.id)]
        )
        if notify:
            self._notify(ProjectStatus(project=self.project_info(state.id)))

    def _notify(self, message: ProjectStatus | ProjectRemoved) -> None:
        frame = encode(message)
        for listener in tuple(self._listeners):
            listener(message, frame)


async def _stop_follow_up(state: _Project) -> None:
    """Wait for a follow-up run to be recorded as ended (its CLI was stopped first)."""
    if state.follow_task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({state.follow_task}, timeout=STOP_MARGIN * 3)


async def _stop_worker(state: _Project) -> None:
    """End a project's worker: wait for the run it executes, cancel it if it waits."""
    worker = state.worker
    if worker is None:
        return
    if state.running is None:
        worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker


def token_info(token: ScopedToken) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        name=token.name,
        scope=token.scope,  # type: ignore[arg-type]
        projects=list(token.projects) if token.projects is not None else None,
        created_at=token.created_at,
    )


def rule_info(rule: PermissionRule) -> PermissionRuleInfo:
    return PermissionRuleInfo(
        id=rule.id,
        project=rule.project_id,
        tool_name=rule.tool_name,
        rule_content=rule.rule_content,
        input=json.loads(rule.input) if rule.input is not None else None,
        created_at=rule.created_at,
    )
