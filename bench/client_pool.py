"""Client worker processes for the benchmarks, driven over pipes.

The clients a benchmark measures the server with live in their own processes, so that
their CPU is not spent in the server's process, nor in the one that measures. Each
process runs one ``Worker``: an object whose ``handle(command)`` coroutine answers a
command (a dict with an ``op``) with a dict, and which drops its clients on ``quit``.
Every call waits a bounded time.
"""

import asyncio
import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any, Protocol

from bench.processes import STOP_TIMEOUT, cpu_seconds


class Worker(Protocol):
    async def handle(self, command: dict[str, Any]) -> dict[str, Any]: ...


async def serve_commands(conn: Connection, worker: Worker) -> None:
    while True:
        try:
            command: dict[str, Any] = await asyncio.to_thread(conn.recv)
        except EOFError:  # the benchmark went away
            command = {"op": "quit"}
        try:
            reply = await worker.handle(command)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        with contextlib.suppress(OSError):
            conn.send(reply)
        if command["op"] == "quit":
            return


def worker_main(conn: Connection, make_worker: type[Worker]) -> None:
    """Entry point of a client process (``make_worker`` is a module-level class, which
    the spawned process imports by name)."""
    asyncio.run(serve_commands(conn, make_worker()))


class ClientPool:
    """Client worker processes, driven over pipes; each call is bounded in time."""

    def __init__(self, size: int, make_worker: type[Worker]) -> None:
        context = multiprocessing.get_context("spawn")
        self.workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        for index in range(size):
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main,
                args=(child, make_worker),
                name=f"bench-clients-{index}",
                daemon=True,
            )
            process.start()
            child.close()
            self.workers.append((process, parent))

    @property
    def size(self) -> int:
        return len(self.workers)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(process.pid) for process, _ in self.workers if process.pid)

    def shares(self, clients: int) -> list[tuple[int, int]]:
        """``clients`` spread over the workers: (worker index, count) with count > 0."""
        base, extra = divmod(clients, self.size)
        counts = [base + (1 if i < extra else 0) for i in range(self.size)]
        return [(i, n) for i, n in enumerate(counts) if n > 0]

    async def call(self, index: int, command: dict[str, Any], seconds: float) -> dict[str, Any]:
        conn = self.workers[index][1]

        def exchange() -> dict[str, Any]:
            conn.send(command)
            if not conn.poll(seconds):
                raise TimeoutError(f"client worker {index}: no answer to {command['op']!r}")
            reply: dict[str, Any] = conn.recv()
            return reply

        reply = await asyncio.to_thread(exchange)
        if "error" in reply:
            raise RuntimeError(f"client worker {index}, {command['op']}: {reply['error']}")
        return reply

    async def each(
        self, shares: list[tuple[int, int]], command: dict[str, Any], seconds: float
    ) -> list[dict[str, Any]]:
        """Send ``command`` (with ``count`` set to the worker's share) to the workers."""
        calls = [self.call(i, {**command, "count": n}, seconds) for i, n in shares]
        return list(await asyncio.gather(*calls))

    def close(self) -> None:
        for process, conn in self.workers:
            with contextlib.suppress(OSError, EOFError):
                conn.send({"op": "quit"})
                if conn.poll(STOP_TIMEOUT):
                    conn.recv()
            process.join(STOP_TIMEOUT)
            if process.is_alive():
                process.terminate()
                process.join(STOP_TIMEOUT)
            conn.close()
