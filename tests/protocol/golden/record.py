"""Re-record the golden CLI lines used by the codec tests.

    .venv/bin/python tests/protocol/golden/record.py

Runs each real CLI build against the scripted model and writes one JSONL file per
build and scenario. Temporary paths are replaced by ``/home/user/proj`` so the files
hold nothing machine-specific.
"""

import asyncio
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from switchboard.agents.claude.control import PermissionRequest
from switchboard.agents.claude.discovery import bundled_claude
from switchboard.agents.claude.launch import ClaudeOptions
from switchboard.agents.claude.process import ClaudeProcess
from switchboard.agents.claude.stream_json import CliMessage
from switchboard.scripted_model import Script, ScriptedModelServer

HERE = Path(__file__).resolve().parent
SOCKET_PATH = re.compile(r"/tmp/cc-socks/\d+\.sock")
ROOT = HERE.parents[2]
BASH = {"name": "Bash", "input": {"command": "echo golden", "description": "Say golden"}}
TOUCH = {"name": "Bash", "input": {"command": "touch created.txt", "description": "Create"}}

SCENARIOS: dict[str, tuple[Script, dict[str, Any]]] = {
    "text_partial": (
        Script.of({"thinking": "Let me think.", "text": "Hello there!"}),
        {"partial_messages": True},
    ),
    "bash": (Script.of({"text": "Running.", "tool_use": BASH}, {"text": "Done."}), {}),
    "denied": (Script.of({"tool_use": TOUCH}, {"text": "Could not."}), {}),
    "api_error": (Script.of({"error": {"status": 400, "message": "scripted bad request"}}), {}),
    "control": (Script.of({"tool_use": TOUCH}, {"text": "Created."}), {"permission_prompt": True}),
}


async def record(binary: Path, name: str, script: Script, flags: dict[str, Any]) -> list[str]:
    with ScriptedModelServer(script) as model, tempfile.TemporaryDirectory() as tmp:
        home, proj = Path(tmp, "home"), Path(tmp, "proj")
        home.mkdir()
        proj.mkdir()
        env = dict(
            os.environ,
            HOME=str(home),
            ANTHROPIC_BASE_URL=model.url,
            ANTHROPIC_API_KEY="sk-test",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        )
        claude: ClaudeProcess

        async def allow(request: PermissionRequest) -> None:
            claude.control.allow(request.request_id, request.input)

        claude = ClaudeProcess(ClaudeOptions(binary, proj, env, **flags), on_permission=allow)
        lines: list[str] = []
        async with claude:
            if name == "control":
                await claude.request(claude.control.initialize())
                await claude.request(claude.control.send_request("bogus_thing"))
                await claude.request(claude.control.set_permission_mode("default"))
            await claude.send_user("please go ahead")
            async for item in claude.output():
                assert isinstance(item, CliMessage), item
                text = item.text.replace(str(proj), "/home/user/proj")
                text = text.replace(str(home), "/home/user")
                lines.append(SOCKET_PATH.sub("/run/user/cc-socks/0.sock", text))
                if item.is_result:
                    claude.close_stdin()
            await claude.wait()
        return lines


async def main() -> None:
    npm = ROOT / "tools/claude-npm/node_modules/.bin/claude"
    builds = {"npm": npm, "bundled": bundled_claude()}
    for build, binary in builds.items():
        if binary is None or not binary.exists():
            sys.exit(f"missing CLI build {build}")
        for name, (script, flags) in SCENARIOS.items():
            lines = await record(binary, name, script, flags)
            (HERE / f"{build}_{name}.jsonl").write_text("\n".join(lines) + "\n")
            kinds = [json.loads(line).get("type") for line in lines]
            print(build, name, len(lines), kinds)


if __name__ == "__main__":
    asyncio.run(main())
