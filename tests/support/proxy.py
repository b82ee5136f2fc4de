"""A TCP proxy that keeps its port while the server behind it restarts.

A browser that reconnects to a server that is down gets "connection refused", which
Chromium reports as a console error. Behind this proxy (like behind a reverse proxy or
socket activation in production) the reconnect attempt is accepted and held until the
server is back, so a test can insist on a clean console while the server restarts.
"""

import asyncio
import contextlib

CONNECT_RETRY_SECONDS = 0.1
HOLD_SECONDS = 120.0  # longer than a restart plus a whole run on a busy machine


class HoldingProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        """Where connections go; change it when the server comes back elsewhere."""
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._open = asyncio.Event()
        self._open.set()

    def cut(self) -> None:
        """A network outage: drop every connection, and hold new ones until
        :meth:`restore` (the server itself keeps running)."""
        self._open.clear()
        for pipe in self._pipes:
            pipe.cancel()

    def restore(self) -> None:
        """The outage is over: held and new connections go through again."""
        self._open.set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._reach_target()
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)

    async def _reach_target(
        self,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Connect to the server, waiting (bounded) while it is down or cut off."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_SECONDS
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HOLD_SECONDS):
                await self._open.wait()
        while loop.time() < deadline and self._open.is_set():
            with contextlib.suppress(OSError):
                return await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.sleep(CONNECT_RETRY_SECONDS)
        return None


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            sink.close()
