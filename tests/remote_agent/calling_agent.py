"""The echo driver, with Switchboard's back-channel: its agents call Switchboard's tools
when a test says (:meth:`CallingAgent.call_tool`), as the Claude driver does when Claude
calls one, and take the results the hub sends back."""

import asyncio

from switchboard.agents.base import AskHandler, LaunchSpec, ToolCall, ToolResult
from tests.support.echo_agent import EchoAgent, EchoDriver


class CallingAgent(EchoAgent):
    def __init__(self, spec: LaunchSpec, handler: AskHandler | None) -> None:
        super().__init__(spec, handler)
        self.handler = handler
        self._waiting: dict[str, asyncio.Future[ToolResult]] = {}

    async def call_tool(self, call: ToolCall) -> ToolResult:
        """Call a tool, as the CLI would, and wait for its result."""
        assert self.handler is not None
        waiting: asyncio.Future[ToolResult] = asyncio.get_running_loop().create_future()
        self._waiting[call.call_id] = waiting
        await self.handler.tool_called(self, call)
        return await waiting

    async def withdraw(self, call_id: str) -> None:
        """The CLI stops waiting for the call (it was interrupted)."""
        assert self.handler is not None
        waiting = self._waiting.pop(call_id)
        waiting.cancel()
        await self.handler.withdrawn(self, call_id)

    async def tool_result(self, call_id: str, result: ToolResult) -> bool:
        waiting = self._waiting.pop(call_id, None)
        if waiting is None or waiting.done():
            return False
        waiting.set_result(result)
        return True


class CallingDriver(EchoDriver):
    def __init__(self) -> None:
        super().__init__()
        self.agents: list[CallingAgent] = []
        self.specs: list[LaunchSpec] = []

    async def launch(self, spec: LaunchSpec, handler: AskHandler | None) -> CallingAgent:
        agent = CallingAgent(spec, handler)
        self.launched.append(agent)
        self.agents.append(agent)
        self.specs.append(spec)
        return agent
