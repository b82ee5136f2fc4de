"""CLI lines that hold lone surrogates or huge integers (the fake agent prints them):
stored, replayed and printed safely, and passed on unchanged."""

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.e2e.test_client_commands import command_line
from tests.support.hub import add_and_watch, connect, prompt_and_follow, raw_socket, reply
from tests.support.neighbour import Neighbour
from tests.support.server import RunningServer, run_prompt

pytestmark = pytest.mark.timeout(60)

DIGITS = "9" * 5000
"""More digits than Python's int() takes from a string (4300)."""

LINES = [
    '{"type":"system","subtype":"init","session_id":"s1"}',
    '{"type":"assistant","message":{"content":[{"type":"text","text":"lone \\ud800 here"}]},'
    f'"n":{DIGITS}}}',
    '{"type":"user","message":{"content":[{"type":"tool_result","content":"x\\udfff"}]}}',
    '{"type":"result","subtype":"error_during_execution","is_error":true,'
    f'"result":"bad \\ud800","num_turns":{DIGITS},"duration_ms":{"1" * 30},'
    f'"usage":{{"input_tokens":{DIGITS}}},"session_id":"s\\udc00"}}',
]


@pytest.fixture
def server(servers: ServerFactory, tmp_path: Path) -> RunningServer:
    script = tmp_path / "lines.jsonl"
    script.write_text("".join(line + "\n" for line in LINES))
    return servers.start(
        FAKE_AGENT, record_spawns=False, FAKE_AGENT_MODE="lines", FAKE_AGENT_LINES=str(script)
    )


@pytest.fixture
async def neighbour(server: RunningServer, tmp_path: Path) -> AsyncIterator[Neighbour]:
    (tmp_path / "other").mkdir()
    joined = await Neighbour.join(server, tmp_path / "other")
    yield joined
    await joined.close()


async def test_the_run_ends_and_its_lines_are_stored_replayed_and_printed(
    server: RunningServer, neighbour: Neighbour, project_dir: Path
) -> None:
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir, "odd")
        seen = await prompt_and_follow(client, project["id"], "go", timeout=30)
    # The result's text (a value Switchboard reads) has U+FFFD for the lone surrogate;
    # figures beyond what the database stores are left out. The run is recorded.
    assert seen.final["state"] == "failed"
    assert seen.final["error"] == "bad \ufffd"
    assert (seen.final["num_turns"], seen.final["duration_ms"]) == (None, None)
    assert seen.final["session_id"] == "s\ufffd"
    assert [e["kind"] for e in seen.events if e["kind"].startswith("cli")] == ["cli"] * 4
    # The library reads each as JSON.parse would: the 5000 digits as a float (inf).
    assert seen.events[3]["data"]["n"] == float("inf")
    assert seen.events[4]["data"]["message"]["content"][0]["content"] == "x\udfff"

    # Replayed from the store: each line exactly as the CLI printed it.
    ws = await raw_socket(server, max_size=None)
    try:
        await reply(ws, {"type": "subscribe", "project": "odd", "id": 1})
        frames: list[str] = []
        async with asyncio.timeout(10):
            while '"type":"caught_up"' not in (frame := await ws.recv()):
                frames.append(frame)
    finally:
        await ws.close()
    cli = [f for f in frames if '"kind":"cli"' in f]
    assert [f[f.index('"data":') + len('"data":') : -1] for f in cli] == LINES

    # switchboard tail --since 0 prints the whole history.
    tail = subprocess.Popen(
        command_line(server, "tail", "odd", "--since", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert tail.stdout is not None
        printed = [tail.stdout.readline() for _ in range(5)]
    finally:
        tail.kill()
        _, errors = tail.communicate(timeout=10)
    assert "Traceback" not in errors, errors
    assert "lone \ufffd here" in printed[2]
    assert "x\ufffd" in printed[3]
    assert "failed: bad \ufffd" in printed[4]

    await neighbour.check()
    assert "Traceback" not in server.log()


async def test_ws_claude_passes_such_lines_on_unchanged(server: RunningServer) -> None:
    run = await run_prompt(server, "go")
    assert run.frames == LINES
    assert run.close_code == 1000


def test_the_lines_are_what_python_cannot_read_plainly() -> None:
    """The fixture is what it claims: json refuses the digits; the surrogates are lone."""
    with pytest.raises(ValueError, match="digits"):
        json.loads(LINES[1])
    text = json.loads(LINES[2])["message"]["content"][0]["content"]
    with pytest.raises(UnicodeEncodeError):
        text.encode("utf-8")
