"""The hub's side of a process on a remote agent, without a link: what the agent sends
comes out in order, is acknowledged once the consumer has taken it, and no more than
``MAX_PENDING_CHARS`` of it waits at once (the link stops reading past that). A process
taken back after a hub restart goes on from its resume mark. Its back-channel tool
calls reach the session's handler once, and their results go back as commands."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.base import (
    AgentConnection,
    FileState,
    LaunchSpec,
    OutputLine,
    PermissionAsk,
    ToolCall,
    ToolResult,
)
from switchboard.agents.remote.codec import call_to_wire
from switchboard.agents.remote.driver import MAX_PENDING_CHARS, RemoteConnection, RemoteDriver
from switchboard.hub.agent_sessions import AgentSessions


async def test_output_past_the_bound_holds_the_link_until_it_is_stored() -> None:
    sessions: dict[str, RemoteConnection] = {}
    connection = RemoteConnection(lambda: None, "s1", None, sessions)
    sessions["s1"] = connection
    finished: list[int] = []
    text = "x" * (MAX_PENDING_CHARS // 2 + 1)
    half = {"kind": "line", "text": text, "starts_turn": False}

    def finisher(number: int) -> Callable[[], None]:
        return lambda: finished.append(number)

    for number in range(3):
        connection.on_output(number, [half], 0, True, finisher(number))
    room = asyncio.ensure_future(connection.room())
    await asyncio.sleep(0)
    assert not room.done()  # three halves wait: the link must not read more

    batches = connection.batches()
    first = await anext(batches)
    assert first == [OutputLine(text)] and finished == []  # not stored yet
    await anext(batches)  # the consumer came back: the first one is stored
    assert finished == [0]
    await asyncio.sleep(0)
    assert not room.done()  # two halves still wait: still more than the bound
    await anext(batches)
    assert finished == [0, 1]
    async with asyncio.timeout(1):
        await room  # one half is below the bound: the link reads again
    connection.on_exited(0, "")
    rest: list[Any] = [batch async for batch in batches]
    assert rest == [] and finished == [0, 1, 2]
    assert sessions == {}  # an exited process is forgotten


async def test_what_is_not_an_agent_event_is_refused() -> None:
    connection = RemoteConnection(lambda: None, "s1", None, {})
    for bad in ({"kind": "line"}, {"kind": "launch"}, {"kind": "line", "text": 5}):
        with pytest.raises(ValueError, match="agent event"):
            connection.on_output(1, [bad], 0, False, lambda: None)


def line(text: str) -> dict[str, Any]:
    return {"kind": "line", "text": text, "starts_turn": False}


async def test_a_process_taken_back_drops_what_was_stored_and_marks_where_it_is() -> None:
    """After a hub restart the agent sends again what it had not seen acknowledged;
    the mark stored with the events says which of it the log already holds."""
    finished: list[int] = []
    taken_back = RemoteConnection(lambda: None, "s1", None, {}, stored=(5, 2))
    assert json.loads(taken_back.resume_mark(0) or "") == {
        "session": "s1",
        "seq": 5,
        "handled": 2,
    }
    taken_back.on_output(4, [line("old")], 0, True, lambda: finished.append(4))
    taken_back.on_output(5, [line("a"), line("b")], 0, True, lambda: finished.append(5))
    assert finished == [4, 5]  # all of them stored already: acknowledged at once
    taken_back.on_output(5, [line("a"), line("b"), line("c")], 0, True, lambda: None)
    taken_back.on_output(6, [line("d")], 0, True, lambda: None)
    batches = taken_back.batches()
    assert await anext(batches) == [OutputLine("c")]  # the rest of message 5
    assert json.loads(taken_back.resume_mark(1) or "")["handled"] == 3
    assert await anext(batches) == [OutputLine("d")]
    assert json.loads(taken_back.resume_mark(0) or "") == {
        "session": "s1",
        "seq": 6,
        "handled": 0,
    }
    assert not taken_back.lost
    taken_back.on_exited(None, "the agent no longer has it")
    assert taken_back.lost and taken_back.stderr_text == "the agent no longer has it"


async def test_output_sent_again_is_taken_once_and_finished_with_its_first_copy() -> None:
    """A node that let some of an agent's processes go counts the agent's messages
    afresh, and the agent sends again what was not acknowledged: a process still here
    drops what it took already, finishing it once its first copy is stored."""
    finished: list[str] = []
    connection = RemoteConnection(lambda: None, "s1", None, {})
    connection.on_output(1, [line("a")], 0, True, lambda: finished.append("1"))
    connection.on_output(2, [line("b")], 0, True, lambda: finished.append("2"))
    connection.on_output(1, [line("a")], 0, True, lambda: finished.append("1 again"))
    connection.on_output(2, [line("b")], 0, True, lambda: finished.append("2 again"))
    batches = connection.batches()
    assert await anext(batches) == [OutputLine("a")]
    assert finished == []
    assert await anext(batches) == [OutputLine("b")]
    assert finished == ["1", "1 again"]  # its first copy is stored: so is the echo
    connection.on_output(3, [line("c")], 0, True, lambda: finished.append("3"))
    assert await anext(batches) == [OutputLine("c")]  # nothing twice
    assert finished == ["1", "1 again", "2", "2 again"]
    connection.on_output(2, [line("b")], 0, True, lambda: finished.append("2 late"))
    assert finished[-1] == "2 late"  # stored long ago: finished at once


async def test_a_driver_takes_back_only_marks_it_can_read() -> None:
    sessions = AgentSessions("laptop", grace=60)
    driver = RemoteDriver("claude", ("default",), "laptop", lambda: None, sessions)
    for bad in ("not json", "{}", '{"session": "s1", "seq": "x", "handled": 0}'):
        assert await driver.resume(bad, None) is None
    mark = json.dumps({"session": "s1", "seq": 3, "handled": 1})
    connection = await driver.resume(mark, None)
    assert connection is not None and sessions.by_key == {"s1": connection}
    strangers, adopted = sessions.linked("spool-1", ["s1", "s9"], lambda _seq: None)
    assert (strangers, adopted) == (["s9"], ["s1"])
    assert sessions.linked("spool-1", ["s1"], lambda _seq: None) == ([], ["s1"])  # not yet
    sessions.adopted("s1")  # the agent took it
    assert sessions.linked("spool-1", ["s1"], lambda _seq: None) == ([], [])


async def test_a_process_taken_back_that_the_agent_no_longer_has_is_lost() -> None:
    sessions = AgentSessions("laptop", grace=60)
    driver = RemoteDriver("claude", ("default",), "laptop", lambda: None, sessions)
    connection = await driver.resume(json.dumps({"session": "s1", "seq": 0, "handled": 0}), None)
    assert connection is not None
    sessions.linked("spool-1", [], lambda _seq: None)  # the agent restarted meanwhile
    assert connection.lost and connection.returncode == -1
    assert sessions.by_key == {}


async def test_a_process_taken_back_is_lost_when_its_agent_stays_away() -> None:
    sessions = AgentSessions("laptop", grace=0.05)
    driver = RemoteDriver("claude", ("default",), "laptop", lambda: None, sessions)
    connection = await driver.resume(json.dumps({"session": "s1", "seq": 0, "handled": 0}), None)
    assert connection is not None
    async with asyncio.timeout(5):
        assert await connection.wait() == -1
    assert connection.lost and "stayed away" in connection.stderr_text


class Channel:
    """An agent's link that records each command, and answers as the agent would."""

    def __init__(self, **results: dict[str, Any]) -> None:
        self.commands: list[tuple[str, dict[str, Any], str | None]] = []
        self._results = results

    async def call(
        self, op: str, args: dict[str, Any], session: str | None = None
    ) -> dict[str, Any]:
        self.commands.append((op, json.loads(json.dumps(args)), session))
        return self._results.get(op, {})


