#!/usr/bin/env python3
"""The hub benchmark's baseline: a bare ``websockets`` broadcast server over the same agent.

    python bench/hub_baseline.py AGENT [ARGS...]      (AGENT: an executable, as for the hub)

Binds 127.0.0.1 on a free port and prints ``listening on ws://127.0.0.1:PORT``. It starts
AGENT once (as the hub keeps its CLI between runs); each text message received on
``/control`` is written to the agent's stdin as a stream-json user message (exactly as
the hub writes a prompt), and every line the agent prints is sent, as it is, to every
connection on any other path (told ``subscribed`` once it is on the list) with
:func:`websockets.asyncio.server.broadcast`: no storage, no envelope, no per-client
queue, no backpressure. That is the ceiling the hub's fan-out is compared with. Stops
on SIGTERM or SIGINT (closing the agent's stdin). On ``/replay`` it is the replay
benchmark's baseline instead (see :func:`replay`).
"""

import asyncio
import contextlib
import json
import signal
import sys
from collections import deque

from websockets.asyncio.server import ServerConnection, broadcast, serve

from switchboard.agents.claude.stream_json import encode_user_message

CHUNK = 1 << 16
AGENT_EXIT_GRACE = 5.0


class Broadcast:
    """Every line goes straight into every connection's transport (``broadcast``)."""

    def __init__(self) -> None:
        self.connections: set[ServerConnection] = set()

    def publish(self, line: bytes) -> None:
        broadcast(self.connections, line, text=True)

    async def serve(self, connection: ServerConnection) -> None:
        self.connections.add(connection)
        try:
            await connection.send("subscribed")  # from now on it gets every line
            await connection.wait_closed()
        finally:
            self.connections.discard(connection)


class Mailbox:
    def __init__(self) -> None:
        self.lines: deque[bytes] = deque()
        self.ready = asyncio.Event()


class Queues:
    """A queue and a writer task per connection, which awaits each ``send``."""

    def __init__(self) -> None:
        self.mailboxes: dict[ServerConnection, Mailbox] = {}

    def publish(self, line: bytes) -> None:
        for mailbox in self.mailboxes.values():
            mailbox.lines.append(line)
            mailbox.ready.set()

    async def serve(self, connection: ServerConnection) -> None:
        mailbox = self.mailboxes[connection] = Mailbox()
        writer = asyncio.create_task(self._write(connection, mailbox))
        try:
            await connection.send("subscribed")
            await connection.wait_closed()
        finally:
            del self.mailboxes[connection]
            writer.cancel()

    @staticmethod
    async def _write(connection: ServerConnection, mailbox: Mailbox) -> None:
        lines = mailbox.lines
        while True:
            await mailbox.ready.wait()
            mailbox.ready.clear()
            while lines:
                await connection.send(lines.popleft(), text=True)


async def pump(stdout: asyncio.StreamReader, fanout: Broadcast | Queues) -> None:
    """Split the agent's stdout into lines and publish each one."""
    rest = b""
    while chunk := await stdout.read(CHUNK):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line:
                fanout.publish(line)


async def replay(connection: ServerConnection) -> None:
    """The replay baseline: told ``{"count": N, "frame": TEXT}``, send ``TEXT % i`` for
    each i < N from memory (no storage, no reading), then ``{"type":"caught_up"}``."""
    asked = json.loads(await connection.recv())
    frame = asked["frame"]
    for i in range(int(asked["count"])):
        await connection.send(frame % i)
    await connection.send('{"type":"caught_up"}')
    await connection.wait_closed()


async def main(agent: list[str], fanout: Broadcast | Queues) -> None:
    process = await asyncio.create_subprocess_exec(
        *agent, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdin is not None
    assert process.stdout is not None
    stdin = process.stdin

    async def handler(connection: ServerConnection) -> None:
        path = connection.request.path if connection.request is not None else "/"
        if path == "/replay":
            await replay(connection)
            return
        if path != "/control":
            await fanout.serve(connection)
            return
        async for message in connection:
            text = message if isinstance(message, str) else message.decode()
            stdin.write(encode_user_message(text))
            await stdin.drain()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reader = asyncio.create_task(pump(process.stdout, fanout))
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}", flush=True)
        await stop.wait()
    stdin.close()
    try:
        await asyncio.wait_for(process.wait(), AGENT_EXIT_GRACE)
    except TimeoutError:
        process.kill()
        await process.wait()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader


if __name__ == "__main__":
    arguments = sys.argv[1:]
    queues = bool(arguments) and arguments[0] == "--queues"
    if queues:
        arguments = arguments[1:]
    if not arguments:
        sys.exit(__doc__)
    asyncio.run(main(arguments, Queues() if queues else Broadcast()))
