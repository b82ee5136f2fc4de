"""Sending many text frames at once: one write to the socket, not one per frame.

The ASGI ``websocket.send`` path costs a message dict, an await and a write to the
transport (a system call, when the socket has room) for each frame. A replay or a
burst of CLI lines is thousands of frames, so the server's WebSocket protocol offers,
as an ASGI extension in the connection's scope, a call that frames a list of texts
and writes them together. An application served another way falls back to the ASGI
path, frame by frame: both send the same frames in the same order.
"""

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from starlette.types import Scope, Send

SEND_TEXTS = "switchboard.send_texts"
"""The scope extension: ``{"send": async (frames: Sequence[str]) -> None}``."""

SendTexts = Callable[[Sequence[str]], Awaitable[None]]


def texts_sender(scope: Scope, send: Send) -> SendTexts:
    """How this connection sends a list of text frames, in order."""
    extension: Any = scope.get("extensions", {}).get(SEND_TEXTS)
    if isinstance(extension, dict) and callable(extension.get("send")):
        sender: SendTexts = extension["send"]
        return sender

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
