"""The port through which a node of a cluster reaches the others: calls to one node
(a request forwarded to a project's owner), and news to all (live deltas, project
status, "reload this"). Redis pub/sub carries it (:mod:`switchboard.cluster`); none
of it is durable: stored events go from node to node through the event log.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from switchboard.exceptions import RequestRefused

Body = dict[str, Any]
Serve = Callable[[str, Body], Awaitable[Body]]
"""Answers a call from another node: its kind and body give the reply's body."""
Hear = Callable[[str, Body], None]
"""Takes news another node sent to all: its kind and body."""


class NodeUnavailable(RequestRefused):
    """The node a request must go to did not answer in time (code ``node_unavailable``)."""

    def __init__(self, message: str) -> None:
        super().__init__("node_unavailable", message)


class NodeNotListening(NodeUnavailable):
    """Nobody listens for that node: the call surely did not reach it."""


class NodeLink(Protocol):
    node_id: str

    async def start(self, serve: Serve, hear: Hear) -> None:
        """Connect, and from now on answer calls with ``serve`` and pass news to ``hear``
        (never this node's own news)."""
        ...

    async def call(self, node_id: str, kind: str, body: Body, within: float) -> Body:
        """Ask ``node_id``; its reply's body. :class:`NodeUnavailable` if no answer
        comes within ``within`` seconds (the call may have been handled), or
        :class:`NodeNotListening` if nobody listens for that node."""
        ...

    def broadcast(self, kind: str, body: Body) -> None:
        """Tell every other node (at most once, in order, and only while connected)."""
        ...

    async def close(self) -> None: ...
