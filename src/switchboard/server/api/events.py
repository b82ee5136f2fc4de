"""``GET /api/projects/{project}/events``: a project's events as Server-Sent Events.

The stream is a ``/ws`` subscription: ``subscribe`` goes through the same handler and
role check, and the same :class:`~switchboard.server.subscription.Subscription` sends
the history after ``since`` (``Last-Event-ID``, else ``?since=``, else 0) and then live
events, with no gap and nothing twice. It starts with the subscription's ``ack``.

What is to be sent waits in a bounded :class:`~switchboard.server.outbox.Outbox`, as
on ``/ws``; a client that reads too slowly overflows it, and its stream ends with a
``close`` message (4008): it reconnects with ``Last-Event-ID`` and loses nothing. A
stream also ends (with ``close``) when the server shuts down (1001) or its token is
revoked (4003), and (with ``project_removed``) when the project is removed. While
nothing happens a comment goes out every ``--ping-interval`` seconds.
"""

import asyncio
import contextlib
import logging
import re

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from switchboard.exceptions import RequestRefused
from switchboard.protocol.close_codes import CloseCode
from switchboard.protocol.messages import Ack, ProjectRemoved, ProjectStatus, encode
from switchboard.server.api import sse
from switchboard.server.api.bodies import build
from switchboard.server.api.context import ApiContext
from switchboard.server.api.errors import ApiRefusal
from switchboard.server.outbox import Outbox
from switchboard.server.security import Grant
from switchboard.server.subscription_set import SubscriptionSet

WRITE_SLICE = 64 * 1024
"""Bytes of messages handed to the server at once."""
CLOSE_SECONDS = 30.0
"""How long the closing message may wait for a client that has stopped reading (as the
closing frame on ``/ws``)."""
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each message on at once
]
_SEQ = re.compile(r"[0-9]{1,18}")

log = logging.getLogger(__name__)


def requested_since(request: Request) -> int | str:
    """Where to start: ``Last-Event-ID`` (an ``EventSource`` that reconnects sends it,
    and still asks for its first URL), else ``?since=`` (checked as ``subscribe``'s)."""
    last = request.headers.get("last-event-id", "").strip(" \t")
    if last:
        if not _SEQ.fullmatch(last):
            raise ApiRefusal("bad_message", "Last-Event-ID: not the seq of an event")
        return int(last)
    return request.query_params.get("since", 0)


class EventsEndpoint:
    """The ASGI app of the route: one :class:`EventStream` per request."""

    def __init__(self, context: ApiContext) -> None:
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        context = self.context
        stream = EventStream(context, send, receive)
        try:
            grant = context.admit(request)
            since = requested_since(request)
            key = request.path_params["project"]
            subscribe = build("subscribe", {"project": key, "since": since})
            ack = await context.perform(grant, subscribe, stream.subscriptions)
            project_id = context.hub.project(key).id
        except RequestRefused as refused:  # the project went away meanwhile
            await stream.subscriptions.stop_all()
            await ApiRefusal(refused.code, refused.message).response()(scope, receive, send)
            return
        except ApiRefusal as refusal:
            await stream.subscriptions.stop_all()
            await refusal.response()(scope, receive, send)
            return
        except Exception as exc:
            log.exception("opening an event stream failed")
            await stream.subscriptions.stop_all()
            failed = ApiRefusal("internal", f"the server failed to open the stream: {exc!r}")
            await failed.response()(scope, receive, send)
            return
        if request.method == "HEAD":
            await stream.subscriptions.stop_all()
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return
        await stream.run(grant, project_id, ack)


