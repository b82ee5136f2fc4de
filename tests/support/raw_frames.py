"""A WebSocket client that writes a whole message in one go, fragments and all.

The ``websockets`` client waits for each fragment to be written before it makes the
next one, so whether the rest of a message is still arriving when the server refuses it
depends on timing. Here every frame is written at once: when the server closes, what it
has not read yet is on its way for sure.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.support.server import RunningServer


@dataclass
class Outcome:
    """What came back: the close code (None: the connection ended without a close
    frame, 1006 to a client) and the text frames before it."""

    close_code: int | None
    texts: list[str] = field(default_factory=list)


async def send_at_once(
    server: RunningServer, path: str, pieces: list[bytes], after_first_frame: bool = False
) -> Outcome:
    """Open ``path``, then send ``pieces`` as the fragments of one text message, all in
    one write (after the server's first frame, when ``after_first_frame``: /ws/claude's
    info frame, /ws's snapshot); read until the connection ends."""
    url = f"{server.ws_url}{path}?token={server.token}"
    protocol = ClientProtocol(parse_uri(url), max_size=None)
    host = server.url.removeprefix("http://").rsplit(":", 1)[0]
    reader, writer = await asyncio.open_connection(host, server.port)
    outcome = Outcome(None)
    try:
        protocol.send_request(protocol.connect())
        writer.write(b"".join(protocol.data_to_send()))
        sent = False
        async with asyncio.timeout(30):
            while data := await reader.read(65536):
                protocol.receive_data(data)
                for event in protocol.events_received():
                    if isinstance(event, Response):
                        assert event.status_code == 101, event
                        if not after_first_frame:
                            sent = _send(protocol, pieces, writer)
                    elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        outcome.texts.append(bytes(event.data).decode())
                        if not sent:
                            sent = _send(protocol, pieces, writer)
                writer.write(b"".join(protocol.data_to_send()))  # pongs, the close reply
        if protocol.close_rcvd is not None:
            outcome.close_code = protocol.close_rcvd.code
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server reset the connection: no close frame came (or it was lost)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return outcome


def _send(protocol: ClientProtocol, pieces: list[bytes], writer: asyncio.StreamWriter) -> bool:
    for index, piece in enumerate(pieces):
        fin = index == len(pieces) - 1
        if index == 0:
            protocol.send_text(piece, fin=fin)
        else:
            protocol.send_continuation(piece, fin=fin)
    writer.write(b"".join(protocol.data_to_send()))
    return True
