"""Sending many text frames at once: one write to the socket, not one per frame.

The ASGI ``websocket.send`` path costs a message dict, an await and a write to the
transport (a system call, when the socket has room) for each frame. A replay or a
burst of CLI lines is thousands of frames, so the server's WebSocket protocol offers,
as an ASGI extension in the connection's scope, a call that frames a list of texts
and writes them together. An application served another way falls back to the ASGI
path, frame by frame: both send the same frames in the same order.
"""

import struct
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, cast

from starlette.types import Scope, Send

SEND_TEXTS = "switchboard.send_texts"
"""The scope extension: ``{"send": async (frames: Sequence[str]) -> None, "send_now":
(frames: Sequence[str]) -> bool}``; ``send_now`` writes at once, or returns False and
sends nothing while the socket's buffer is full (then ``send`` waits for room)."""

SendTexts = Callable[[Sequence[str]], Awaitable[None]]
SendTextsNow = Callable[[Sequence[str]], bool]


def _extension(scope: Scope) -> dict[str, Any]:
    extension: Any = scope.get("extensions", {}).get(SEND_TEXTS)
    return extension if isinstance(extension, dict) else {}


def texts_sender_now(scope: Scope) -> SendTextsNow | None:
    """How this connection sends text frames without waiting, if it can (see
    :data:`SEND_TEXTS`); None where only ASGI's ``websocket.send`` is offered."""
    send_now = _extension(scope).get("send_now")
    return send_now if callable(send_now) else None


def texts_sender(scope: Scope, send: Send) -> SendTexts:
    """How this connection sends a list of text frames, in order."""
    sender = _extension(scope).get("send")
    if callable(sender):
        return cast(SendTexts, sender)

    async def one_by_one(frames: Sequence[str]) -> None:
        for frame in frames:
            await send({"type": "websocket.send", "text": frame})

    return one_by_one


def slices(frames: list[str], size: int) -> Iterator[list[str]]:
    """``frames`` in runs of about ``size`` characters (at least one frame each)."""
    start = total = 0
    for index, frame in enumerate(frames):
        total += len(frame)
        if total >= size:
            yield frames[start : index + 1]
            start, total = index + 1, 0
    if start < len(frames):
        yield frames[start:]


_TEXT_FIN = 0x81
"""The first byte of an unfragmented text frame (FIN, opcode 1, no RSV bits)."""


def text_frame(payload: bytes) -> bytes:
    """A server's unmasked, unfragmented, uncompressed text frame (RFC 6455 §5.2).

    websockets builds the same bytes through a ``Frame`` object and a generic
    serializer, several microseconds a frame in pure Python; every live line and every
    replayed event goes through here."""
    size = len(payload)
    if size < 126:
        return bytes((_TEXT_FIN, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", _TEXT_FIN, 126, size) + payload
    return struct.pack("!BBQ", _TEXT_FIN, 127, size) + payload
