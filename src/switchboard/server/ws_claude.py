"""``/ws/claude``: one prompt in, the CLI's stream-json out, exact close codes.

1. Server sends ``{"info":"send {prompt,meta}"}``.
2. Client sends ``{"prompt": "...", "meta": "TASK-123"}``; invalid → close 1008.
3. Every stdout line of the CLI is sent as one text frame, unchanged.
4. CLI exits 0 → close 1000. Non-zero exit, failure to start, timeout → one
   ``{"error": ...}`` frame, then close 1011. Client gone → process group killed, and
   every process the CLI started (see :mod:`switchboard.agents.containment`).

At most ``--max-claude-runs`` CLIs run at once: a valid prompt beyond that waits for a
free slot up to ``--claude-queue-timeout``, then is refused with close 1013.
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard.agents.base import (
    AgentConnection,
    AgentDriver,
    BadOutput,
    Delta,
    LaunchSpec,
    OutputLine,
    TurnEnded,
)
from switchboard.config import Settings
from switchboard.exceptions import AgentError, AgentGoneError, ClaudeNotFoundError
from switchboard.hub.processes import ProcessRegistry
from switchboard.protocol.close_codes import CloseCode, clip_reason
from switchboard.protocol.ws_claude import INFO_FRAME, PromptRequest, Refusal, parse_prompt_frame
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.security import app_protocol
from switchboard.server.text_frames import texts_sender

log = logging.getLogger(__name__)

FINAL_FRAMES_SECONDS = 2.0
"""How long the last error frame and the close may take (a client may have stopped reading)."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended: the close code and, for failures, the error frame's payload."""

    code: CloseCode
    reason: str
    error: dict[str, Any] | None = None


