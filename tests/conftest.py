"""Shared fixtures: the real Claude CLIs, the scripted model, an isolated CLI home."""

import contextlib
import json
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.claude.discovery import bundled_claude
from switchboard.scripted_model import ScriptedModelServer, cli_environment
from tests.support import databases
from tests.support.processes import command_line, pids_with_env, wait_exited
from tests.support.server import RunningServer, start_server

ROOT = Path(__file__).resolve().parent.parent
FAKE_AGENT = Path(__file__).resolve().parent / "fakes" / "fake_agent.py"
NPM_CLAUDE_DEFAULT = ROOT / "tools" / "claude-npm" / "node_modules" / ".bin" / "claude"


LEAK_MARKER = "LEAK_CHECK_TEST_SESSION"
"""Set in the test session's environment, so every process the tests start carries it,
and their descendants too, even those that call setsid(). Its name avoids the prefixes
(``SWITCHBOARD_``, ``ANTHROPIC_``, ``CLAUDE_``) that are stripped from the CLI's
environment. (A process given an environment not built from ``os.environ`` escapes the
check: start those with ``subprocess.run``, which waits for them.)"""
LEAK_GRACE = 5.0
"""How long processes still alive at the end of the session get to exit."""


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """The session ends with no process of its own alive (zombies aside): any that is
    still there after a short grace is killed, and the session fails, naming it."""
    marker = uuid.uuid4().hex
    os.environ[LEAK_MARKER] = marker
    yield
    left = [pid for pid in pids_with_env(LEAK_MARKER, marker) if pid != os.getpid()]
    survivors = wait_exited(left, LEAK_GRACE)
    if not survivors:
        return
    described = [f"  {pid}: {command_line(pid)}" for pid in survivors]
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    pytest.fail("the tests left processes alive (now killed):\n" + "\n".join(described))


