"""The database and its companions are private (0600), whatever the umask says."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from switchboard.store.sqlite.database import open_engine, sqlite_url

pytestmark = pytest.mark.timeout(60)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_is_private_under_a_permissive_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    # In a child, so that the umask of the test process is left alone. The WAL and
    # shared-memory files exist while a connection is open: the modes are read then.
    script = (
        "import os, stat, sys\n"
        "from pathlib import Path\n"
        "from sqlalchemy import text\n"
        "from switchboard.store.sqlite.database import open_engine, sqlite_url\n"
        "engine = open_engine(sqlite_url(Path(sys.argv[1])))\n"
        "with engine.begin() as c:\n"
        "    c.execute(text('PRAGMA user_version = 7'))\n"
        "with engine.connect() as c:\n"
        "    c.execute(text('SELECT 1'))\n"
        "    for entry in sorted(os.scandir(sys.argv[1]), key=lambda e: e.name):\n"
        "        print(entry.name, oct(stat.S_IMODE(entry.stat().st_mode)))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script, str(data)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        umask=0,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "switchboard.db 0o600",
        "switchboard.db-shm 0o600",
        "switchboard.db-wal 0o600",
    ]
    assert mode(data) == 0o755  # the directory keeps its mode


def test_an_existing_database_is_made_private(tmp_path: Path) -> None:
    for name in ("switchboard.db", "switchboard.db-wal"):
        (tmp_path / name).touch()
        os.chmod(tmp_path / name, 0o644)
    engine = open_engine(sqlite_url(tmp_path))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert mode(tmp_path / "switchboard.db") == 0o600
    assert mode(tmp_path / "switchboard.db-wal") == 0o600
