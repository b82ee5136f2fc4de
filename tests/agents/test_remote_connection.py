"""The hub's side of a process on a remote agent, without a link: what the agent sends
comes out in order, is acknowledged once the consumer has taken it, and no more than
``MAX_PENDING_CHARS`` of it waits at once (the link stops reading past that)."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from switchboard.agents.base import OutputLine
from switchboard.agents.remote.driver import MAX_PENDING_CHARS, RemoteConnection


async def test_output_past_the_bound_holds_the_link_until_it_is_stored() -> None:
    sessions: dict[str, RemoteConnection] = {}
    connection = RemoteConnection(lambda: None, "s1", None, sessions)
    sessions["s1"] = connection
    finished: list[int] = []
    text = "x" * (MAX_PENDING_CHARS // 2 + 1)
    half = {"kind": "line", "text": text, "starts_turn": False}

    def finisher(number: int) -> Callable[[], None]:
        return lambda: finished.append(number)

    for number in range(3):
        connection.on_output([half], 0, True, finisher(number))
    room = asyncio.ensure_future(connection.room())
    await asyncio.sleep(0)
    assert not room.done()  # three halves wait: the link must not read more

    batches = connection.batches()
    first = await anext(batches)
    assert first == [OutputLine(text)] and finished == []  # not stored yet
    await anext(batches)  # the consumer came back: the first one is stored
    assert finished == [0]
    await asyncio.sleep(0)
    assert not room.done()  # two halves still wait: still more than the bound
    await anext(batches)
    assert finished == [0, 1]
    async with asyncio.timeout(1):
        await room  # one half is below the bound: the link reads again
    connection.on_exited(0, "")
    rest: list[Any] = [batch async for batch in batches]
    assert rest == [] and finished == [0, 1, 2]
    assert sessions == {}  # an exited process is forgotten


async def test_what_is_not_an_agent_event_is_refused() -> None:
    connection = RemoteConnection(lambda: None, "s1", None, {})
    for bad in ({"kind": "line"}, {"kind": "launch"}, {"kind": "line", "text": 5}):
        with pytest.raises(ValueError, match="agent event"):
            connection.on_output([bad], 0, False, lambda: None)
