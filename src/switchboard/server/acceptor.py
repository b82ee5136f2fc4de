"""Accept connections on the listening socket: the caps, refusals, and accept() failures.

This replaces the accept loop of asyncio's ``create_server``, which on Python 3.11 to
3.13 goes wrong when file descriptors run out: after accept() fails with EMFILE it logs
a traceback and schedules a retry, then tries again, up to the listen backlog (2048)
times per wake-up (python/cpython#151615). Each of those retries does the same a second
later: one probe got 262,143 tracebacks and 130 MB of log. Here a failed accept() stops
accepting for :data:`RETRY_DELAY` seconds and is logged at most once per
:data:`~switchboard.server.connections.LOG_INTERVAL` with a count of the others, and
the line that says it accepts again gives the total.

Each accepted connection asks :class:`~switchboard.server.connections.ConnectionLimits`
for a slot first; a connection refused one gets a canned HTTP 503 and is closed at once,
before any protocol, transport or task is made for it.
"""

import asyncio
import contextlib
import errno
import functools
import logging
import resource
import socket
from collections.abc import Callable

from switchboard.server.connections import ConnectionLimits, Slot, ThrottledLog
from switchboard.server.protocols import canned_response

log = logging.getLogger(__name__)

ACCEPT_BATCH = 128
"""Connections accepted per wake-up, at most, before the loop serves the others."""
RETRY_DELAY = 1.0
"""Seconds without accepting after accept() failed (out of file descriptors, say)."""
FD_RESERVE = 256
"""File descriptors kept for other things than connections (database, CLI pipes),
besides one accept batch, when checking the limit against ``--max-connections``."""
REFUSED_RESPONSE = canned_response(
    503,
    "Service Unavailable",
    '{"error":"too many connections (see --max-connections); try again later"}',
    "Retry-After: 1",
)


def raise_open_files_limit() -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit it).
    Returns (soft limit before, soft limit now)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if resource.RLIM_INFINITY in (hard, soft) or soft >= hard:
        return soft, soft  # nothing to raise to (or nothing a number could say)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # e.g. macOS caps the soft limit below the hard one
        return soft, soft
    return soft, hard


def open_files_shortfall(limit: int, max_connections: int) -> str | None:
    """Why ``limit`` open files are too few for ``max_connections``, or None."""
    needed = max_connections + ACCEPT_BATCH + FD_RESERVE
    if limit == resource.RLIM_INFINITY or limit >= needed:
        return None
    return (
        f"the open files limit ({limit}) is below what --max-connections {max_connections} "
        f"needs (about {needed}): accepting will fail before the cap is reached. Lower "
        "--max-connections or raise the hard limit (ulimit -Hn, LimitNOFILE=)"
    )


class Acceptor:
    """Accepts on one listening socket until :meth:`stop`."""

    def __init__(
        self,
        sock: socket.socket,
        create_protocol: Callable[[Slot], asyncio.Protocol],
        limits: ConnectionLimits,
    ) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._loop = asyncio.get_running_loop()
        self._create_protocol = create_protocol
        self._limits = limits
        self._stopped = False
        self._retry: asyncio.TimerHandle | None = None
        self._connecting: set[asyncio.Task[object]] = set()
        self.failures = 0
        """accept() calls that failed, in all."""
        self._failing = 0
        """Of which since the last successful one."""
        self._log_failure = ThrottledLog(log, logging.ERROR)
        self._log_recovery = ThrottledLog(log, logging.WARNING)

    def start(self) -> None:
        self._sock.setblocking(False)
        self._loop.add_reader(self._fd, self._accept)

    def stop(self) -> None:
        """Stop accepting and close the listening socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        self._loop.remove_reader(self._fd)
        self._sock.close()
        self.flush_logs(force=True)

    def flush_logs(self, force: bool = False) -> None:
        for throttled in (self._log_failure, self._log_recovery):
            if force:
                throttled.flush_now()
            else:
                throttled.flush()

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                self._pause(exc)
                return
            if self._failing:
                self._recovered()
            self._admit(conn, (str(address[0]), int(address[1])))

    def _admit(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        conn.setblocking(False)
        slot = self._limits.admit(peer)
        if slot is None:
            with contextlib.suppress(OSError):
                conn.send(REFUSED_RESPONSE)
            conn.close()
            return
        protocol = self._create_protocol(slot)
        connecting = self._loop.connect_accepted_socket(lambda: protocol, conn)
        task: asyncio.Task[object] = self._loop.create_task(connecting)
        self._connecting.add(task)
        task.add_done_callback(functools.partial(self._connected, slot, conn))

    def _connected(self, slot: Slot, conn: socket.socket, task: "asyncio.Task[object]") -> None:
        self._connecting.discard(task)
        if task.cancelled() or task.exception() is not None:
            slot.release()  # no transport came to release it
            conn.close()

    def _pause(self, exc: OSError) -> None:
        self.failures += 1
        self._failing += 1
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        self._log_failure(
            f"cannot accept connections: {name} {exc.strerror} ({len(self._limits)} "
            f"connections open, open files limit {soft}); trying again in {RETRY_DELAY:g} s"
        )
        self._loop.remove_reader(self._fd)
        if self._retry is None:
            self._retry = self._loop.call_later(RETRY_DELAY, self._resume)

    def _resume(self) -> None:
        self._retry = None
        if not self._stopped:
            self._loop.add_reader(self._fd, self._accept)

    def _recovered(self) -> None:
        failed, self._failing = self._failing, 0
        self._log_recovery(
            f"accepting connections again, after {failed} failed accept() call(s) "
            f"({self.failures} since start)"
        )
