"""Drive one Claude Code CLI process over stream-json stdin/stdout.

:class:`ClaudeProcess` spawns the CLI (see :func:`build_argv`), decodes its stdout with
:mod:`switchboard.agents.claude.stream_json`, keeps the control protocol's books with
:class:`~switchboard.agents.claude.control.ControlProtocol`, and hands every stdout line to
its owner unchanged. Timeouts and cancellation policy belong to the owner.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from switchboard.agents.claude import hooks
from switchboard.agents.claude.control import (
    ControlProtocol,
    ControlResult,
    HookCallback,
    McpMessage,
    PermissionRequest,
    RequestCancelled,
)
from switchboard.agents.claude.launch import (
    ClaudeOptions,
    build_argv,
    build_env,
)
from switchboard.agents.claude.stream_json import (
    CONTROL_TYPES,
    BadLine,
    CliMessage,
    decode_line,
    encode_user_message,
    too_long,
)
from switchboard.agents.output_buffer import OutputBuffer
from switchboard.agents.process import AgentProcess
from switchboard.exceptions import AgentGoneError, ControlProtocolError
from switchboard.printable import printable
from switchboard.protocol.lines import LineSplitter

log = logging.getLogger(__name__)

OUTPUT_BUFFER_BYTES = 4 * 1024 * 1024
"""Decoded stdout held for a slow consumer before the reader pauses (and the CLI with it)."""
READER_FAILURE_GRACE = 0.5

PermissionHandler = Callable[[PermissionRequest], Awaitable[None]]
"""Called in the reader task: answer at once, or register and answer later through
:meth:`ClaudeProcess.answer_permission` (never wait for a person here)."""
WithdrawnHandler = Callable[[str], Awaitable[None]]
McpHandler = Callable[[McpMessage], Awaitable[None]]
"""Called in the reader task for each ``mcp_message``: answer at once, or later through
:meth:`ClaudeProcess.respond` (never wait for the hub here)."""


class ClaudeProcess:
    """One CLI process. Use as ``async with``; iterate :meth:`output` for its lines."""

    def __init__(
        self,
        options: ClaudeOptions,
        on_permission: PermissionHandler | None = None,
        on_withdrawn: WithdrawnHandler | None = None,
        on_mcp: McpHandler | None = None,
    ) -> None:
        self.options = options
        self.control = ControlProtocol()
        self._on_permission = on_permission or self._deny_without_handler
        self._on_withdrawn = on_withdrawn
        self._on_mcp = on_mcp
        self.initialize_id: str | None = None
        """The ``initialize`` request sent at start, if any (its answer is plumbing)."""
        self._process: AgentProcess | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[ControlResult]] = {}
        self._batches: OutputBuffer[list[CliMessage | BadLine]] = OutputBuffer(OUTPUT_BUFFER_BYTES)
        self._output_ended = False
        self._idle = asyncio.Event()  # set while no turn is running
        self._idle.set()

    @property
    def process(self) -> AgentProcess:
        if self._process is None:
            raise RuntimeError("the CLI process has not been started")
        return self._process

    async def start(self) -> None:
        """Spawn the CLI. Raises :class:`~switchboard.exceptions.AgentSpawnError`."""
        self._process = await AgentProcess.spawn(
            build_argv(self.options),
            cwd=self.options.spawn_cwd or self.options.cwd,
            env=build_env(self.options),
            stderr_limit=self.options.stderr_limit,
            confinement=self.options.confinement,
        )
        self._reader = asyncio.create_task(self._read_stdout(), name=f"claude-{self.pid}")
        if self.options.back_channel:  # the hooks are registered before any prompt
            self.initialize_id = self.control.initialize(hooks.registration())
            await self._flush_control()
        log.info("started claude pid=%s cwd=%s", self._process.pid, printable(self.options.cwd))

    @property
    def pid(self) -> int:
        return self.process.pid

    async def send_user(self, text: str) -> None:
        """Submit a user turn."""
        self._idle.clear()
        await self.process.write(encode_user_message(text))

    @property
    def turn_running(self) -> bool:
        """True from :meth:`send_user` until the reader sees that turn's ``result``."""
        return not self._idle.is_set()

    async def cancel(self, interrupt_grace: float = 5.0, kill_grace: float = 0.5) -> bool:
        """Stop the running turn: interrupt first, kill if that does not work.

        Sends the control protocol's ``interrupt`` and waits up to ``interrupt_grace``
        seconds for the turn's ``result``. If it comes, the CLI is still running and can
        take the next turn: returns True, once what its tools left detached (daemons,
        see :meth:`AgentProcess.stop_detached`) is stopped, TERM → ``kill_grace`` → KILL.
        Otherwise (no answer, or the CLI is gone) the process group and its confinement
        are stopped, TERM → ``kill_grace`` → KILL, and it returns False.
        The reader must be able to make progress for the result to be seen, so keep
        consuming :meth:`output` meanwhile.
        """
        if self.process.returncode is None and not self.turn_running:
            return True
        if self.process.returncode is None:
            try:
                await self.interrupt()
                await asyncio.wait_for(self._idle.wait(), interrupt_grace)
            except (TimeoutError, AgentGoneError):
                pass
            else:
                if not self._output_ended:  # the turn ended, and the CLI with it did not
                    await self.process.stop_detached(kill_grace)
                    return True
        await self.aclose(kill_grace)
        return False

    async def request(self, request_id: str) -> ControlResult:
        """Flush a queued control request and wait for the CLI's answer.

        Raises :class:`AgentGoneError` if the CLI's output has ended (no answer can come).
        """
        if self._output_ended:
            raise AgentGoneError("the CLI's output has ended; it cannot answer")
        future: asyncio.Future[ControlResult] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._flush_control()
            return await future
        except asyncio.CancelledError as exc:
            if self._output_ended:  # cancelled by the reader's end, not by our caller
                raise AgentGoneError("the CLI's output ended before it answered") from exc
            raise
        finally:
            self._pending.pop(request_id, None)

    async def send_request(self, subtype: str, **fields: Any) -> str:
        """Send a control request whose answer is read with the output (not awaited
        here). Raises :class:`AgentGoneError` if the CLI cannot take it."""
        request_id = self.control.send_request(subtype, **fields)
        await self._flush_control()
        return request_id

    async def _deny_without_handler(self, request: PermissionRequest) -> None:
        """The default permission policy: nobody was given to ask, so the answer is no."""
        self.control.deny(request.request_id, "Switchboard has no approver for this run")

    async def answer_permission(
        self, request_id: str, allow: bool, updated_input: dict[str, Any], message: str
    ) -> bool:
        """Answer a ``can_use_tool`` later; False if it is no longer pending.

        Raises :class:`AgentGoneError` if the CLI cannot take it any more.
        """
        if allow:
            answered = self.control.allow(request_id, updated_input)
        else:
            answered = self.control.deny(request_id, message)
        await self._flush_control()
        return answered

    async def respond(self, request_id: str, response: dict[str, Any]) -> bool:
        """Answer a CLI request later (an ``mcp_message``); False if it is no longer
        pending. Raises :class:`AgentGoneError` if the CLI cannot take it any more."""
        answered = self.control.respond(request_id, response)
        await self._flush_control()
        return answered

    async def interrupt(self) -> None:
        """Ask the CLI to stop the current turn (it answers and ends the turn)."""
        self.control.interrupt()
        await self._flush_control()

    async def _flush_control(self) -> None:
        for line in self.control.data_to_send():
            await self.process.write(line)

    async def output(self) -> AsyncIterator[CliMessage | BadLine]:
        """Every stdout line, in order, until the CLI closes stdout.

        Control lines are included (the owner decides whether to show them); the reader
        task has already acted on them: answers resolve :meth:`request`, permission
        requests went to the permission handler, unsupported requests were answered with
        an error. Keep consuming: when ``OUTPUT_BUFFER_CHUNKS`` chunks are waiting, the
        reader stops reading and the CLI blocks on its stdout.
        """
        async for batch in self.output_batches():
            for item in batch:
                yield item

    async def output_batches(self) -> AsyncIterator[list[CliMessage | BadLine]]:
        """Like :meth:`output`, in batches (the fast path): each holds every line read
        since the consumer took the last one, so a consumer that waits for a commit
        per batch takes the lines that arrived meanwhile together."""
        while (batches := await self._batches.get_all()) is not None:
            yield batches[0] if len(batches) == 1 else [line for b in batches for line in b]

    async def _read_stdout(self) -> None:
        """Reader task: split and decode stdout, act on control lines, queue batches.

        Whatever happens, it ends the output (consumers see the end) and no turn is
        left looking as if it were running. If it fails unexpectedly, the CLI is
        stopped: a run nobody reads from must not go on.
        """
        splitter = LineSplitter(self.options.max_line_bytes)
        try:
            while True:
                chunk = await self.process.read_stdout()
                events = splitter.feed(chunk) if chunk else splitter.finish()
                batch: list[CliMessage | BadLine] = []
                for event in events:
                    item = decode_line(event) if isinstance(event, bytes) else too_long(event.size)
                    if item is None:
                        continue
                    if isinstance(item, CliMessage) and item.type in CONTROL_TYPES:
                        await self._handle_control(item)
                    elif isinstance(item, CliMessage) and item.type == "result":
                        self._idle.set()
                    batch.append(item)
                if batch:
                    await self._batches.put(batch, max(len(chunk), 1))
                if not chunk:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading claude's output failed; stopping pid %s", self.pid)
            await self.process.terminate(READER_FAILURE_GRACE)
        finally:
            self._output_ended = True
            self._idle.set()
            self._batches.close()
            for future in self._pending.values():
                future.cancel()

    async def _handle_control(self, message: CliMessage) -> None:
        try:
            event = self.control.receive(message)
        except ControlProtocolError as exc:
            log.warning("ignoring malformed control message: %s", exc)
            return
        if isinstance(event, ControlResult):
            future = self._pending.pop(event.request_id, None)
            if future is not None and not future.done():
                future.set_result(event)
        elif isinstance(event, PermissionRequest):
            try:
                await self._on_permission(event)
            except Exception:
                log.exception("permission handler failed; denying %s", event.tool_name)
                self.control.deny(event.request_id, "Switchboard failed to ask for approval")
        elif isinstance(event, HookCallback):
            self.control.respond(event.request_id, {})  # no decision: go on as without
        elif isinstance(event, McpMessage):
            await self._mcp(event)
        elif isinstance(event, RequestCancelled):
            log.info("claude withdrew control request %s", event.request_id)
            if self._on_withdrawn is not None:
                try:
                    await self._on_withdrawn(event.request_id)
                except Exception:
                    log.exception("the withdrawal handler failed")
        try:
            await self._flush_control()
        except AgentGoneError:
            log.info("claude exited before our control reply could be written")

    async def _mcp(self, event: McpMessage) -> None:
        if self._on_mcp is None:
            self.control.respond_error(event.request_id, "no MCP server is served here")
            return
        try:
            await self._on_mcp(event)
        except Exception:
            log.exception("the MCP handler failed")
            self.control.respond_error(event.request_id, "Switchboard's MCP server failed")

    def close_stdin(self) -> None:
        self.process.close_stdin()

    def kill_now(self) -> None:
        """SIGKILL the CLI's process group at once (for a forced server exit)."""
        if self._process is not None:
            self._process.kill_now()

    async def wait(self) -> int:
        return await self.process.wait()

    @property
    def stderr_text(self) -> str:
        return self._process.stderr.text() if self._process else ""

    async def aclose(self, grace: float = 5.0) -> int | None:
        """Stop the CLI (TERM → grace → KILL of its group), reap it, end the reader."""
        if self._process is None:
            return None
        try:
            return await self._process.aclose(grace)
        finally:
            if self._reader is not None:
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader  # it logs its own failures and never raises them

    async def __aenter__(self) -> "ClaudeProcess":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