ON_EVERY_DATABASE = ("store", "hub", "e2e")
"""The test directories whose tests run once per database (see tests/support/databases)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests in :data:`ON_EVERY_DATABASE` that use a store run on SQLite and on
    PostgreSQL, unless marked ``sqlite_only`` or ``postgresql_only``."""
    if "database_kind" not in metafunc.fixturenames:
        return
    directory = Path(metafunc.definition.path).relative_to(ROOT / "tests").parts[0]
    marked = metafunc.definition.get_closest_marker
    if marked("postgresql_only") is not None:
        metafunc.parametrize("database_kind", ["postgresql"], ids=lambda kind: f"db-{kind}")
    elif directory in ON_EVERY_DATABASE and marked("sqlite_only") is None:
        metafunc.parametrize("database_kind", databases.KINDS, ids=lambda kind: f"db-{kind}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, a test that runs once per CLI build runs with the bundled build
    only: the database matters to the hub, not to the CLI (the npm build's runs are on
    SQLite), and each such test is a real CLI run of several seconds."""
    dropped = [item for item in items if _npm_on_postgresql(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not _npm_on_postgresql(item)]


def _npm_on_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    return params.get("database_kind") == "postgresql" and params.get("claude_bin") == "npm"


@pytest.fixture
def database_kind() -> str:
    """The database a test's stores live in; SQLite where a test is not parametrized."""
    return "sqlite"


@pytest.fixture
def store_url(tmp_path: Path, database_kind: str) -> str:
    """The URL of a store of this test's own, on its database."""
    return databases.database_url(database_kind, tmp_path)


@pytest.fixture(scope="session", autouse=True)
def postgres_database() -> Iterator[None]:
    """The session's PostgreSQL database, if a test made one, is dropped at the end."""
    yield from databases.session_databases()


@dataclass(frozen=True)
class ClaudeBinary:
    """One real Claude Code CLI build under test."""

    name: str
    path: Path


def _npm_claude() -> ClaudeBinary:
    path = Path(os.environ.get("SWITCHBOARD_TEST_NPM_CLAUDE") or NPM_CLAUDE_DEFAULT)
    if not path.exists():
        pytest.fail(f"npm Claude Code CLI missing at {path}: run ./scripts/test, which installs it")
    return ClaudeBinary("npm-2.1.197", path)


def _bundled_claude() -> ClaudeBinary:
    path = bundled_claude()
    if path is None:
        pytest.fail("claude-agent-sdk's bundled CLI missing: run ./scripts/test, which installs it")
    return ClaudeBinary("bundled-2.1.330", path)


CLI_BUILDS = {"npm": _npm_claude, "bundled": _bundled_claude}


@pytest.fixture(params=sorted(CLI_BUILDS), ids=lambda name: f"cli-{name}")
def claude_bin(request: pytest.FixtureRequest) -> ClaudeBinary:
    """Each real CLI build in turn (tests using it run once per build)."""
    return CLI_BUILDS[request.param]()


@pytest.fixture
def bundled_claude_bin() -> ClaudeBinary:
    """Just the bundled build, for tests whose subject is not the CLI itself."""
    return _bundled_claude()


@pytest.fixture
def scripted_model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as model:
        yield model


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture
def claude_env(tmp_path: Path, scripted_model: ScriptedModelServer) -> dict[str, str]:
    """Environment for a real CLI run: isolated HOME, the scripted model, no telemetry."""
    home = tmp_path / "home"
    home.mkdir()
    return cli_environment(scripted_model.url, home, os.environ)


SPAWN_RECORDER = Path(__file__).resolve().parent / "fakes" / "spawn_recorder.py"


@dataclass
class ServerFactory:
    """Starts ``switchboard serve`` subprocesses and stops them all at teardown."""

    tmp_path: Path
    env: dict[str, str]
    project: Path
    servers: list["RunningServer"]
    database_kind: str = "sqlite"
    """Where the servers' stores live: each data dir has a store of its own there."""

    @property
    def spawn_log(self) -> Path:
        return self.tmp_path / "spawns.log"

    def spawned(self) -> list[str]:
        return self.spawn_log.read_text().splitlines() if self.spawn_log.exists() else []

    def spawned_argv(self) -> list[dict[str, Any]]:
        """Every CLI spawn so far: ``{"pid": int, "argv": [...], "cwd": str}``."""
        path = self.spawn_log.with_name(self.spawn_log.name + ".argv")
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]

    def start(
        self,
        claude: Path,
        *args: str,
        record_spawns: bool = True,
        allowed_root: Path | str | None = None,
        **env: str,
    ) -> "RunningServer":
        """A server whose projects may lie under ``allowed_root`` (default: the test's
        ``tmp_path``, where its projects are; ``SERVER_DEFAULT``: its ``$HOME``,
        ``tmp_path/home``), unless ``args`` give ``--allowed-root``."""
        server_env = {**self.env, **env}
        binary = claude
        if record_spawns:
            server_env.update(SPAWN_LOG=str(self.spawn_log), REAL_CLAUDE=str(claude))
            binary = SPAWN_RECORDER
        argv = ["--workdir", str(self.project), "--claude-bin", str(binary), *args]
        directory = self.tmp_path / f"server{len(self.servers)}"
        directory.mkdir()
        if self.database_kind != "sqlite" and "--database-url" not in args:
            given = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--data-dir"]
            data_dir = Path(given[-1]) if given else directory / "data"
            url = databases.database_url(self.database_kind, data_dir)
            argv = ["--database-url", url, *argv]
        root = self.tmp_path if allowed_root is None else allowed_root
        server = start_server(directory, server_env, argv, allowed_root=root)
        self.servers.append(server)
        return server


@pytest.fixture
def servers(
    tmp_path: Path, claude_env: dict[str, str], project_dir: Path, database_kind: str
) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path, claude_env, project_dir, [], database_kind)
    yield factory
    for server in factory.servers:
        server.stop()  # also closes the banner pipe of servers that already exited
