"""Supervisor tests with a fake agent: crashes, hangs, floods, garbage, process families."""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.claude.launch import ClaudeOptions
from switchboard.agents.claude.process import ClaudeProcess
from switchboard.agents.claude.stream_json import BadLine, CliMessage
from switchboard.agents.process import AgentProcess, BoundedTail
from switchboard.exceptions import AgentGoneError, AgentSpawnError
from tests.conftest import FAKE_AGENT
from tests.support.processes import alive, group_members, wait_exited, wait_group_gone


async def spawn(mode: str, *args: str, **kwargs: object) -> AgentProcess:
    argv = [sys.executable, str(FAKE_AGENT), mode, *args]
    return await AgentProcess.spawn(argv, cwd=Path.cwd(), env=os.environ, **kwargs)  # type: ignore[arg-type]


async def first_line(process: AgentProcess) -> dict[str, Any]:
    buffer = b""
    while b"\n" not in buffer:
        chunk = await process.read_stdout()
        assert chunk, "agent closed stdout early"
        buffer += chunk
    result: dict[str, Any] = json.loads(buffer.split(b"\n", 1)[0])
    return result


def fake_claude(tmp_path: Path, mode: str, **options: object) -> ClaudeProcess:
    env = {**os.environ, "FAKE_AGENT_MODE": mode}
    return ClaudeProcess(ClaudeOptions(FAKE_AGENT, tmp_path, env, **options))  # type: ignore[arg-type]


async def drain(claude: ClaudeProcess) -> list[CliMessage | BadLine]:
    return [item async for item in claude.output()]


async def test_child_runs_in_its_own_process_group() -> None:
    process = await spawn("hang")
    try:
        await first_line(process)
        assert os.getpgid(process.pid) == process.pid == process.pgid
        assert os.getpgid(process.pid) != os.getpgid(0)
    finally:
        await process.aclose(grace=1)


async def test_crash_reports_exit_status_and_stderr(tmp_path: Path) -> None:
    async with fake_claude(tmp_path, "crash") as claude:
        items = await drain(claude)
        assert await claude.wait() == 3
    assert [i.type for i in items if isinstance(i, CliMessage)] == ["system"]
    assert "fake agent: something broke" in claude.stderr_text


async def test_hang_is_terminated_with_sigterm() -> None:
    process = await spawn("hang")
    await first_line(process)
    assert await process.terminate(grace=5) == -signal.SIGTERM
    assert not alive(process.pid)
    await process.aclose(grace=1)


async def test_process_ignoring_sigterm_is_killed_after_the_grace() -> None:
    process = await spawn("stubborn")
    await first_line(process)  # SIGTERM is ignored from here on
    assert await process.terminate(grace=0.3) == -signal.SIGKILL
    assert group_members(process.pgid) == []
    await process.aclose(grace=1)


async def test_terminate_is_idempotent() -> None:
    process = await spawn("hang")
    await first_line(process)
    first = await process.terminate(grace=2)
    assert await process.terminate(grace=2) == first
    assert await process.aclose(grace=2) == first


async def test_cancelled_teardown_still_kills_the_group() -> None:
    process = await spawn("stubborn")
    await first_line(process)
    teardown = asyncio.create_task(process.terminate(grace=30))
    for _ in range(5):
        await asyncio.sleep(0)  # let it send SIGTERM and start the grace wait
    assert not teardown.done()
    teardown.cancel()
    with pytest.raises(asyncio.CancelledError):
        await teardown
    assert await process.wait() == -signal.SIGKILL
    await process.aclose(grace=1)


