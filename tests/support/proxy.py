"""A TCP proxy that keeps its port while the server behind it restarts.

A browser that reconnects to a server that is down gets "connection refused", which
Chromium reports as a console error. Behind this proxy (like behind a reverse proxy or
socket activation in production) the reconnect attempt is accepted and held until the
server is back, so a test can insist on a clean console while the server restarts.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

HOLD_SECONDS = 120.0  # longer than a restart plus a whole run on a busy machine


class HoldingProxy:
    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._open = asyncio.Event()
        self._open.set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    def hold(self) -> None:
        """From now on, new connections wait (open ones go on): call it before the
        server stops, and :meth:`restore` once it is back."""
        self._open.clear()

    def cut(self) -> None:
        """A network outage: drop every connection, and hold new ones until
        :meth:`restore` (the server itself keeps running)."""
        self.hold()
        for pipe in self._pipes:
            pipe.cancel()

    def freeze(self) -> None:
        """A silent outage: bytes stop going through either way, with no FIN or RST
        (each side hears nothing), and new connections are held, until :meth:`restore`."""
        self.hold()
        self._flowing.clear()

    def restore(self, target_port: int | None = None) -> None:
        """Held and new connections go through again (to ``target_port`` if the
        server came back elsewhere)."""
        if target_port is not None:
            self._target_port = target_port
        self._open.set()
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(HOLD_SECONDS):
                await self._open.wait()
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except (TimeoutError, OSError):
            writer.close()
            return
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer, self._flowing)),
            asyncio.create_task(_pipe(up_reader, writer, self._flowing)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)


@contextlib.asynccontextmanager
async def holding_proxy(
    target_port: int, host: str = "127.0.0.1"
) -> AsyncIterator[tuple[HoldingProxy, str]]:
    """A proxy to ``127.0.0.1:target_port``, listening on ``host``, and its ``http://``
    URL; closed afterwards."""
    proxy = HoldingProxy(target_port)
    server = await asyncio.start_server(proxy._accept, host, 0)
    try:
        yield proxy, f"http://{host}:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for pipe in proxy._pipes:
            pipe.cancel()
        await asyncio.gather(*proxy._pipes, return_exceptions=True)


async def _pipe(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    try:
        while data := await source.read(65536):
            await flowing.wait()
            sink.write(data)
            await sink.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            sink.close()
