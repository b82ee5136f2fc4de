"""/ws with a real server: every path the rules refuse gets its own error code (never
``internal``), the connection that sent it goes on, and so does a neighbour."""

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.hub import add_and_watch, connect, raw_socket, reply
from tests.support.server import SERVER_DEFAULT, RunningServer, run_prompt, start_server

pytestmark = pytest.mark.timeout(120)


async def still_works(ws: Any, neighbour: SwitchboardClient) -> None:
    answer = await reply(ws, {"type": "heartbeat", "id": "ping"})
    assert answer["type"] == "heartbeat_ack" and answer["id"] == "ping"
    assert await neighbour.heartbeat() > 0


async def refused(
    server: RunningServer, neighbour: SwitchboardClient, requests: dict[str, dict[str, Any]]
) -> dict[str, tuple[str, str]]:
    """Send each request on one raw connection; the code and message of each answer
    (which must be an error), checking after each that both connections still work."""
    answers: dict[str, tuple[str, str]] = {}
    ws = await raw_socket(server)
    try:
        for label, request in requests.items():
            answer = await reply(ws, {**request, "id": label})
            assert answer["type"] == "error" and answer["id"] == label, answer
            answers[label] = (answer["code"], answer["message"])
            await still_works(ws, neighbour)
    finally:
        await ws.close()
    return answers


def add(path: str) -> dict[str, Any]:
    return {"type": "project.add", "path": path}


async def test_every_bad_path_gets_its_own_code_and_neighbours_go_on(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, tmp_path: Path, project_dir: Path
) -> None:
    server = servers.start(bundled_claude_bin.path)  # projects may be under tmp_path
    (tmp_path / "file.txt").write_text("not a directory")
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    (tmp_path / "etc-link").symlink_to("/etc")
    cases = {
        "nul": (add(f"{tmp_path}/a\x00b"), "bad_path"),
        "newline": (add(f"{tmp_path}/a\nINFO forged"), "bad_path"),
        "escape": (add(f"{tmp_path}/\x1b[2J"), "bad_path"),
        "line separator": (add(f"{tmp_path}/a\u2028b"), "bad_path"),
        "name too long": (add(f"{tmp_path}/{'x' * 300}"), "bad_path"),
        "path too long": (add(str(tmp_path) + "/éé" * 1300), "bad_path"),  # > 4096 bytes
        "symlink loop": (add(str(tmp_path / "loop-a" / "x")), "bad_path"),
        "unknown user": (add("~no-such-user-switchboard/p"), "bad_path"),
        "through a file": (add(str(tmp_path / "file.txt" / "deeper")), "not_a_directory"),
        "root": (add("/"), "system_directory"),
        "etc": (add("/etc"), "system_directory"),
        "proc": (add("/proc/self"), "system_directory"),
        "sys": (add("/sys/kernel"), "system_directory"),
        "dev": (add("/dev/shm"), "system_directory"),
        "boot": (add("/boot"), "system_directory"),
        "link to etc": (add(str(tmp_path / "etc-link")), "system_directory"),
        "key with newline": (
            {"type": "project.remove", "project": f"{project_dir}\nx"},
            "bad_path",
        ),
        "key through a loop": (
            {"type": "subscribe", "project": str(tmp_path / "loop-a")},
            "unknown_project",
        ),
    }
    async with await connect(server) as neighbour:
        project = await add_and_watch(neighbour, project_dir)
        answers = await refused(server, neighbour, {k: r for k, (r, _) in cases.items()})
        assert {label: code for label, (code, _) in answers.items()} == {
            label: code for label, (_, code) in cases.items()
        }
        for code, message in answers.values():
            assert message.isprintable() and len(message) < 600, (code, message)
        assert "control character \\n at position" in answers["newline"][1]
        assert [p["id"] for p in await neighbour.projects()] == [project["id"]]
    assert "handling project" not in server.log()  # no request failed unexpectedly


async def test_projects_default_to_the_servers_home(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, tmp_path: Path, project_dir: Path
) -> None:
    home = tmp_path / "home"  # the servers' HOME (see the claude_env fixture)
    (home / "code").mkdir()
    server = servers.start(bundled_claude_bin.path, allowed_root=SERVER_DEFAULT)
    async with await connect(server) as neighbour:
        added = await neighbour.add_project(str(home / "code"))
        answers = await refused(server, neighbour, {"outside": add(str(project_dir))})
        assert answers["outside"] == (
            "outside_roots",
            f"{project_dir} is not under an allowed root ({home})",
        )
        assert [p["id"] for p in await neighbour.projects()] == [added["id"]]


async def test_the_widest_root_is_slash_and_system_directories_stay_refused(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path
) -> None:
    server = servers.start(bundled_claude_bin.path, "--allowed-root", "/")
    async with await connect(server) as neighbour:
        await neighbour.add_project(str(project_dir))  # outside HOME: allowed
        answers = await refused(server, neighbour, {"root": add("/"), "etc": add("/etc/ssl")})
        assert answers["root"] == ("system_directory", "/ cannot be a project")
        assert answers["etc"][0] == "system_directory"


async def test_a_working_directory_with_a_newline_does_not_forge_a_log_line(
    servers: ServerFactory, tmp_path: Path
) -> None:
    workdir = tmp_path / "work\nINFO forged line"
    workdir.mkdir()
    server = servers.start(FAKE_AGENT, "--workdir", str(workdir), record_spawns=False)
    run = await run_prompt(server, "hello")
    assert run.close_code == 1000
    log = server.log()
    assert f"cwd={tmp_path}/work\\nINFO forged line" in log
    assert not any(line.startswith("INFO forged") for line in log.splitlines())


async def test_data_files_are_private_under_a_permissive_umask(
    tmp_path: Path, claude_env: dict[str, str], project_dir: Path
) -> None:
    data = tmp_path / "server" / "data"
    data.mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    argv = ["--claude-bin", str(FAKE_AGENT)]
    server = start_server(tmp_path / "server", claude_env, argv, allowed_root=tmp_path, umask=0)
    try:
        async with await connect(server) as client:
            await client.add_project(str(project_dir))  # a write: the WAL holds it
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    finally:
        assert server.stop() == 0
    names = ("token", "server.json", "server.lock", "switchboard.db", "vapid_private.pem")
    claim = "switchboard.db.switchboard-claim"  # the lock that keeps a second server off
    expected = dict.fromkeys((*names, claim, "switchboard.db-wal", "switchboard.db-shm"), 0o600)
    assert modes == expected, json.dumps({k: oct(v) for k, v in modes.items()})
    assert stat.S_IMODE(data.stat().st_mode) == 0o755  # its mode is the operator's
