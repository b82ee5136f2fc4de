"""One process the agent runs for the hub: the hub's commands in its session, and what
the process waits to have answered there, its asks and its back-channel tool calls.

A :class:`Hosted` is the process's :class:`~switchboard.agents.base.AskHandler`: an ask
or a tool call is kept here and told to the hub (through the spool), and the hub's
``answer`` or ``tool_result`` command is applied to the process. Either, once
delivered, is reported ``withdrawn`` too: a hub that restarted before it heard it was
answered hears the ask or call again from the spool, and must close it. A hub that
restarted sends ``adopt``, and everything still open is told again.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard.agents.base import AgentConnection, PermissionAsk, ToolCall, ToolResult
from switchboard.agents.remote.codec import answer_from_wire, ask_to_wire, result_from_wire
from switchboard.remote_agent.fitting import fit_call
from switchboard.remote_agent.spool import SpoolFull

log = logging.getLogger(__name__)


class CommandFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Outbox(Protocol):
    """Where a hosted process's messages for the hub go (the session host)."""

    @property
    def max_bytes(self) -> int:
        """The hub's message limit."""
        ...

    def emit(self, message: dict[str, Any]) -> None:
        """Keep it for the hub (in the spool). Raises SpoolFull."""


@dataclass(eq=False)
class Hosted:
    """One process the hub launched, and the questions and tool calls it has open."""

    key: str
    host: Outbox
    connection: AgentConnection | None = None
    asks: dict[str, PermissionAsk] = field(default_factory=dict)
    calls: dict[str, ToolCall] = field(default_factory=dict)
    pump: "asyncio.Task[None] | None" = None
    """The task that keeps the process's output for the hub."""

    # -- AskHandler --------------------------------------------------------------------------

    async def asked(self, agent: AgentConnection, ask: PermissionAsk) -> None:
        self.asks[ask.request_id] = ask
        self.tell(ask)

    def tell(self, ask: PermissionAsk) -> None:
        self.host.emit({"type": "ask", "session": self.key, "ask": ask_to_wire(ask)})

    async def tool_called(self, agent: AgentConnection, call: ToolCall) -> None:
        problem = self.tell_call(call)
        if problem is None:
            self.calls[call.call_id] = call
            return
        log.warning("tool call %s of session %s answered here: %s", call.tool, self.key, problem)
        await agent.tool_result(call.call_id, ToolResult(problem, is_error=True))

    def tell_call(self, call: ToolCall) -> str | None:
        """Tell the hub of the call; what keeps it from the hub, if anything."""
        message = fit_call(call, self.host.max_bytes)
        if message is None:
            return "error content_too_large: the call is too large to reach the hub"
        try:
            self.host.emit({"type": "tool_call", "session": self.key, "call": message})
        except SpoolFull as exc:
            return f"error unavailable: the hub cannot take this call now: {exc}"
        return None

    async def withdrawn(self, agent: AgentConnection, request_id: str) -> None:
        self.asks.pop(request_id, None)
        self.calls.pop(request_id, None)
        self.closed(request_id)

    def closed(self, request_id: str) -> None:
        """The ask or call is no longer open (answered or withdrawn)."""
        self.host.emit({"type": "withdrawn", "session": self.key, "request_id": request_id})

    # -- the hub's commands in this session ------------------------------------------------

    async def command(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        connection = self.connection
        if connection is None:
            raise CommandFailed("unknown_session", f"no session {self.key}")
        if op in ("answer", "tool_result", "adopt"):
            return await self._settle(connection, op, args)
        match op:
            case "prompt":
                await connection.send_prompt(str(args["text"]))
                return {}
            case "cancel":
                grace = float(args["interrupt_grace"]), float(args["kill_grace"])
                return {"interrupted": await connection.cancel(*grace)}
            case "set_mode":
                return {"switched": await connection.set_permission_mode(str(args["mode"]))}
            case "set_model":
                model = args.get("model")
                switched = await connection.set_model(None if model is None else str(model))
                return {"switched": switched}
            case "end_input":
                connection.end_input()
                return {}
            case "close":
                return {"returncode": await connection.close(float(args["grace"]))}
            case "kill":
                connection.kill_now()
                return {}
            case "follow_up_started":
                connection.follow_up_started()
                return {}
        raise CommandFailed("bad_command", f"unknown op {op!r}")

    async def _settle(
        self, connection: AgentConnection, op: str, args: dict[str, Any]
    ) -> dict[str, Any]:
        """What the process has open: an answer, a tool's result, or (``adopt``) a hub
        that restarted, to be told all of it again."""
        if op == "answer":
            answer = answer_from_wire(args["answer"])
            ask = self.asks.pop(str(args["request_id"]), None)
            if ask is None:
                return {"delivered": False}
            delivered = await connection.answer(ask, answer)
            # Answered: a hub that restarted before it heard of the ask again (it comes
            # again from the spool if unacknowledged) must close it too.
            self.closed(ask.request_id)
            return {"delivered": delivered}
        if op == "tool_result":
            result = result_from_wire(args["result"])
            call = self.calls.pop(str(args["call_id"]), None)
            if call is None:
                return {"delivered": False}
            delivered = await connection.tool_result(call.call_id, result)
            self.closed(call.call_id)  # as an answered ask
            return {"delivered": delivered}
        return await self._tell_again(connection)  # adopt: what the hub had open is gone

    async def _tell_again(self, connection: AgentConnection) -> dict[str, Any]:
        for ask in list(self.asks.values()):
            self.tell(ask)
        for call in list(self.calls.values()):
            problem = self.tell_call(call)
            if problem is not None and self.calls.pop(call.call_id, None) is not None:
                await connection.tool_result(call.call_id, ToolResult(problem, is_error=True))
        return {"asks": len(self.asks), "tool_calls": len(self.calls)}
