"""The databases tests run on: SQLite files, and PostgreSQL.

The store, hub and end-to-end tests run once on each (``conftest.pytest_generate_tests``
gives them the ``database_kind`` parameter). For PostgreSQL the test session creates
one database of its own on the server at :data:`ADMIN_URL` and drops it at the end;
each test's store is a schema of it, named after the test's data dir, so a server
restarted on the same data dir finds the same store, and tests never share one.
"""

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url

from switchboard.store.sqlite.database import sqlite_url

ADMIN_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
"""A PostgreSQL server and a role that may create databases (the test command starts
the local server when it is not running)."""
KINDS = ("sqlite", "postgresql")


class PostgresDatabase:
    """This test session's database, created on first use, dropped by :meth:`drop`."""

    def __init__(self) -> None:
        self.name = f"switchboard_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._created = False

    def _admin(self) -> Engine:
        return create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")

    def url(self, data_dir: Path) -> str:
        """The store of ``data_dir``: a schema of its own, created if need be."""
        if not self._created:
            admin = self._admin()
            try:
                with admin.connect() as connection:
                    _drop_orphans(connection)
                    connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            finally:
                admin.dispose()
            self._created = True
        schema = "s_" + hashlib.sha256(str(data_dir).encode()).hexdigest()[:24]
        base = make_url(ADMIN_URL).set(database=self.name)
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        finally:
            engine.dispose()
        with_schema = base.update_query_dict({"options": f"-csearch_path={schema}"})
        return with_schema.render_as_string(hide_password=False)

    def drop(self) -> None:
        if not self._created:
            return
        admin = self._admin()
        try:
            with admin.connect() as connection:  # FORCE: ends what a killed server left
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            admin.dispose()
        self._created = False


def _drop_orphans(connection: Connection) -> None:
    """Drop the databases of test sessions that were killed before their end (their
    process is gone): each is named after its session's process id."""
    names = connection.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE 'switchboard_test_%'")
    ).scalars()
    for name in list(names):
        pid = name.split("_")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_postgres = PostgresDatabase()


def database_url(kind: str, data_dir: Path) -> str:
    """The URL of the store of ``data_dir`` on a ``kind`` database."""
    if kind == "postgresql":
        return _postgres.url(data_dir)
    return sqlite_url(data_dir)


def session_databases() -> Iterator[None]:
    """Drop this session's PostgreSQL database at its end (a session fixture's body)."""
    try:
        yield
    finally:
        _postgres.drop()
