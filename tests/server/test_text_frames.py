"""Sending lists of text frames: the scope extension when the server offers it, else
ASGI ``websocket.send`` frame by frame; and the slices a writer sends them in."""

from collections.abc import Sequence
from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from switchboard.server.text_frames import SEND_TEXTS, slices, text_frame, texts_sender


async def test_without_the_extension_each_frame_is_an_asgi_send_in_order() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await texts_sender({"type": "websocket"}, send)(["a", "b"])
    assert sent == [
        {"type": "websocket.send", "text": "a"},
        {"type": "websocket.send", "text": "b"},
    ]


async def test_the_extension_takes_the_whole_list_and_asgi_send_is_not_used() -> None:
    taken: list[list[str]] = []

    async def send_texts(frames: Sequence[str]) -> None:
        taken.append(list(frames))

    async def send(message: Any) -> None:
        raise AssertionError(f"sent through ASGI: {message!r}")

    scope = {"type": "websocket", "extensions": {SEND_TEXTS: {"send": send_texts}}}
    await texts_sender(scope, send)(["a", "b", "c"])
    assert taken == [["a", "b", "c"]]


def test_slices_keep_order_and_hold_about_the_size_each() -> None:
    frames = ["x" * 30, "y" * 30, "z" * 50, "w" * 10, "v" * 5]
    parts = list(slices(frames, 60))
    assert parts == [frames[:2], frames[2:4], frames[4:]]
    assert [frame for part in parts for frame in part] == frames
    assert list(slices(["x" * 500], 60)) == [["x" * 500]]  # a big frame is a slice alone
    assert list(slices([], 60)) == []


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_a_text_frame_is_the_bytes_websockets_would_send(size: int) -> None:
    """Each side of the payload length's 7-, 16- and 64-bit encodings (RFC 6455 §5.2)."""
    payload = ("é" * size).encode()[:size]
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame(payload) == expected
