"""The back-channel's client messages on /ws: diagnostics.publish and its documented
errors, who may publish, and turning a project's back-channel off."""

import json
from pathlib import Path
from typing import Any

import pytest
import websockets

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import add_and_watch, connect, prompt_and_follow, raw_socket, reply

pytestmark = pytest.mark.timeout(60)

RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 3}}


def publish(project: str, path: str, *diagnostics: Any) -> dict[str, Any]:
    return {
        "type": "diagnostics.publish",
        "id": 1,
        "project": project,
        "path": path,
        "diagnostics": list(diagnostics),
    }


@pytest.mark.parametrize(
    ("diagnostic", "problem"),
    [
        ({"range": RANGE}, "diagnostics.0.message: Field required"),
        ({"range": RANGE, "message": "m", "severity": 7}, "diagnostics.0.severity"),
        ({"range": {"start": {"line": -1, "character": 0}}, "message": "m"}, "line"),
        ({"range": RANGE, "message": "m", "extra": 1}, "Extra inputs are not permitted"),
        ({"range": RANGE, "message": "x" * 4001}, "at most 4000 characters"),
        ("not an object", "diagnostics.0"),
    ],
)
async def test_malformed_diagnostics_get_bad_message(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    diagnostic: Any,
    problem: str,
) -> None:
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await client.add_project(str(project_dir))
    ws = await raw_socket(server)
    async with ws:
        error = await reply(ws, publish(project["id"], "a.py", diagnostic))
        assert (error["type"], error["code"], error["id"]) == ("error", "bad_message", 1)
        assert problem in error["message"]
        fine = await reply(ws, publish(project["id"], "a.py", {"range": RANGE, "message": "m"}))
        assert fine["type"] == "ack", "the connection goes on"


async def test_diagnostics_paths_and_tokens(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    server = servers.start(bundled_claude_bin.path)
    good = {"range": RANGE, "message": "m", "severity": 2}
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        second = await client.add_project(str(other))
        ws = await raw_socket(server)
        for path in ("../escape.py", "/etc/passwd", "a\x07.py"):
            error = await reply(ws, publish(project["id"], path, good))
            assert error["code"] == "bad_path", path
        await ws.close()
        created = await client.request(
            "token.create", name="my-ide", scope="produce", projects=[project["id"]]
        )
    ide = await websockets.connect(f"{server.ws_url}/ws?token={created['secret']}")
    async with ide:
        assert json.loads(await ide.recv())["scope"] == "produce"
        ack = await reply(ide, publish(project["id"], str(project_dir / "src/a.py"), good))
        assert ack["diagnostics"][0]["path"] == "src/a.py"
        assert ack["diagnostics"][0]["by"] == "my-ide"
        refused = await reply(ide, publish(second["id"], "a.py", good))
        assert refused["code"] == "forbidden"
    async with await connect(server) as watcher:
        ack = await watcher.request("subscribe", project=project["id"], since=0)
        assert [f["path"] for f in ack["diagnostics"]] == ["src/a.py"]


async def test_a_project_without_the_back_channel_gives_its_cli_no_tools(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"text": "one"}, {"text": "two"}))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        assert project["back_channel"] is True
        first = await prompt_and_follow(client, project["id"], "hello")
        assert first.final["state"] == "completed"
        off = await client.set_back_channel(project["id"], False)
        assert off["back_channel"] is False
        second = await prompt_and_follow(client, project["id"], "again")
        assert second.final["state"] == "completed"
    spawns = servers.spawned_argv()
    assert len(spawns) == 2, "turning it off starts the next run in a new CLI"
    assert "--mcp-config" in spawns[0]["argv"]
    assert "--mcp-config" not in spawns[1]["argv"]
    inits = [
        e["data"]
        for e in first.events + second.events
        if e["kind"] == "cli" and e["data"].get("subtype") == "init"
    ]
    assert [any(s["name"] == "switchboard" for s in i.get("mcp_servers", [])) for i in inits] == [
        True,
        False,
    ]
