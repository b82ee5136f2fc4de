"""The node link over a real Redis: calls reach the node asked and carry its answer or
its refusal; a call to a node nobody listens for fails at once, one that gets no
answer in time fails after it; news reaches every other node, in order, never its
sender; what is not ours on the channels is dropped without harm."""

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from switchboard.cluster.redis_link import MAX_ENVELOPE_BYTES, RedisLink
from switchboard.exceptions import RequestRefused
from switchboard.hub.node_link import Body, NodeNotListening, NodeUnavailable

REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Node:
    def __init__(self, cluster: str, name: str) -> None:
        self.link = RedisLink(REDIS_URL, name, cluster)
        self.news: asyncio.Queue[tuple[str, Body]] = asyncio.Queue()
        self.calls: list[tuple[str, Body]] = []
        self.slow = asyncio.Event()

    async def serve(self, kind: str, body: Body) -> Body:
        self.calls.append((kind, body))
        if kind == "refuse":
            raise RequestRefused("not_owner", "ask node c")
        if kind == "crash":
            raise RuntimeError("boom")
        if kind == "slow":
            await self.slow.wait()
        return {"echo": body, "by": self.link.node_id}

    def hear(self, kind: str, body: Body) -> None:
        self.news.put_nowait((kind, body))


@pytest.fixture
async def nodes() -> AsyncIterator[tuple[Node, Node, str]]:
    cluster = uuid.uuid4().hex  # channels of this test alone
    a, b = Node(cluster, "a"), Node(cluster, "b")
    await a.link.start(a.serve, a.hear)
    await b.link.start(b.serve, b.hear)
    yield a, b, cluster
    b.slow.set()
    await a.link.close()
    await b.link.close()


async def test_a_call_gets_the_answer_or_the_refusal_of_the_node_asked(
    nodes: tuple[Node, Node, str],
) -> None:
    a, b, _ = nodes
    assert await a.link.call("b", "hello", {"x": 1}, 5) == {"echo": {"x": 1}, "by": "b"}
    assert b.calls == [("hello", {"x": 1})] and a.calls == []
    with pytest.raises(RequestRefused) as refused:
        await a.link.call("b", "refuse", {}, 5)
    assert (refused.value.code, refused.value.message) == ("not_owner", "ask node c")
    with pytest.raises(RequestRefused) as failed:
        await b.link.call("a", "crash", {}, 5)
    assert failed.value.code == "internal"
    answers = await asyncio.gather(*(a.link.call("b", "n", {"i": i}, 5) for i in range(20)))
    assert [answer["echo"]["i"] for answer in answers] == list(range(20))


async def test_calls_nobody_answers_fail(nodes: tuple[Node, Node, str]) -> None:
    a, b, _ = nodes
    with pytest.raises(NodeNotListening, match="not connected"):
        await a.link.call("gone", "hello", {}, 5)
    with pytest.raises(NodeUnavailable, match=r"did not answer within 0\.3 s"):
        await a.link.call("b", "slow", {}, 0.3)
    b.slow.set()
    assert (await a.link.call("b", "slow", {}, 5))["by"] == "b"  # the late answer was dropped


async def test_news_reaches_the_others_in_order_not_its_sender(
    nodes: tuple[Node, Node, str],
) -> None:
    a, b, _ = nodes
    for i in range(50):
        a.link.broadcast("delta", {"i": i})
    async with asyncio.timeout(5):
        heard = [await b.news.get() for _ in range(50)]
    assert heard == [("delta", {"i": i}) for i in range(50)]
    b.link.broadcast("marker", {})  # after a's 50 on the one channel: a gets it after them
    async with asyncio.timeout(5):
        assert await a.news.get() == ("marker", {})  # and nothing of its own before it
    assert a.news.empty()


async def test_what_is_not_ours_is_dropped(nodes: tuple[Node, Node, str]) -> None:
    a, b, cluster = nodes
    raw = redis.from_url(REDIS_URL)
    try:
        for junk in (b"not json", b"[1,2]", b'{"t":"news"}', b'{"t":"reply","id":"nobody"}'):
            await raw.publish(f"switchboard:{cluster}:all", junk)
            await raw.publish(f"switchboard:{cluster}:node:b", junk)
    finally:
        await raw.aclose()
    a.link.broadcast("status", {"ok": True})
    async with asyncio.timeout(5):
        assert await b.news.get() == ("status", {"ok": True})
    assert await a.link.call("b", "still", {}, 5) == {"echo": {}, "by": "b"}


async def test_an_oversized_message_is_dropped_unread(nodes: tuple[Node, Node, str]) -> None:
    a, b, cluster = nodes
    raw = redis.from_url(REDIS_URL)
    try:
        huge = json.dumps({"t": "news", "from": "x", "kind": "huge", "body": {}})
        await raw.publish(f"switchboard:{cluster}:all", huge + " " * MAX_ENVELOPE_BYTES)
    finally:
        await raw.aclose()
    a.link.broadcast("after", {})
    async with asyncio.timeout(10):
        assert await b.news.get() == ("after", {})  # the huge one never reached it


async def test_a_link_that_cannot_reach_redis_refuses_to_start() -> None:
    link = RedisLink("redis://127.0.0.1:1/0", "a", uuid.uuid4().hex)
    with pytest.raises(NodeUnavailable, match="cannot reach the cluster's Redis"):
        await link.start(Node("x", "a").serve, Node("x", "a").hear)
