"""A tiny second agent driver, in memory: it answers every prompt with the prompt's text.

It proves the agent seam (:mod:`switchboard.agents.base`): the hub runs it with no
subprocess and no Claude-specific knowledge. A prompt that starts with ``hang`` holds
its turn until it is cancelled; one that starts with ``ask`` asks for permission first,
and says what it was told.
"""

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from switchboard.agents.base import (
    AgentEvent,
    AskAnswer,
    AskHandler,
    EndsWithTheHub,
    LaunchSpec,
    OutputLine,
    PermissionAsk,
    SessionHistory,
    SessionIdentified,
    StoredSession,
    ToolResult,
    TurnEnded,
    TurnMetrics,
)
from switchboard.exceptions import AgentGoneError

_pids = itertools.count(10_000_000)  # no real process has these


def line(**fields: object) -> str:
    return json.dumps({"agent": "echo", **fields}, separators=(",", ":"))


class EchoAgent(EndsWithTheHub):
    """One echo "process": a session of its own, one turn at a time."""

    def __init__(self, spec: LaunchSpec, handler: AskHandler | None) -> None:
        self.spec = spec
        self._handler = handler
        self.session_id = spec.resume or uuid.uuid4().hex
        self._pid = next(_pids)
        self._returncode: int | None = None
        self._events: asyncio.Queue[list[AgentEvent] | None] = asyncio.Queue()
        self._turn: asyncio.Task[None] | None = None
        self._answers: dict[str, asyncio.Future[AskAnswer]] = {}
        self._cancelled = asyncio.Event()
        self.prompts: list[str] = []
        self.emit([OutputLine(line(type="started", session_id=self.session_id))])
        self.emit([SessionIdentified(self.session_id)])

    def emit(self, events: list[AgentEvent]) -> None:
        self._events.put_nowait(events)

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._returncode

    @property
    def turn_running(self) -> bool:
        return self._turn is not None and not self._turn.done()

    @property
    def stderr_text(self) -> str:
        return ""

    def background_pending(self) -> int:
        return 0

    def follow_up_started(self) -> None:
        pass

    async def batches(self) -> AsyncIterator[list[AgentEvent]]:
        while (batch := await self._events.get()) is not None:
            yield batch

    async def send_prompt(self, text: str) -> None:
        if self._returncode is not None:
            raise AgentGoneError("the echo agent has exited")
        self.prompts.append(text)
        self._cancelled.clear()
        self._turn = asyncio.create_task(self._reply(text))

    async def _reply(self, text: str) -> None:
        self.emit([OutputLine(line(type="prompt", text=text))])
        said = text
        if text.startswith("hang"):
            await self._cancelled.wait()
            said = "interrupted"
        elif text.startswith("ask") and self._handler is not None:
            said = await self._ask(text)
        metrics = TurnMetrics(0, 1, 0.0, None, self.session_id)
        self.emit([OutputLine(line(type="reply", text=said)), TurnEnded(metrics, None, False)])

    async def _ask(self, text: str) -> str:
        assert self._handler is not None
        request_id = uuid.uuid4().hex
        ask = PermissionAsk(
            request_id, "tool_permission", "Echo", {"text": text}, [], (("Echo", None, "{}"),)
        )
        answered = self._answers[request_id] = asyncio.get_running_loop().create_future()
        await self._handler.asked(self, ask)
        answer = await answered
        return "allowed" if answer.allow else f"denied: {answer.message}"

    async def answer(self, ask: PermissionAsk, answer: AskAnswer) -> bool:
        waiting = self._answers.pop(ask.request_id, None)
        if waiting is None or waiting.done():
            return False
        waiting.set_result(answer)
        return True

    async def tool_result(self, call_id: str, result: ToolResult) -> bool:
        return False  # it calls no back-channel tool

    async def set_permission_mode(self, mode: str) -> bool:
        return self.turn_running

    async def set_model(self, model: str | None) -> bool:
        return False

    async def cancel(self, interrupt_grace: float, kill_grace: float) -> bool:
        self._cancelled.set()
        for waiting in self._answers.values():
            if not waiting.done():
                waiting.set_result(AskAnswer(False, message="interrupted"))
        if self._turn is not None:
            await asyncio.wait({self._turn}, timeout=interrupt_grace)
        return True

    def end_input(self) -> None:
        self._exit(0)

    def _exit(self, code: int) -> None:
        if self._returncode is None:
            self._returncode = code
            if self._turn is not None:
                self._turn.cancel()
            self._events.put_nowait(None)

    async def wait(self) -> int:
        while self._returncode is None:
            await asyncio.sleep(0.01)
        return self._returncode

    async def close(self, grace: float) -> int | None:
        self._exit(-15)
        return self._returncode

    def kill_now(self) -> None:
        self._exit(-9)


class EchoDriver:
    """Starts :class:`EchoAgent` s and keeps them for the test to look at."""

    name = "echo"
    permission_modes: tuple[str, ...] = ("default", "acceptEdits")

    def __init__(self) -> None:
        self.launched: list[EchoAgent] = []

    def locate(self) -> str:
        return "echo (in memory)"

    async def launch(self, spec: LaunchSpec, handler: AskHandler | None) -> EchoAgent:
        agent = EchoAgent(spec, handler)
        self.launched.append(agent)
        return agent

    async def resume(self, mark: str, handler: AskHandler | None) -> None:
        """Echo agents end with the hub."""
        return

    async def list_sessions(self, cwd: Path) -> list[StoredSession]:
        return []

    async def read_session(self, cwd: Path, session_id: str) -> SessionHistory | None:
        return None
