"""The agent's side of the back-channel: a process's calls of Switchboard's tools go to
the hub as ``tool_call`` messages (through the spool, told again when a hub that
restarted adopts the process), and the hub's ``tool_result`` reaches the process once;
a call that cannot reach the hub is answered on the agent with an error."""

import asyncio
import json
from pathlib import Path
from typing import Any

from switchboard.agents.base import FileState, ToolCall, ToolResult
from switchboard.agents.remote.codec import call_from_wire, result_to_wire
from switchboard.remote_agent.fitting import ENVELOPE_BYTES, fit_call
from switchboard.remote_agent.host import SessionHost
from switchboard.remote_agent.spool import Spool
from tests.remote_agent.calling_agent import CallingDriver
from tests.remote_agent.test_session_host import Hub

APPROVAL = ToolCall(
    "req-1",
    "request_approval",
    {"summary": "s", "changes": [{"path": "a.txt", "new_content": "x\n"}]},
    {"a.txt": FileState("old\n")},
)


async def launched(
    tmp_path: Path, hub: Hub, max_bytes: int = 64 * 1024, **args: Any
) -> tuple[SessionHost, CallingDriver, "asyncio.Task[None]"]:
    """A host linked to ``hub``, with one process launched as session s1."""
    driver = CallingDriver()
    host = SessionHost(driver, (tmp_path.resolve(),), Spool(tmp_path / "spool", 1 << 20))
    link = hub.link(host, max_bytes)
    (tmp_path / "app").mkdir()
    app = str((tmp_path / "app").resolve())
    reply = await hub.reply(host, 1, "launch", session="s1", args={"cwd": app, **args})
    assert "result" in reply, reply
    return host, driver, link


