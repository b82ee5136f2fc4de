"""The one thread that writes to the database, with group commit.

SQLite allows one writer at a time, and a commit costs far more than an insert. Every
write is therefore a job for this thread; whatever jobs are waiting when it gets to
them are committed together in one transaction, and each job's future is resolved on
its own event loop. If a group fails, its jobs are retried one by one so that one bad
job fails alone. Each transaction's time goes to ``observe`` (the store-write-latency
histogram of ``/metrics``). A job that fails raises :class:`StoreError` (the database's own
exception is its cause), whose message is the database's reason alone (e.g. *database
or disk is full*), never the statement or its parameters.

The thread keeps one connection open between transactions: checking one out of the pool
and returning it (a rollback) took about as long as an SQLite commit, for each group.
After a failed transaction the connection is closed and the next group opens another.
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from switchboard.exceptions import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_GROUP = 1024
"""Jobs committed together at most."""


@dataclass(slots=True)
class _Job(Generic[T]):
    work: Callable[[Connection], T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        def apply() -> None:
            if self.future.done():
                return  # the caller gave up waiting
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            self.loop.call_soon_threadsafe(apply)


class Writer:
    """Runs write jobs on a dedicated thread. Start with the engine, end with :meth:`close`."""

    def __init__(self, engine: Engine, observe: Callable[[float], None] | None = None) -> None:
        """``observe``: given the seconds each transaction took (on the writer thread)."""
        self._engine = engine
        self._observe = observe
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._closed = False
        self._connection: Connection | None = None  # the writer thread's own
        self.commits = 0
        """Transactions committed so far (for tests and metrics)."""
        self.last_error: str | None = None
        """Why the last write failed, until a write goes through again."""
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Connection], T]) -> asyncio.Future[T]:
        """Queue ``work(connection)``; the future resolves once it is committed.

        Raises :class:`StoreError` once the writer is closed (nothing would run it).
        """
        if self._closed:
            raise StoreError("the store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(work, future, loop))
        return future

    def problems(self) -> list[str]:
        """Why writes cannot go through now (empty: they can)."""
        if self._closed:
            return ["the store is closed"]
        found = [] if self._thread.is_alive() else ["the store's writer thread stopped"]
        if self.last_error is not None:
            found.append(f"the last write failed: {self.last_error}")
        return found

    def close(self) -> None:
        """Commit what is queued, then stop the thread. Idempotent."""
        self._closed = True
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._disconnect()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            group = [job]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    following = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    stop = True
                    break
                group.append(following)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[_Job[Any]]) -> None:
        started = time.perf_counter()
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            connection = self._connection
            with connection.begin():
                results = [job.work(connection) for job in group]
        except Exception as exc:
            self._timed(started)
            self._disconnect()  # whatever state it is in, the next group starts afresh
            if len(group) == 1:
                error = as_store_error(exc)
                log.error("store write failed: %s", error)
                self.last_error = str(error)
                group[0].settle(error=error)
                return
            for job in group:  # find the one that fails
                self._commit([job])
            return
        self._timed(started)
        self.commits += 1
        self.last_error = None
        for job, result in zip(group, results, strict=True):
            job.settle(result)

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # it may be broken: that is why it goes
                connection.close()

    def _timed(self, started: float) -> None:
        if self._observe is not None:
            self._observe(time.perf_counter() - started)


def as_store_error(exc: BaseException) -> StoreError:
    """``exc`` as a :class:`StoreError` saying only why the database refused (a
    SQLAlchemy error's text would repeat the statement and its parameters: event bodies)."""
    if isinstance(exc, StoreError):
        return exc
    reason = getattr(exc, "orig", None) or exc
    # PostgreSQL's text goes on with the statement's line ("LINE 1: INSERT ..."): its
    # primary message is the reason alone.
    primary = getattr(getattr(reason, "diag", None), "message_primary", None)
    error = StoreError(primary or str(reason) or type(reason).__name__)
    error.__cause__ = exc
    return error
