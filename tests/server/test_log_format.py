"""``--log-format json``: every log line is one JSON object, and the lines about a run
carry its project and run, those of a connection its connection."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import add_and_watch, connect, prompt_and_follow

pytestmark = pytest.mark.timeout(60)


def log_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_json_lines_carry_the_project_run_and_connection(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(FAKE_AGENT, "--log-format", "json", record_spawns=False)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        seen = await prompt_and_follow(client, project["id"], "hello")
        await client.request("heartbeat")
    assert seen.final["state"] == "completed"
    server.stop()
    lines = log_lines(server.log())  # each line parses, or this fails
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    started = [line for line in lines if line["message"].startswith("started claude pid=")]
    assert started, [line["message"] for line in lines]
    assert (started[0]["project"], started[0]["run"]) == (project["id"], seen.final["id"])
    assert "connection" not in started[0], "the project's work is not its opener's"
    accepted = [line for line in lines if "WebSocket /ws" in line["message"]]
    assert accepted and accepted[0]["connection"].startswith("ws-")
    assert "token=***" in accepted[0]["message"], "tokens stay redacted"