class Handler:
    """The hub's session, as a remote process's asks and tool calls reach it."""

    def __init__(self) -> None:
        self.calls: list[tuple[AgentConnection, ToolCall]] = []
        self.withdrawn_ids: list[str] = []
        self.heard = asyncio.Event()

    async def asked(self, agent: AgentConnection, ask: PermissionAsk) -> None:
        raise AssertionError("no ask here")

    async def withdrawn(self, agent: AgentConnection, request_id: str) -> None:
        self.withdrawn_ids.append(request_id)
        self.heard.set()

    async def tool_called(self, agent: AgentConnection, call: ToolCall) -> None:
        self.calls.append((agent, call))
        self.heard.set()


async def settle(handler: Handler) -> None:
    async with asyncio.timeout(5):
        await handler.heard.wait()
    handler.heard.clear()
    await asyncio.sleep(0)


async def test_a_tool_call_from_the_agent_reaches_the_handler_once_and_its_result_goes_back() -> (
    None
):
    channel = Channel(tool_result={"delivered": True})
    handler = Handler()
    connection = RemoteConnection(lambda: channel, "s1", handler, {})
    agent: AgentConnection = connection  # the hub's session sees just a connection
    call = ToolCall(
        "req-7",
        "request_approval",
        {"summary": "s", "changes": [{"path": "a.txt", "new_content": "x\n"}]},
        {"a.txt": FileState(None)},
    )
    connection.on_tool_call(call_to_wire(call))
    await settle(handler)
    assert handler.calls == [(connection, call)]
    connection.on_tool_call(call_to_wire(call))  # told again (an adopt sent twice): once
    await asyncio.sleep(0.01)
    assert len(handler.calls) == 1

    assert await agent.tool_result("req-7", ToolResult("approved", is_error=False))
    result = {"text": "approved", "is_error": False}
    assert channel.commands == [("tool_result", {"call_id": "req-7", "result": result}, "s1")]
    connection.on_withdrawn("req-7")  # the agent closes what it delivered
    await settle(handler)
    assert handler.withdrawn_ids == ["req-7"]

    with pytest.raises(ValueError, match="tool call"):
        connection.on_tool_call({"call_id": "x"})


