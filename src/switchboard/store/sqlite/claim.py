"""One server per store, until the nodes of a cluster share one by leases.

Two servers appending to one event log would number events twice, and each would stop
the other's CLI processes as leftovers. A server therefore claims its store for as
long as it runs: on PostgreSQL, the store is a schema of a database (the first on the
connection's ``search_path``), claimed by a session-level advisory lock keyed by the
schema's name on a connection the server keeps open (PostgreSQL frees it when that
connection ends, crash included); on SQLite, the database file, claimed by an
exclusive ``flock`` on a file beside the database (the kernel frees it when the process
exits, even after SIGKILL). SQLite's own locks are POSIX locks on the database file;
the claim never opens that file, so it cannot drop them.
"""

import contextlib
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from switchboard.exceptions import StoreError

ADVISORY_CLASS = 0x53574243
"""The first half of the advisory lock's key ("SWBC"): Switchboard's alone. The second
is ``hashtext`` of the schema's name (two schemas whose hashes collide cannot both be
served at once: the second server is refused)."""
CLAIM_SUFFIX = ".switchboard-claim"

Release = Callable[[], None]


def claim_database(engine: Engine) -> Release:
    """Claim ``engine``'s database; raises :class:`StoreError` if another server has it.
    Returns what gives it back (idempotent)."""
    if engine.dialect.name == "postgresql":
        return _claim_postgresql(engine)
    database = engine.url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if engine.dialect.name == "sqlite" and on_disk:
        return _claim_file(Path(database + CLAIM_SUFFIX))
    return lambda: None


def _claim_postgresql(engine: Engine) -> Release:
    connection = engine.connect()
    try:
        taken = connection.execute(
            text(
                "SELECT pg_try_advisory_lock(CAST(:class AS integer), hashtext(current_schema()))"
            ),
            {"class": ADVISORY_CLASS},
        ).scalar()
        connection.commit()  # the lock is the session's: it outlives the transaction
    except BaseException:
        connection.close()
        raise
    if not taken:
        connection.close()
        raise StoreError("another Switchboard server is using this database (and schema)")

    def release() -> None:
        with contextlib.suppress(Exception):  # closing the session frees the lock
            connection.invalidate()
            connection.close()

    return release


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
