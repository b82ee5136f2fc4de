"""The remote agents: one per agent token, online while its ``/ws/agent`` link is up.

An agent is known from the moment its token is created; it is online from its
``hello`` until its link drops (closed, cut, or silent past the heartbeat timeout), and
gone when its token is revoked. One link per agent: a new one replaces the old.
Presence is kept in memory: after a hub restart every agent is offline, ``last_seen``
unknown, until it dials in again. On a cluster's node an agent may be linked to another
node: the nodes tell each other (:meth:`AgentRoster.linked_elsewhere`), and it shows as
online, with that node's id.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, get_args

from switchboard.agents.remote.driver import AgentCommandFailed, LinkChannel
from switchboard.exceptions import AgentError
from switchboard.hub.agent_sessions import AgentSessions
from switchboard.hub.registry import HubError
from switchboard.project_paths import ProjectPathError
from switchboard.protocol.messages import AgentInfo, AgentStatus, PathProblem, encode
from switchboard.store.ports import TokenStore


class AgentLinkEnd(LinkChannel, Protocol):
    """An agent's link, as the roster holds it."""

    def end(self, why: str) -> None:
        """Close it (the agent has a newer link, to another node)."""


AgentListener = Callable[[AgentStatus, str], None]
"""Called with the message and its encoded frame (encoded once for every listener)."""


@dataclass(slots=True)
class _Presence:
    sessions: AgentSessions
    link: AgentLinkEnd | None = None
    elsewhere: str | None = None
    """On a cluster: the other node its link is on, as that node said."""
    last_seen: float | None = None
    version: str | None = None
    allowed_roots: list[str] = field(default_factory=list)
    told_work: tuple[list[str], list[str]] | None = None
    """Its projects and runs under way as clients last heard them."""