async def test_a_tool_call_withdrawn_by_the_agent_is_withdrawn_for_the_handler() -> None:
    handler = Handler()
    connection = RemoteConnection(lambda: None, "s1", handler, {})
    connection.on_tool_call(call_to_wire(ToolCall("req-1", "get_diagnostics", {})))
    await settle(handler)
    connection.on_withdrawn("req-1")
    await settle(handler)
    assert handler.withdrawn_ids == ["req-1"]
    assert not await connection.tool_result("req-1", ToolResult("late"))  # offline: not sent


async def test_without_a_handler_a_tool_call_is_answered_with_an_error_at_once() -> None:
    channel = Channel(tool_result={"delivered": True})
    connection = RemoteConnection(lambda: channel, "s1", None, {})
    connection.on_tool_call(call_to_wire(ToolCall("req-1", "notify_user", {"message": "hi"})))
    async with asyncio.timeout(5):
        while not channel.commands:
            await asyncio.sleep(0.01)
    [(op, args, session)] = channel.commands
    assert (op, args["call_id"], args["result"]["is_error"], session) == (
        "tool_result",
        "req-1",
        True,
        "s1",
    )


async def test_a_launch_on_the_agent_says_whether_the_cli_gets_the_back_channel(
    tmp_path: Path,
) -> None:
    channel = Channel(launch={"pid": 42})
    sessions = AgentSessions("laptop", grace=60)
    driver = RemoteDriver("claude", ("default",), "laptop", lambda: channel, sessions)
    for back_channel in (True, False):
        spec = LaunchSpec(cwd=tmp_path, back_channel=back_channel)
        connection = await driver.launch(spec, Handler())
        assert connection.pid == 42
    assert [args["back_channel"] for op, args, _ in channel.commands] == [True, False]


async def test_a_result_given_while_the_link_is_down_goes_once_the_link_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A person's decision is not lost with the link: it is sent again when the link
    returns (the CLI waits meanwhile), once."""
    monkeypatch.setattr("switchboard.agents.remote.connection.REDELIVERY_DELAYS", (0.01,))
    channel = Channel(tool_result={"delivered": True})
    linked: list[Channel | None] = [None]
    handler = Handler()
    connection = RemoteConnection(lambda: linked[0], "s1", handler, {})
    connection.on_tool_call(call_to_wire(ToolCall("req-1", "request_approval", {})))
    await settle(handler)
    assert await connection.tool_result("req-1", ToolResult('{"decision": "approved"}'))
    linked[0] = channel  # the link comes back
    async with asyncio.timeout(5):
        while not channel.commands:
            await asyncio.sleep(0.01)
    [(op, args, _session)] = channel.commands
    assert (op, args["call_id"]) == ("tool_result", "req-1")
    await asyncio.sleep(0.05)  # five more retry periods: none may send it again
    assert len(channel.commands) == 1, "sent once"
