"""``switchboard serve --demo`` with the real CLI: every feature, offline, prompt after prompt."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.config import DEMO_PROJECT_DIR
from switchboard.scripted_model.demo_script import LOG_LINE, NOTES_FILE
from tests.conftest import ClaudeBinary
from tests.support.demo import bare_environment
from tests.support.hub import Followed, asked_tools, connect, follow_answering
from tests.support.server import RunningServer, run_prompt, start_server

pytestmark = pytest.mark.timeout(240)

ANSWERS = {"Bash": "allow", "AskUserQuestion": "A greeting", "Edit": "allow"}
"""What the person answers to each confirmation the demo asks for."""


def start_demo(tmp_path: Path, claude: ClaudeBinary) -> RunningServer:
    """A demo server whose own environment has no usable model (see bare_environment)."""
    home = tmp_path / "home"
    home.mkdir()
    # A run that misses the demo's model fails within a minute, not after all the retries.
    argv = ["--demo", "--claude-bin", str(claude.path), "--run-timeout", "60"]
    return start_server(tmp_path, bare_environment(home), argv)


@pytest.fixture
def demo_server(tmp_path: Path, claude_bin: ClaudeBinary) -> Iterator[RunningServer]:
    server = start_demo(tmp_path, claude_bin)
    yield server
    server.stop()


def cli_messages(seen: Followed, kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in seen.events if e["kind"] == "cli" and e["data"]["type"] == kind]


def assistant_text(seen: Followed) -> str:
    return "".join(
        block.get("text", "")
        for message in cli_messages(seen, "assistant")
        for block in message["message"]["content"]
    )


def tool_results(seen: Followed) -> str:
    """Every tool result the CLI sent back to the model, and its structured form."""
    return json.dumps(
        [
            [message["message"]["content"], message.get("tool_use_result")]
            for message in cli_messages(seen, "user")
        ]
    )


async def banner_tail(server: RunningServer) -> str:
    """The banner's lines after those :func:`start_server` read, up to its last (the
    one that says how to leave the demo)."""
    assert server.process.stdout is not None
    lines: list[str] = []
    while not lines or "without --demo" not in lines[-1]:
        line = await asyncio.to_thread(server.process.stdout.readline)
        assert line, f"the banner ended without saying how to leave the demo: {lines}"
        lines.append(line)
    return "".join(lines)


async def test_the_demo_shows_every_feature_for_each_prompt(demo_server: RunningServer) -> None:
    notes = demo_server.data_dir / DEMO_PROJECT_DIR / NOTES_FILE
    async with asyncio.timeout(10):
        banner = await banner_tail(demo_server)
    assert "Offline demo" in banner and "without --demo" in banner
    async with await connect(demo_server) as client:
        [project] = client.snapshot["projects"]
        assert project["name"] == "demo" and Path(project["path"]) == notes.parent.resolve()
        await client.subscribe(project["id"])
        for prompt_number in (1, 2):
            run = await client.prompt(project["id"], f"Show me around ({prompt_number})")
            seen = await follow_answering(
                client, run["id"], lambda confirmation: ANSWERS[confirmation["tool_name"]]
            )
            asked = asked_tools(seen)

            assert seen.final["state"] == "completed", seen.final
            assert asked == ["Bash", "AskUserQuestion", "Edit"]
            text = assistant_text(seen)
            for markdown in ("# Welcome", "- a **question**", "| step | tool |", "```python"):
                assert markdown in text
            results = tool_results(seen)
            assert "README.md" in results and "Hello from the Switchboard demo" in results
            assert '\\"What should I add to the notes?\\"=\\"A greeting\\"' in results
            assert "structuredPatch" in results and json.dumps("+" + LOG_LINE.rstrip()) in results
            [result] = cli_messages(seen, "result")
            assert result["is_error"] is False and result["permission_denials"] == []
            assert notes.read_text().count(LOG_LINE) == prompt_number


async def test_ws_claude_runs_go_to_the_demo_model_in_the_demo_project(
    tmp_path: Path, bundled_claude_bin: ClaudeBinary
) -> None:
    server = start_demo(tmp_path, bundled_claude_bin)
    try:
        transcript = await run_prompt(server, "Show me around")
    finally:
        server.stop()
    assert transcript.close_code == 1000, transcript.frames
    [init] = [m for m in transcript.of_type("system") if m.get("subtype") == "init"]
    assert Path(init["cwd"]) == (server.data_dir / DEMO_PROJECT_DIR).resolve()
    assert transcript.result["is_error"] is False
    text = json.dumps(transcript.of_type("assistant"))
    assert "# Welcome to the Switchboard demo" in text and "## Done" in text
