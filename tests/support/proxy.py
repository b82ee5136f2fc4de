"""A TCP proxy that keeps its port while the server behind it restarts.

A browser that reconnects to a server that is down gets "connection refused", which
Chromium reports as a console error. Behind this proxy (like behind a reverse proxy or
socket activation in production) the reconnect attempt is accepted and held until the
server is back, so a test can insist on a clean console while the server restarts.

And an HTTP proxy that only tunnels (``CONNECT``), the kind a client reaches the
internet through, which notes where it tunnelled to.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

HOLD_SECONDS = 120.0  # longer than a restart plus a whole run on a busy machine
HEAD_LIMIT = 16 * 1024
"""Bytes a CONNECT request's head may take (request line and headers)."""


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


class ConnectProxy:
    """An HTTP proxy that only tunnels (``CONNECT host:port``, as proxies do for
    ``ws://`` and ``wss://``), noting each ``host:port`` it tunnelled to in ``targets``."""

    def __init__(self) -> None:
        self.url = ""
        self.targets: list[str] = []
        self._tunnels: set[asyncio.Task[None]] = set()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve a client in a task of our own (that closing the proxy cancels)."""
        tunnel = asyncio.create_task(self._tunnel(reader, writer))
        self._tunnels.add(tunnel)
        tunnel.add_done_callback(self._tunnels.discard)

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read the request head; answer a refusal, or tunnel until either side closes."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")  # the reader's limit: HEAD_LIMIT
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, OSError):
            return
        request = _parse_head(head)
        if request is None:
            await _answer(writer, "400 Bad Request")
            return
        method, target = request
        if method != "CONNECT":
            await _answer(writer, "405 Method Not Allowed", "Allow: CONNECT\r\n")
            return
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            await _answer(writer, "400 Bad Request")
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            await _answer(writer, "502 Bad Gateway")
            return
        self.targets.append(target)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        flowing = asyncio.Event()
        flowing.set()
        await asyncio.gather(
            _pipe(reader, up_writer, flowing),
            _pipe(up_reader, writer, flowing),
            return_exceptions=True,
        )


@contextlib.asynccontextmanager
async def connect_proxy() -> AsyncIterator[ConnectProxy]:
    """A :class:`ConnectProxy` listening on 127.0.0.1; afterwards its listener, its
    connections and their tasks are closed."""
    proxy = ConnectProxy()
    server = await asyncio.start_server(proxy._accept, "127.0.0.1", 0, limit=HEAD_LIMIT)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        server.close()
        tunnels = list(proxy._tunnels)
        for tunnel in tunnels:
            tunnel.cancel()
        await asyncio.gather(*tunnels, return_exceptions=True)
        await server.wait_closed()


def _parse_head(head: bytes) -> tuple[str, str] | None:
    """The method and target of an HTTP/1.x request head, or None if it is malformed
    (its headers too)."""
    request_line, *headers = head.decode("latin-1").split("\r\n")[:-2]
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    for line in headers:
        name, colon, _ = line.partition(":")
        if not colon or not name or name != name.strip():
            return None
    return parts[0], parts[1]


async def _answer(writer: asyncio.StreamWriter, status: str, headers: str = "") -> None:
    """Answer with ``status`` and no body (the caller then closes)."""
    writer.write(
        f"HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )
    with contextlib.suppress(OSError):
        await writer.drain()