def error_frame(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def exit_outcome(returncode: int, stderr: str) -> RunOutcome:
    if returncode == 0:
        return RunOutcome(CloseCode.NORMAL, "claude exited 0")
    what = f"claude exited with status {returncode}"
    if returncode < 0:
        what = f"claude was killed by signal {-returncode}"
    error = {"error": what, "exit_code": returncode, "stderr": stderr[-4000:]}
    return RunOutcome(CloseCode.INTERNAL_ERROR, what, error)


class ClaudeEndpoint:
    """The ASGI app mounted at ``/ws/claude``: one :class:`ClaudeSocketConnection` a connection."""

    def __init__(
        self,
        settings: Settings,
        tracker: ConnectionTracker,
        agents: AgentDriver,
        registry: ProcessRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.tracker = tracker
        self.agents = agents
        self.registry = registry
        """Confines and records each CLI (None: its process group only, unrecorded)."""
        self.slots = asyncio.Semaphore(settings.max_claude_runs)
        """One per run under way, across connections (``--max-claude-runs``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        connection = ClaudeSocketConnection(
            websocket, send, self.settings, self.tracker, agents=self.agents, registry=self.registry
        )
        connection.slots = self.slots
        await connection.run()


class ClaudeSocketConnection:
    """One ``/ws/claude`` connection and the one CLI process it may start."""

    def __init__(
        self,
        websocket: WebSocket,
        send: Send,
        settings: Settings,
        tracker: ConnectionTracker,
        *,
        agents: AgentDriver,
        registry: ProcessRegistry | None = None,
    ) -> None:
        self.ws = websocket
        # Frames go straight to the ASGI send: Starlette's wrapper costs a few
        # microseconds a frame, which is a third of the budget when the CLI floods.
        self._asgi_send = send
        self.settings = settings
        self.tracker = tracker
        self._send_lock = asyncio.Lock()
        self._shutdown = asyncio.Event()
        self._closed = asyncio.Event()
        self._agent: AgentConnection | None = None
        self.agents = agents
        self.registry = registry
        self.slots = asyncio.Semaphore(settings.max_claude_runs)
        """The endpoint's, shared by every connection (this one is for tests)."""

    # -- lifecycle hooks (ConnectionTracker) --------------------------------------------

    def request_shutdown(self) -> None:
        self._shutdown.set()

    def kill_now(self) -> None:
        if self._agent is not None:
            self._agent.kill_now()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- the connection -----------------------------------------------------------------

    async def run(self) -> None:
        if not self.tracker.accepting:
            await self.ws.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        self.tracker.add(self)
        try:
            await self.ws.accept(subprotocol=app_protocol(self.ws.scope))
            await self._send(INFO_FRAME)
            request = await self._receive_prompt()
            if isinstance(request, RunOutcome):
                await self._finish(request)
                return
            if request is None:
                return
            log.info("prompt for meta=%s (%d chars)", request.meta, len(request.prompt))
            taken = await self._take_slot(request.meta)
            if isinstance(taken, RunOutcome):
                await self._finish(taken)
                return
            if not taken:
                return  # the client left while waiting
            try:
                outcome = await self._run_claude(request.prompt, request.meta)
            finally:
                self.slots.release()
            if outcome is not None:
                await self._finish(outcome)
        except WebSocketDisconnect:
            log.info("client left")
        finally:
            self.tracker.discard(self)
            self._closed.set()

    async def _receive_prompt(self) -> PromptRequest | RunOutcome | None:
        """The validated request; how to close instead; or None when the client left."""
        receive = asyncio.ensure_future(self.ws.receive())
        stop = asyncio.ensure_future(self._shutdown.wait())
        try:
            done, _ = await asyncio.wait(
                {receive, stop},
                timeout=self.settings.prompt_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            receive.cancel()
            stop.cancel()
        if stop in done:
            return RunOutcome(CloseCode.GOING_AWAY, "server shutting down")
        if receive not in done:
            return RunOutcome(CloseCode.POLICY_VIOLATION, "no prompt received in time")
        message = receive.result()
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is None:
            return RunOutcome(CloseCode.POLICY_VIOLATION, "expected a text frame")
        request = parse_prompt_frame(message["text"])
        if isinstance(request, Refusal):
            return RunOutcome(CloseCode.POLICY_VIOLATION, request.reason)
        return request

    async def _take_slot(self, meta: str) -> RunOutcome | bool:
        """Take a run slot: True once taken (the caller releases it), False when the
        client left meanwhile; else how to close (no slot came in time, or shutdown)."""
        if not self.slots.locked():
            return await self.slots.acquire()  # a free slot: taken at once
        limit = self.settings.claude_queue_timeout
        log.info("prompt for meta=%s waits for a free run slot (at most %g s)", meta, limit)
        take = asyncio.ensure_future(self.slots.acquire())
        watch = asyncio.ensure_future(self._watch_client())
        stop = asyncio.ensure_future(self._shutdown.wait())
        try:
            done, _ = await asyncio.wait(
                {take, watch, stop}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (take, watch, stop):
                task.cancel()
            await asyncio.gather(take, watch, stop, return_exceptions=True)
        taken = not take.cancelled() and take.exception() is None
        if taken and not (watch in done or stop in done):
            return True
        if taken:  # it came together with the client leaving, or shutdown
            self.slots.release()
        if watch in done:
            return False
        if stop in done:
            return RunOutcome(CloseCode.GOING_AWAY, "server shutting down")
        log.warning("refused a prompt for meta=%s: no run slot free within %g s", meta, limit)
        runs = self.settings.max_claude_runs
        reason = f"busy: --max-claude-runs {runs} reached; try again later"
        return RunOutcome(CloseCode.TRY_AGAIN_LATER, reason)

    def _spec(self, meta: str) -> LaunchSpec:
        return LaunchSpec(
            cwd=self.settings.workdir,
            extra_env={"SWITCHBOARD_META": meta},
            confinement=self.registry.confine() if self.registry is not None else None,
            ask_permissions=False,
            back_channel=False,  # one prompt, the CLI's own lines: no hub to talk back to
        )

    async def _run_claude(self, prompt: str, meta: str) -> RunOutcome | None:
        """Run the CLI; None when the client left (nothing more to send)."""
        spec = self._spec(meta)
        try:
            agent = self._agent = await self.agents.launch(spec, None)
        except ClaudeNotFoundError as exc:
            return RunOutcome(CloseCode.INTERNAL_ERROR, "claude not found", {"error": str(exc)})
        except AgentError as exc:
            return RunOutcome(
                CloseCode.INTERNAL_ERROR, "claude failed to start", {"error": str(exc)}
            )
        try:
            await self._record(agent, spec)
            return await self._supervise(agent, prompt)
        finally:
            await agent.close(self.settings.kill_grace)
            await self._forget(agent)

    async def _record(self, agent: AgentConnection, spec: LaunchSpec) -> None:
        """Record the CLI, so that the next server stops it if this one crashes."""
        if self.registry is None:
            return
        try:
            await self.registry.record(agent.pid, None, None, spec.confinement)
        except Exception as exc:  # the store is failing: the run itself can go on
            log.warning("could not record process %s: %s", agent.pid, exc)

    async def _forget(self, agent: AgentConnection) -> None:
        if self.registry is None:
            return
        try:
            await self.registry.forget(agent.pid)
        except Exception as exc:  # the store is closed or failing: nothing to clean
            log.warning("could not forget process %s: %s", agent.pid, exc)

    async def _supervise(self, agent: AgentConnection, prompt: str) -> RunOutcome | None:
        """Pump output until the run ends, the client leaves, shutdown or timeout. The
        caller stops the CLI's group before any closing frame goes out."""
        pump = asyncio.create_task(self._pump(agent, prompt), name="ws-claude-pump")
        watch = asyncio.create_task(self._watch_client(), name="ws-claude-watch")
        stop = asyncio.create_task(self._shutdown.wait(), name="ws-claude-stop")
        try:
            done, _ = await asyncio.wait(
                {pump, watch, stop},
                timeout=self.settings.run_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (pump, watch, stop):
                task.cancel()
            await asyncio.gather(pump, watch, stop, return_exceptions=True)
        if pump in done and pump.exception() is None:
            return pump.result()
        if pump in done:
            exc = pump.exception()
            if isinstance(exc, WebSocketDisconnect | OSError):
                return None
            log.error("run failed: %r", exc)
            return RunOutcome(CloseCode.INTERNAL_ERROR, "internal error", {"error": repr(exc)})
        if stop in done:
            return RunOutcome(CloseCode.GOING_AWAY, "server shutting down")
        if watch in done:
            return None  # the client left: nothing more to send
        limit = self.settings.run_timeout
        return RunOutcome(
            CloseCode.INTERNAL_ERROR,
            "run timed out",
            {"error": f"run timed out after {limit:g} s; process group killed"},
        )

    async def _pump(self, agent: AgentConnection, prompt: str) -> RunOutcome:
        try:
            await agent.send_prompt(prompt)
        except AgentGoneError:  # it died at once; its output and exit status say why
            log.info("claude exited before reading the prompt")
        send_texts = texts_sender(self.ws.scope, self._asgi_send)
        async for batch in agent.batches():
            frames: list[str] = []
            for event in batch:
                if type(event) is OutputLine or type(event) is Delta:
                    frames.append(event.text)
                elif type(event) is BadOutput:
                    frames.append(error_frame({"error": event.error, "line": event.preview}))
                elif type(event) is TurnEnded:
                    agent.end_input()  # one prompt per connection: let the CLI finish
            if frames:
                async with self._send_lock:  # once a batch, in one write: the hot path
                    await send_texts(frames)
        returncode = await agent.wait()
        return exit_outcome(returncode, agent.stderr_text)

    async def _watch_client(self) -> None:
        """Return when the client disconnects; answer extra frames with an error."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            await self._send(error_frame({"error": "one prompt per connection; frame ignored"}))

    async def _finish(self, outcome: RunOutcome) -> None:
        """The error frame, if any, and the close, within ``FINAL_FRAMES_SECONDS``."""
        try:
            async with asyncio.timeout(FINAL_FRAMES_SECONDS):
                if outcome.error is not None:
                    await self._send(error_frame(outcome.error))
                await self._close(outcome.code, outcome.reason)
        except (TimeoutError, OSError):
            log.info("client did not take the final frames; dropping the connection")

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            await self._asgi_send({"type": "websocket.send", "text": text})

    async def _close(self, code: CloseCode, reason: str) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await self.ws.close(int(code), clip_reason(reason))
