"""The running server's address in its data dir, and client commands that find it."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from switchboard.server_record import RECORD_FILE, recorded_url, server_recorded
from tests.conftest import FAKE_AGENT, ServerFactory


def test_the_record_is_private_lasts_while_serving_and_names_a_live_process(
    tmp_path: Path,
) -> None:
    with server_recorded(tmp_path, "http://127.0.0.1:4321"):
        record = tmp_path / RECORD_FILE
        assert json.loads(record.read_text()) == {
            "url": "http://127.0.0.1:4321",
            "pid": os.getpid(),
        }
        assert stat.S_IMODE(record.stat().st_mode) == 0o600
        assert recorded_url(tmp_path) == "http://127.0.0.1:4321"
    assert not record.exists()
    assert recorded_url(tmp_path) is None


def test_a_record_left_by_a_dead_server_is_ignored(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=30)
    (tmp_path / RECORD_FILE).write_text(json.dumps({"url": "http://x:1", "pid": dead.pid}))
    assert recorded_url(tmp_path) is None
    (tmp_path / RECORD_FILE).write_text("{not json")
    assert recorded_url(tmp_path) is None


def test_a_newer_servers_record_is_not_removed(tmp_path: Path) -> None:
    with server_recorded(tmp_path, "http://127.0.0.1:1"):
        newer = {"url": "http://127.0.0.1:2", "pid": os.getppid()}
        (tmp_path / RECORD_FILE).write_text(json.dumps(newer))
    assert recorded_url(tmp_path) == "http://127.0.0.1:2"


def test_client_commands_find_a_server_from_its_data_dir_alone(
    servers: ServerFactory, tmp_path: Path
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)  # on a random port
    assert server.port != 9876
    bare = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    projects = [sys.executable, "-m", "switchboard", "projects"]
    by_flag = subprocess.run(
        [*projects, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=bare,
    )
    assert by_flag.returncode == 0, by_flag.stderr
    assert by_flag.stdout.startswith("no projects")
    by_env = subprocess.run(
        projects,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**bare, "SWITCHBOARD_DATA_DIR": str(server.data_dir)},
    )
    assert by_env.returncode == 0, by_env.stderr
    assert server.stop() == 0
    assert not (server.data_dir / RECORD_FILE).exists()
