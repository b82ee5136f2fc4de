"""One server per store, or the nodes of one cluster, each once.

Two servers appending to one event log would number events twice, and each would stop
the other's CLI processes as leftovers. A server therefore claims its store for as
long as it runs (the nodes of a cluster share a PostgreSQL store: each takes the
store's lock shared, which a single server's exclusive claim refuses, and a lock of
its own node id exclusively, so that one node id runs once). On PostgreSQL, the store
is a schema of a database (the first on the connection's ``search_path``), claimed by
a session-level advisory lock keyed by the schema's name on a connection the server
keeps open (PostgreSQL frees it when that connection ends, crash included); on SQLite,
the database file, claimed by an exclusive ``flock`` on a file beside the database (the
kernel frees it when the process exits, even after SIGKILL). SQLite's own locks are
POSIX locks on the database file; the claim never opens that file, so it cannot drop
them.
"""

import contextlib
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from switchboard.exceptions import StoreError

ADVISORY_CLASS = 0x53574243
"""The first half of the advisory lock's key ("SWBC"): Switchboard's alone. The second
is ``hashtext`` of the schema's name (two schemas whose hashes collide cannot both be
served at once: the second server is refused)."""
CLAIM_SUFFIX = ".switchboard-claim"

Release = Callable[[], None]


NODE_CLASS = 0x53574E44
"""The first half of a node's own lock ("SWND"); the second is ``hashtext`` of the
schema's name and the node id."""


def claim_database(engine: Engine, node_id: str | None = None) -> Release:
    """Claim ``engine``'s database (as the cluster node ``node_id``, if given); raises
    :class:`StoreError` if another server has it. Returns what gives it back
    (idempotent)."""
    if node_id is not None:
        if engine.dialect.name != "postgresql":
            raise StoreError("the nodes of a cluster share a PostgreSQL store")
        return _claim_postgresql(engine, node_id)
    if engine.dialect.name == "postgresql":
        return _claim_postgresql(engine)
    database = engine.url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if engine.dialect.name == "sqlite" and on_disk:
        return _claim_file(Path(database + CLAIM_SUFFIX))
    return lambda: None


def _claim_postgresql(engine: Engine, node_id: str | None = None) -> Release:
    connection = engine.connect()
    try:
        refusal = _take_locks(connection, node_id)
        connection.commit()  # the locks are the session's: they outlive the transaction
    except BaseException:
        _end_session(connection)
        raise
    if refusal is not None:  # a lock it did take must not stay with the pool
        _end_session(connection)
        raise StoreError(refusal)

    return lambda: _end_session(connection)


def _end_session(connection: Connection) -> None:
    """Give the advisory locks back at once (a closed session's are freed only once
    its backend has exited), then close the session itself, not back into the pool.
    Idempotent."""
    with contextlib.suppress(Exception):
        if not connection.invalidated and not connection.closed:
            connection.execute(text("SELECT pg_advisory_unlock_all()"))
            connection.commit()
    with contextlib.suppress(Exception):
        connection.invalidate()
        connection.close()


def _take_locks(connection: Connection, node_id: str | None) -> str | None:
    """Take the claim's advisory locks; why not, if they are not all free."""
    store_lock = "(CAST(:class AS integer), hashtext(current_schema()))"
    if node_id is None:
        taken = connection.execute(
            text(f"SELECT pg_try_advisory_lock{store_lock}"), {"class": ADVISORY_CLASS}
        ).scalar()
        return None if taken else "another Switchboard server is using this database (and schema)"
    shared = connection.execute(
        text(f"SELECT pg_try_advisory_lock_shared{store_lock}"), {"class": ADVISORY_CLASS}
    ).scalar()
    if not shared:
        return "a Switchboard server without --node-id is using this database (and schema)"
    own = connection.execute(
        text(
            "SELECT pg_try_advisory_lock(CAST(:class AS integer), "
            "hashtext(current_schema() || '/' || :node))"
        ),
        {"class": NODE_CLASS, "node": node_id},
    ).scalar()
    return None if own else f"node {node_id!r} is running on this database already"


def _claim_file(path: Path) -> Release:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(f"another Switchboard server is using {path.with_suffix('')}") from None
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            os.close(fd)

    return release
