"""One process on a remote agent, as the hub's session sees it (an
:class:`~switchboard.agents.base.AgentConnection`): each call becomes a command on the
agent's link, and what the agent says of the process (output, asks, tool calls, its
exit) is delivered here by the link, under the process's session key."""

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Any, Protocol

from switchboard.agents.base import (
    AgentEvent,
    AskAnswer,
    AskHandler,
    PermissionAsk,
    ToolCall,
    ToolResult,
)
from switchboard.agents.remote.codec import (
    answer_to_wire,
    ask_from_wire,
    call_from_wire,
    event_from_wire,
    result_to_wire,
)
from switchboard.exceptions import AgentError, AgentGoneError

log = logging.getLogger(__name__)


class AgentCommandFailed(AgentError):
    """The agent refused a command; ``failure`` is its code for why."""

    def __init__(self, failure: str, message: str) -> None:
        super().__init__(message)
        self.failure = failure


class LinkChannel(Protocol):
    """An agent's link, as the driver uses it."""

    async def call(
        self, op: str, args: dict[str, Any], session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and wait for its result. Raises :class:`AgentError` when the
        agent refuses it or the link drops first."""
        ...


ChannelOf = Callable[[], LinkChannel | None]
"""The agent's link now, or None while it is offline."""
Finished = Callable[[], None]
Position = tuple[int, int]
"""(seq of an output message of the agent, events of it stored): how far a process's
output is stored, in the agent's numbering."""
REDELIVERY_DELAYS = (0.5, 1.0, 2.0, 5.0)
"""Waits between attempts to deliver a person's answer while the link is down (the
last repeats until the process ends)."""
MAX_PENDING_CHARS = 8 * 1024 * 1024
"""Output of one process the hub has taken but not yet stored; past it, the link stops
reading until the project's log catches up (the agent's spool holds the rest)."""


class RemoteConnection:
    """One process on the agent, as the hub's session sees it."""

    def __init__(
        self,
        channel: ChannelOf,
        session: str,
        handler: AskHandler | None,
        sessions: MutableMapping[str, "RemoteConnection"],
        stored: Position = (0, 0),
    ) -> None:
        self._channel = channel
        self._sessions = sessions
        self.session = session
        self._handler = handler
        self.pid = 0
        self._stored = stored
        """Output up to here was stored by an earlier hub: what is sent again is dropped."""
        self._yielded = stored
        """The batch last yielded: its seq, and how many of its events came before it."""
        self._queued_seq = stored[0] - 1
        """The seq of the last output message taken: one at or below it is sent again."""
        self._finished_seq = stored[0] - 1
        """Output messages up to this seq are stored."""
        self._echoes: list[tuple[int, Finished]] = []
        """Messages sent again while their first copy waits to be stored: finished with it."""
        self._returncode: int | None = None
        self._lost = False
        self._left = False
        self._exited = asyncio.get_running_loop().create_future()
        self._batches: asyncio.Queue[tuple[Position, list[AgentEvent], int, Finished] | None] = (
            asyncio.Queue()
        )
        self._pending_chars = 0
        self._room = asyncio.Event()
        self._room.set()
        self._turn_running = False
        self._background = 0
        self._stderr = ""
        self._asks: dict[str, PermissionAsk] = {}
        self._calls: dict[str, ToolCall] = {}
        """Tool calls handed to the handler and not yet answered (or withdrawn)."""
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- what the link delivers -----------------------------------------------------------

    def on_output(
        self,
        seq: int,
        events: list[dict[str, Any]],
        background: int,
        turn_running: bool,
        finished: Finished,
    ) -> None:
        """A batch the process printed (the agent's message ``seq``); ``finished`` once
        the hub has stored it."""
        done_seq, done_events = self._stored
        if seq < done_seq or (seq == done_seq and done_events >= len(events)):
            finished()  # stored before the hub restarted
            return
        if seq <= self._queued_seq:
            # Sent again (a node that let some of the agent's processes go counts its
            # messages afresh): finished once its first copy is stored.
            if seq <= self._finished_seq:
                finished()
            else:
                self._echoes.append((seq, finished))
            return
        skipped = done_events if seq == done_seq else 0
        batch = [event_from_wire(event) for event in events[skipped:]]
        self._queued_seq = seq
        chars = sum(len(getattr(event, "text", "")) for event in batch)
        self._background = background
        self._turn_running = turn_running
        self._pending_chars += chars
        if self._pending_chars > MAX_PENDING_CHARS:
            self._room.clear()
        self._batches.put_nowait(((seq, skipped), batch, chars, finished))

    async def room(self) -> None:
        """Wait while more than ``MAX_PENDING_CHARS`` of output waits to be stored."""
        await self._room.wait()

    def on_ask(self, data: dict[str, Any]) -> None:
        ask = ask_from_wire(data)
        if self._handler is not None and ask.request_id not in self._asks:  # (asked again)
            self._asks[ask.request_id] = ask
            self._spawn(self._handler.asked(self, ask))

    def on_tool_call(self, data: dict[str, Any]) -> None:
        """The process called one of Switchboard's tools: the handler takes it (as it
        would a local process's), and answers through :meth:`tool_result`."""
        call = call_from_wire(data)
        if self._handler is None:  # as a local process without a hub to take it
            result = ToolResult("error unavailable: no hub takes this call", is_error=True)
            self._spawn(self.tool_result(call.call_id, result))
        elif call.call_id not in self._calls:  # (else called again: the handler has it)
            self._calls[call.call_id] = call
            self._spawn(self._handler.tool_called(self, call))

    def on_withdrawn(self, request_id: str) -> None:
        """An ask or a tool call the process no longer waits for."""
        self._asks.pop(request_id, None)
        self._calls.pop(request_id, None)
        if self._handler is not None:
            self._spawn(self._handler.withdrawn(self, request_id))

    def on_exited(self, returncode: int | None, stderr: str) -> None:
        """The process ended, or (``returncode`` None) the link to it did."""
        if self._exited.done():
            return
        self._lost = returncode is None
        self._returncode = returncode if returncode is not None else -1
        self._stderr = stderr
        self._turn_running = False
        self._exited.set_result(self._returncode)
        self._room.set()
        self._batches.put_nowait(None)
        self._sessions.pop(self.session, None)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- AgentConnection -----------------------------------------------------------------

    @property
    def returncode(self) -> int | None:
        return self._returncode

    @property
    def turn_running(self) -> bool:
        return self._turn_running

    @property
    def stderr_text(self) -> str:
        return self._stderr

    @property
    def lost(self) -> bool:
        return self._lost

    def leave(self) -> bool:
        """The process goes on on the agent; for this hub it is over (the agent keeps
        its output until the next hub takes the process back)."""
        self._left = True
        self._sessions.pop(self.session, None)
        if not self._exited.done():
            self._exited.set_result(-1)
        self._room.set()
        self._batches.put_nowait(None)
        return True

    def resume_mark(self, handled: int) -> str | None:
        seq, before = self._yielded
        return json.dumps({"session": self.session, "seq": seq, "handled": before + handled})

    def background_pending(self) -> int:
        return self._background

    def follow_up_started(self) -> None:
        self._spawn(self._quietly("follow_up_started", {}))

    async def batches(self) -> AsyncIterator[list[AgentEvent]]:
        while (item := await self._batches.get()) is not None:
            self._yielded, batch, chars, finished = item
            yield batch
            finished()  # the consumer came back for more: it has stored this one
            self._finished_seq = self._yielded[0]
            if self._echoes:
                echoes, self._echoes = self._echoes, []
                for seq, echo in echoes:
                    if seq <= self._finished_seq:
                        echo()
                    else:
                        self._echoes.append((seq, echo))
            self._pending_chars -= chars
            if self._pending_chars <= MAX_PENDING_CHARS:
                self._room.set()

    async def send_prompt(self, text: str) -> None:
        if self._exited.done():
            raise AgentGoneError("the agent's process has exited")
        link = self._channel()
        if link is None:
            raise AgentGoneError("the agent is offline")
        self._turn_running = True
        try:
            await link.call("prompt", {"text": text}, self.session)
        except AgentError as exc:
            self._turn_running = False
            raise AgentGoneError(str(exc)) from exc

    async def answer(self, ask: PermissionAsk, answer: AskAnswer) -> bool:
        waiting = self._asks.pop(ask.request_id, None) is not None
        args = {"request_id": ask.request_id, "answer": answer_to_wire(answer)}
        return await self._deliver("answer", args, keep=waiting)

    async def tool_result(self, call_id: str, result: ToolResult) -> bool:
        waiting = self._calls.pop(call_id, None) is not None or self._handler is None
        args = {"call_id": call_id, "result": result_to_wire(result)}
        return await self._deliver("tool_result", args, keep=waiting)

    async def _deliver(self, op: str, args: dict[str, Any], *, keep: bool) -> bool:
        """A decision the CLI waits for (``keep``: it still does, as far as this hub
        knows). While the link is down such a one is kept and sent again once the link
        is back (True: it will be), until the process ends; the CLI goes on waiting
        meanwhile. One the agent had taken already comes back undelivered, harmlessly."""
        delivered = await self._try_delivering(op, args)
        if delivered is None and not keep:
            return False
        if delivered is None:
            self._spawn(self._redeliver(op, args))
            return True
        return delivered

    async def _try_delivering(self, op: str, args: dict[str, Any]) -> bool | None:
        """Whether the agent delivered it; None: the link is down (try again)."""
        link = self._channel()
        if link is None:
            return None
        try:
            return bool((await link.call(op, args, self.session)).get("delivered"))
        except AgentCommandFailed as exc:
            log.info("%s refused by the agent: %s", op, exc)
            return False
        except AgentError as exc:
            log.info("%s not delivered, will try again: %s", op, exc)
            return None

    async def _redeliver(self, op: str, args: dict[str, Any]) -> None:
        for attempt in itertools.count():
            delay = REDELIVERY_DELAYS[min(attempt, len(REDELIVERY_DELAYS) - 1)]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await asyncio.shield(self._exited)
            if self._exited.done() or await self._try_delivering(op, args) is not None:
                return

    async def set_permission_mode(self, mode: str) -> bool:
        return bool((await self._call_or_empty("set_mode", {"mode": mode})).get("switched"))

    async def set_model(self, model: str | None) -> bool:
        return bool((await self._call_or_empty("set_model", {"model": model})).get("switched"))

    async def cancel(self, interrupt_grace: float, kill_grace: float) -> bool:
        args = {"interrupt_grace": interrupt_grace, "kill_grace": kill_grace}
        return bool((await self._call_or_empty("cancel", args)).get("interrupted"))

    def end_input(self) -> None:
        self._spawn(self._quietly("end_input", {}))

    async def wait(self) -> int:
        return int(await asyncio.shield(self._exited))

    async def close(self, grace: float) -> int | None:
        if self._left:  # it goes on without this hub
            return None
        if not self._exited.done():
            await self._quietly("close", {"grace": grace})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace + 10):
                    await asyncio.shield(self._exited)
        if not self._exited.done():  # the agent never said: count it gone
            self.on_exited(None, "the agent did not report the process's end")
        return self._returncode

    def kill_now(self) -> None:
        self._spawn(self._quietly("kill", {}))

    async def _call_or_empty(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        """The command's result; empty if the agent or its link failed it."""
        link = self._channel()
        if link is None:
            log.info("%s not sent: the agent is offline", op)
            return {}
        try:
            return await link.call(op, args, self.session)
        except AgentError as exc:
            log.info("%s on the agent failed: %s", op, exc)
            return {}

    async def _quietly(self, op: str, args: dict[str, Any]) -> None:
        await self._call_or_empty(op, args)
