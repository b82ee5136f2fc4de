"""/ws/claude over a real socket, driving each real Claude Code CLI build against the
scripted model: what the one-prompt protocol promises, checked end to end."""

import json
import time
import uuid

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.processes import group_members, pids_with_env, wait_group_gone
from tests.support.server import RunningServer, RunTranscript, collect, run_prompt

# /ws/claude keeps nothing in the store: these run on SQLite only.
pytestmark = [pytest.mark.real_cli, pytest.mark.sqlite_only]


def unique_meta() -> str:
    return "TASK-" + uuid.uuid4().hex[:12].upper()


async def test_plain_text_answer(
    servers: ServerFactory, claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(Script.of({"text": "Hello from the scripted model."}))
    server = servers.start(claude_bin.path)
    meta = unique_meta()
    run = await run_prompt(server, "Say hello", meta)

    assert (run.close_code, run.close_reason) == (1000, "claude exited 0")
    assert run.messages[0]["type"] == "system" and run.messages[0]["subtype"] == "init"
    texts = [b["text"] for m in run.of_type("assistant") for b in m["message"]["content"]]
    assert texts == ["Hello from the scripted model."]
    assert run.result["is_error"] is False
    assert run.result["result"] == "Hello from the scripted model."
    assert run.errors == []
    # The prompt reached the model, and exactly one CLI was spawned for this connection.
    assert "Say hello" in scripted_model.conversation_requests[0].text()
    assert [line.split()[1] for line in servers.spawned()] == [meta]


async def test_frames_are_the_cli_lines_unchanged(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    """Each frame is one stdout line as printed: compact JSON, the CLI's own key order."""
    scripted_model.set_script(Script.of({"text": "raw"}))
    server = servers.start(bundled_claude_bin.path)
    run = await run_prompt(server, "hi")
    for frame in run.frames:
        assert "\n" not in frame
        assert frame == json.dumps(json.loads(frame), separators=(",", ":"), ensure_ascii=False)
    # 2.1.330 starts its result lines with duration_api_ms, not type (reference §1.1).
    result_frame = next(f for f in run.frames if '"type":"result"' in f)
    assert result_frame.startswith('{"duration_api_ms"')


async def test_bash_tool_use_really_runs(
    servers: ServerFactory, claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    token = f"ran-{uuid.uuid4().hex[:8]}"
    scripted_model.set_script(
        Script.of(
            {
                "text": "Running it.",
                "tool_use": {
                    "name": "Bash",
                    "input": {"command": f"echo {token} && pwd", "description": "Print a token"},
                },
            },
            {"text": "The command ran."},
        )
    )
    server = servers.start(claude_bin.path)
    run = await run_prompt(server, "run the command")

    assert run.close_code == 1000
    [tool_result] = [
        b
        for m in run.of_type("user")
        for b in m["message"]["content"]
        if b.get("type") == "tool_result"
    ]
    assert tool_result["is_error"] is False
    output = tool_result["content"]
    assert token in output  # produced by a real shell, not by the script
    assert str(servers.project) in output  # ran in the configured workdir
    assert run.result["num_turns"] == 2
    assert run.result["result"] == "The command ran."
    # The model's second request carried the real tool output back.
    assert token in scripted_model.conversation_requests[1].text()


async def test_write_needing_approval_is_denied(
    servers: ServerFactory, claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(
        Script.of(
            {
                "tool_use": {
                    "name": "Bash",
                    "input": {"command": "touch created.txt", "description": "Create a file"},
                }
            },
            {"text": "I could not create it."},
        )
    )
    server = servers.start(claude_bin.path)
    run = await run_prompt(server, "create a file")

    assert run.close_code == 1000  # a denial is not a failure of the run
    denials = run.result["permission_denials"]
    assert [(d["tool_name"], d["tool_input"]["command"]) for d in denials] == [
        ("Bash", "touch created.txt")
    ]
    assert not (servers.project / "created.txt").exists()


async def test_model_api_error_gives_error_frame_and_1011(
    servers: ServerFactory, claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(
        Script.of({"error": {"status": 400, "message": "scripted invalid request"}, "repeat": 10})
    )
    server = servers.start(claude_bin.path)
    run = await run_prompt(server, "hi")

    assert run.close_code == 1011
    assert run.close_reason == "claude exited with status 1"
    assert run.result["is_error"] is True
    assert "scripted invalid request" in run.result["result"]
    [error] = run.errors
    assert error["error"] == "claude exited with status 1" and error["exit_code"] == 1
    assert run.frames[-1] == json.dumps(error, separators=(",", ":"))  # the error comes last


async def read_until_init(ws: ClientConnection) -> list[str]:
    frames = []
    while True:
        frame = await ws.recv()
        assert isinstance(frame, str)
        frames.append(frame)
        if json.loads(frame).get("subtype") == "init":
            return frames


async def start_hanging_run(server: RunningServer, meta: str) -> tuple[ClientConnection, int]:
    """Open a run whose model call hangs; return the socket and the CLI's process group."""
    ws = await server.connect().__aenter__()
    await ws.recv()
    await ws.send(json.dumps({"prompt": "take your time", "meta": meta}))
    await read_until_init(ws)
    [pid] = [p for p in pids_with_env("SWITCHBOARD_META", meta) if p in group_members(p)]
    assert group_members(pid), "the CLI leads its own process group"
    return ws, pid


async def test_run_timeout_kills_the_group_and_closes_1011(
    servers: ServerFactory, claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(Script.of({"text": "too late", "delay": 120}))
    # Long enough for the npm build to start on a busy machine before the deadline.
    server = servers.start(claude_bin.path, "--run-timeout", "8")
    meta = unique_meta()
    ws, pgid = await start_hanging_run(server, meta)
    run: RunTranscript = await collect(ws)

    assert (run.close_code, run.close_reason) == (1011, "run timed out")
    assert run.errors == [{"error": "run timed out after 8 s; process group killed"}]
    assert wait_group_gone(pgid, timeout=15) == []
    assert pids_with_env("SWITCHBOARD_META", meta) == []


async def test_client_disconnect_kills_the_group(
    servers: ServerFactory, claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(Script.of({"text": "never seen", "delay": 120}))
    server = servers.start(claude_bin.path)
    meta = unique_meta()
    ws, pgid = await start_hanging_run(server, meta)
    members = group_members(pgid)

    closed_at = time.monotonic()
    await ws.close()
    survivors = wait_group_gone(pgid, timeout=15)
    elapsed = time.monotonic() - closed_at

    assert survivors == [], f"still alive after {elapsed:.2f}s: {survivors} of {members}"
    assert pids_with_env("SWITCHBOARD_META", meta) == []
    print(f"process group of {len(members)} gone {elapsed:.3f}s after the client left")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{this is not json", "invalid JSON"),
        (json.dumps({"prompt": "x" * 8193, "meta": "TASK-1"}), "prompt exceeds 8192 bytes"),
        (
            json.dumps({"prompt": "hi", "meta": "task 1"}),
            "meta must match ^[A-Z0-9_\\-]+$ (at most 128 chars)",
        ),
        (json.dumps({"prompt": "", "meta": "TASK-1"}), "prompt must not be empty"),
    ],
    ids=["invalid-json", "oversized-prompt", "bad-meta", "empty-prompt"],
)
async def test_invalid_requests_close_1008_and_spawn_nothing(
    servers: ServerFactory, claude_bin: ClaudeBinary, frame: str, reason: str
) -> None:
    server = servers.start(claude_bin.path)
    async with server.connect() as ws:
        assert json.loads(await ws.recv()) == {"info": "send {prompt,meta}"}
        await ws.send(frame)
        run = await collect(ws)
    assert (run.close_code, run.close_reason) == (1008, reason)
    assert run.frames == []
    assert servers.spawned() == []


@pytest.mark.parametrize(
    ("token", "headers", "status"),
    [
        ("", {}, 401),
        ("wrong-token", {}, 401),
        (None, {"Origin": "http://evil.example"}, 403),
    ],
    ids=["missing-token", "wrong-token", "foreign-origin"],
)
async def test_refused_handshakes_spawn_nothing(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    token: str | None,
    headers: dict[str, str],
    status: int,
) -> None:
    server = servers.start(claude_bin.path)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with server.connect(token=token, additional_headers=headers):
            pass
    assert refused.value.response.status_code == status
    assert b"error" in refused.value.response.body
    assert servers.spawned() == []


async def test_same_origin_browser_is_accepted(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(Script.of({"text": "hi browser"}))
    server = servers.start(bundled_claude_bin.path)
    run = await run_prompt(server, "hello", additional_headers={"Origin": server.url})
    assert run.close_code == 1000
