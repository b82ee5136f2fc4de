"""``/ws/agent``: the hub's end of a remote agent's link (:mod:`switchboard.protocol.agent_link`).

Only an agent token opens it (the security check sees to that), and the agent is the
one its token names. The link is up from ``hello`` to close; the hub marks the agent
online for that time. Both sides send heartbeats; when nothing comes from the agent for
``--agent-heartbeat-timeout`` seconds the link is closed (4010) and the agent is
offline. A message the hub cannot take gets an ``error`` and the link stays up; an
agent that floods past its rate limit is closed (4029), as a ``/ws`` client would be.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchboard import __version__
from switchboard.agents.remote.driver import AgentCommandFailed, RemoteConnection
from switchboard.exceptions import AgentError
from switchboard.hub.agent_sessions import AgentSessions
from switchboard.protocol.agent_link import (
    LinkAck,
    LinkAsk,
    LinkCommand,
    LinkError,
    LinkExited,
    LinkHeartbeat,
    LinkHeartbeatAck,
    LinkHello,
    LinkOutput,
    LinkReply,
    LinkToolCall,
    LinkWelcome,
    LinkWithdrawn,
    parse_from_agent,
)
from switchboard.protocol.close_codes import CloseCode
from switchboard.protocol.rate_limit import RequestLimiter, Verdict
from switchboard.server.agent_news import SessionNews, deliver_news, take_news
from switchboard.server.endpoint import HubSocketEndpoint, close_socket
from switchboard.server.security import GRANT_KEY, Grant, app_protocol

log = logging.getLogger(__name__)

CLOSE_SECONDS = 10.0
COMMAND_SECONDS = 120.0
"""How long a command to the agent may take (a launch starts a CLI) before it fails."""
SESSION_TRAFFIC = (LinkReply, LinkOutput, LinkAsk, LinkToolCall, LinkWithdrawn, LinkExited)
SessionMessage = LinkReply | SessionNews
ControlMessage = LinkHello | LinkHeartbeat | LinkHeartbeatAck | LinkError


class AgentEndpoint(HubSocketEndpoint):
    """The ASGI app mounted at ``/ws/agent``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant = scope.get(GRANT_KEY)
        websocket = WebSocket(scope, receive, send)
        if not isinstance(grant, Grant) or grant.scope != "agent":
            await websocket.close(CloseCode.POLICY_VIOLATION, "only an agent token opens /ws/agent")
            return
        await AgentLink(websocket, grant, self).run()


