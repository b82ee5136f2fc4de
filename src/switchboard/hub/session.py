"""One project's Claude session: the agent process that serves its runs, one turn at a
time.

The process stays up between runs (each run is one more prompt) and is stopped after
``idle_timeout`` seconds without a turn, when a run asks for other options (model,
permission mode), or after ``session.new`` / ``session.use``. The next run then starts
a process that resumes the project's session, so the conversation carries on.

The end of a turn is not the end of the agent's work: while the agent reports
background work (``background_pending``), the process is kept (up to
``background_timeout`` after its last turn), options change in place rather than by a
restart, and when the agent starts a turn by itself, that turn becomes a run of its own
(origin ``claude``, recorded by the hub through ``SessionServices.follow_up``).

Every line the agent prints is appended to the project's event log attributed to the
turn's run (lines between turns belong to no run), except token deltas, which are
published live only. The agent is reached through its driver
(:mod:`switchboard.agents.base`) only.
"""

import asyncio
import logging
import os
import time
from collections.abc import Awaitable

from switchboard import log_format
from switchboard.agents.base import (
    AgentConnection,
    AskAnswer,
    LaunchSpec,
    PermissionAsk,
    ToolCall,
    ToolResult,
)
from switchboard.exceptions import AgentError, AgentGoneError, AgentSpawnError, StoreError
from switchboard.hub.confirmation import Decision
from switchboard.hub.idle_stop import IdleStop
from switchboard.hub.process_reuse import MODE_SWITCH_SECONDS, reusable, within
from switchboard.hub.runs import Run
from switchboard.hub.session_output import OutputTaker
from switchboard.hub.session_services import SessionServices, SessionSettings
from switchboard.hub.turn import LiveAgent, OptionsKey, Turn, TurnOutcome
from switchboard.project_paths import (
    ProjectPathError,
    directory_cwd,
    open_project_directory,
)
from switchboard.store.records import ProjectRecord

log = logging.getLogger(__name__)

STDIN_EOF_GRACE = 3.0
"""After closing its stdin, how long an idle CLI gets to exit before it is stopped."""
STDERR_SHOWN = 2000
UNRECORDED = "the project's event log could not be written"
"""How a run whose output could not be stored (disk full, I/O error) fails."""


