"""The hub's facade for its place in a cluster of nodes, reached as ``hub.cluster``:
which node owns a project, the nodes alive, and the calls that pass a request to
another node (the server forwards with these: :mod:`switchboard.server.forwarding`).
On the only server of a store it is inert: every project is its own."""

from collections.abc import Awaitable, Callable
from typing import Any

from switchboard.hub.confirmation import ConfirmationError
from switchboard.hub.parts import HubParts
from switchboard.hub.registry import HubError

Body = dict[str, Any]


class ClusterView:
    def __init__(self, parts: HubParts) -> None:
        self._parts = parts
        self._registry = parts.registry
        self._confirmations = parts.confirmations

    @property
    def node_id(self) -> str | None:
        """This node's id in a cluster (None: the only server)."""
        return self._registry.owners.node_id

    def owner_elsewhere(self, key: str) -> str | None:
        """The node that owns the project ``key`` names, if it is not this one (None:
        this node owns it, or this is the only server); ``not_owner`` if none does
        right now (its owner died and its lease has not expired yet)."""
        record = self._registry.project(key)
        owners = self._registry.owners
        if owners.is_mine(record.id):
            return None
        owner = owners.owner(record.id)
        if owner is None:
            raise HubError(
                "not_owner", f"no node owns {record.name} right now; send it again shortly"
            )
        return owner

    def agent_elsewhere(self, name: str) -> str | None:
        """The other node (alive) the agent ``name`` is linked to (None: this one, none
        known, or this is the only server)."""
        cluster = self._parts.cluster
        return cluster.agent_elsewhere(name) if cluster is not None else None

    async def reload_projects(self) -> None:
        """Read the projects again now (another node added or removed one for a request
        this node forwarded to it)."""
        if self._parts.cluster is not None:
            await self._parts.cluster.reload("projects")

    async def refresh_owners(self) -> None:
        """Read again which node owns which project (one this node asked is gone)."""
        if self._parts.cluster is not None:
            await self._parts.cluster.ownership.refresh()

    async def sync(self, project_id: str) -> None:
        """On a cluster's node that does not own the project: its first and last seq as
        stored now, and the listeners here up to it (no-op on the only server)."""
        if self._parts.cluster is not None:
            await self._parts.cluster.sync(project_id)

    def nodes(self) -> list[str]:
        """The cluster's nodes alive (this one first); empty for the only server."""
        cluster = self._parts.cluster
        if cluster is None:
            return []
        return [cluster.node_id, *(n for n in cluster.alive() if n != cluster.node_id)]

    async def call_node(self, node_id: str, body: Body) -> Body:
        """Have another node handle a request forwarded to it; its answer."""
        cluster = self._parts.cluster
        if cluster is None:
            raise HubError("internal", "only a cluster's node forwards requests")
        return await cluster.call(node_id, body)

    def serve_forwarded(self, handler: Callable[[Body], Awaitable[Body]]) -> None:
        """How this node handles requests other nodes forward to it."""
        if self._parts.cluster is not None:
            self._parts.cluster.request_server = handler

    def knows_confirmation(self, confirmation_id: str) -> bool:
        """Whether the confirmation is pending here, or was answered or closed here (on
        a cluster: it belongs to a project this node runs)."""
        try:
            self._confirmations.get(confirmation_id)
        except ConfirmationError as exc:
            return exc.code != "unknown_confirmation"
        return True