class AgentLink:
    """One agent's link, from ``hello`` to close."""

    def __init__(self, websocket: WebSocket, grant: Grant, endpoint: AgentEndpoint) -> None:
        self.ws = websocket
        self.grant = grant
        self.hub = endpoint.hub
        self.settings = endpoint.settings
        self.tracker = endpoint.tracker
        self._sending = asyncio.Lock()
        self._closing: tuple[CloseCode, str] | None = None
        self._ended = asyncio.Event()
        self._closed = asyncio.Event()
        self._heard = time.monotonic()
        self._reading_paused = False
        """While the link waits for room to take more (the agent is not heard then)."""
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._acks: set[asyncio.Task[None]] = set()

    # -- ConnectionTracker hooks ----------------------------------------------------------

    def request_shutdown(self) -> None:
        self._end(CloseCode.GOING_AWAY, "server shutting down")

    def kill_now(self) -> None:
        """Nothing to kill here: the agent's processes run on its own machine."""

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- the link -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.grant.name

    async def run(self) -> None:
        if not self.tracker.accepting:
            await self.ws.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        self.tracker.add(self)
        self.hub.people.add_revocation_listener(self._on_revoked)
        try:
            token_id = self.grant.token_id
            if token_id is not None and not self.hub.people.token_alive(token_id):
                await self.ws.close(CloseCode.TOKEN_REVOKED, "token revoked")
                return
            await self.ws.accept(subprotocol=app_protocol(self.ws.scope))
            hello = await self._hello()
            if hello is not None:
                await self._serve(hello)
        finally:
            self.hub.people.remove_revocation_listener(self._on_revoked)
            self._drop_everything()
            self.hub.agent_offline(self.name, self)
            self.tracker.discard(self)
            self._closed.set()

    async def _hello(self) -> LinkHello | None:
        """The agent's first message, within the handshake timeout (else close)."""
        try:
            async with asyncio.timeout(self.settings.handshake_timeout):
                text = await self.ws.receive_text()
        except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
            await self._close(CloseCode.POLICY_VIOLATION, "no hello in time")
            return None
        message = parse_from_agent(text)
        if not isinstance(message, LinkHello):
            shown = message.message if isinstance(message, LinkError) else message.type
            await self._close(CloseCode.POLICY_VIOLATION, f"hello expected first: {shown}")
            return None
        if message.name not in (None, self.name):
            why = f"this token belongs to agent {self.name!r}, not {message.name!r}"
            await self._close(CloseCode.POLICY_VIOLATION, why)
            return None
        return message

    async def _serve(self, hello: LinkHello) -> None:
        # Its processes first: once it is online, runs may launch new ones.
        sessions = self.hub.agent_sessions(self.name)
        strangers, adopted = sessions.linked(
            hello.spool, hello.sessions, self._send_ack, self._adopt_soon
        )
        replaced = self.hub.agent_online(self.name, self, hello.version, hello.allowed_roots)
        if replaced is not None:
            replaced.end("replaced by a newer link of this agent")
        log.info("agent %s is online (version %s)", self.name, hello.version)
        settings = self.settings
        await self._send(
            LinkWelcome(
                name=self.name,
                server_version=__version__,
                heartbeat_interval=settings.agent_heartbeat_interval,
                heartbeat_timeout=settings.agent_heartbeat_timeout,
                max_message_bytes=settings.max_message_bytes,
                link_grace=settings.agent_link_grace,
            ).model_dump_json()
        )
        sessions.acknowledge()
        settling = self.hub.agent_settle(self.name)
        if settling is None:
            self._sort_out(strangers, adopted)
        else:  # a cluster's node: the agent's projects come here first
            sessions.hold()
            self._background(self._settle(settling))
        tasks = [
            asyncio.create_task(self._read(), name=f"agent-{self.name}-reader"),
            asyncio.create_task(self._beat(), name=f"agent-{self.name}-heartbeat"),
        ]
        for task in tasks:
            task.add_done_callback(lambda _task: self._ended.set())
        try:
            await self._ended.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        code, reason = self._closing or (CloseCode.NORMAL, "")
        if self._closing is not None:
            log.info("agent %s link closed: %s", self.name, reason)
        await self._close(code, reason)

    def end(self, why: str) -> None:
        """The agent has a newer link (here, or to another node): close this one."""
        self._end(CloseCode.AGENT_REPLACED, why)

    def _end(self, code: CloseCode, reason: str) -> None:
        if self._closing is None:
            self._closing = (code, reason)
        self._ended.set()

    async def _read(self) -> None:
        limiter = RequestLimiter(self.settings.request_rate, self.settings.request_burst)
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            self._heard = time.monotonic()
            self.hub.agent_heard(self.name, self)
            text = message.get("text")
            if text is None:
                error = LinkError(code="bad_message", message="send JSON as text frames")
                await self._send(error.model_dump_json())
                continue
            incoming = parse_from_agent(text)
            if isinstance(incoming, SESSION_TRAFFIC):
                # Its processes' output is bounded by size, not rate: while too much of a
                # process's output waits to be stored, the link is not read (TCP holds
                # the agent back, and its spool keeps what it cannot send).
                busy = self._route(incoming, len(text))
                if busy is not None:
                    self._reading_paused = True  # (its silence is not the agent's)
                    try:
                        await busy.room()
                    finally:
                        self._reading_paused = False
                        self._heard = time.monotonic()
                continue
            verdict = limiter.check()
            if verdict is Verdict.CLOSE:
                self._end(CloseCode.RATE_LIMITED, "rate limit exceeded")
                return
            if verdict is Verdict.REFUSE:
                continue
            await self._take(incoming)

    def _route(
        self, incoming: SessionMessage, size: int
    ) -> RemoteConnection | AgentSessions | None:
        """A reply to a command, or news of a process the hub launched on the agent;
        returns where it was taken (to wait for room there): the process whose output it
        is, or the agent's sessions holding it while its projects settle here."""
        if isinstance(incoming, LinkReply):
            waiting = self._calls.get(incoming.id)
            if waiting is not None and not waiting.done():
                if incoming.error is not None:
                    failure = incoming.error
                    waiting.set_exception(AgentCommandFailed(failure.code, failure.message))
                else:
                    waiting.set_result(incoming.result or {})
            return None
        return take_news(self.hub.agent_sessions(self.name), incoming, size)

    async def _take(self, incoming: ControlMessage) -> None:
        match incoming:
            case LinkHeartbeat():
                await self._send(LinkHeartbeatAck(sent_at=incoming.sent_at).model_dump_json())
            case LinkHeartbeatAck():
                pass
            case LinkHello():
                error = LinkError(code="bad_message", message="hello comes once, first")
                await self._send(error.model_dump_json())
            case LinkError():
                await self._send(incoming.model_dump_json())

    async def _beat(self) -> None:
        """Send a heartbeat every interval; end the link when the agent is silent."""
        interval = self.settings.agent_heartbeat_interval
        timeout = self.settings.agent_heartbeat_timeout
        while True:
            await asyncio.sleep(min(interval, timeout))
            silent = time.monotonic() - self._heard
            if silent >= timeout and not self._reading_paused:
                self._end(CloseCode.HEARTBEAT_TIMEOUT, f"nothing from the agent for {silent:.0f} s")
                return
            await self._send(LinkHeartbeat(sent_at=time.time()).model_dump_json())

    async def _send(self, frame: str) -> None:
        async with self._sending:
            await self.ws.send_text(frame)

    # -- the agent's processes (LinkChannel, for the hub's RemoteDriver) --------------------

    async def call(
        self, op: str, args: dict[str, Any], session: str | None = None
    ) -> dict[str, Any]:
        if self._ended.is_set():
            raise AgentError(f"the link to the agent {self.name!r} is down")
        number = next(self._ids)
        answered = self._calls[number] = asyncio.get_running_loop().create_future()
        command = LinkCommand(id=number, op=op, session=session, args=args)  # type: ignore[arg-type]
        try:
            await self._send(command.model_dump_json())
            async with asyncio.timeout(COMMAND_SECONDS):
                result: dict[str, Any] = await answered
                return result
        except TimeoutError:
            raise AgentError(f"the agent {self.name!r} did not answer {op} in time") from None
        except (RuntimeError, WebSocketDisconnect, OSError) as exc:
            raise AgentError(f"the link to the agent {self.name!r} dropped: {exc}") from None
        finally:
            self._calls.pop(number, None)

    def _drop_everything(self) -> None:
        """The link is down: commands under way fail. (Its processes go on on the
        agent, for the grace period: see :mod:`switchboard.hub.agent_sessions`.)"""
        gone = f"the link to the agent {self.name!r} dropped"
        for waiting in self._calls.values():
            if not waiting.done():
                waiting.set_exception(AgentError(gone))
        for task in self._acks:
            task.cancel()

    def _send_ack(self, seq: int) -> None:
        self._background(self._quietly(LinkAck(seq=seq).model_dump_json()))

    async def _quietly(self, frame: str) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await self._send(frame)

    async def _command_quietly(self, op: str, args: dict[str, Any], session: str) -> None:
        """A command about a process the agent kept while the hub restarted: stop one
        the hub does not know, adopt one it took back."""
        with contextlib.suppress(AgentError):
            await self.call(op, args, session)

    def _sort_out(self, strangers: list[str], adopted: list[str]) -> None:
        """Stop the processes the agent has that the hub does not know; adopt those it
        took back."""
        for key in strangers:
            self._background(self._command_quietly("close", {"grace": 2.0}, key))
        for key in adopted:
            self._background(self._adopt(key))

    async def _settle(self, settling: Awaitable[bool]) -> None:
        """Wait while the node takes the agent's projects over, then deliver what was
        held meanwhile and sort its processes out. If they could not all be taken, the
        link ends instead: nothing held is acknowledged, and no process is stopped (the
        agent sends it all again, to whichever node it links to next)."""
        sessions = self.hub.agent_sessions(self.name)
        try:
            taken = await settling
        except Exception:
            log.exception("agent %s: its projects could not be taken over here", self.name)
            taken = False
        if not taken:
            sessions.forget()
            self._end(CloseCode.GOING_AWAY, "its projects could not be taken over here yet")
            return
        held, strangers, adopted = sessions.settled()
        for message, finished in held:
            deliver_news(sessions, message, finished)
        self._sort_out(strangers, adopted)

    def _adopt_soon(self, key: str) -> None:
        self._background(self._adopt(key))

    async def _adopt(self, key: str) -> None:
        """Have the agent adopt a process the hub took back after restarting (it asks
        again what the process waits for)."""
        sessions = self.hub.agent_sessions(self.name)
        try:
            await self.call("adopt", {}, key)
        except AgentCommandFailed as exc:
            connection = sessions.by_key.get(key)
            if exc.failure == "unknown_session" and connection is not None:
                connection.on_exited(None, f"the agent {self.name!r} no longer has it")
            return
        except AgentError:
            return
        sessions.adopted(key)

    def _background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    def _on_revoked(self, token_id: str) -> None:
        if token_id == self.grant.token_id:
            self._end(CloseCode.TOKEN_REVOKED, "token revoked")

    async def _close(self, code: CloseCode, reason: str) -> None:
        await close_socket(self.ws, code, reason, CLOSE_SECONDS)
