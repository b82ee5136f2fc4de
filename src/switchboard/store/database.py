"""Open the database: SQLite in WAL mode under the data dir, or any SQLAlchemy URL."""

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

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine
