"""The per-connection outbox: bounded for live frames, a slow consumer closes it."""

import asyncio

from switchboard.server.outbox import Outbox


async def test_frames_come_out_in_order_and_free_their_room() -> None:
    outbox = Outbox(limit_bytes=100)
    assert outbox.put("a" * 40) and outbox.put("b" * 40)
    assert outbox.take() == ["a" * 40, "b" * 40]
    assert outbox.take() == []
    assert outbox.size == 0 and not outbox.closed


async def test_a_live_frame_past_the_limit_closes_the_outbox_as_overflowed() -> None:
    closed: list[bool] = []
    outbox = Outbox(limit_bytes=100, on_close=lambda: closed.append(True))
    assert outbox.put("a" * 60)
    assert not outbox.put("b" * 60)
    assert outbox.overflowed and outbox.closed
    assert outbox.take() == []  # the writer stops
    assert closed == [True]  # the connection hears of it even while its writer is stuck
    assert not outbox.put("c")
    outbox.close()
    assert closed == [True]


async def test_one_frame_larger_than_the_limit_still_goes_out_alone() -> None:
    outbox = Outbox(limit_bytes=10)
    assert outbox.put("x" * 50)
    assert outbox.take() == ["x" * 50]


async def test_replay_bypasses_the_limit_and_waits_for_room() -> None:
    outbox = Outbox(limit_bytes=100)
    outbox.put_always("r" * 80)
    assert not outbox.overflowed
    waiter = asyncio.ensure_future(outbox.wait_for_room())
    await asyncio.sleep(0)
    assert not waiter.done()  # more than half full
    outbox.take()
    await asyncio.wait_for(waiter, 1)


async def test_a_replay_that_fills_the_outbox_does_not_make_live_frames_overflow() -> None:
    outbox = Outbox(limit_bytes=100)
    outbox.put_always("r" * 300)  # a big replayed event: exempt from the limit
    assert outbox.put("live" * 10)
    assert not outbox.overflowed
    assert not outbox.put("x" * 70)  # but live frames themselves are bounded
    assert outbox.overflowed


async def test_on_ready_fires_when_frames_arrive_in_an_empty_outbox() -> None:
    calls: list[int] = []
    outbox = Outbox(limit_bytes=100, on_ready=lambda: calls.append(outbox.size))
    outbox.put("a")
    outbox.put("b")  # not empty: the writer already knows
    assert calls == [1]
    outbox.take()
    outbox.put_always("c")
    assert calls == [1, 1]


async def test_every_replay_waiting_for_room_is_woken() -> None:
    outbox = Outbox(limit_bytes=100)
    outbox.put_always("r" * 80)
    first = asyncio.ensure_future(outbox.wait_for_room())
    second = asyncio.ensure_future(outbox.wait_for_room())
    cancelled = asyncio.ensure_future(outbox.wait_for_room())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    outbox.take()
    await asyncio.wait_for(asyncio.gather(first, second), 1)
    outbox.put_always("r" * 80)
    third = asyncio.ensure_future(outbox.wait_for_room())
    await asyncio.sleep(0)
    outbox.close()
    await asyncio.wait_for(third, 1)
