"""One project's Claude session: the CLI process that serves its runs, one turn at a time.

The process stays up between runs (each run is one more user message on its stdin) and
is stopped after ``idle_timeout`` seconds without a run, when a run asks for other
options (model, permission mode), or after ``session.new``. The next run then starts a
process with ``--resume=<the project's session id>``, so the conversation carries on.

Every line the CLI prints is appended to the project's event log attributed to the
current run, except ``stream_event`` token deltas, which are published live only.
"""

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.agents.claude import ClaudeOptions, ClaudeProcess
from switchboard.agents.discovery import find_claude
from switchboard.exceptions import AgentError, AgentGoneError
from switchboard.hub.bus import EventBus
from switchboard.hub.confirmations import ConfirmationBook, Decision
from switchboard.hub.plans import plan_file_written, plan_for, plans_directory
from switchboard.hub.recovery import ProcessRegistry
from switchboard.hub.runs import Run
from switchboard.protocol.cli_messages import BadLine, CliMessage
from switchboard.protocol.control import PermissionRequest
from switchboard.protocol.messages import delta_frame
from switchboard.store.events import NewEvent
from switchboard.store.projects import ProjectRecord, ProjectStore

log = logging.getLogger(__name__)

STDIN_EOF_GRACE = 3.0
"""After closing its stdin, how long an idle CLI gets to exit before it is stopped."""
STDERR_SHOWN = 2000
MODE_SWITCH_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SessionSettings:
    claude_bin: str | None
    env: Mapping[str, str]
    max_line_bytes: int
    kill_grace: float
    interrupt_grace: float
    idle_timeout: float
    partial_messages: bool


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended: with the CLI's ``result`` message, or without one (``error``)."""

    result: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SessionServices:
    """The parts of the hub a session works with."""

    bus: EventBus
    projects: ProjectStore
    registry: ProcessRegistry
    confirmations: ConfirmationBook


