"""This server as one node of a cluster: several hub nodes on one PostgreSQL store.

Each project is owned by one node at a time (:mod:`.ownership`): that node runs its
CLI and appends its events. The others bring its events to their own listeners
(:mod:`.relay`: a doorbell from the store, then a read by seq), hear its deltas and its
status over the node link (:mod:`.node_link`), and pass the requests that change it to
the owner (the server forwards them: :meth:`ClusterNode.call`). What a node does when it
takes a project over or lets one go is :mod:`.takeover`'s; projects on remote agents
run where their agent is linked (:mod:`.agent_placement`).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from switchboard.hub.agent_placement import AgentPlacement
from switchboard.hub.agents import AgentRoster
from switchboard.hub.bus import EventBus
from switchboard.hub.node_link import Body, NodeLink, NodeUnavailable
from switchboard.hub.ownership import Ownership
from switchboard.hub.registry import ProjectRegistry
from switchboard.hub.relay import Relay
from switchboard.hub.takeover import Takeover
from switchboard.protocol.messages import ProjectInfo, ProjectRemoved, ProjectStatus
from switchboard.store.ports import CommitFeed, LeaseStore

log = logging.getLogger(__name__)

RequestServer = Callable[[Body], Awaitable[Body]]
"""Handles a request another node forwarded (the server's: it knows the protocol)."""
RELOADS = ("projects", "tokens", "push")
"""What a node may tell the others to read again from the store."""
RELOAD_SECONDS = 30.0
"""Each node also reads them all again this often: news over Redis can be lost (while
Redis is away), and a revoked token must not stay valid anywhere for long."""


@dataclass(frozen=True, slots=True)
class ClusterPorts:
    """What a node needs beyond a single server's ports (the composition root builds
    them from ``--node-id``, ``--redis-url`` and ``--lease-seconds``)."""

    node_id: str
    lease_seconds: float
    link: NodeLink
    commits: CommitFeed
    call_timeout: float = 10.0
    """How long a forwarded request waits for the owner's answer."""


class ClusterNode:
    def __init__(
        self,
        ports: ClusterPorts,
        leases: LeaseStore,
        bus: EventBus,
        registry: ProjectRegistry,
        *,
        takeover: Takeover,
        agents: AgentRoster,
        presence: Callable[[object, list[str], bool], None],
    ) -> None:
        """``presence``: record a report of who looks at which projects (a person on
        another node does too: the owner holds alerts back for them)."""
        self.node_id = ports.node_id
        self._presence = presence
        self._ports = ports
        self._link = ports.link
        self._registry = registry
        self._takeover = takeover
        self._tasks: set[asyncio.Task[None]] = set()
        self._settling: set[asyncio.Task[bool]] = set()
        self.placement = AgentPlacement(
            ports.node_id,
            ports.link,
            agents,
            registry.records,
            call_timeout=ports.call_timeout,
            spawn=self._spawn,
        )
        self.ownership = Ownership(
            leases,
            ports.node_id,
            ports.lease_seconds,
            projects=registry.live_ids,
            adopt=self._adopt,
            drop=self._drop,
            pinned=lambda project_id: self.placement.pinned(project_id, self.alive()),
            ask_release=self.placement.ask_release,
        )
        self.relay = Relay(bus, self.ownership.is_mine)
        self._log = bus.log
        self.request_server: RequestServer | None = None
        self._local_delta = bus.publish_delta
        bus.publish_delta = self._publish_delta
        registry.add_listener(self._status_changed)

    async def start(self) -> None:
        """Join: the node link, the doorbell, then take the projects this node may."""
        loop = asyncio.get_running_loop()

        def call_soon(callback: Callable[..., object], *args: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody listens
                loop.call_soon_threadsafe(callback, *args)

        await self._link.start(self._serve, self._hear)
        self._ports.commits.start(call_soon, self.relay.rang, self.relay.resync)
        await self.ownership.start()
        self._spawn(self._reload_every(RELOAD_SECONDS))

    async def close(self) -> None:
        """Give every lease up (call once this node's runs have ended) and leave."""
        await self.ownership.close()
        self._ports.commits.close()
        await self.relay.close()
        for task in (*self._tasks, *self._settling):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._settling, return_exceptions=True)
        await self._link.close()

    def alive(self) -> list[str]:
        return self.ownership.alive()

    async def call(self, node_id: str, body: Body) -> Body:
        """Have ``node_id`` handle a forwarded request; its answer."""
        return await self._link.call(node_id, "request", body, self._ports.call_timeout)

    async def reload(self, what: str) -> None:
        """Read ``what`` (one of :data:`RELOADS`) again now (another node changed it)."""
        await self._takeover.reload(what)

    def changed(self, what: str) -> None:
        """Tell the other nodes to read ``what`` (one of :data:`RELOADS`) again."""
        self._link.broadcast("changed", {"what": what})

    async def sync(self, project_id: str) -> None:
        """For a project another node runs: read its log's first and last seq as stored
        now, and bring the listeners here up to it (before a subscription starts: its
        ``since`` may be ahead of what the doorbell brought, or before the owner's
        trimming)."""
        if self.ownership.is_mine(project_id):
            return
        await self._log.reload(project_id)
        await self.relay.caught_up(project_id, self._log.head(project_id))

    def report_presence(self, reporter: object, project_ids: list[str], visible: bool) -> None:
        """A client here shows these projects to a person now (or stopped)."""
        body = {"reporter": f"{id(reporter):x}", "projects": project_ids, "visible": visible}
        self._link.broadcast("presence", {**body, "node": self.node_id})

    def agent_linked(self, name: str) -> Awaitable[bool]:
        """The agent ``name`` linked to this node: take its projects over; whether all
        were taken. (The taking goes on if the link's wait for it is cancelled: a
        project half taken would stay so.)"""
        task = asyncio.create_task(self._take_agents_projects(name), name=f"settle-{name}")
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        return asyncio.shield(task)

    async def _take_agents_projects(self, name: str) -> bool:
        await self._takeover.sync_projects()  # (one added on another node just now)
        return await self.placement.linked(name, self.ownership, self._ports.lease_seconds)

    def agent_unlinked(self, name: str) -> None:
        self.placement.unlinked(name)

    def agent_elsewhere(self, name: str) -> str | None:
        """The other node (alive) the agent is linked to, as this node heard."""
        return self.placement.elsewhere(name, self.alive())

    async def claim(self, project_id: str) -> None:
        """A project added on this node: take it, if no other node did."""
        await self.ownership.claim(project_id)

    # -- what this node tells the others ------------------------------------------------

    def _publish_delta(self, project_id: str, frame: str) -> None:
        self._local_delta(project_id, frame)
        if self.ownership.is_mine(project_id):
            self._link.broadcast("delta", {"project": project_id, "frame": frame})

    def _status_changed(self, message: ProjectStatus | ProjectRemoved, _frame: str) -> None:
        if isinstance(message, ProjectRemoved):
            self.relay.forget(message.project)
        elif self.ownership.is_mine(message.project.id):
            self._link.broadcast("status", {"project": message.project.model_dump(mode="json")})

    # -- what it hears --------------------------------------------------------------------

    def _hear(self, kind: str, body: Body) -> None:
        if kind == "delta":
            self.relay.delta(str(body["project"]), str(body["frame"]))
        elif kind == "status":
            info = ProjectInfo.model_validate(body["project"])
            self.ownership.heard_owner(info.id, info.node)
            self._registry.heard(info)
        elif kind == "presence":
            reporter = ("node", str(body["node"]), str(body["reporter"]))
            self._presence(reporter, [str(p) for p in body["projects"]], bool(body["visible"]))
        elif kind == "agent":
            self.placement.heard(body)
        elif kind == "changed" and body.get("what") in RELOADS:
            self._spawn(self._takeover.reload(str(body["what"])))
        else:
            log.warning("node %s: unknown news %r from another node", self.node_id, kind)

    async def _serve(self, kind: str, body: Body) -> Body:
        if kind == "release":
            return await self.placement.release(body, self.ownership)
        if kind != "request" or self.request_server is None:
            raise NodeUnavailable(f"node {self.node_id} does not take {kind!r} calls")
        return await self.request_server(body)

    async def _drop(self, project_id: str) -> None:
        self.placement.dropping(project_id)
        await self._takeover.drop(project_id)

    async def _adopt(self, project_ids: list[str]) -> None:
        for project_id in project_ids:
            await self.relay.settle(project_id)
        await self._takeover.adopt(project_ids)

    async def _reload_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.placement.announce(self.alive())
            for what in RELOADS:
                try:
                    await self._takeover.reload(what)
                except Exception as exc:  # the store is away: the next round tries again
                    log.warning("node %s could not read %s again: %s", self.node_id, what, exc)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("node %s: work in the background failed", self.node_id)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