class AgentRoster:
    def __init__(
        self,
        tokens: TokenStore,
        link_grace: float,
        work_of: Callable[[str], tuple[list[str], list[str]]],
        node_id: str | None = None,
    ) -> None:
        """``node_id``: this node's, on a cluster (shown for the agents linked here)."""
        self.node_id = node_id
        self._tokens = tokens
        self._grace = link_grace
        self.work_of = work_of
        """An agent's projects and its runs under way (ids), as the registry knows them."""
        self._presence: dict[str, _Presence] = {}
        self._listeners: set[AgentListener] = set()

    def _of(self, name: str) -> _Presence:
        presence = self._presence.get(name)
        if presence is None:
            presence = self._presence[name] = _Presence(AgentSessions(name, self._grace))
        return presence

    def sessions(self, name: str) -> AgentSessions:
        """The processes the hub launched on the agent (they outlive its links)."""
        return self._of(name).sessions

    def names(self) -> list[str]:
        return sorted(token.name for token in self._tokens.all() if token.scope == "agent")

    def info(self, name: str) -> AgentInfo:
        presence = self._of(name)
        projects, running = self.work_of(name)
        return AgentInfo(
            name=name,
            online=presence.link is not None or presence.elsewhere is not None,
            node=self.node_id if presence.link is not None else presence.elsewhere,
            last_seen=presence.last_seen,
            version=presence.version,
            allowed_roots=list(presence.allowed_roots),
            projects=projects,
            running_runs=running,
        )

    def infos(self) -> list[AgentInfo]:
        return [self.info(name) for name in self.names()]

    def online(
        self, name: str, link: AgentLinkEnd, version: str, allowed_roots: list[str]
    ) -> AgentLinkEnd | None:
        """The agent's link is up; returns the link it replaces, if any (close it)."""
        presence = self._of(name)
        previous = presence.link
        presence.link = link
        presence.elsewhere = None
        presence.last_seen = time.time()
        presence.version = version
        presence.allowed_roots = list(allowed_roots)
        self._notify(name)
        return previous

    def heard(self, name: str, link: LinkChannel) -> None:
        presence = self._presence.get(name)
        if presence is not None and presence.link is link:
            presence.last_seen = time.time()

    def offline(self, name: str, link: LinkChannel) -> bool:
        """The link is gone; False if it was not the agent's any more (a replaced one
        changes nothing)."""
        presence = self._presence.get(name)
        if presence is None or presence.link is not link:
            return False
        presence.link = None
        presence.sessions.unlinked()
        self._notify(name)
        return True

    def link(self, name: str) -> AgentLinkEnd | None:
        """The agent's link while it is online (here)."""
        presence = self._presence.get(name)
        return presence.link if presence is not None else None

    def linked_elsewhere(self, name: str, node: str | None) -> None:
        """On a cluster: another node said the agent's link is on it now (``node``), or
        that the link it had is gone (None: only if it was that node's)."""
        presence = self._of(name)
        if presence.elsewhere != node:
            presence.elsewhere = node
            self._notify(name)

    def elsewhere(self, name: str) -> str | None:
        """The other node the agent's link is on, as that node said."""
        presence = self._presence.get(name)
        return presence.elsewhere if presence is not None else None

    def end_link(self, name: str, why: str) -> None:
        """Close the agent's link here, if it has one (it has a newer one elsewhere, or
        its projects move): from now on it is offline here, while the link closes."""
        presence = self._presence.get(name)
        link = presence.link if presence is not None else None
        if presence is not None and link is not None:
            presence.link = None
            presence.sessions.unlinked()
            self._notify(name)
            link.end(why)

    def forget_nodes_but(self, alive: list[str]) -> None:
        """Forget that agents are linked to nodes no longer alive."""
        for name, presence in list(self._presence.items()):
            if presence.elsewhere is not None and presence.elsewhere not in alive:
                self.linked_elsewhere(name, None)

    def is_online(self, name: str) -> bool:
        return self.link(name) is not None

    async def check_path(self, name: str, path: str, others: list[Path]) -> Path:
        """The agent checks a directory for a new project of its own (it exists, lies
        within its allowed roots, nests with none of ``others``): its canonical path."""
        if name not in self.names():
            raise HubError("unknown_agent", f"no agent {name!r} (switchboard agents)")
        link = self.link(name)
        if link is None:
            raise HubError("agent_offline", f"the agent {name!r} is offline; start it first")
        args = {"path": path, "others": [str(other) for other in others]}
        try:
            checked = await link.call("check_path", args)
        except AgentCommandFailed as exc:
            if exc.failure in get_args(PathProblem):
                raise ProjectPathError(exc.failure, str(exc)) from None  # type: ignore[arg-type]
            raise HubError("bad_path", f"the agent {name!r} refused it: {exc}") from None
        except AgentError as exc:
            raise HubError("agent_offline", f"the agent {name!r} could not check: {exc}") from None
        return Path(str(checked["path"]))

    def removed(self, name: str) -> None:
        """The agent's token was revoked: its processes are gone for the hub."""
        presence = self._presence.get(name)
        if presence is not None:
            for connection in list(presence.sessions.by_key.values()):
                connection.on_exited(None, f"the agent {name!r} was removed (token revoked)")
            # Its projects' drivers hold its sessions: a new agent of that name finds them.
            self._presence[name] = _Presence(presence.sessions)
        self._tell(AgentStatus(agent=self.info(name), removed=True))

    def added(self, name: str) -> None:
        """An agent token was created."""
        self._notify(name)

    def work_changed(self, name: str) -> None:
        """A project of the agent changed (a run began or ended, the project came or
        went): tell clients if what the agent works on is not what they last heard."""
        if name in self.names() and self._of(name).told_work != self.work_of(name):
            self._notify(name)

    def add_listener(self, listener: AgentListener) -> None:
        self._listeners.add(listener)

    def remove_listener(self, listener: AgentListener) -> None:
        self._listeners.discard(listener)

    def _notify(self, name: str) -> None:
        self._tell(AgentStatus(agent=self.info(name)))

    def _tell(self, status: AgentStatus) -> None:
        agent = status.agent
        self._of(agent.name).told_work = (agent.projects, agent.running_runs)
        frame = encode(status)
        for listener in tuple(self._listeners):
            listener(status, frame)
