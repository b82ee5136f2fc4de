"""On a cluster: projects on a remote agent run on the node the agent is linked to.

Only that node can talk to the agent, so it owns the agent's projects. When the agent
links to a node (its first link, or after the node it was linked to died or the link
was cut), the node tells the others, asks the nodes holding the agent's projects to
give them up, waits for the leases of a dead node to expire, and takes them over (as
after a restart: a run under way goes on, its process on the agent taken back). Until
then, what the agent says of processes the node does not know yet is held
(:meth:`~switchboard.hub.agent_sessions.AgentSessions.hold`).

A node that lets a project on an agent go (given up, or its lease lost) ends its link
to that agent, if it has one, and forgets what it took from it: the agent dials again
and sends what no node has acknowledged, for the node that takes the project next.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from switchboard.exceptions import RequestRefused
from switchboard.hub.agents import AgentRoster
from switchboard.hub.node_link import Body, NodeLink
from switchboard.hub.ownership import Ownership
from switchboard.hub.registry import HubError
from switchboard.store.ports import ProjectStore

log = logging.getLogger(__name__)

SETTLE_LEASES = 2.0
"""How long a node waits to take a newly linked agent's projects, in lease times (a
dead node's lease expires within one)."""
SETTLE_POLL = 0.5
"""Seconds between looks at who holds a newly linked agent's projects."""


class AgentPlacement:
    def __init__(
        self,
        node_id: str,
        link: NodeLink,
        roster: AgentRoster,
        records: ProjectStore,
        *,
        call_timeout: float,
        spawn: Callable[[Awaitable[None]], None],
    ) -> None:
        self.node_id = node_id
        self._link = link
        self._roster = roster
        self._records = records
        self._call_timeout = call_timeout
        self._spawn = spawn
        self._asking: set[str] = set()
        """Projects whose release this node has asked for, the answer not yet in."""

    def agent_of(self, project_id: str) -> str | None:
        record = self._records.find(project_id)
        return record.agent if record is not None else None

    def pinned(self, project_id: str, alive: list[str]) -> str | None:
        """The node that must own the project: its agent's link is there (None: it is
        not on an agent, or its agent is linked nowhere that is known)."""
        agent = self.agent_of(project_id)
        if agent is None:
            return None
        if self._roster.link(agent) is not None:
            return self.node_id
        return self.elsewhere(agent, alive)

    def ask_release(self, project_id: str, node: str) -> None:
        """Ask ``node`` to give up a project whose agent is linked here (once at a time)."""
        if project_id not in self._asking:
            self._asking.add(project_id)
            self._spawn(self._release_from(project_id, node))

    async def _release_from(self, project_id: str, node: str) -> None:
        body = {"project": project_id, "node": self.node_id}
        try:
            await self._link.call(node, "release", body, self._call_timeout)
        except RequestRefused as exc:  # gone: its lease expires; or it will not
            log.info("node %s did not give %s up: %s", node, project_id, exc)
        finally:
            self._asking.discard(project_id)

    async def linked(self, name: str, ownership: Ownership, lease_seconds: float) -> bool:
        """The agent ``name`` linked to this node: tell the others, and take its
        projects over (within :data:`SETTLE_LEASES` lease times); False if some could
        not be taken (or the link went meanwhile)."""
        self._link.broadcast("agent", {"name": name, "node": self.node_id, "linked": True})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_LEASES * lease_seconds + self._call_timeout
        missing: list[str] = []
        while self._roster.link(name) is not None:
            try:
                await ownership.refresh()  # (asks for them, takes those free)
                await ownership.settled()
            except Exception as exc:  # the store is away: look again
                log.warning("node %s: taking agent %s's projects: %s", self.node_id, name, exc)
            projects = [r.id for r in self._records.all() if r.agent == name]
            missing = [p for p in projects if not ownership.is_mine(p)]
            if not missing:
                return True
            if loop.time() >= deadline:
                break
            await asyncio.sleep(SETTLE_POLL)
        log.warning("node %s could not take %s over (agent %s)", self.node_id, missing, name)
        return False

    def elsewhere(self, name: str, alive: list[str]) -> str | None:
        """The other node (among ``alive``) the agent is linked to, as this node heard."""
        node = None if self._roster.link(name) is not None else self._roster.elsewhere(name)
        return node if node in alive else None

    def unlinked(self, name: str) -> None:
        """The agent's link here is gone: tell the others."""
        self._link.broadcast("agent", {"name": name, "node": self.node_id, "linked": False})

    def heard(self, body: Body) -> None:
        """Another node said an agent linked to it, or its link there went."""
        name, node = str(body.get("name")), str(body.get("node"))
        if node == self.node_id:
            return
        if body.get("linked") is True:
            self._roster.linked_elsewhere(name, node)
        elif self._roster.elsewhere(name) == node:
            self._roster.linked_elsewhere(name, None)

    def announce(self, alive: list[str]) -> None:
        """Tell the others again which agents are linked here (a node that started
        since, or missed the news, learns it); forget those linked to nodes gone."""
        self._roster.forget_nodes_but(alive)
        for name in self._roster.names():
            if self._roster.link(name) is not None:
                body = {"name": name, "node": self.node_id, "linked": True}
                self._link.broadcast("agent", body)

    async def release(self, body: Body, ownership: Ownership) -> Body:
        """Another node (alive) asks for a project on an agent linked to it: give the
        project up (this node's link to the agent, if any, is older: it ends)."""
        project_id, to = body.get("project"), body.get("node")
        if not isinstance(project_id, str) or not isinstance(to, str):
            raise HubError("bad_message", "a release names a project and a node")
        if to == self.node_id or to not in ownership.alive():
            raise HubError("bad_message", f"{to!r} is not another node alive")
        agent = self.agent_of(project_id)
        if agent is None:
            raise HubError("bad_message", f"{project_id} is not a project on an agent")
        self._roster.linked_elsewhere(agent, to)  # (so no scan here takes it back)
        return {"released": await ownership.give_up(project_id, to)}

    def dropping(self, project_id: str) -> None:
        """This node lets a project go: if it is on an agent, first end the link to
        that agent here and forget what was taken from it (see the module's
        docstring), so that nothing of it is acknowledged from now on."""
        agent = self.agent_of(project_id)
        if agent is not None:
            self._roster.end_link(agent, "its projects move to another node")
            self._roster.sessions(agent).forget()