async def messages_of(hub: Hub, kind: str, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        while len(found := [m for m in hub.sent if m["type"] == kind]) < count:
            hub.arrived.clear()
            await hub.arrived.wait()
    return found


async def test_a_tool_call_goes_to_the_hub_and_its_result_comes_back_once(
    tmp_path: Path,
) -> None:
    hub = Hub()
    host, driver, link = await launched(tmp_path, hub, back_channel=True)
    assert driver.specs[0].back_channel
    [agent] = driver.agents
    calling = asyncio.create_task(agent.call_tool(APPROVAL))
    [told] = await messages_of(hub, "tool_call", 1)
    assert told["session"] == "s1" and call_from_wire(told["call"]) == APPROVAL  # files too

    result = {"call_id": "req-1", "result": result_to_wire(ToolResult("approved: ok"))}
    answered = await hub.reply(host, 2, "tool_result", session="s1", args=result)
    assert answered["result"] == {"delivered": True}
    async with asyncio.timeout(5):
        assert await calling == ToolResult("approved: ok")
    [closed] = await messages_of(hub, "withdrawn", 1)  # for a hub that hears the call
    assert closed["request_id"] == "req-1" and closed["seq"] > told["seq"]  # again
    again = await hub.reply(host, 3, "tool_result", session="s1", args=result)
    assert again["result"] == {"delivered": False}  # answered already
    bad = await hub.reply(host, 4, "tool_result", session="s1", args={"call_id": "req-1"})
    assert bad["error"]["code"] == "bad_command"
    link.cancel()
    await host.close_all()


async def test_a_hub_that_restarted_hears_an_open_tool_call_again_and_answers_it(
    tmp_path: Path,
) -> None:
    hub = Hub()
    host, driver, link = await launched(tmp_path, hub, back_channel=True)
    [agent] = driver.agents
    calling = asyncio.create_task(agent.call_tool(APPROVAL))
    await messages_of(hub, "tool_call", 1)
    adopted = await hub.reply(host, 2, "adopt", session="s1")
    assert adopted["result"] == {"asks": 0, "tool_calls": 1}
    first, second = await messages_of(hub, "tool_call", 2)
    assert second["call"] == first["call"] and second["seq"] > first["seq"]  # numbered anew
    result = {"call_id": "req-1", "result": result_to_wire(ToolResult("rejected", True))}
    answered = await hub.reply(host, 3, "tool_result", session="s1", args=result)
    assert answered["result"] == {"delivered": True}
    async with asyncio.timeout(5):
        assert await calling == ToolResult("rejected", is_error=True)
    assert (await hub.reply(host, 4, "adopt", session="s1"))["result"] == {
        "asks": 0,
        "tool_calls": 0,
    }
    link.cancel()
    await host.close_all()


async def test_a_tool_call_the_process_withdraws_is_withdrawn_for_the_hub(tmp_path: Path) -> None:
    hub = Hub()
    host, driver, link = await launched(tmp_path, hub, back_channel=True)
    [agent] = driver.agents
    calling = asyncio.create_task(agent.call_tool(ToolCall("req-2", "get_diagnostics", {})))
    await messages_of(hub, "tool_call", 1)
    await agent.withdraw("req-2")
    [closed] = await messages_of(hub, "withdrawn", 1)
    assert closed["request_id"] == "req-2"
    result = {"call_id": "req-2", "result": result_to_wire(ToolResult("late"))}
    late = await hub.reply(host, 2, "tool_result", session="s1", args=result)
    assert late["result"] == {"delivered": False}
    assert (await hub.reply(host, 3, "adopt", session="s1"))["result"]["tool_calls"] == 0
    await asyncio.gather(calling, return_exceptions=True)
    link.cancel()
    await host.close_all()


async def test_a_launch_that_does_not_ask_for_the_back_channel_gets_none(tmp_path: Path) -> None:
    hub = Hub()
    host, driver, link = await launched(tmp_path, hub)  # a hub that does not say
    assert not driver.specs[0].back_channel
    link.cancel()
    await host.close_all()


async def test_a_call_too_large_for_the_hub_leaves_out_files_or_is_answered_here(
    tmp_path: Path,
) -> None:
    limit = 16 * 1024
    hub = Hub()
    host, driver, link = await launched(tmp_path, hub, max_bytes=limit, back_channel=True)
    [agent] = driver.agents
    big = "y" * 20_000
    files = {"a.txt": FileState("small\n"), "b.txt": FileState(big), "c.txt": FileState(None)}
    calling = asyncio.create_task(agent.call_tool(ToolCall("req-3", "request_approval", {}, files)))
    [told] = await messages_of(hub, "tool_call", 1)
    assert len(json.dumps(told)) <= limit
    sent = call_from_wire(told["call"])
    assert sent.files["a.txt"] == files["a.txt"] and sent.files["c.txt"] == files["c.txt"]
    assert sent.files["b.txt"].content is None
    assert "too large" in str(sent.files["b.txt"].problem)
    calling.cancel()

    huge = ToolCall("req-4", "show_diff", {"path": "a", "new_content": big})
    result = await asyncio.wait_for(agent.call_tool(huge), 5)  # answered on the agent
    assert result.is_error and "too large" in result.text
    assert len([m for m in hub.sent if m["type"] == "tool_call"]) == 1  # never sent
    link.cancel()
    await host.close_all()


def test_a_call_is_fitted_by_leaving_out_its_largest_files_first() -> None:
    files = {f"f{n}": FileState("z" * (n * 1000)) for n in range(1, 6)}
    call = ToolCall("req-5", "request_approval", {"summary": "s"}, files)
    assert fit_call(call, 1 << 20) is not None
    assert call_from_wire(fit_call(call, 1 << 20) or {}) == call  # fits: whole
    fitted = fit_call(call, ENVELOPE_BYTES + 8000)
    assert fitted is not None and len(json.dumps(fitted)) <= 8000
    kept = {path for path, state in call_from_wire(fitted).files.items() if state.content}
    assert kept == {"f1", "f2", "f3"}  # f5 and f4 left out, the rest fit
    assert fit_call(call, ENVELOPE_BYTES + 50) is None  # not even the call itself
