"""uvicorn's HTTP (h11) and WebSocket (websockets-sansio) protocols, with a deadline
for the request and a :class:`~switchboard.server.connections.Slot` released on close.

uvicorn arms its keep-alive timer only once a response is complete, and it cancels it on
the first byte received: a connection that sends nothing, or a request line or headers
a byte at a time, would otherwise stay open for good. Here a connection waiting for a
request has ``handshake_timeout`` seconds, from when it was accepted (or its previous
response completed), to deliver it whole; bytes trickling in do not extend it. A
WebSocket upgrade is a request like any other: once its head is complete, the
application answers at once. A connection that misses the deadline is closed, after a
408 response when it had sent part of a request.
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.http11 import Request
from websockets.protocol import OPEN, SEND_EOF

from switchboard.server.connections import ConnectionLimits, Slot
from switchboard.server.text_frames import SEND_TEXTS, text_frame

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent


def canned_response(status: int, reason: str, body: str, *extra: str) -> bytes:
    """A whole HTTP/1.1 response that closes the connection, as bytes to write."""
    payload = body.encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


REQUEST_TIMEOUT_RESPONSE = canned_response(
    408, "Request Timeout", '{"error":"the request did not arrive whole in time"}'
)
_WAITING = (h11.IDLE, h11.SEND_BODY)
"""The client's h11 states in which the request is not complete yet."""


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """Releases the connection's slot when the WebSocket closes, and sends lists of
    text frames with one write (the :data:`~switchboard.server.text_frames.SEND_TEXTS`
    extension)."""

    slot: Slot | None = None

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)  # builds the scope; the application starts later
        extension: dict[object, object] = {"send": self.send_texts, "send_now": self.send_texts_now}
        self.scope["extensions"][SEND_TEXTS] = extension

    async def send(self, message: "ASGISendEvent") -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # The handshake's request and response (a few KiB of headers) are never
            # read again; thousands of idle connections would each keep them.
            with contextlib.suppress(AttributeError):
                del self.request, self.response

    async def send_texts(self, frames: Sequence[str]) -> None:
        """Send text frames, in order, as ``websocket.send`` would one by one, but with
        one write to the transport. Like it, it waits while the transport's buffer is
        full, raises ``ClientDisconnected`` once the client is gone, and sends nothing
        once the close frame went out. Only for an accepted connection."""
        if not self.handshake_complete:
            raise RuntimeError("send_texts before the WebSocket was accepted")
        await self.writable.wait()
        self._write_texts(frames)

    def send_texts_now(self, frames: Sequence[str]) -> bool:
        """:meth:`send_texts` without waiting: False (and nothing sent) while the
        transport's buffer is full."""
        if not self.handshake_complete:
            raise RuntimeError("send_texts_now before the WebSocket was accepted")
        if not self.writable.is_set():
            return False
        self._write_texts(frames)
        return True

    def _write_texts(self, frames: Sequence[str]) -> None:
        if self.disconnected:
            raise ClientDisconnected()
        if self.close_sent:
            return
        conn = self.conn
        if conn.extensions:  # e.g. permessage-deflate: websockets frames them
            try:
                for frame in frames:
                    conn.send_text(frame.encode())
            except InvalidState:
                raise ClientDisconnected() from None
            self.transport.write(b"".join(conn.data_to_send()))
            return
        if conn.state is not OPEN:  # as websockets' send_text would refuse
            raise ClientDisconnected()
        pending = conn.data_to_send()  # what websockets queued (a pong, say) goes first
        self.transport.write(b"".join([*pending, *(text_frame(f.encode()) for f in frames)]))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.slot is not None:
            self.slot.release()

    def handle_parser_exception(self) -> None:
        """A frame the protocol refuses (a message over the size limit, a text frame
        that is not UTF-8): send the close frame (1009, 1007) (and EOF, when websockets
        says so), and read on until the client closes, or for at most ``close_timeout``,
        as websockets' own server does. uvicorn closes the socket at
        once, while the rest of the client's message may still be arriving: the kernel
        then resets the connection, and the client can lose the close frame (1006)."""
        if self.close_sent:
            return  # already closing: what still arrives is discarded
        closing = self.conn.close_sent
        code, reason = (closing.code, closing.reason) if closing is not None else (1002, "")
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        output = self.conn.data_to_send()
        self.transport.write(b"".join(output))
        if SEND_EOF in output and self.transport.can_write_eof():  # websockets failed the
            self.transport.write_eof()  # connection: it discards all that comes from now on
        self.close_sent = True
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.close)
        if self.read_paused:  # no message for the app any more: drain the socket
            self.read_paused = False
            self.transport.resume_reading()


class GuardedH11Protocol(H11Protocol):
    """A deadline for each request; the slot follows the connection to its WebSocket."""

    slot: Slot | None = None
    limits: ConnectionLimits | None = None
    handshake_timeout: float | None = None
    _deadline: asyncio.TimerHandle | None = None
    _upgraded = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.slot is not None:
            self.slot.attach(transport.close)
        self._sync_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._sync_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._sync_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        if self.slot is not None and not self._upgraded:
            self.slot.release()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()
        self._upgraded = True
        super().handle_websocket_upgrade(event)
        successor = self.transport.get_protocol()
        if isinstance(successor, GuardedWebSocketProtocol):
            successor.slot = self.slot
        elif self.slot is not None:  # not ours to follow: stop counting it
            self.slot.release()

    def _sync_deadline(self) -> None:
        """Armed while a request is awaited (never pushed back by more bytes)."""
        waiting = (
            not self._upgraded
            and not self.transport.is_closing()
            and self.conn.their_state in _WAITING
        )
        if waiting and self._deadline is None and self.handshake_timeout is not None:
            self._deadline = self.loop.call_later(self.handshake_timeout, self._expired)
        elif not waiting:
            self._disarm()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.slot is not None and self.limits is not None and self.handshake_timeout:
            self.limits.note_timed_out(self.slot, self.handshake_timeout)
        started = bool(self.conn.trailing_data[0]) or self.conn.their_state is h11.SEND_BODY
        cycle = self.cycle  # the previous request's, while the next one is IDLE
        answered = self.conn.their_state is h11.SEND_BODY and cycle and cycle.response_started
        if started and not answered:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        self.transport.close()


def protocol_factory(
    config: uvicorn.Config,
    server_state: ServerState,
    app_state: dict[str, Any],
    limits: ConnectionLimits,
    handshake_timeout: float,
) -> Callable[[Slot], asyncio.Protocol]:
    """What the acceptor calls for each connection it lets in."""

    def create(slot: Slot) -> asyncio.Protocol:
        protocol = GuardedH11Protocol(config=config, server_state=server_state, app_state=app_state)
        protocol.slot = slot
        protocol.limits = limits
        protocol.handshake_timeout = handshake_timeout
        return protocol

    return create