class ProjectSession:
    """Owns at most one CLI process for one project."""

    def __init__(
        self, project_id: str, settings: SessionSettings, services: "SessionServices"
    ) -> None:
        self.project_id = project_id
        self.settings = settings
        self._bus = services.bus
        self._projects = services.projects
        self._registry = services.registry
        self._confirmations = services.confirmations
        self._claude: ClaudeProcess | None = None
        self._options_key: tuple[str | None, str | None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._run: Run | None = None
        self._turn: asyncio.Future[TurnOutcome] | None = None
        self._turn_claude: ClaudeProcess | None = None  # the process the turn was sent to
        self._closed = False
        self._fresh = False  # session.new: the next process starts a new session
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_stop: asyncio.Task[None] | None = None
        self._plan_file: Path | None = None  # the last one Claude wrote (hub/plans.py)
        self._plans_directory = plans_directory(settings.env)

    @property
    def process_alive(self) -> bool:
        return self._claude is not None

    @property
    def pid(self) -> int | None:
        return self._claude.pid if self._claude is not None else None

    def start_fresh(self) -> None:
        """Make the next run start a new Claude session (the current process is retired)."""
        self._fresh = True
        self._plan_file = None
        if self._turn is None:
            self._schedule_idle_stop(0)

    async def execute(self, run: Run, project: ProjectRecord) -> TurnOutcome:
        """Run one turn. Raises AgentError / ClaudeNotFoundError if no CLI could start."""
        self._cancel_idle_stop()
        if self._idle_stop is not None:
            await self._idle_stop
        if run.cancel_requested.is_set():
            return TurnOutcome(None, "stopped before it started")
        claude = await self._ensure_process(run, project)
        try:
            if run.cancel_requested.is_set():  # it came while the CLI was starting
                return TurnOutcome(None, "stopped before it started")
            self._run = run
            turn: asyncio.Future[TurnOutcome] = asyncio.get_running_loop().create_future()
            self._turn, self._turn_claude = turn, claude
            try:
                await claude.send_user(run.prompt)
            except AgentGoneError:
                log.info("claude exited before taking the prompt of run %s", run.id)
            return await turn
        finally:
            self._turn, self._turn_claude = None, None
            self._schedule_idle_stop(self.settings.idle_timeout)

    async def switch_mode(self, mode: str) -> bool:
        """Switch the running CLI's permission mode (control protocol); True if it did."""
        claude = self._claude
        if claude is None or not claude.turn_running:
            return False
        try:
            answer = await asyncio.wait_for(
                claude.request(claude.control.set_permission_mode(mode)), MODE_SWITCH_SECONDS
            )
        except (TimeoutError, AgentGoneError):
            return False
        if answer.ok and self._options_key is not None:
            self._options_key = (self._options_key[0], mode)
        return answer.ok

    async def cancel(self) -> None:
        """Stop the running turn: interrupt, then kill the process if that fails."""
        if self._claude is not None:
            await self._claude.cancel(self.settings.interrupt_grace, self.settings.kill_grace)

    async def kill(self) -> None:
        """Stop the process now (a turn that would not stop); a later run starts another."""
        if self._claude is not None:
            await self._claude.aclose(self.settings.kill_grace)

    async def close(self) -> None:
        """Stop the process for good (shutdown, project removal); wait for its output."""
        self._closed = True
        self._cancel_idle_stop()
        claude, pump = self._claude, self._pump
        if claude is not None:
            await claude.aclose(self.settings.kill_grace)
        if pump is not None:
            await pump
        if self._idle_stop is not None:
            await self._idle_stop

    def kill_now(self) -> None:
        if self._claude is not None:
            self._claude.kill_now()

    # -- the process ----------------------------------------------------------------

    async def _ensure_process(self, run: Run, project: ProjectRecord) -> ClaudeProcess:
        if self._closed:
            raise AgentError("the project's session is closed")
        key = (run.options.model, run.options.permission_mode)
        claude = self._claude
        reusable = claude is not None and claude.process.returncode is None
        if claude is not None and reusable and key == self._options_key and not self._fresh:
            return claude
        await self._stop_gracefully()
        if self._fresh and project.session_id is not None:
            project = await self._projects.set_session(project.id, None)
        self._fresh = False
        options = ClaudeOptions(
            binary=find_claude(self.settings.claude_bin),
            cwd=project.path,
            env=self.settings.env,
            resume=project.session_id,
            permission_prompt=True,  # questions come to us (can_use_tool), not denied
            partial_messages=self.settings.partial_messages,
            permission_mode=run.options.permission_mode,
            model=run.options.model,
            max_line_bytes=self.settings.max_line_bytes,
        )
        process = ClaudeProcess(
            options,
            on_permission=lambda request: self._ask(process, request),
            on_withdrawn=self._withdrawn,
        )
        await process.start()
        self._claude, self._options_key = process, key
        await self._registry.record(process.pid, project.id, run.id)
        self._pump = asyncio.create_task(self._pump_output(process), name=f"pump-{process.pid}")
        return process

    def _schedule_idle_stop(self, delay: float) -> None:
        self._cancel_idle_stop()
        if self._claude is None:
            return
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(delay, self._begin_idle_stop)

    def _cancel_idle_stop(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _begin_idle_stop(self) -> None:
        self._idle_timer = None
        if self._turn is None and self._idle_stop is None:
            self._idle_stop = asyncio.create_task(self._run_idle_stop(), name="idle-stop")

    async def _run_idle_stop(self) -> None:
        try:
            log.info("stopping the idle claude of project %s", self.project_id)
            await self._stop_gracefully()
        finally:
            self._idle_stop = None

    async def _stop_gracefully(self) -> None:
        """Close the CLI's stdin so that it exits by itself; stop it if it does not."""
        claude, pump = self._claude, self._pump
        if claude is None or pump is None:
            return
        claude.close_stdin()
        try:
            await asyncio.wait_for(asyncio.shield(pump), STDIN_EOF_GRACE)
        except TimeoutError:
            await claude.aclose(self.settings.kill_grace)
            await pump

    async def _pump_output(self, claude: ClaudeProcess) -> None:
        """Append everything the CLI prints; finish turns; clean up when it exits."""
        try:
            async for batch in claude.output_batches():
                await self._take(claude, batch)
        except Exception:
            log.exception("recording claude's output failed; stopping it")
        finally:
            if self._claude is claude:
                self._claude = None  # from now on, a new run starts a new process
            returncode = await claude.aclose(self.settings.kill_grace)
            turn = self._turn if self._turn_claude is claude else None
            if turn is not None and not turn.done():
                stderr = claude.stderr_text.strip()[-STDERR_SHOWN:]
                why = f"claude exited with status {returncode} before finishing the run"
                turn.set_result(TurnOutcome(None, f"{why}: {stderr}" if stderr else why))
            try:
                await self._registry.forget(claude.pid)
            except Exception as exc:  # the store is closed or failing: nothing to clean
                log.warning("could not forget process %s: %s", claude.pid, exc)

    async def _take(self, claude: ClaudeProcess, batch: list[CliMessage | BadLine]) -> None:
        run_id = self._run.id if self._run is not None else None
        durable: list[NewEvent] = []
        result: dict[str, Any] | None = None
        session_id: str | None = None
        for item in batch:
            if isinstance(item, BadLine):
                body = json.dumps({"error": item.describe(), "line": item.preview})
                durable.append(NewEvent("cli_error", body, run_id))
                continue
            if item.type == "stream_event":
                await self._append(durable)
                durable = []
                self._bus.publish_delta(
                    self.project_id, delta_frame(self.project_id, run_id, item.text)
                )
                continue
            durable.append(NewEvent("cli", item.text, run_id))
            if item.type == "assistant":
                written = plan_file_written(item.data, self._plans_directory)
                self._plan_file = written or self._plan_file
            if item.type in ("system", "result"):
                found = item.data.get("session_id")
                if isinstance(found, str) and found:
                    session_id = found
            if item.type == "result":
                result = item.data
        await self._append(durable)
        if session_id is not None:
            await self._remember_session(session_id)
        turn = self._turn if self._turn_claude is claude else None
        if result is not None and turn is not None and not turn.done():
            turn.set_result(TurnOutcome(result))

    async def _ask(self, claude: ClaudeProcess, request: PermissionRequest) -> None:
        """Claude asks for permission: open a confirmation; its answer comes later."""

        async def deliver(decision: Decision) -> bool:
            updated = decision.updated_input or request.input
            return await claude.answer_permission(
                request.request_id, decision.allow, updated, decision.message
            )

        run_id = self._run.id if self._run is not None else None
        plan = await plan_for(request, self._plan_file)
        await self._confirmations.open(self.project_id, run_id, request, deliver, plan=plan)

    async def _withdrawn(self, request_id: str) -> None:
        await self._confirmations.expire_where(
            "withdrawn", request_id=request_id, project_id=self.project_id
        )

    async def _append(self, items: list[NewEvent]) -> None:
        if items:
            project = self._projects.get(self.project_id)
            await self._bus.append(self.project_id, project.epoch, items)

    async def _remember_session(self, session_id: str) -> None:
        project = self._projects.find(self.project_id)
        if project is not None and project.session_id != session_id and not self._fresh:
            await self._projects.set_session(self.project_id, session_id)
