"""The node link over Redis pub/sub (the port is :mod:`switchboard.hub.node_link`).

Each node subscribes to two channels of its cluster: its own
(``switchboard:CLUSTER:node:NODE``: calls to it, and replies to its calls) and the
cluster's (``switchboard:CLUSTER:all``: news for every node). Every message is one JSON
envelope: ``{"t": "call", "id", "from", "kind", "body"}``, ``{"t": "reply", "id",
"body"}`` or ``{"t": "reply", "id", "error": {"code", "message"}}``, ``{"t": "news",
"from", "kind", "body"}``. Nothing is stored: pub/sub reaches the nodes connected at
the time, which is all that live deltas, status and forwarded requests need (stored
events travel through the shared event log). News goes out in order through one
bounded queue; when Redis cannot keep up, news is dropped (and counted) rather than
held without limit. The link reconnects by itself; calls meanwhile fail at once.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from switchboard.exceptions import RequestRefused
from switchboard.hub.node_link import Body, Hear, NodeNotListening, NodeUnavailable, Serve

log = logging.getLogger(__name__)

MAX_ENVELOPE_BYTES = 16 * 1024 * 1024
"""A message larger than this is dropped unread (a forwarded request is far smaller)."""
NEWS_QUEUE = 10_000
"""News waiting to be published at most; more is dropped."""
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class RedisLink:
    """One node's link; :meth:`start` connects, :meth:`close` ends it."""

    def __init__(self, url: str, node_id: str, cluster_id: str) -> None:
        self.node_id = node_id
        self._url = url
        self._prefix = f"switchboard:{cluster_id}"
        self._everyone = f"{self._prefix}:all"
        self._redis: redis.Redis | None = None
        self._serve: Serve | None = None
        self._hear: Hear | None = None
        self._waiting: dict[str, asyncio.Future[Body]] = {}
        self._news: asyncio.Queue[str] = asyncio.Queue(NEWS_QUEUE)
        self._tasks: list[asyncio.Task[None]] = []
        self._answering: set[asyncio.Task[None]] = set()
        self.subscribed = asyncio.Event()
        """Set while the link listens (calls to this node reach it)."""
        self.dropped_news = 0

    def _channel(self, node_id: str) -> str:
        return f"{self._prefix}:node:{node_id}"

    async def start(self, serve: Serve, hear: Hear) -> None:
        """Connect (refused at once if Redis cannot be reached), then listen."""
        self._serve, self._hear = serve, hear
        self._redis = redis.from_url(self._url)
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            await self._redis.aclose()
            raise NodeUnavailable(f"cannot reach the cluster's Redis: {exc}") from None
        self._tasks = [
            asyncio.create_task(self._listen(), name="node-link-listen"),
            asyncio.create_task(self._publish_news(), name="node-link-news"),
        ]
        async with asyncio.timeout(10):
            await self.subscribed.wait()

    async def close(self) -> None:
        for task in [*self._tasks, *self._answering]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._answering, return_exceptions=True)
        for future in self._waiting.values():
            future.cancel()
        if self._redis is not None:
            await self._redis.aclose()

    async def call(self, node_id: str, kind: str, body: Body, within: float) -> Body:
        if self._redis is None or not self.subscribed.is_set():
            raise NodeUnavailable("this node's link to the others is down")
        call_id = uuid.uuid4().hex
        future: asyncio.Future[Body] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        envelope = {"t": "call", "id": call_id, "from": self.node_id, "kind": kind, "body": body}
        try:
            async with asyncio.timeout(within):
                receivers = await self._redis.publish(self._channel(node_id), json.dumps(envelope))
                if not receivers:
                    raise NodeNotListening(f"node {node_id!r} is not connected")
                return await future
        except TimeoutError:
            raise NodeUnavailable(f"node {node_id!r} did not answer within {within:g} s") from None
        except (RedisError, OSError) as exc:
            raise NodeUnavailable(f"the link to node {node_id!r} failed: {exc}") from None
        finally:
            self._waiting.pop(call_id, None)

    def broadcast(self, kind: str, body: Body) -> None:
        envelope = json.dumps({"t": "news", "from": self.node_id, "kind": kind, "body": body})
        try:
            self._news.put_nowait(envelope)
        except asyncio.QueueFull:
            self.dropped_news += 1
            if self.dropped_news % 1000 == 1:
                log.warning("the cluster's Redis is behind: %d news dropped", self.dropped_news)

    async def _publish_news(self) -> None:
        assert self._redis is not None
        while True:
            envelope = await self._news.get()
            try:
                await self._redis.publish(self._everyone, envelope)
            except (RedisError, OSError) as exc:
                self.dropped_news += 1
                log.warning("could not publish to the cluster's Redis: %s", exc)

    async def _listen(self) -> None:
        assert self._redis is not None
        attempt = 0
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel(self.node_id), self._everyone)
                self.subscribed.set()
                attempt = 0
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        self._received(message["data"])
                    except Exception:  # one bad message must not end the link
                        log.exception("node %s could not read a message", self.node_id)
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                log.warning("node %s lost the cluster's Redis (%s); again", self.node_id, exc)
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _received(self, data: bytes) -> None:
        if len(data) > MAX_ENVELOPE_BYTES:
            log.warning("dropped a %d-byte message from the cluster's Redis", len(data))
            return
        try:
            envelope = json.loads(data)
            kind = envelope["t"] if isinstance(envelope, dict) else None
        except (ValueError, TypeError, KeyError):
            kind = None
        if kind is None:
            log.warning("dropped a message from the cluster's Redis that is not ours")
            return
        if kind == "reply":
            self._replied(envelope)
        elif kind == "call":
            task = asyncio.create_task(self._answer(envelope))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        elif kind == "news" and envelope.get("from") != self.node_id and self._hear is not None:
            news = envelope.get("kind")
            try:
                self._hear(str(news), dict(envelope["body"]))
            except Exception:
                log.exception("node %s could not take news %r", self.node_id, news)

    def _replied(self, envelope: dict[str, Any]) -> None:
        future = self._waiting.get(str(envelope.get("id")))
        if future is None or future.done():
            return  # the caller gave up
        error = envelope.get("error")
        if isinstance(error, dict):
            future.set_exception(RequestRefused(error["code"], str(error["message"])))
        else:
            future.set_result(dict(envelope.get("body") or {}))

    async def _answer(self, envelope: dict[str, Any]) -> None:
        assert self._redis is not None
        assert self._serve is not None
        sender = envelope.get("from")
        if not isinstance(sender, str):
            log.warning("dropped a call from the cluster's Redis that names no sender")
            return
        reply: dict[str, Any] = {"t": "reply", "id": envelope.get("id")}
        try:
            reply["body"] = await self._serve(str(envelope.get("kind")), dict(envelope["body"]))
        except RequestRefused as exc:
            reply["error"] = {"code": exc.code, "message": exc.message}
        except Exception:
            log.exception("node %s failed a call from %s", self.node_id, sender)
            reply["error"] = {"code": "internal", "message": "the owner node failed the request"}
        with contextlib.suppress(RedisError, OSError):
            await self._redis.publish(self._channel(sender), json.dumps(reply))
