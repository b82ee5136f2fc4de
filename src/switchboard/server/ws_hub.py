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

A connection opened with a scoped token (``produce``) may only publish skill events and
request confirmations, for the projects its token names; the rest is ``forbidden``.
When it closes, the confirmations it still waits for are withdrawn and the skills it
started and did not end are reported failed.
"""

import asyncio
import contextlib
import logging
import time
from typing import cast

from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard import __version__
from switchboard.config import Settings
from switchboard.exceptions import RequestRefused, StoreError
from switchboard.hub.confirmations import Decision
from switchboard.hub.hub import Hub, HubError
from switchboard.protocol.close_codes import CloseCode, clip_reason
from switchboard.protocol.messages import (
    Ack,
    Cancel,
    ClientMessage,
    ConfirmationRequest,
    ConfirmationResponse,
    ConfirmationResult,
    ConfirmationWithdraw,
    Connected,
    Error,
    Heartbeat,
    HeartbeatAck,
    PauseTimer,
    PermissionMode,
    PermissionModeSet,
    PermissionsList,
    PermissionsRemove,
    ProjectAdd,
    ProjectList,
    ProjectRemove,
    ProjectRemoved,
    ProjectRetention,
    ProjectStatus,
    Prompt,
    ResumeTimer,
    SessionList,
    SessionNew,
    SessionUse,
    SkillEventPublish,
    Subscribe,
    TokenCreate,
    TokenList,
    TokenRevoke,
    Unsubscribe,
    encode,
    parse_client_message,
)
from switchboard.protocol.rate_limit import RequestLimiter, Verdict
from switchboard.protocol.skills import SkillFailed
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.outbox import Outbox
from switchboard.server.security import FULL, GRANT_KEY, Grant, app_protocol
from switchboard.server.subscription import Subscription

log = logging.getLogger(__name__)

WRITE_SLICE = 64 * 1024
CLOSE_SECONDS = 30.0
"""How long the closing frame may wait for a client that has stopped reading."""
PRODUCER_REQUESTS = frozenset(
    {"heartbeat", "skill.event", "confirmation.request", "confirmation.withdraw"}
)
"""What a ``produce`` token may send."""
MAX_PENDING_PER_CONNECTION = 64
"""Questions one connection may have waiting at once (each may start --on-confirmation)."""


class HubEndpoint:
    """The ASGI app mounted at ``/ws``."""

    def __init__(self, hub: Hub, settings: Settings, tracker: ConnectionTracker) -> None:
        self.hub = hub
        self.settings = settings
        self.tracker = tracker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HubConnection(WebSocket(scope, receive, send), send, self)
        await connection.run()


class HubConnection:
    __slots__ = (
        "_asgi_send",
        "_asked",
        "_closed",
        "_ending",
        "_flooded",
        "_requests",
        "_revoked",
        "_shutdown",
        "_subscriptions",
        "_writer",
        "grant",
        "hub",
        "outbox",
        "settings",
        "tracker",
        "ws",
    )

    def __init__(self, websocket: WebSocket, send: Send, endpoint: HubEndpoint) -> None:
        self.ws = websocket
        self._asgi_send = send
        self.hub = endpoint.hub
        self.settings = endpoint.settings
        self.tracker = endpoint.tracker
        grant = websocket.scope.get(GRANT_KEY)
        self.grant: Grant = grant if isinstance(grant, Grant) else FULL  # always set, by
        # SecurityMiddleware; unit tests may mount the endpoint without it
        self._subscriptions: dict[str, Subscription] = {}
        self._asked: set[str] = set()  # confirmations this connection waits for
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
        if not self.tracker.accepting:
            await self.ws.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        self.tracker.add(self)
        try:
            # Listen for revocations before anything else, then make sure the token
            # was not revoked between the security check and now.
            self.hub.add_revocation_listener(self._on_revoked)
            if not self._token_alive():
                await self.ws.close(CloseCode.TOKEN_REVOKED, "token revoked")
                return
            await self.ws.accept(subprotocol=app_protocol(self.ws.scope))
            self.outbox.put_always(encode(self._snapshot()))
            if self.grant.scope == "full":
                self.hub.add_listener(self._on_status)
            await self._serve()
        finally:
            self.hub.remove_listener(self._on_status)
            self.hub.remove_revocation_listener(self._on_revoked)
            # Requests under way finish (a half-done state change would be worse than
            # a late one); their replies go nowhere.
            if self._requests:
                await asyncio.gather(*self._requests, return_exceptions=True)
            for subscription in list(self._subscriptions.values()):
                with contextlib.suppress(Exception):
                    await subscription.stop()
            await self._leave_as_producer()
            self.tracker.discard(self)
            if not self._closed.done():
                self._closed.set_result(None)

    async def _leave_as_producer(self) -> None:
        """Nobody waits for this connection's confirmations any more, and its unended
        skills will not end: say so."""
        for confirmation_id in list(self._asked):
            with contextlib.suppress(Exception):
                await self.hub.withdraw_confirmation(confirmation_id)
        for skill in self.hub.skills_owned_by(self):
            failed = SkillFailed(skill_id=skill.skill_id, error="the producer disconnected")
            with contextlib.suppress(RequestRefused, StoreError):
                await self.hub.publish_skill_event(
                    skill.project, failed, self.grant.name, during_shutdown=True
                )

    def _snapshot(self) -> Connected:
        settings = self.settings
        hub = self.hub
        full = self.grant.scope == "full"
        projects = [p for p in hub.project_infos() if full or self.grant.covers(p.id)]
        return Connected(
            server_version=__version__,
            scope=self.grant.scope,
            projects=projects,
            running_runs=hub.running_runs() if full else [],
            running_skills=hub.running_skills() if full else [],
            pending_confirmations=hub.pending_confirmations() if full else [],
            limits={
                "max_message_bytes": settings.max_message_bytes,
                "subscriber_queue_bytes": settings.subscriber_queue_bytes,
                "max_queued_runs": settings.max_queued_runs,
                "max_concurrent_runs": settings.max_concurrent_runs,
                "run_timeout": settings.run_timeout,
                "request_rate": settings.request_rate,
                "request_burst": settings.request_burst,
            },
            # the hub's list holds only modes the protocol knows (checked at startup)
            permission_modes=cast(list[PermissionMode], hub.permission_modes()),
        )

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
            await self._close(CloseCode.SLOW_CONSUMER, "slow consumer")
        elif self.outbox.failure is not None:
            await self._close(CloseCode.INTERNAL_ERROR, self.outbox.failure)
        self.outbox.close()

    def _start_writer(self) -> None:
        if self._writer is None and not self._ending.done():
            self._writer = asyncio.create_task(self._write(), name="ws-writer")
            self._writer.add_done_callback(self._writer_done)

    def _writer_done(self, task: "asyncio.Task[None]") -> None:
        if task.cancelled() or task.exception() is not None:
            self._end()  # the client is gone (or sending failed)

    async def _write(self) -> None:
        """Send what the outbox holds until it is empty; yield to the loop every
        ``WRITE_SLICE`` bytes, since a send to a socket with room never suspends."""
        send = self._asgi_send
        try:
            while frames := self.outbox.take():
                sent = 0
                for frame in frames:
                    await send({"type": "websocket.send", "text": frame})
                    sent += len(frame)
                    if sent >= WRITE_SLICE:
                        sent = 0
                        await asyncio.sleep(0)
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
            self._reply(Error(code="rate_limited", message=self._too_fast, id=request.id))
        elif isinstance(request, Error):
            self._reply(request)
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
            await self._handle(request)
        except RequestRefused as exc:
            self._reply(Error(code=exc.code, message=exc.message, id=request.id))
        except StoreError as exc:
            log.error("store failure while handling %s: %s", request.type, exc)
            self._reply(Error(code="internal", message=str(exc), id=request.id))
        except Exception as exc:
            log.exception("handling %s failed", request.type)
            failure = f"the server failed to handle {request.type}: {exc!r}"
            self._reply(Error(code="internal", message=failure, id=request.id))

    def _token_alive(self) -> bool:
        token_id = self.grant.token_id
        return token_id is None or self.hub.token_alive(token_id)

    def _check_scope(self, request: ClientMessage) -> None:
        if not self._token_alive():
            self._on_revoked(self.grant.token_id or "")
            raise HubError("forbidden", "this connection's token was revoked")
        if self.grant.scope != "full" and request.type not in PRODUCER_REQUESTS:
            raise HubError(
                "forbidden",
                f"a token with scope {self.grant.scope!r} may not send {request.type} "
                f"(allowed: {', '.join(sorted(PRODUCER_REQUESTS))})",
            )

    async def _handle(self, request: ClientMessage) -> None:
        hub = self.hub
        self._check_scope(request)
        match request:
            case Subscribe():
                await self._subscribe(request)
            case Unsubscribe():
                await self._unsubscribe(request)
            case Prompt():
                run = await hub.submit(request.project, request.text, request.options)
                self._reply(Ack(id=request.id, run=run.info()))
            case Cancel():
                run = await hub.cancel(request.project, request.run)
                self._reply(Ack(id=request.id, run=run.info()))
            case ProjectAdd():
                info = await hub.add_project(request.path, request.name)
                self._reply(Ack(id=request.id, project=info))
            case ProjectList():
                self._reply(Ack(id=request.id, projects=hub.project_infos()))
            case ProjectRemove():
                info = hub.project_info(hub.project(request.project).id)
                await hub.remove_project(request.project)
                self._reply(Ack(id=request.id, project=info))
            case SessionNew() | SessionList() | SessionUse():
                await self._handle_sessions(request)
            case Heartbeat():
                self._reply(HeartbeatAck(id=request.id, server_time=time.time()))
            case SkillEventPublish() | ConfirmationRequest() | ConfirmationWithdraw():
                await self._handle_producer(request)
            case TokenCreate() | TokenList() | TokenRevoke():
                await self._handle_tokens(request)
            case (
                ConfirmationResponse()
                | PauseTimer()
                | ResumeTimer()
                | PermissionsList()
                | PermissionsRemove()
                | PermissionModeSet()
                | ProjectRetention()
            ):
                await self._handle_permissions(request)

    async def _handle_permissions(
        self,
        request: ConfirmationResponse
        | PauseTimer
        | ResumeTimer
        | PermissionsList
        | PermissionsRemove
        | PermissionModeSet
        | ProjectRetention,
    ) -> None:
        """Confirmations, remembered rules, and the project's settings."""
        hub = self.hub
        match request:
            case ConfirmationResponse():
                self._check_subscribed(request.confirmation_id)
                confirmation = await hub.answer_confirmation(
                    request.confirmation_id,
                    request.response,
                    message=request.message,
                    updated_input=request.updated_input,
                    answers=request.answers,
                    remember=request.remember,
                )
                self._reply(Ack(id=request.id, confirmation=confirmation))
            case PermissionModeSet():
                info = await hub.set_permission_mode(request.project, request.mode)
                self._reply(Ack(id=request.id, project=info))
            case ProjectRetention():
                info = await hub.set_retention(
                    request.project, request.max_age_seconds, request.max_bytes
                )
                self._reply(Ack(id=request.id, project=info))
            case PermissionsList():
                self._reply(Ack(id=request.id, rules=hub.rules_of(request.project)))
            case PermissionsRemove():
                removed = await hub.remove_rule(request.project, request.rule)
                self._reply(Ack(id=request.id, rules=[removed]))
            case PauseTimer() | ResumeTimer():
                self._check_subscribed(request.confirmation_id)
                paused = isinstance(request, PauseTimer)
                confirmation = await hub.pause_confirmation(request.confirmation_id, paused)
                self._reply(Ack(id=request.id, confirmation=confirmation))

    async def _handle_sessions(self, request: SessionNew | SessionList | SessionUse) -> None:
        """The project's Claude session: a fresh one, or one the CLI stored."""
        hub = self.hub
        match request:
            case SessionNew():
                info = await hub.new_session(request.project)
                self._reply(Ack(id=request.id, project=info))
            case SessionList():
                sessions = await hub.list_sessions(request.project)
                self._reply(Ack(id=request.id, sessions=sessions))
            case SessionUse():
                info = await hub.use_session(request.project, request.session)
                self._reply(Ack(id=request.id, project=info))

    async def _handle_tokens(self, request: TokenCreate | TokenList | TokenRevoke) -> None:
        hub = self.hub
        match request:
            case TokenCreate():
                token, secret = await hub.create_token(
                    request.name, request.scope, request.projects
                )
                self._reply(Ack(id=request.id, token=token, secret=secret))
            case TokenList():
                self._reply(Ack(id=request.id, tokens=hub.token_infos()))
            case TokenRevoke():
                revoked = await hub.revoke_token(request.token)
                self._reply(Ack(id=request.id, tokens=[revoked]))

    async def _handle_producer(
        self, request: SkillEventPublish | ConfirmationRequest | ConfirmationWithdraw
    ) -> None:
        """The skill API over the wire: events, and questions for a person."""
        if isinstance(request, ConfirmationWithdraw):
            if request.confirmation_id not in self._asked:
                raise HubError(
                    "unknown_confirmation",
                    f"this connection waits for no confirmation {request.confirmation_id!r}",
                )
            await self.hub.withdraw_confirmation(request.confirmation_id)
            self._asked.discard(request.confirmation_id)
            self._reply(Ack(id=request.id))
            return
        project = self.hub.project(request.project)
        if not self.grant.covers(project.id):  # as if it did not exist: nothing leaks
            raise HubError("unknown_project", f"no project {request.project!r}")
        if isinstance(request, SkillEventPublish):
            await self.hub.publish_skill_event(project.id, request.event, self.grant.name, self)
            self._reply(Ack(id=request.id))
            return
        if len(self._asked) >= MAX_PENDING_PER_CONNECTION:
            raise HubError(
                "too_many_pending",
                f"this connection already waits for {len(self._asked)} answers "
                f"(the limit is {MAX_PENDING_PER_CONNECTION})",
            )
        await self._ask_for_skill(project.id, request)

    async def _ask_for_skill(self, project_id: str, request: ConfirmationRequest) -> None:
        """Open the confirmation, ack it, and send its ``confirmation_result`` when it
        ends (always after the ack, even when an answer beats the ack)."""
        held: list[ConfirmationResult] = []
        acked = False

        async def deliver(decision: Decision) -> bool:
            self._asked.discard(decision.confirmation_id)
            result = ConfirmationResult(
                id=request.id,
                confirmation_id=decision.confirmation_id,
                response=decision.response,
                remember=decision.remember,
                expired=not decision.allow,
            )
            if self._ending.done():
                return False
            if acked:
                return self._reply(result)
            held.append(result)
            return True

        resolved = request.model_copy(update={"project": project_id})
        confirmation = await self.hub.ask_for_skill(resolved, self.grant.name, deliver)
        if not held:
            self._asked.add(confirmation.id)
        self._reply(Ack(id=request.id, confirmation=confirmation.info()))
        acked = True
        for result in held:
            self._reply(result)

    def _check_subscribed(self, confirmation_id: str) -> None:
        """Only a client that follows a project may answer for it."""
        project_id = self.hub.confirmation_project(confirmation_id)
        if project_id not in self._subscriptions:
            raise HubError(
                "not_subscribed", f"subscribe to {project_id} to answer its confirmations"
            )

    async def _unsubscribe(self, request: Unsubscribe) -> None:
        project = self.hub.project(request.project)
        subscription = self._subscriptions.pop(project.id, None)
        if subscription is None:
            raise HubError("not_subscribed", f"not subscribed to {request.project!r}")
        await subscription.stop()
        self._reply(Ack(id=request.id))

    async def _subscribe(self, request: Subscribe) -> None:
        project = self.hub.project(request.project)
        head = self.hub.head(project.id)
        if request.since > head:
            raise HubError(
                "since_out_of_range",
                f"since={request.since} is beyond the last event of {project.name} ({head})",
            )
        if self._refuse_trimmed(request, project.name, project.id):
            return
        previous = self._subscriptions.pop(project.id, None)
        if previous is not None:
            await previous.stop()
            project = self.hub.project(request.project)  # still there after the wait?
            head = self.hub.head(project.id)
            if self._refuse_trimmed(request, project.name, project.id):
                return
        pending = self.hub.pending_confirmations(project.id)
        skills = self.hub.running_skills(project.id)
        self._reply(
            Ack(id=request.id, head=head, pending_confirmations=pending, running_skills=skills)
        )
        subscription = Subscription(project.id, request.since, self.hub.events, self.outbox)
        self._subscriptions[project.id] = subscription
        subscription.start()  # no wait since the check: retention now leaves it its part

    def _refuse_trimmed(self, request: Subscribe, name: str, project_id: str) -> bool:
        """Answer ``history_trimmed`` if events after ``since`` are gone (retention)."""
        first = self.hub.first_seq(project_id)
        if request.since >= first - 1:
            return False
        message = (
            f"events {request.since + 1}-{first - 1} of {name} were deleted by its retention "
            f"policy; the oldest kept is {first}: subscribe with since={first - 1} for the rest"
        )
        self._reply(Error(code="history_trimmed", message=message, id=request.id, first_seq=first))
        return True

    @property
    def _too_fast(self) -> str:
        rate, burst = self.settings.request_rate, self.settings.request_burst
        return f"more than {rate:g} requests a second (bursts of {burst}); slow down"

    def _reply(self, message: Ack | Error | HeartbeatAck | ConfirmationResult) -> bool:
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

    def _on_status(self, message: ProjectStatus | ProjectRemoved, frame: str) -> None:
        if isinstance(message, ProjectRemoved):
            subscription = self._subscriptions.pop(message.project, None)
            if subscription is not None:
                subscription.cancel()
        self.outbox.put(frame)

    async def _close(self, code: CloseCode, reason: str) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self.ws.close(int(code), clip_reason(reason))