class ProjectSession:
    """Owns at most one agent process for one project; answers its questions."""

    def __init__(
        self, project_id: str, settings: SessionSettings, services: SessionServices
    ) -> None:
        self.project_id = project_id
        self.settings = settings
        self._services = services
        self._process: LiveAgent | None = None
        self.turn: Turn | None = None
        """The turn under way, if any (its run's events are attributed to it)."""
        self._turn_ended = asyncio.Event()
        self._turn_ended.set()
        self._follow_ups: dict[str, asyncio.Future[TurnOutcome]] = {}
        self._starting_follow_up: asyncio.Future[Turn | None] | None = None
        self._closed = False
        self._idle = IdleStop(
            project_id,
            settings.idle_timeout,
            settings.background_timeout,
            watched=lambda: None if self._closed else self._process,
            in_turn=lambda: self.turn is not None,
            stop=self._stop_gracefully,
        )
        self._output = OutputTaker(self, services.bus, services.projects, services.back_channel)

    @property
    def process_alive(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int | None:
        return self._process.agent.pid if self._process is not None else None

    @property
    def background_tasks(self) -> int:
        process = self._process
        return process.agent.background_pending() if process is not None else 0

    def retire(self) -> None:
        """The project's session changed (session.new / session.use): the current
        process is stopped once idle, and the next run starts one for the new session.
        Background work of the old session stops with it."""
        if self._process is not None:
            self._process.retired = True
        if self.turn is None:
            self._idle.schedule(0)

    def is_current(self, agent: AgentConnection) -> bool:
        """``agent`` is the process of the project's session (not a retired one)."""
        process = self._process
        return process is not None and process.agent is agent and not process.retired

    async def execute(self, run: Run, project: ProjectRecord) -> TurnOutcome:
        """Run one turn. Raises AgentError if no agent could start."""
        self._idle.cancel()
        await self._idle.finished()
        agent = None
        while not run.cancel_requested.is_set() and (agent is None or self.turn is not None):
            await self._turn_ended.wait()  # a follow-up turn the agent began goes first
            agent = await self._ensure_process(run, project)
        if agent is None or run.cancel_requested.is_set():  # before or while starting
            return TurnOutcome(None, "stopped before it started")
        turn = self._begin_turn(run, agent)
        try:
            await self._mark_turn(turn)
            try:
                await agent.send_prompt(run.prompt)
            except AgentGoneError:
                log.info("the agent exited before taking the prompt of run %s", run.id)
            return await turn.outcome
        finally:
            self._end_turn(turn)

    def adopt(self, run: Run, agent: AgentConnection) -> Awaitable[TurnOutcome]:
        """Take back the process an earlier hub left working on ``run`` (on a remote
        agent; see :meth:`AgentDriver.resume`): its output from here on is the run's.
        Returns the end of the run's turn."""
        key: OptionsKey = (run.options.model, run.options.permission_mode)
        process = self._process = LiveAgent(agent, key, local=False)
        process.pump = asyncio.create_task(self._pump(process), name=f"pump-{run.id}")
        return self._until_ended(self._begin_turn(run, agent))

    async def _until_ended(self, turn: Turn) -> TurnOutcome:
        try:
            return await turn.outcome
        finally:
            self._end_turn(turn)

    async def follow(self, run: Run) -> TurnOutcome:
        """Wait for the end of a follow-up turn (one the CLI began by itself)."""
        outcome = self._follow_ups.pop(run.id, None)
        if outcome is None:
            return TurnOutcome(None, "the follow-up turn is unknown")
        return await outcome

    async def switch_mode(self, mode: str) -> bool:
        """Switch the running agent's permission mode; True if it did."""
        process = self._process
        if process is None or not process.agent.turn_running:
            return False
        if not await within(MODE_SWITCH_SECONDS, process.agent.set_permission_mode(mode)):
            return False
        process.options_key = (process.options_key[0], mode)
        return True

    async def cancel(self) -> None:
        """Stop the running turn: interrupt, then kill the process if that fails."""
        if self._process is not None:
            settings = self.settings
            await self._process.agent.cancel(settings.interrupt_grace, settings.kill_grace)

    async def kill(self) -> None:
        """Stop the process now (a turn that would not stop); a later run starts another."""
        if self._process is not None:
            await self._process.agent.close(self.settings.kill_grace)

    def leave_working(self) -> Run | None:
        """Shutdown: a process that outlives the hub (on a remote agent) and is in a
        turn goes on, for the next hub to take back; the session lets go of it. Returns
        the turn's run (left ``running``), or None if there was none to leave."""
        process, turn = self._process, self.turn
        if process is None or turn is None or turn.agent is not process.agent:
            return None
        return turn.run if self._let_go(process) else None

    def hand_over(self) -> Run | None:
        """Another node takes the project over: a process that outlives this node (on a
        remote agent) goes on, in a turn or not, and the session lets go of it (the next
        owner takes a turn's process back, and stops the rest). Returns the turn's run
        (left ``running``), or None if no turn went on."""
        run = self.leave_working()
        if self._process is not None:
            self._let_go(self._process)
        return run

    def _let_go(self, process: LiveAgent) -> bool:
        """Leave a process that outlives the hub working; False if it does not."""
        if process.local or not process.agent.leave():
            return False
        self._closed = True
        self._idle.cancel()
        process.left = True
        self._process = None
        if process.pump is not None:
            process.pump.cancel()
        return True

    async def close(self) -> None:
        """Stop the process for good (shutdown, project removal); wait for its output."""
        self._closed = True
        self._idle.cancel()
        process = self._process
        if process is not None:
            await process.agent.close(self.settings.kill_grace)
            if process.pump is not None:
                await process.pump
        await self._idle.finished()

    def kill_now(self) -> None:
        if self._process is not None:
            self._process.agent.kill_now()

    # -- turns ----------------------------------------------------------------------

    def _begin_turn(self, run: Run, agent: AgentConnection) -> Turn:
        self._idle.cancel()
        turn = Turn(run, agent, asyncio.get_running_loop().create_future())
        self.turn = turn
        self._turn_ended.clear()
        return turn

    async def _mark_turn(self, turn: Turn) -> None:
        """A process that outlives the hub (on a remote agent) begins a turn: store its
        resume mark as it stands, naming the run, so that a hub restarted takes back
        this run (and no earlier one) from there."""
        mark = self._output.handled_mark(turn.agent)
        if mark is not None:
            await self._services.bus.log.keep_mark(self.project_id, mark, turn.run.id)

    def end_turn_with(self, turn: Turn, outcome: TurnOutcome) -> None:
        """The turn is over (its result came, or its process went): later lines belong
        to no run until the next turn."""
        if not turn.outcome.done():
            turn.outcome.set_result(outcome)
        self._end_turn(turn)

    def _end_turn(self, turn: Turn) -> None:
        if self.turn is turn:
            self.turn = None
            self._turn_ended.set()
            process = self._process
            if process is not None and process.agent is turn.agent:
                process.idle_since = time.monotonic()
            retired = process is not None and process.retired
            self._idle.schedule(0 if retired else self.settings.idle_timeout)

    async def start_follow_up(self, agent: AgentConnection) -> Turn | None:
        """The agent began a turn by itself: the hub records a run for it. Called by the
        output pump and by the permission handler, whichever sees the turn first."""
        if self.turn is not None and self.turn.agent is agent:
            return self.turn
        if self._starting_follow_up is not None:
            return await asyncio.shield(self._starting_follow_up)
        starting = self._starting_follow_up = asyncio.get_running_loop().create_future()
        turn: Turn | None = None
        try:
            run = None if self._closed else await self._services.follow_up()
            if run is not None:
                turn = self._begin_turn(run, agent)
                self._follow_ups[run.id] = turn.outcome
                await self._mark_turn(turn)
                if self._process is not None:
                    self._process.agent.follow_up_started()
        finally:
            starting.set_result(turn)
            self._starting_follow_up = None
        return turn

    # -- the process ----------------------------------------------------------------

    async def _ensure_process(self, run: Run, project: ProjectRecord) -> AgentConnection:
        if self._closed:
            raise AgentError("the project's session is closed")
        if project.agent is not None:  # its agent checks the directory, on its machine
            return await self._process_in(None, run, project)
        directory = await self._open_directory(project)
        try:
            return await self._process_in(directory, run, project)
        finally:
            os.close(directory)

    async def _open_directory(self, project: ProjectRecord) -> int:
        """The project's directory, opened again for this run (it may have been
        replaced since it was registered). When it cannot be, the CLI still up for the
        project (started in the directory as it was) is stopped and the run fails."""
        try:
            return open_project_directory(project.path)
        except ProjectPathError as exc:
            await self._stop_gracefully()
            raise AgentSpawnError(f"the project's directory cannot be used: {exc}") from None

    async def _process_in(
        self, directory: int | None, run: Run, project: ProjectRecord
    ) -> AgentConnection:
        """The process for the run: the one up, or a new one (started in ``directory``,
        open here; None: on the project's remote agent)."""
        key: OptionsKey = (run.options.model, run.options.permission_mode)
        process = self._process
        if process is not None and await reusable(process, key):
            return process.agent
        await self._stop_gracefully()
        local = directory is not None
        registry = self._services.registry
        spec = LaunchSpec(
            cwd=project.path,
            spawn_cwd=directory_cwd(directory, project.path) if directory is not None else None,
            resume=project.session_id,
            model=run.options.model,
            permission_mode=run.options.permission_mode,
            confinement=registry.confine() if local else None,
            back_channel=project.back_channel,
        )
        agent = await self._services.agents.launch(spec, self)
        process = self._process = LiveAgent(agent, key, local=local)
        if local:
            await registry.record(agent.pid, project.id, run.id, spec.confinement)
        process.pump = asyncio.create_task(self._pump(process), name=f"pump-{agent.pid}")
        return agent

    async def _pump(self, process: LiveAgent) -> None:
        """Append everything the agent prints; end turns; clean up when it exits."""
        # It outlives the run (and the connection) it began in.
        log_format.bind(project=self.project_id, run=None, connection=None)
        agent = process.agent
        name = self._services.agents.name
        unrecorded: StoreError | None = None
        try:
            async for batch in agent.batches():
                await self._output.take(process, batch)
        except StoreError as exc:  # its output cannot be kept: it must not go on unseen
            log.error(
                "the event log of project %s failed (%s); stopping %s", self.project_id, exc, name
            )
            unrecorded = exc
        except Exception:
            log.exception("recording %s's output failed; stopping it", name)
        finally:
            if not process.left:
                await self._after_exit(process, unrecorded)

    async def _after_exit(self, process: LiveAgent, unrecorded: StoreError | None) -> None:
        """The process's output ended: stop it for good, end its turn, forget it."""
        agent = process.agent
        name = self._services.agents.name
        if self._process is process:
            self._process = None  # from now on, a new run starts a new process
        returncode = await agent.close(self.settings.kill_grace)
        turn = self.turn
        if turn is not None and turn.agent is agent and agent.lost:
            why = agent.stderr_text.strip()[-STDERR_SHOWN:] or f"{name} was lost"
            self.end_turn_with(turn, TurnOutcome(None, why, interrupted=True))
        elif turn is not None and turn.agent is agent:
            stderr = agent.stderr_text.strip()[-STDERR_SHOWN:]
            why = f"{name} exited with status {returncode} before finishing the run"
            if unrecorded is not None:
                why = f"{UNRECORDED}: {unrecorded}; {name} was stopped"
                stderr = ""
            why = f"{why}: {stderr}" if stderr else why
            self.end_turn_with(turn, TurnOutcome(None, why, store_error=unrecorded))
        if agent.background_pending():
            self._services.changed()
        if process.local:
            try:
                await self._services.registry.forget(agent.pid)
            except Exception as exc:  # the store is closed or failing: nothing to clean
                log.warning("could not forget process %s: %s", agent.pid, exc)

    def background_changed(self, process: LiveAgent) -> None:
        """The agent's pending background work changed: tell clients, and when it has
        all ended, count the idle time from now."""
        self._services.changed()
        if self.turn is None and not process.agent.background_pending():
            process.idle_since = time.monotonic()
            self._idle.schedule(self.settings.idle_timeout)

    async def _stop_gracefully(self) -> None:
        """End the agent's input so that it exits by itself; stop it if it does not."""
        process = self._process
        if process is None or process.pump is None:
            return
        process.agent.end_input()
        try:
            await asyncio.wait_for(asyncio.shield(process.pump), STDIN_EOF_GRACE)
        except TimeoutError:
            await process.agent.close(self.settings.kill_grace)
            await process.pump

    # -- questions (the session is its agent's AskHandler) -------------------------------

    async def asked(self, agent: AgentConnection, ask: PermissionAsk) -> None:
        """The agent asks a person: open a confirmation; its answer comes later."""

        async def deliver(decision: Decision) -> bool:
            answer = AskAnswer(
                decision.allow, decision.updated_input, decision.answers, decision.message
            )
            return await agent.answer(ask, answer)

        run_id = await self._run_asking(agent)
        await self._services.confirmations.open(self.project_id, run_id, ask, deliver)

    async def tool_called(self, agent: AgentConnection, call: ToolCall) -> None:
        """The agent called a back-channel tool: the hub answers (now, or once a person
        approved)."""

        async def reply(result: ToolResult) -> bool:
            return await agent.tool_result(call.call_id, result)

        run_id = await self._run_asking(agent)
        project = self._services.projects.get(self.project_id)
        await self._services.back_channel.call(project, run_id, call, reply)

    async def _run_asking(self, agent: AgentConnection) -> str | None:
        """The run of the turn under way in ``agent`` (one the agent began by itself
        gets its run now)."""
        turn = self.turn
        if turn is None or turn.agent is not agent:
            turn = await self.start_follow_up(agent)
        return turn.run.id if turn is not None else None

    async def withdrawn(self, agent: AgentConnection, request_id: str) -> None:
        await self._services.confirmations.expire_where(
            "withdrawn", request_id=request_id, project_id=self.project_id
        )
