"""``/ws``: the hub's protocol for many clients (docs/protocol.md).

Each connection has a reader (requests in, replies out), a writer (drains the bounded
:class:`~switchboard.server.outbox.Outbox`), and one :class:`Subscription` per subscribed
project. Requests of one connection are handled in order. A bad request gets an
``error`` and the connection stays open; only an oversized message (1009), a slow
consumer (4008), a revoked token (4003), a client that ignores its rate limit (4029)
or shutdown (1001) closes it.

Replies count against the outbox's limit like events: a client that sends requests and
does not read the answers is a slow consumer. Requests are rate-limited per connection
(``--request-rate``, ``--request-burst``): beyond the rate they are answered with
``rate_limited``, and a client that goes on flooding is closed.

What each request does is in :mod:`switchboard.server.hub_requests` (one handler per
message type); the projects a connection follows are its
:class:`~switchboard.server.subscription_set.SubscriptionSet`, and what it does as a
producer its :class:`~switchboard.server.producer_link.ProducerLink`. A connection
opened with a scoped token (``produce``) may only publish skill events and request
confirmations, for the projects its token names; the rest is ``forbidden``.
"""

import asyncio
import itertools
import logging

from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from switchboard import log_format
from switchboard.exceptions import RequestRefused, StoreError
from switchboard.hub.hub import HubError
from switchboard.protocol.close_codes import CloseCode
from switchboard.protocol.messages import (
    AgentStatus,
    ClientMessage,
    Error,
    ProjectRemoved,
    ProjectStatus,
    ServerMessage,
    encode,
    parse_client_message,
)
from switchboard.protocol.rate_limit import RequestLimiter, Verdict
from switchboard.server.endpoint import HubSocketEndpoint, close_socket
from switchboard.server.hub_requests import dispatch, snapshot
from switchboard.server.outbox import Outbox
from switchboard.server.producer_link import ProducerLink
from switchboard.server.security import FULL, GRANT_KEY, Grant, app_protocol
from switchboard.server.subscription_set import SubscriptionSet
from switchboard.server.text_frames import slices, texts_sender, texts_sender_now

log = logging.getLogger(__name__)

WRITE_SLICE = 64 * 1024
CLOSE_SECONDS = 30.0
"""How long the closing frame may wait for a client that has stopped reading."""


_CONNECTIONS = itertools.count(1)


def connection_id(scope: Scope) -> str:
    """A name for the connection in log lines: ``ws-N`` and the client's address."""
    client = scope.get("client")
    where = f"@{client[0]}:{client[1]}" if client else ""
    return f"ws-{next(_CONNECTIONS)}{where}"


