"""The hub's driver for projects that live on a remote agent (``switchboard agent``).

Each call of :class:`~switchboard.agents.base.AgentConnection` becomes a command on the
agent's link, and what the agent's process prints comes back as neutral events (its
asks and back-channel tool calls go to the session's handler), so the hub's session
works with a process on another machine exactly as with a local one: see
:class:`~switchboard.agents.remote.connection.RemoteConnection`.

While the link is down nothing can be launched (``AgentSpawnError``: the agent is
offline), and commands fail at once; a process already running goes on on the agent,
and its output arrives when the link is back (the hub keeps the connections in
``sessions``, by key, across links). When the hub gives up on the agent (its grace
period), the process "exits" for the hub with no status and the run fails saying so.
"""

import json
import logging
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Protocol

from switchboard.agents.base import (
    AgentConnection,
    AskHandler,
    LaunchSpec,
    SessionHistory,
    StoredSession,
)
from switchboard.agents.remote.codec import launch_to_wire, session_from_wire
from switchboard.agents.remote.connection import (
    MAX_PENDING_CHARS,
    AgentCommandFailed,
    ChannelOf,
    LinkChannel,
    RemoteConnection,
)
from switchboard.exceptions import AgentSpawnError

__all__ = [
    "MAX_PENDING_CHARS",
    "AgentCommandFailed",
    "AgentProcesses",
    "ChannelOf",
    "LinkChannel",
    "RemoteConnection",
    "RemoteDriver",
]

log = logging.getLogger(__name__)


class AgentProcesses(Protocol):
    """The processes the hub launched on one agent, which outlive its links."""

    @property
    def by_key(self) -> MutableMapping[str, RemoteConnection]:
        """By session key: where the agent's link finds them."""
        ...

    def adopt(self, connection: RemoteConnection) -> None:
        """Keep a process taken back after a hub restart, for the agent's next link
        to adopt (or to find it gone)."""


class RemoteDriver:
    """Starts a project's agent processes on a remote agent, over its link."""

    def __init__(
        self,
        name: str,
        permission_modes: tuple[str, ...],
        agent: str,
        channel: ChannelOf,
        processes: "AgentProcesses",
    ) -> None:
        self.name = name
        self.permission_modes = permission_modes
        self.agent = agent
        self._channel = channel
        self._processes = processes
        self._sessions = processes.by_key

    def _link(self) -> LinkChannel:
        link = self._channel()
        if link is None:
            raise AgentSpawnError(f"the agent {self.agent!r} is offline")
        return link

    def locate(self) -> str:
        return f"{self.name} on the agent {self.agent!r}"

    async def launch(self, spec: LaunchSpec, handler: AskHandler | None) -> AgentConnection:
        link = self._link()
        args = launch_to_wire(spec, spec.ask_permissions and handler is not None)
        session = uuid.uuid4().hex
        connection = RemoteConnection(self._channel, session, handler, self._sessions)
        self._sessions[session] = connection
        try:
            launched = await link.call("launch", args, session)
        except BaseException:
            self._sessions.pop(session, None)
            raise
        connection.pid = int(launched.get("pid") or 0)
        return connection

    async def resume(self, mark: str, handler: AskHandler | None) -> AgentConnection | None:
        """The process the mark names, taken back: its output goes on from where the
        mark says it was stored. Whether the agent still has it shows when its link
        comes back (if it does not, the process is lost)."""
        try:
            found = json.loads(mark)
            session, position = str(found["session"]), (int(found["seq"]), int(found["handled"]))
        except (ValueError, KeyError, TypeError):
            log.warning("resume mark %r is not one of this driver's", mark[:200])
            return None
        connection = RemoteConnection(self._channel, session, handler, self._sessions, position)
        self._processes.adopt(connection)
        return connection

    async def list_sessions(self, cwd: Path) -> list[StoredSession]:
        result = await self._link().call("list_sessions", {"cwd": str(cwd)})
        return [session_from_wire(item) for item in result.get("sessions", [])]

    async def read_session(self, cwd: Path, session_id: str) -> SessionHistory | None:
        result = await self._link().call(
            "read_session", {"cwd": str(cwd), "session_id": session_id}
        )
        history = result.get("history")
        if history is None:
            return None
        return SessionHistory(
            [str(line) for line in history["lines"]],
            int(history["omitted"]),
            int(history.get("too_long", 0)),
        )
