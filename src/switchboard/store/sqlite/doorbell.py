"""The doorbell between the nodes of a cluster: PostgreSQL's LISTEN/NOTIFY.

The event log of a node sends ``NOTIFY <channel>, '<project> <seq>'`` in the
transaction that appends a project's events, so the notification goes out when (and
only if) they are committed. Other nodes read the events themselves, by seq, from the
log: a notification carries no event (NOTIFY has an 8000-byte limit and no replay).
:class:`CommitListener` listens on a connection of its own, in a thread; after it
(re)connects it asks for a resync, since notifications sent while it was away are lost.
"""

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
"""How long the listening thread waits for a notification before it checks whether
it should stop."""
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between attempts to reconnect, the last repeated."""


def channel_name(cluster_id: str) -> str:
    """The NOTIFY channel of a cluster (an identifier of at most 63 characters)."""
    return "switchboard_" + "".join(ch for ch in cluster_id if ch.isalnum())[:32]


def doorbell_payload(project_id: str, seq: int) -> str:
    return f"{project_id} {seq}"


def read_payload(payload: str) -> tuple[str, int] | None:
    """The project and seq of a notification; None if it is not one of ours."""
    project_id, _, seq = payload.partition(" ")
    return (project_id, int(seq)) if project_id and seq.isdigit() else None


class CommitListener:
    """Hands every (project, seq) committed by any node to ``on_commit``, through
    ``call_soon`` (e.g. ``loop.call_soon_threadsafe``)."""

    def __init__(self, engine: Engine, channel: str) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the doorbell needs PostgreSQL")
        self._engine = engine
        self._channel = channel
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        """Set while the thread listens (for tests and readiness)."""

    def start(
        self,
        call_soon: Callable[..., object],
        on_commit: Callable[[str, int], None],
        on_resync: Callable[[], None],
    ) -> None:
        """Listen from now on; ``on_resync`` is called each time listening (re)starts."""
        self._thread = threading.Thread(
            target=self._run, args=(call_soon, on_commit, on_resync), name="doorbell", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_SECONDS * 4)

    def _run(
        self,
        call_soon: Callable[..., object],
        on_commit: Callable[[str, int], None],
        on_resync: Callable[[], None],
    ) -> None:
        import psycopg  # noqa: PLC0415 (only a PostgreSQL store needs it)
        from psycopg import sql  # noqa: PLC0415

        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        attempt = 0
        while not self._stopped.is_set():
            try:
                with psycopg.connect(*args, **{**kwargs, "autocommit": True}) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self.connected.set()
                    attempt = 0
                    call_soon(on_resync)
                    while not self._stopped.is_set():
                        for notification in connection.notifies(timeout=POLL_SECONDS):
                            found = read_payload(notification.payload)
                            if found is not None:
                                call_soon(on_commit, *found)
            except Exception as exc:  # the server went away: listen again, then resync
                self.connected.clear()
                if self._stopped.is_set():
                    return
                log.warning("the doorbell lost PostgreSQL (%s); listening again", exc)
                self._stopped.wait(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
        self.connected.clear()
