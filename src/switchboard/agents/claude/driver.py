"""The Claude Code CLI behind the agent seam (:mod:`switchboard.agents.base`).

:class:`ClaudeDriver` starts CLI processes; each is a :class:`ClaudeConnection`, which
reads the CLI's stream-json lines into neutral events: it keeps each process's books
(a turn's own cost, background work, the last plan file Claude wrote), asks what the
turn under way has cost so far (:mod:`~switchboard.agents.claude.cost_watch`), says
which line begins a turn the CLI started by itself, and turns ``can_use_tool`` requests
into :class:`~switchboard.agents.base.PermissionAsk`.

With the back-channel on, it also serves Switchboard's tools to the CLI
(:mod:`~switchboard.agents.claude.mcp`), mirrors Claude's task lists
(:mod:`~switchboard.agents.claude.tasks`) and reports its hooks as activity
(:mod:`~switchboard.agents.claude.hooks`). That plumbing (``mcp_message`` and
``hook_callback`` requests, the answer to ``initialize``) is not kept in the log.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard import __version__
from switchboard.agents.back_channel import read_named_files
from switchboard.agents.base import (
    AgentEvent,
    AskAnswer,
    AskHandler,
    BackgroundChanged,
    BadOutput,
    CostSoFar,
    Delta,
    EndsWithTheHub,
    LaunchSpec,
    OutputLine,
    PermissionAsk,
    SessionHistory,
    SessionIdentified,
    StoredSession,
    ToolCall,
    ToolResult,
    TurnEnded,
)
from switchboard.agents.claude import hooks, mcp, transcripts
from switchboard.agents.claude.asks import answered_input, ask_from
from switchboard.agents.claude.background import BackgroundWork
from switchboard.agents.claude.control import McpMessage, PermissionRequest
from switchboard.agents.claude.cost_watch import REQUEST, REQUEST_FIELDS, CostWatch
from switchboard.agents.claude.discovery import find_claude
from switchboard.agents.claude.launch import ClaudeOptions
from switchboard.agents.claude.metrics import TurnAccounting, starts_a_turn
from switchboard.agents.claude.plans import plan_file_written, plan_for, plans_directory
from switchboard.agents.claude.plumbing import is_plumbing
from switchboard.agents.claude.process import ClaudeProcess
from switchboard.agents.claude.stream_json import BadLine, CliMessage
from switchboard.agents.claude.tasks import TaskMirror
from switchboard.exceptions import AgentGoneError

log = logging.getLogger(__name__)

MAX_IMPORTED_LINES = 5000
"""The newest lines of a stored session that ``session.use`` imports."""
MISSING_SESSION = "No conversation found"
DELTA_STARTS_A_TURN = starts_a_turn({"type": "stream_event"})
"""Whether a token delta begins a turn (when none is under way): it depends on the
line's type alone, so a ``stream_event`` line is passed on without being parsed. (No
other use of a line needs one either: it is no answer to a question of ours, no
plumbing and no background work.)"""
"""How the CLI says that ``--resume`` named a session it does not have."""


def lost_session(result: Mapping[str, object]) -> bool:
    errors = result.get("errors")
    return isinstance(errors, list) and any(MISSING_SESSION in str(e) for e in errors)


@dataclass(frozen=True, slots=True)
class ClaudeSettings:
    """How every CLI of a driver is run."""

    claude_bin: str | None
    """The CLI to run (None: found as :func:`find_claude` says)."""
    env: Mapping[str, str]
    max_line_bytes: int
    """Longer output lines become errors (``--max-line-bytes``)."""
    partial_messages: bool = False
    """Token deltas (``--include-partial-messages``)."""
    max_imported_lines: int = MAX_IMPORTED_LINES
    """The newest lines of a stored session that are read; older ones are counted."""


class ClaudeDriver:
    """Starts Claude Code CLIs (``stream-json`` both ways, questions over stdio)."""

    name = "claude"
    permission_modes: tuple[str, ...] = (
        "default",
        "acceptEdits",
        "plan",
        "bypassPermissions",
        "dontAsk",
    )

    def __init__(self, settings: ClaudeSettings) -> None:
        self.settings = settings
        self._plans = plans_directory(settings.env)

    def locate(self) -> str:
        return str(find_claude(self.settings.claude_bin))

    async def launch(self, spec: LaunchSpec, handler: AskHandler | None) -> "ClaudeConnection":
        settings = self.settings
        binary = find_claude(settings.claude_bin)
        options = ClaudeOptions(
            binary=binary,
            cwd=spec.cwd,
            spawn_cwd=spec.spawn_cwd,
            env=settings.env,
            resume=spec.resume,
            permission_prompt=spec.ask_permissions,
            partial_messages=settings.partial_messages,
            permission_mode=spec.permission_mode,
            model=spec.model,
            max_line_bytes=settings.max_line_bytes,
            extra_env=_with_todo_tools(spec.extra_env, settings.env)
            if spec.back_channel
            else spec.extra_env,
            confinement=spec.confinement,
            back_channel=spec.back_channel,
        )
        connection = ClaudeConnection(options, handler, self._plans)
        await connection.start()
        return connection

    async def resume(self, mark: str, handler: AskHandler | None) -> None:
        """A local process ends with the hub: nothing to take back."""
        return

    async def list_sessions(self, cwd: Path) -> list[StoredSession]:
        return await asyncio.to_thread(transcripts.list_sessions, cwd, self.settings.env)

    async def read_session(self, cwd: Path, session_id: str) -> SessionHistory | None:
        path = transcripts.find_session(cwd, self.settings.env, session_id)
        if path is None:
            return None
        settings = self.settings
        return await asyncio.to_thread(
            transcripts.read_transcript,
            path,
            settings.max_imported_lines,
            settings.max_line_bytes,
        )


TODO_TOOLS = "CLAUDE_CODE_ENABLE_TODO_TOOLS"
"""Some CLI builds (2.1.330) leave their task tools out of a piped session unless this
is set; with the back-channel on, they are turned on (unless the environment says)."""


def _with_todo_tools(extra: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    if TODO_TOOLS in env or TODO_TOOLS in extra:
        return dict(extra)
    return {**extra, TODO_TOOLS: "1"}


class ClaudeConnection(EndsWithTheHub):
    """One CLI process, reported in neutral events."""

    def __init__(
        self, options: ClaudeOptions, handler: AskHandler | None, plans: Path | None
    ) -> None:
        self._handler = handler
        self._cwd = options.cwd
        self._claude = ClaudeProcess(
            options,
            on_permission=self._asked if handler is not None else None,
            on_withdrawn=self._withdrawn if handler is not None else None,
            on_mcp=self._mcp if options.back_channel else None,
        )
        self._tasks = TaskMirror() if options.back_channel else None
        self._calls: dict[str, object] = {}
        """Tool calls the hub has yet to answer: request id → JSON-RPC id (may be None)."""
        self._handing: set[asyncio.Task[None]] = set()
        """Tool calls being handed to the hub, off the stdout reader."""
        self._books = TurnAccounting(options.binary)
        self._costs = CostWatch()
        self._background = BackgroundWork()
        self._plans = plans
        self._plan_file: Path | None = None
        """The last plan file Claude wrote (see :mod:`switchboard.agents.claude.plans`)."""

    async def start(self) -> None:
        await self._claude.start()

    @property
    def pid(self) -> int:
        return self._claude.pid

    @property
    def returncode(self) -> int | None:
        return self._claude.process.returncode

    @property
    def turn_running(self) -> bool:
        return self._claude.turn_running

    @property
    def stderr_text(self) -> str:
        return self._claude.stderr_text

    def background_pending(self) -> int:
        return self._background.pending(time.monotonic())

    def follow_up_started(self) -> None:
        self._background.follow_up_started(time.monotonic())

    async def batches(self) -> AsyncIterator[list[AgentEvent]]:
        async for batch in self._claude.output_batches():
            events = self._events(batch)
            await self._ask_cost()
            yield events

    async def _ask_cost(self) -> None:
        """Ask what the turn under way has cost so far, if a line since the last
        question may have changed it (see :mod:`~switchboard.agents.claude.cost_watch`)."""
        if not self._costs.should_ask():
            return
        with contextlib.suppress(AgentGoneError):  # (its output ends soon)
            self._costs.asked(await self._claude.send_request(REQUEST, **REQUEST_FIELDS))

    def _cost_answered(self, data: Mapping[str, Any], events: list[AgentEvent]) -> bool:
        """Whether a line answers our question about the turn's cost (it is not kept:
        what it says becomes a :class:`CostSoFar`); notes every other line."""
        if not self._costs.is_answer(data):
            self._costs.saw(data)
            return False
        cost = self._costs.answer(data, self._books.process_cost)
        if cost is not None:
            events.append(CostSoFar(cost))
        return True

    def _events(self, batch: list[CliMessage | BadLine]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        background_changed = False
        now = time.monotonic()
        for item in batch:
            if isinstance(item, BadLine):
                events.append(BadOutput(item.describe(), item.preview))
                continue
            kind = item.type
            if kind == "stream_event":  # most lines while Claude types: none needs parsing
                events.append(Delta(item.text, DELTA_STARTS_A_TURN))
                continue
            data = item.data
            if self._cost_answered(data, events):
                continue
            if is_plumbing(item, self._claude.initialize_id, self._claude.options.back_channel):
                activity = hooks.activity_in(item)
                if activity is not None:
                    events.append(activity)
                continue
            background_changed |= self._background.observe(data, now)
            events.append(OutputLine(item.text, starts_a_turn(data)))
            if self._tasks is not None:
                events += self._tasks.observe(kind, data)
            if kind == "assistant":
                self._plan_file = plan_file_written(data, self._plans) or self._plan_file
                self._books.observe(data)
            elif kind in {"system", "result"}:
                found = data.get("session_id")
                if isinstance(found, str) and found:
                    events.append(SessionIdentified(found))
            if kind == "result":
                metrics = self._books.finish(data)
                failure = self._books.failure(data)
                events.append(TurnEnded(metrics, failure, lost_session(data)))
        if background_changed:
            events.append(BackgroundChanged())
        return events

    async def send_prompt(self, text: str) -> None:
        await self._claude.send_user(text)

    async def answer(self, ask: PermissionAsk, answer: AskAnswer) -> bool:
        return await self._claude.answer_permission(
            ask.request_id, answer.allow, answered_input(ask, answer), answer.message
        )

    async def tool_result(self, call_id: str, result: ToolResult) -> bool:
        if call_id not in self._calls:
            return False
        message_id = self._calls.pop(call_id)
        try:
            return await self._claude.respond(
                call_id, {"mcp_response": mcp.tool_response(message_id, result)}
            )
        except AgentGoneError:
            return False

    async def set_permission_mode(self, mode: str) -> bool:
        return await self._request(self._claude.control.set_permission_mode(mode))

    async def set_model(self, model: str | None) -> bool:
        return await self._request(self._claude.control.set_model(model))

    async def _request(self, request_id: str) -> bool:
        try:
            answer = await self._claude.request(request_id)
        except AgentGoneError:
            return False
        return answer.ok

    async def cancel(self, interrupt_grace: float, kill_grace: float) -> bool:
        return await self._claude.cancel(interrupt_grace, kill_grace)

    def end_input(self) -> None:
        self._claude.close_stdin()

    async def wait(self) -> int:
        return await self._claude.wait()

    async def close(self, grace: float) -> int | None:
        try:
            return await self._claude.aclose(grace)
        finally:
            for handing in list(self._handing):
                handing.cancel()

    def kill_now(self) -> None:
        self._claude.kill_now()

    async def _asked(self, request: PermissionRequest) -> None:
        assert self._handler is not None
        plan = await plan_for(request, self._plan_file)
        await self._handler.asked(self, ask_from(request, plan))

    async def _withdrawn(self, request_id: str) -> None:
        assert self._handler is not None
        self._calls.pop(request_id, None)
        await self._handler.withdrawn(self, request_id)

    async def _mcp(self, event: McpMessage) -> None:
        """A message for Switchboard's MCP server: answered here, or (a tool call)
        handed to the hub, which answers through :meth:`tool_result`."""
        reply = mcp.handle(event.request_id, event.server_name, event.message, __version__)
        if not isinstance(reply, ToolCall):
            self._claude.control.respond(event.request_id, {"mcp_response": reply})
            return
        self._calls[event.request_id] = event.message.get("id")
        # Off the reader: the hub may store, and the answer may be large; the CLI's
        # output must go on being read meanwhile.
        handing = asyncio.create_task(self._hand_over(reply), name=f"tool-{reply.tool}")
        self._handing.add(handing)
        handing.add_done_callback(self._handing.discard)

    async def _hand_over(self, call: ToolCall) -> None:
        if self._handler is None:
            result = ToolResult("error unavailable: no hub takes this call", is_error=True)
            await self.tool_result(call.call_id, result)
            return
        try:
            call = await asyncio.to_thread(read_named_files, self._cwd, call)
            await self._handler.tool_called(self, call)
        except Exception:
            log.exception("handing the %s call to the hub failed", call.tool)
            result = ToolResult("error internal: Switchboard failed to take the call", True)
            await self.tool_result(call.call_id, result)