class EventStream:
    """One client's stream, from the ack to its end."""

    __slots__ = (
        "_closed",
        "_ending",
        "_gone",
        "_last",
        "_project",
        "_receive",
        "_send",
        "_wake",
        "context",
        "grant",
        "outbox",
        "subscriptions",
    )

    def __init__(self, context: ApiContext, send: Send, receive: Receive) -> None:
        self.context = context
        self._send = send
        self._receive = receive
        loop = asyncio.get_running_loop()
        self._ending: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()
        self._last: bytes | None = None  # the message that says why the server ended it
        self._gone = False
        self._wake = asyncio.Event()
        self._project = ""
        self.grant: Grant | None = None
        self.outbox = Outbox(
            context.settings.subscriber_queue_bytes, on_ready=self._wake.set, on_close=self._full
        )
        self.subscriptions = SubscriptionSet(context.hub, self.outbox)

    # -- ConnectionTracker hooks --------------------------------------------------------

    def request_shutdown(self) -> None:
        self._end(sse.closing(CloseCode.GOING_AWAY, "server shutting down"))

    def kill_now(self) -> None:
        """Nothing to kill: the hub owns the CLI processes."""

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    # -- ending -------------------------------------------------------------------------

    def _end(self, last: bytes | None) -> None:
        if not self._ending.done():
            self._last = last
            self._ending.set_result(None)

    def _full(self) -> None:
        """The outbox closed: overflowed (a slow consumer), failed, or closed by us."""
        if self.outbox.overflowed:
            log.warning(
                "ending the event stream of a slow consumer (%d bytes queued)", self.outbox.limit
            )
            self.context.hub.telemetry.slow_consumer_closes.inc()
            self._end(sse.closing(CloseCode.SLOW_CONSUMER, "slow consumer"))
        elif self.outbox.failure is not None:
            self._end(sse.closing(CloseCode.INTERNAL_ERROR, self.outbox.failure))
        else:
            self._end(None)

    def _on_status(self, message: ProjectStatus | ProjectRemoved, frame: str) -> None:
        if isinstance(message, ProjectRemoved) and message.project == self._project:
            self._end(sse.message(frame))

    def _on_revoked(self, token_id: str) -> None:
        if self.grant is not None and self.grant.token_id == token_id:
            self._end(sse.closing(CloseCode.TOKEN_REVOKED, "token revoked"))

    # -- the stream ---------------------------------------------------------------------

    async def run(self, grant: Grant, project_id: str, ack: Ack) -> None:
        hub, tracker = self.context.hub, self.context.tracker
        self.grant = grant
        self._project = project_id
        tracker.add(self)
        hub.add_listener(self._on_status)
        hub.people.add_revocation_listener(self._on_revoked)
        try:
            if not tracker.accepting:  # shutdown began before the tracker knew of it
                self.request_shutdown()
            if grant.token_id is not None and not hub.people.token_alive(grant.token_id):
                self._on_revoked(grant.token_id)  # revoked before the listener was in
            await self._send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await self._body(sse.message(encode(ack)))
            await self._serve()
        finally:
            hub.remove_listener(self._on_status)
            hub.people.remove_revocation_listener(self._on_revoked)
            await self.subscriptions.stop_all()
            self.outbox.close()
            tracker.discard(self)
            if not self._closed.done():
                self._closed.set_result(None)

    async def _serve(self) -> None:
        tasks = [
            asyncio.create_task(self._pump(), name="sse-pump"),
            asyncio.create_task(self._watch(), name="sse-watch"),
        ]
        for task in tasks:
            task.add_done_callback(lambda _task: self._end(None))
        try:
            await self._ending
        finally:
            for task in tasks:
                task.cancel()
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.warning("an event stream failed: %r", outcome)
        if self._gone:
            return
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self._send(
                    {"type": "http.response.body", "body": self._last or b"", "more_body": False}
                )

    async def _pump(self) -> None:
        """Send what the outbox holds as it comes; a comment when nothing has come for
        ``--ping-interval`` seconds."""
        keep_alive = self.context.settings.ping_interval
        while True:
            self._wake.clear()
            frames = self.outbox.take()
            if frames:
                await self._send_frames(frames)
                continue
            try:
                async with asyncio.timeout(keep_alive):
                    await self._wake.wait()
            except TimeoutError:
                await self._body(sse.KEEP_ALIVE)

    async def _send_frames(self, frames: list[str]) -> None:
        chunk = bytearray()
        for frame in frames:
            chunk += sse.message(frame)
            if len(chunk) >= WRITE_SLICE:
                await self._body(bytes(chunk))
                chunk.clear()
        if chunk:
            await self._body(bytes(chunk))

    async def _body(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def _watch(self) -> None:
        """Return once the client has gone."""
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._gone = True