class HubEndpoint(HubSocketEndpoint):
    """The ASGI app mounted at ``/ws``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HubConnection(WebSocket(scope, receive, send), send, self)
        await connection.run()


class HubConnection:
    __slots__ = (
        "_closed",
        "_ending",
        "_flooded",
        "_flush_due",
        "_producer",
        "_requests",
        "_revoked",
        "_send_texts",
        "_send_texts_now",
        "_shutdown",
        "_writer",
        "grant",
        "hub",
        "outbox",
        "settings",
        "subscriptions",
        "tracker",
        "ws",
    )

    def __init__(self, websocket: WebSocket, send: Send, endpoint: HubEndpoint) -> None:
        self.ws = websocket
        self._send_texts = texts_sender(websocket.scope, send)
        self._send_texts_now = texts_sender_now(websocket.scope)
        self._flush_due = False
        self.hub = endpoint.hub
        self.settings = endpoint.settings
        self.tracker = endpoint.tracker
        grant = websocket.scope.get(GRANT_KEY)
        self.grant: Grant = grant if isinstance(grant, Grant) else FULL  # always set, by
        # SecurityMiddleware; unit tests may mount the endpoint without it
        self._revoked = False
        self._flooded = False  # went on sending after rate_limited
        self._requests: set[asyncio.Task[None]] = set()
        # Futures, not Events: thousands of idle connections each hold these.
        loop = asyncio.get_running_loop()
        self._ending: asyncio.Future[None] = loop.create_future()  # time to close
        self._closed: asyncio.Future[None] = loop.create_future()  # all cleaned up
        self._shutdown = False
        self._writer: asyncio.Task[None] | None = None  # runs only while there is output
        self.outbox = Outbox(
            self.settings.subscriber_queue_bytes, on_ready=self._start_writer, on_close=self._end
        )
        self.subscriptions = SubscriptionSet(self.hub, self.outbox)
        self._producer: ProducerLink | None = None  # made when first needed

    @property
    def producer(self) -> ProducerLink:
        """What the connection does as a producer (most connections never are one)."""
        if self._producer is None:
            self._producer = ProducerLink(self.hub, self.grant, self, self._ending)
        return self._producer

    # -- ConnectionTracker hooks --------------------------------------------------------

    def request_shutdown(self) -> None:
        self._shutdown = True
        self._end()

    def kill_now(self) -> None:
        """Nothing to kill: the hub owns the CLI processes."""

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def _end(self, _task: object = None) -> None:
        """Something ended the connection: the client left, the outbox closed, shutdown."""
        if not self._ending.done():
            self._ending.set_result(None)

    # -- the connection -----------------------------------------------------------------

    async def run(self) -> None:
        log_format.bind(connection=connection_id(self.ws.scope))
        if not self.tracker.accepting:
            await self.ws.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        self.tracker.add(self)
        try:
            # Listen for revocations before anything else, then make sure the token
            # was not revoked between the security check and now.
            self.hub.people.add_revocation_listener(self._on_revoked)
            if not self._token_alive():
                await self.ws.close(CloseCode.TOKEN_REVOKED, "token revoked")
                return
            await self.ws.accept(subprotocol=app_protocol(self.ws.scope))
            self.outbox.put_always(encode(snapshot(self.hub, self.settings, self.grant)))
            if self.grant.scope == "full":
                self.hub.add_listener(self._on_status)
                self.hub.add_agent_listener(self._on_agent)
            await self._serve()
        finally:
            self.hub.remove_listener(self._on_status)
            self.hub.remove_agent_listener(self._on_agent)
            self.hub.people.remove_revocation_listener(self._on_revoked)
            self.hub.people.forget_presence(self)
            # Requests under way finish (a half-done state change would be worse than
            # a late one); their replies go nowhere.
            if self._requests:
                await asyncio.gather(*self._requests, return_exceptions=True)
            await self.subscriptions.stop_all()
            if self._producer is not None:
                await self._producer.leave()
            self.tracker.discard(self)
            if not self._closed.done():
                self._closed.set_result(None)

    async def _serve(self) -> None:
        """Run the reader and the writer until one ends, the outbox closes (a writer
        stuck on a client that stopped reading would never notice an overflow itself)
        or shutdown; then close with the code that says why."""
        reader = asyncio.create_task(self._read(), name="ws-reader")
        reader.add_done_callback(self._end)
        try:
            await self._ending
        finally:
            tasks = [task for task in (reader, self._writer) if task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._shutdown:  # first: a client told 4008 now would reconnect to nothing
            await self._close(CloseCode.GOING_AWAY, "server shutting down")
        elif self._revoked:
            await self._close(CloseCode.TOKEN_REVOKED, "token revoked")
        elif self._flooded:
            log.warning(
                "closing a client that kept sending after rate_limited (%g requests/s, "
                "bursts of %d)",
                self.settings.request_rate,
                self.settings.request_burst,
            )
            await self._close(CloseCode.RATE_LIMITED, "rate limit exceeded")
        elif self.outbox.overflowed:
            log.warning("closing a slow consumer (%d bytes queued)", self.outbox.limit)
            self.hub.telemetry.slow_consumer_closes.inc()
            await self._close(CloseCode.SLOW_CONSUMER, "slow consumer")
        elif self.outbox.failure is not None:
            await self._close(CloseCode.INTERNAL_ERROR, self.outbox.failure)
        self.outbox.close()

    def _start_writer(self) -> None:
        """The outbox has frames again: send them once the current callback is done
        (what it publishes goes out together)."""
        if self._writer is None and not self._flush_due and not self._ending.done():
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Send what the outbox holds, at once if the socket has room and it is at most
        ``WRITE_SLICE`` bytes (a live event to an idle client: no task, no hop); else
        start the writer task, which waits for room and yields between slices."""
        self._flush_due = False
        if self._writer is not None:
            return
        frames: list[str] = []
        send_now = self._send_texts_now
        if send_now is not None and self.outbox.size <= WRITE_SLICE:
            # (even when the connection is ending: what was answered goes out before
            # the close frame, as it would have from the writer)
            frames = self.outbox.take()
            try:
                if not frames or send_now(frames):
                    return
            except Exception:  # the client is gone (or sending failed)
                self._end()
                return
        if self._ending.done():
            return  # closing: no new writer (the close frame waits for no queue)
        self._writer = asyncio.create_task(self._write(frames), name="ws-writer")
        self._writer.add_done_callback(self._writer_done)

    def _writer_done(self, task: "asyncio.Task[None]") -> None:
        if task.cancelled() or task.exception() is not None:
            self._end()  # the client is gone (or sending failed)

    async def _write(self, first: list[str]) -> None:
        """Send ``first``, then what the outbox holds, until it is empty; yield to the
        loop every ``WRITE_SLICE`` bytes, since a send to a socket with room never
        suspends. Each slice goes out in one write."""
        send_texts = self._send_texts
        frames = first or self.outbox.take()
        try:
            while frames:
                for index, part in enumerate(slices(frames, WRITE_SLICE)):
                    if index:
                        await asyncio.sleep(0)
                    await send_texts(part)
                frames = self.outbox.take()
        finally:
            self._writer = None

    async def _read(self) -> None:
        limiter = RequestLimiter(self.settings.request_rate, self.settings.request_burst)
        # No name here holds a message while the next one is awaited: a client's message
        # may be up to --max-message-bytes, and the last one is garbage by then.
        while await self._take(await self.ws.receive(), limiter):
            pass

    async def _take(self, message: Message, limiter: RequestLimiter) -> bool:
        """Handle one incoming message; False once there is nothing more to read."""
        if message["type"] == "websocket.disconnect" or self.outbox.closed:
            return False  # gone, or closing: no more requests to handle or answer
        verdict = limiter.check()
        if verdict is Verdict.CLOSE:
            self._flooded = True
            self._end()
            return False
        text = message.get("text")
        request = (
            parse_client_message(text)
            if text is not None
            else Error(code="bad_message", message="send JSON as text frames")
        )
        if verdict is Verdict.REFUSE:
            self.reply(Error(code="rate_limited", message=self._too_fast, id=request.id))
        elif isinstance(request, Error):
            self.reply(request)
        else:
            # The request runs as its own task, so that a connection closing meanwhile
            # cannot cut a state change in half; run() waits for it.
            task = asyncio.ensure_future(self._answer(request))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)
            await asyncio.shield(task)
        return True

    async def _answer(self, request: ClientMessage) -> None:
        """Handle one request; turn what goes wrong into an ``error`` reply."""
        try:
            if not self._token_alive():
                self._on_revoked(self.grant.token_id or "")
                raise HubError("forbidden", "this connection's token was revoked")
            reply = await dispatch(self, request)
            if reply is not None:
                self.reply(reply)
        except RequestRefused as exc:
            self.reply(Error(code=exc.code, message=exc.message, id=request.id))
        except StoreError as exc:
            log.error("store failure while handling %s: %s", request.type, exc)
            self.reply(Error(code="internal", message=str(exc), id=request.id))
        except Exception as exc:
            log.exception("handling %s failed", request.type)
            failure = f"the server failed to handle {request.type}: {exc!r}"
            self.reply(Error(code="internal", message=failure, id=request.id))

    def _token_alive(self) -> bool:
        token_id = self.grant.token_id
        return token_id is None or self.hub.people.token_alive(token_id)

    @property
    def _too_fast(self) -> str:
        rate, burst = self.settings.request_rate, self.settings.request_burst
        return f"more than {rate:g} requests a second (bursts of {burst}); slow down"

    def reply(self, message: ServerMessage) -> bool:
        """Queue a reply; it counts against the outbox's limit like a live event (False:
        the connection is closing as a slow consumer, or already was, and the reply is
        not even encoded)."""
        if self.outbox.closed:
            return False
        return self.outbox.put(encode(message))

    def _on_revoked(self, token_id: str) -> None:
        if self.grant.token_id == token_id:
            self._revoked = True
            self._end()

    def _on_agent(self, _message: AgentStatus, frame: str) -> None:
        self.outbox.put(frame)

    def _on_status(self, message: ProjectStatus | ProjectRemoved, frame: str) -> None:
        if isinstance(message, ProjectRemoved):
            self.subscriptions.drop(message.project)
        self.outbox.put(frame)

    async def _close(self, code: CloseCode, reason: str) -> None:
        await close_socket(self.ws, code, reason, CLOSE_SECONDS)
