"""The agent's side of remote sessions, on the in-memory echo driver (its back-channel
kind, :mod:`tests.remote_agent.calling_agent`): it runs only what the hub asks inside
its allowed roots, answers every command, and fits what it sends to the hub's message
limit. (The real CLI across real processes is in tests/e2e/test_remote_runs_real.py.)"""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.base import AgentEvent, AskAnswer, OutputLine
from switchboard.agents.remote.codec import answer_to_wire
from switchboard.protocol.agent_link import LinkCommand, LinkOp
from switchboard.remote_agent.host import SessionHost
from switchboard.remote_agent.spool import Spool, SpoolFull
from tests.remote_agent.calling_agent import CallingDriver


class Hub:
    """What the host sends, as the hub would receive it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        json.dumps(message)  # it must be JSON
        self.sent.append(message)
        self.arrived.set()

    async def send_text(self, text: str) -> None:
        await self.send(json.loads(text))

    def link(self, host: SessionHost, max_bytes: int) -> "asyncio.Task[None]":
        """The host, linked to this hub (cancel the task: the link drops)."""
        return asyncio.create_task(host.linked(self.send, self.send_text, max_bytes, 60.0))

    async def reply(
        self, host: SessionHost, number: int, op: LinkOp, **fields: Any
    ) -> dict[str, Any]:
        host.take(LinkCommand(id=number, op=op, **fields))
        async with asyncio.timeout(10):
            while True:
                for message in self.sent:
                    if message.get("type") == "reply" and message["id"] == number:
                        return message
                self.arrived.clear()
                await self.arrived.wait()

    async def output_until(self, text: str) -> list[dict[str, Any]]:
        async with asyncio.timeout(10):
            while True:
                events = [
                    event
                    for message in self.sent
                    if message["type"] == "output"
                    for event in message["events"]
                ]
                if any(text in str(event.get("text", "")) for event in events):
                    return events
                self.arrived.clear()
                await self.arrived.wait()


async def test_the_host_runs_only_inside_its_roots_and_answers_every_command(
    tmp_path: Path,
) -> None:
    root = tmp_path / "code"
    (root / "app").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    hub = Hub()
    host = SessionHost(CallingDriver(), (root.resolve(),), Spool(tmp_path / "spool", 1 << 20))
    link = hub.link(host, 64 * 1024)
    app = str((root / "app").resolve())

    checked = await hub.reply(host, 1, "check_path", args={"path": app, "others": []})
    assert checked["result"] == {"path": app}
    refusals: dict[int, tuple[LinkOp, dict[str, Any], str]] = {
        2: ("check_path", {"path": str(tmp_path / "other"), "others": []}, "outside_roots"),
        3: ("check_path", {"path": app, "others": [app]}, "duplicate"),
        4: ("launch", {"cwd": str(tmp_path / "other")}, "outside_roots"),
        5: ("launch", {"cwd": str(root / "app" / ".." / "app")}, "bad_path"),
        6: ("prompt", {"text": "hi"}, "unknown_session"),
        7: ("launch", {}, "bad_command"),
    }
    for number, (op, args, code) in refusals.items():
        reply = await hub.reply(host, number, op, session="s1", args=args)
        assert reply["error"]["code"] == code, (op, reply)

    launched = await hub.reply(host, 8, "launch", session="s1", args={"cwd": app})
    assert launched["result"]["pid"] > 0
    await hub.reply(host, 9, "prompt", session="s1", args={"text": "hello there"})
    events = await hub.output_until("hello there")
    assert all(event["kind"] in ("line", "session", "turn_ended") for event in events)
    again = await hub.reply(host, 10, "launch", session="s1", args={"cwd": app})
    assert again["error"]["code"] == "bad_command"  # one launch per session key
    link.cancel()
    await host.close_all()


async def test_output_is_split_to_fit_and_a_line_too_big_becomes_an_error(
    tmp_path: Path,
) -> None:
    hub = Hub()
    limit = 16 * 1024
    driver = CallingDriver()
    host = SessionHost(driver, (tmp_path.resolve(),), Spool(tmp_path / "spool", 1 << 20))
    link = hub.link(host, limit)
    (tmp_path / "app").mkdir()
    app = str((tmp_path / "app").resolve())
    await hub.reply(host, 1, "launch", session="s1", args={"cwd": app})
    [echo] = driver.launched  # the echo process, to print through
    lines: list[AgentEvent] = [OutputLine("x" * 3000) for _ in range(20)]
    lines.append(OutputLine("y" * 40_000))
    echo.emit(lines)
    async with asyncio.timeout(10):
        while sum(len(m["events"]) for m in hub.sent if m["type"] == "output") < 23:
            hub.arrived.clear()
            await hub.arrived.wait()
    outputs = [m for m in hub.sent if m["type"] == "output"]
    assert all(len(json.dumps(m)) <= limit for m in outputs)
    assert len(outputs) > 2  # split
    events = [e for m in outputs for e in m["events"]]
    assert events[-1]["kind"] == "bad" and "more than the link" in events[-1]["error"]
    assert [m["seq"] for m in outputs] == sorted({m["seq"] for m in outputs})  # numbered
    link.cancel()
    await host.close_all()


async def test_output_waits_in_the_spool_while_the_link_is_down_and_comes_once(
    tmp_path: Path,
) -> None:
    hub = Hub()
    spool = Spool(tmp_path / "spool", 1 << 20)
    driver = CallingDriver()
    host = SessionHost(driver, (tmp_path.resolve(),), spool)
    (tmp_path / "app").mkdir()
    app = str((tmp_path / "app").resolve())
    link = hub.link(host, 64 * 1024)
    await hub.reply(host, 1, "launch", session="s1", args={"cwd": app})
    link.cancel()  # the link drops; the process goes on
    await asyncio.gather(link, return_exceptions=True)
    [echo] = driver.launched
    echo.emit([OutputLine("said while away")])
    async with asyncio.timeout(10):  # the host's pump keeps it in the spool
        while not any("said while away" in body for _, body in spool.after(0)):
            await asyncio.sleep(0.01)
    assert "s1" in host.held()
    hub.sent.clear()
    again = hub.link(host, 64 * 1024)  # back: everything not acknowledged, in order
    events = await hub.output_until("said while away")
    seqs = [m["seq"] for m in hub.sent if "seq" in m]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert [e["text"] for e in events if e["kind"] == "line"][-1] == "said while away"
    host.acked(seqs[-1])
    assert spool.size == 0 and spool.after(0) == []
    again.cancel()
    await host.close_all()


async def test_a_full_spool_stops_the_process_that_would_go_on_unrecorded(
    tmp_path: Path,
) -> None:
    """The hub is away and the spool is at its bound: the process is stopped, and what
    the spool holds stays for the hub."""
    spool = Spool(tmp_path / "spool", 4096)
    driver = CallingDriver()
    host = SessionHost(driver, (tmp_path.resolve(),), spool)
    (tmp_path / "app").mkdir()
    hub = Hub()
    link = hub.link(host, 64 * 1024)
    await hub.reply(
        host, 1, "launch", session="s1", args={"cwd": str((tmp_path / "app").resolve())}
    )
    link.cancel()
    await asyncio.gather(link, return_exceptions=True)
    [echo] = driver.launched
    for _ in range(10):
        echo.emit([OutputLine("z" * 1000)])
    async with asyncio.timeout(10):
        await echo.wait()  # stopped by the host
    assert echo.returncode is not None
    assert 4096 <= spool.size < 4096 + 2000  # it took messages up to its bound, then no more
    await host.close_all()


def test_the_spool_numbers_keeps_and_forgets_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", 1000)
    first = spool.put({"type": "output", "session": "a", "events": []})
    second = spool.put({"type": "exited", "session": "b", "returncode": 0, "stderr": ""})
    assert second > first
    sent = spool.after(0)
    assert [seq for seq, _ in sent] == [first, second]
    assert [json.loads(body)["seq"] for _, body in sent] == [first, second]
    assert spool.sessions() == {"a", "b"}
    spool.ack(first)
    assert [seq for seq, _ in spool.after(0)] == [second] and spool.sessions() == {"b"}
    again = Spool(tmp_path / "spool", 1000)  # reopened: the same spool, the rest kept
    assert again.spool_id == spool.spool_id and [s for s, _ in again.after(0)] == [second]
    while again.size < 1000:  # up to its bound
        again.put({"type": "output", "session": "c", "events": ["x" * 100]})
    with pytest.raises(SpoolFull):
        again.put({"type": "output", "session": "c", "events": []})
    again.ack(10_000)
    assert again.size == 0
    assert again.put({"type": "output", "session": "c", "events": []}) > second  # never reused


async def test_a_hub_that_restarted_adopts_a_process_and_hears_its_question_again(
    tmp_path: Path,
) -> None:
    hub = Hub()
    host = SessionHost(CallingDriver(), (tmp_path.resolve(),), Spool(tmp_path / "spool", 1 << 20))
    link = hub.link(host, 64 * 1024)
    (tmp_path / "app").mkdir()
    app = str((tmp_path / "app").resolve())
    await hub.reply(host, 1, "launch", session="s1", args={"cwd": app})
    await hub.reply(host, 2, "prompt", session="s1", args={"text": "ask first"})
    async with asyncio.timeout(10):
        while not any(m["type"] == "ask" for m in hub.sent):
            hub.arrived.clear()
            await hub.arrived.wait()
    [asked] = [m for m in hub.sent if m["type"] == "ask"]
    adopted = await hub.reply(host, 3, "adopt", session="s1")
    assert adopted["result"] == {"asks": 1, "tool_calls": 0}
    again = [m for m in hub.sent if m["type"] == "ask"]
    assert len(again) == 2 and again[1]["ask"] == asked["ask"]  # the same question
    assert again[1]["seq"] > asked["seq"]  # numbered anew: the hub takes it
    unknown = await hub.reply(host, 4, "adopt", session="s9")
    assert unknown["error"]["code"] == "unknown_session"
    request_id = asked["ask"]["request_id"]
    allow = answer_to_wire(AskAnswer(allow=True))
    args = {"request_id": request_id, "answer": allow}
    answered = await hub.reply(host, 5, "answer", session="s1", args=args)
    assert answered["result"] == {"delivered": True}
    closed = [m for m in hub.sent if m["type"] == "withdrawn"]  # for a hub that hears the
    assert [m["request_id"] for m in closed] == [request_id]  # ask again from the spool
    assert (await hub.reply(host, 6, "adopt", session="s1"))["result"]["asks"] == 0
    link.cancel()
    await host.close_all()
