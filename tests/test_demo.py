"""The demo mode's parts: its model and CLI environment, its project, its script."""

from pathlib import Path

import httpx
import pytest

from switchboard import demo
from switchboard.config import Settings
from switchboard.scripted_model.demo_script import (
    LOG_HEADING,
    NOTES_FILE,
    PROJECT_FILES,
    demo_script,
    write_project,
)
from switchboard.scripted_model.script import ToolUseBlock
from tests.support.demo import bare_environment
from tests.support.hub import connect
from tests.support.server import start_server

pytestmark = pytest.mark.timeout(60)

CONVERSATION = {
    "model": "m",
    "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
    "messages": [{"role": "user", "content": "hi"}],
}


def test_without_demo_nothing_changes() -> None:
    settings = Settings()
    with demo.demo_mode(settings) as used:
        assert used is settings
    assert demo.banner(settings) == []


def test_the_cli_gets_the_scripted_model_and_a_home_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-the-real-one")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", "/home/you/.claude")
    data = tmp_path / "data"
    with demo.demo_mode(Settings(data_dir=data, demo=True)) as settings:
        env = settings.claude_env
        assert env is not None
        assert env["HOME"] == str(data / demo.CLI_HOME_DIR) and Path(env["HOME"]).is_dir()
        assert env["ANTHROPIC_API_KEY"] != "sk-ant-the-real-one"
        assert "CLAUDE_CONFIG_DIR" not in env
        assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
        reply = httpx.post(env["ANTHROPIC_BASE_URL"] + "/v1/messages", json=CONVERSATION)
        assert "# Welcome to the Switchboard demo" in reply.json()["content"][0]["text"]
        assert "Offline demo" in demo.banner(settings)[0]
    assert sorted(p.name for p in demo.project_dir(settings).iterdir()) == sorted(PROJECT_FILES)
    with pytest.raises(httpx.ConnectError):  # the model stops with the server
        httpx.post(env["ANTHROPIC_BASE_URL"] + "/v1/messages", json=CONVERSATION)


def test_project_files_are_written_only_when_missing(tmp_path: Path) -> None:
    (tmp_path / NOTES_FILE).write_text("mine\n")
    write_project(tmp_path)
    assert (tmp_path / NOTES_FILE).read_text() == "mine\n"
    assert all((tmp_path / name).exists() for name in PROJECT_FILES)


def test_the_script_loops_and_its_edit_applies_again_and_again(tmp_path: Path) -> None:
    script = demo_script(tmp_path)
    assert script.loop is True
    [edit] = [
        block.input
        for turn in script.turns
        for block in turn.blocks
        if isinstance(block, ToolUseBlock) and block.name == "Edit"
    ]
    assert edit["file_path"] == str(tmp_path / NOTES_FILE)
    notes = PROJECT_FILES[NOTES_FILE]
    for _ in range(3):  # the Edit tool needs old_string exactly once
        assert notes.count(edit["old_string"]) == 1
        notes = notes.replace(edit["old_string"], edit["new_string"])
    assert notes.count(LOG_HEADING) == 1


async def test_the_project_is_registered_once_across_restarts(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    env = bare_environment(tmp_path / "home")
    for _ in range(2):
        server = start_server(tmp_path, env, ["--demo"])
        try:
            async with await connect(server) as client:
                names = [p["name"] for p in client.snapshot["projects"]]
        finally:
            assert server.stop() == 0
        assert names == ["demo"]
        assert "could not be registered" not in server.log()


async def test_a_refused_project_is_logged_and_the_server_still_serves(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv = ["--demo", "--allowed-root", str(elsewhere)]
    server = start_server(tmp_path, bare_environment(tmp_path / "home"), argv)
    try:
        async with await connect(server) as client:
            assert client.snapshot["projects"] == []
    finally:
        assert server.stop() == 0
    assert "the demo project" in server.log() and "could not be registered" in server.log()
