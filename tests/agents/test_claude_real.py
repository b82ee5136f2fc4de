"""ClaudeProcess against each real CLI build: control protocol, permissions, interrupt."""

import asyncio
from pathlib import Path

import pytest

from switchboard.agents.claude.control import PermissionRequest
from switchboard.agents.claude.launch import ClaudeOptions
from switchboard.agents.claude.process import ClaudeProcess
from switchboard.agents.claude.stream_json import BadLine, CliMessage
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary

pytestmark = pytest.mark.real_cli

TOUCH = {"name": "Bash", "input": {"command": "touch created.txt", "description": "Create"}}


class Transcript:
    """Consumes a ClaudeProcess's output in the background, as an owner must."""

    def __init__(self, claude: ClaudeProcess) -> None:
        self.items: list[CliMessage | BadLine] = []
        self.results = 0
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._consume(claude))

    async def _consume(self, claude: ClaudeProcess) -> None:
        async for item in claude.output():
            async with self._changed:
                self.items.append(item)
                self.results += isinstance(item, CliMessage) and item.is_result
                self._changed.notify_all()

    async def wait_for(self, predicate: object, timeout: float = 30) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)  # type: ignore[arg-type]

        await asyncio.wait_for(until(), timeout)

    def of_type(self, kind: str) -> list[CliMessage]:
        return [i for i in self.items if isinstance(i, CliMessage) and i.type == kind]

    async def finish(self) -> None:
        await asyncio.wait_for(self._task, 30)


def options(
    claude_bin: ClaudeBinary, cwd: Path, env: dict[str, str], **kw: object
) -> ClaudeOptions:
    return ClaudeOptions(claude_bin.path, cwd, env, **kw)  # type: ignore[arg-type]


async def test_control_requests_round_trip(
    claude_bin: ClaudeBinary, project_dir: Path, claude_env: dict[str, str]
) -> None:
    async with ClaudeProcess(options(claude_bin, project_dir, claude_env)) as claude:
        transcript = Transcript(claude)
        init = await asyncio.wait_for(claude.request(claude.control.initialize()), 30)
        assert init.ok and init.subtype == "initialize"
        assert isinstance(init.response.get("commands"), list)
        bogus = await asyncio.wait_for(claude.request(claude.control.send_request("bogus")), 30)
        assert not bogus.ok
        assert bogus.error == "Unsupported control request subtype: bogus"
        mode = await asyncio.wait_for(
            claude.request(claude.control.set_permission_mode("acceptEdits")), 30
        )
        assert mode.ok and mode.response == {"mode": "acceptEdits"}
        model = await asyncio.wait_for(claude.request(claude.control.set_model("claude-x")), 30)
        assert model.ok
        assert claude.control.pending_outbound == {}
        claude.close_stdin()
        assert await claude.wait() == 0
        await transcript.finish()


@pytest.mark.parametrize("allow", [True, False], ids=["allowed", "denied"])
async def test_permission_requests_reach_the_handler(
    claude_bin: ClaudeBinary,
    project_dir: Path,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    allow: bool,
) -> None:
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Finished."}))
    asked: list[PermissionRequest] = []
    claude: ClaudeProcess

    async def decide(request: PermissionRequest) -> None:
        asked.append(request)
        if allow:
            claude.control.allow(request.request_id, request.input)
        else:
            claude.control.deny(request.request_id, "Not today")

    claude = ClaudeProcess(
        options(claude_bin, project_dir, claude_env, permission_prompt=True), on_permission=decide
    )
    async with claude:
        transcript = Transcript(claude)
        await claude.send_user("create the file")
        await transcript.wait_for(lambda: transcript.results == 1)
        claude.close_stdin()
        await transcript.finish()
        assert await claude.wait() == 0

    assert [(r.tool_name, r.input["command"]) for r in asked] == [("Bash", "touch created.txt")]
    result = transcript.of_type("result")[0].data
    assert (project_dir / "created.txt").exists() is allow
    denials = [d["tool_name"] for d in result["permission_denials"]]
    assert denials == ([] if allow else ["Bash"])


async def test_cancel_interrupts_the_turn_and_the_process_stays_usable(
    claude_bin: ClaudeBinary,
    project_dir: Path,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"text": "slow", "delay": 120}, {"text": "Second turn."}))
    async with ClaudeProcess(options(claude_bin, project_dir, claude_env)) as claude:
        transcript = Transcript(claude)
        await claude.send_user("take your time")
        await transcript.wait_for(lambda: transcript.of_type("system"))
        assert await asyncio.to_thread(scripted_model.wait_for_requests, 1, 30)
        assert claude.turn_running

        assert await claude.cancel(interrupt_grace=20) is True
        assert not claude.turn_running
        assert claude.process.returncode is None  # interrupted, not killed
        first = transcript.of_type("result")[0].data
        assert first["is_error"] is True

        await claude.send_user("again")
        await transcript.wait_for(lambda: transcript.results == 2)
        assert transcript.of_type("result")[1].data["result"] == "Second turn."
        claude.close_stdin()
        await transcript.finish()
        assert await claude.wait() == 0
    texts = [str(m.data["message"]["content"]) for m in transcript.of_type("user")]
    assert any("[Request interrupted by user]" in text for text in texts)


async def test_cancel_without_a_running_turn_does_nothing(
    claude_bin: ClaudeBinary, project_dir: Path, claude_env: dict[str, str]
) -> None:
    async with ClaudeProcess(options(claude_bin, project_dir, claude_env)) as claude:
        assert await claude.cancel() is True
        assert claude.process.returncode is None
