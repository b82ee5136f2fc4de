"""Open the database: SQLite in WAL mode under the data dir, or any SQLAlchemy URL."""

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

DB_FILE = "switchboard.db"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never block the writer, nor it them
    "PRAGMA synchronous=NORMAL",  # with WAL: durable against process crashes
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps next to a database; it creates them with the database's mode."""
PRIVATE = 0o600


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DB_FILE}"


def open_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get the pragmas above.

    Connections may be used from several threads (one at a time: the pool hands each
    to one thread), which the writer thread and the off-loop readers rely on.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        make_private(Path(database))

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine


def make_private(database: Path) -> None:
    """Create the SQLite file ``database`` with mode 0600 before SQLite does (it would
    use 0644 less the umask), and bring an existing one, and its companions, to 0600.
    SQLite gives the WAL, shared-memory and journal files it creates the database's
    mode, whatever the umask: they are 0600 too. The directory's mode does not matter.
    """
    fd = os.open(database, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)
    for suffix in SQLITE_COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(database.with_name(database.name + suffix), PRIVATE)