async def test_flood_of_100000_lines_arrives_complete_and_in_order(tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_AGENT_MODE": "flood", "FAKE_AGENT_N": "100000"}
    async with ClaudeProcess(ClaudeOptions(FAKE_AGENT, tmp_path, env)) as claude:
        count = 0
        async for item in claude.output():
            assert isinstance(item, CliMessage)
            assert item.data["seq"] == count
            count += 1
        assert await claude.wait() == 0
    assert count == 100_000


async def test_a_slow_consumer_takes_what_piled_up_as_one_batch_in_order(tmp_path: Path) -> None:
    """While the consumer is busy with a batch (a commit, say), the lines read meanwhile
    come as one batch next, in order: a line-by-line CLI never gets a commit per line."""
    env = {**os.environ, "FAKE_AGENT_MODE": "flood", "FAKE_AGENT_N": "20000"}
    async with ClaudeProcess(ClaudeOptions(FAKE_AGENT, tmp_path, env)) as claude:
        sizes: list[int] = []
        seqs: list[int] = []
        async for batch in claude.output_batches():
            sizes.append(len(batch))
            seqs.extend(item.data["seq"] for item in batch if isinstance(item, CliMessage))
            await asyncio.sleep(0.05)  # busy: chunks pile up meanwhile
        assert await claude.wait() == 0
    assert seqs == list(range(20_000))
    assert max(sizes) > 2000  # more than one read's chunk of these lines in a batch


async def test_non_json_lines_are_reported_and_reading_continues(tmp_path: Path) -> None:
    async with fake_claude(tmp_path, "garbage") as claude:
        items = await drain(claude)
        assert await claude.wait() == 0
    kinds = [i.reason if isinstance(i, BadLine) else i.type for i in items]
    assert kinds == ["system", "not_json", "not_object", "not_utf8", "result"]
    first_bad = items[1]
    assert isinstance(first_bad, BadLine) and first_bad.preview == "this is not json"


async def test_line_over_the_limit_is_reported_and_the_next_line_arrives(tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_AGENT_MODE": "overlong", "FAKE_AGENT_N": "200000"}
    options = ClaudeOptions(FAKE_AGENT, tmp_path, env, max_line_bytes=50_000)
    async with ClaudeProcess(options) as claude:
        items = await drain(claude)
        assert await claude.wait() == 0
    assert isinstance(items[0], BadLine) and items[0].reason == "too_long"
    assert items[0].size > 200_000
    assert isinstance(items[1], CliMessage) and items[1].is_result


async def test_stderr_capture_is_bounded(tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_AGENT_MODE": "stderr-flood", "FAKE_AGENT_N": "1000000"}
    options = ClaudeOptions(FAKE_AGENT, tmp_path, env, stderr_limit=4096)
    async with ClaudeProcess(options) as claude:
        await drain(claude)
        await claude.wait()
    await claude.aclose()
    text = claude.stderr_text
    assert text.startswith("[995904 earlier bytes dropped]\n")
    assert text.endswith("e" * 4096)


def test_bounded_tail_keeps_the_last_bytes() -> None:
    tail = BoundedTail(5)
    tail.add(b"abc")
    tail.add(b"defg")
    assert (tail.text(), tail.dropped) == ("[2 earlier bytes dropped]\ncdefg", 2)


async def test_children_and_grandchildren_die_with_the_group() -> None:
    process = await spawn("spawn")
    family = await first_line(process)
    pids = [process.pid, *family["pids"]]
    assert all(alive(pid) for pid in pids)
    await process.aclose(grace=1)
    assert wait_exited(pids, timeout=5) == []
    assert wait_group_gone(process.pgid, timeout=5) == []


async def test_leftovers_die_when_the_agent_exits_on_its_own() -> None:
    process = await spawn("spawn-exit")
    family = await first_line(process)
    assert await process.wait() == 0
    assert wait_exited(family["pids"], timeout=5) == []
    await process.aclose(grace=1)


async def test_missing_binary_is_a_spawn_error(tmp_path: Path) -> None:
    with pytest.raises(AgentSpawnError, match="could not start"):
        await AgentProcess.spawn([str(tmp_path / "missing")], cwd=tmp_path, env={})


async def test_missing_working_directory_is_a_spawn_error(tmp_path: Path) -> None:
    with pytest.raises(AgentSpawnError):
        await AgentProcess.spawn([sys.executable, "-c", "pass"], cwd=tmp_path / "no", env={})


async def test_writing_to_an_exited_agent_raises_agent_gone(tmp_path: Path) -> None:
    async with fake_claude(tmp_path, "crash") as claude:
        await drain(claude)
        await claude.wait()
        await claude.process.wait()

        async def write_until_broken() -> None:
            for _ in range(100):  # the pipe may accept a few writes before it breaks
                await claude.send_user("x" * 65536)

        with pytest.raises(AgentGoneError):
            await write_until_broken()


async def test_fake_round_trip_through_stdin(tmp_path: Path) -> None:
    async with fake_claude(tmp_path, "ok") as claude:
        await claude.send_user("ping")
        items = []
        async for item in claude.output():
            items.append(item)
            if isinstance(item, CliMessage) and item.is_result:
                claude.close_stdin()
        assert await claude.wait() == 0
    result = items[-1]
    assert isinstance(result, CliMessage) and result.data["result"] == "ping"


async def test_cancel_escalates_to_the_group_when_interrupt_is_ignored(
    tmp_path: Path,
) -> None:
    env = {"FAKE_AGENT_MODE": "hang", "PATH": "/usr/bin:/bin"}
    async with ClaudeProcess(ClaudeOptions(FAKE_AGENT, tmp_path, env)) as claude:
        await claude.send_user("anything")  # the fake never reads stdin: interrupt is ignored
        output = claude.output()
        first = await anext(output)  # it has started (and ignores what it is sent)
        assert isinstance(first, CliMessage) and first.type == "system"
        rest = asyncio.create_task(anext(output, None))
        assert await claude.cancel(interrupt_grace=0.3, kill_grace=2) is False
        assert claude.process.returncode == -signal.SIGTERM
        assert await rest is None  # nothing more came


async def test_the_whole_group_gets_the_grace_when_a_run_is_stopped(tmp_path: Path) -> None:
    marker = tmp_path / "cleaned"
    env = {**os.environ, "FAKE_AGENT_MARKER": str(marker)}
    argv = [sys.executable, str(FAKE_AGENT), "graceful"]
    process = await AgentProcess.spawn(argv, cwd=tmp_path, env=env)
    family = await first_line(process)
    # The agent dies on SIGTERM at once; its child needs 0.2 s to clean up.
    assert await process.aclose(grace=5) == -signal.SIGTERM
    assert marker.read_text() == "cleaned up"
    assert wait_exited(family["pids"], timeout=5) == []


async def test_leftovers_of_a_finished_agent_also_get_sigterm_first(tmp_path: Path) -> None:
    marker = tmp_path / "cleaned"
    env = {**os.environ, "FAKE_AGENT_MARKER": str(marker)}
    argv = [sys.executable, str(FAKE_AGENT), "graceful-exit"]
    process = await AgentProcess.spawn(argv, cwd=tmp_path, env=env, leftover_grace=5)
    family = await first_line(process)
    assert await process.wait() == 0  # returns once the leftovers are gone
    assert marker.read_text() == "cleaned up"
    assert wait_exited(family["pids"], timeout=5) == []
    await process.aclose(grace=1)


async def test_a_setsid_escapee_cannot_hold_the_output_open(tmp_path: Path) -> None:
    """The documented limit: an escaped descendant survives, but the run still ends."""
    argv = [sys.executable, str(FAKE_AGENT), "escape"]
    process = await AgentProcess.spawn(argv, cwd=tmp_path, env=os.environ, eof_grace=1.0)
    escapee = (await first_line(process))["pid"]
    try:
        assert await process.wait() == 0
        while await process.read_stdout():  # the escapee keeps printing into the pipe
            pass  # ...yet reading ends: one total deadline after the agent's exit
        await process.aclose(grace=1)
    finally:
        os.kill(escapee, signal.SIGKILL)


async def test_consumers_see_the_end_when_the_process_is_closed(tmp_path: Path) -> None:
    async with fake_claude(tmp_path, "hang") as claude:
        output = claude.output()
        first = await anext(output)
        assert isinstance(first, CliMessage) and first.type == "system"
        rest = asyncio.create_task(anext(output, None))  # waits: the agent hangs
        await claude.aclose(grace=1)
        assert await asyncio.wait_for(rest, 10) is None  # the end, not a hang


async def test_requests_fail_fast_once_the_output_has_ended(tmp_path: Path) -> None:
    async with fake_claude(tmp_path, "crash") as claude:
        await drain(claude)
        with pytest.raises(AgentGoneError):
            await claude.request(claude.control.interrupt())


async def test_permission_requests_are_denied_when_nobody_was_given_to_ask(
    tmp_path: Path,
) -> None:
    async with fake_claude(tmp_path, "ask") as claude:
        items = await drain(claude)
    answer = items[-1]
    assert isinstance(answer, CliMessage)
    assert answer.data["answer"] == {
        "subtype": "success",
        "request_id": "ask-1",
        "response": {"behavior": "deny", "message": "Switchboard has no approver for this run"},
    }


async def test_settings_do_not_leak_into_the_agent_environment(tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_AGENT_MODE": "env", "SWITCHBOARD_TOKEN": "secret"}
    options = ClaudeOptions(FAKE_AGENT, tmp_path, env, extra_env={"SWITCHBOARD_META": "T-1"})
    async with ClaudeProcess(options) as claude:
        items = await drain(claude)
    report = items[0]
    assert isinstance(report, CliMessage)
    assert report.data["names"] == ["SWITCHBOARD_META"]
    assert report.data["meta"] == "T-1"
