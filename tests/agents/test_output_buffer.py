import asyncio

from switchboard.agents.output_buffer import OutputBuffer


async def test_put_waits_while_the_byte_limit_is_reached() -> None:
    buffer: OutputBuffer[str] = OutputBuffer(limit_bytes=10)
    await buffer.put("a", 6)
    await buffer.put("b", 6)  # admitted: the queue was below the limit
    blocked = asyncio.create_task(buffer.put("c", 1))
    await asyncio.sleep(0)
    assert not blocked.done() and buffer.queued_bytes == 12
    assert await buffer.get() == "a"
    await asyncio.wait_for(blocked, 5)  # 6 bytes queued now: room again
    assert [await buffer.get(), await buffer.get()] == ["b", "c"]


async def test_close_never_blocks_and_drops_nothing() -> None:
    buffer: OutputBuffer[str] = OutputBuffer(limit_bytes=1)
    await buffer.put("a", 5)
    waiting_put = asyncio.create_task(buffer.put("b", 5))
    await asyncio.sleep(0)
    buffer.close()
    await asyncio.wait_for(waiting_put, 5)
    assert [await buffer.get(), await buffer.get(), await buffer.get()] == ["a", "b", None]


async def test_get_waits_for_a_batch_or_the_close() -> None:
    buffer: OutputBuffer[str] = OutputBuffer(limit_bytes=100)
    getter = asyncio.create_task(buffer.get())
    await asyncio.sleep(0)
    assert not getter.done()
    await buffer.put("x", 1)
    assert await asyncio.wait_for(getter, 5) == "x"
    closing = asyncio.create_task(buffer.get())
    buffer.close()
    assert await asyncio.wait_for(closing, 5) is None


async def test_get_all_takes_what_piled_up_in_order_and_makes_room() -> None:
    buffer: OutputBuffer[str] = OutputBuffer(limit_bytes=10)
    await buffer.put("a", 6)
    await buffer.put("b", 6)
    blocked = asyncio.create_task(buffer.put("c", 1))
    await asyncio.sleep(0)
    assert not blocked.done()  # the limit is reached
    assert await buffer.get_all() == ["a", "b"]
    assert buffer.queued_bytes == 0
    await asyncio.wait_for(blocked, 5)  # room again: the put waiting goes in
    getter = asyncio.create_task(buffer.get_all())
    assert await asyncio.wait_for(getter, 5) == ["c"]
    waiting = asyncio.create_task(buffer.get_all())
    await asyncio.sleep(0)
    assert not waiting.done()  # nothing queued: it waits for a batch, or the close
    buffer.close()
    assert await asyncio.wait_for(waiting, 5) is None
