"""On a cluster's node: requests about a project another node owns go to that node.

The owner handles a forwarded request as it handles its own connections' (the same
handlers, role checks and audit entry), so the client gets the ack or the error the
owner gives. What travels is the request as the client sent it, the token's grant,
and the projects the connection follows (the owner checks that a client answering a
confirmation follows its project). An answer to a confirmation this node does not
know goes to each other node in turn, until one knows it.

A project added on a remote agent is added by the node the agent is linked to.

Producer traffic (skill events, a producer's questions) belongs to its connection,
which the owner cannot see: for a project another node owns it is refused
(``not_owner``, naming the owner), and producers connect to the owner.
"""

from dataclasses import asdict
from typing import Any

from switchboard.config import Settings
from switchboard.exceptions import RequestRefused
from switchboard.hub.hub import Hub, HubError
from switchboard.hub.node_link import NodeNotListening
from switchboard.protocol.messages import (
    Ack,
    ClientMessage,
    Error,
    Subscribe,
    Unsubscribe,
    encode,
    parse_client_message,
)
from switchboard.server.producer_link import ProducerLink
from switchboard.server.requester import Reply, Requester
from switchboard.server.security import Grant

BY_PROJECT = frozenset(
    {
        "prompt",
        "cancel",
        "permission_mode.set",
        "session.new",
        "session.list",
        "session.use",
        "project.retention",
        "project.budget",
        "project.back_channel",
        "project.remove",
        "permissions.list",
        "permissions.remove",
        "diagnostics.publish",
    }
)
"""Requests that go to the owner of the project they name."""
BY_CONFIRMATION = frozenset({"confirmation_response", "pause_timer", "resume_timer"})
"""Requests that go to the node that holds the confirmation they name."""
PRODUCER_TRAFFIC = frozenset({"skill.event", "confirmation.request"})
"""Requests that only the owner's own connections may send."""


def owner_to_ask(hub: Hub, request: ClientMessage) -> str | None:
    """The node that must handle ``request``; None: this one."""
    if hub.cluster.node_id is None:
        return None
    project = getattr(request, "project", None)
    agent = getattr(request, "agent", None)
    if request.type == "project.add" and isinstance(agent, str):
        return hub.cluster.agent_elsewhere(agent)  # (only its node can reach it)
    if request.type in BY_PROJECT and isinstance(project, str):
        return hub.cluster.owner_elsewhere(project)
    if request.type in PRODUCER_TRAFFIC and isinstance(project, str):
        owner = hub.cluster.owner_elsewhere(project)
        if owner is not None:
            raise HubError(
                "not_owner", f"node {owner!r} runs {project}: a producer connects to that node"
            )
    return None


async def forward(requester: Requester, request: ClientMessage, node: str) -> Reply | None:
    """Have ``node`` handle the request; its reply (its refusal is raised here).

    If the request surely did not reach ``node`` (nobody listens for it) or ``node``
    refused it as no longer its owner, ownership is read again and the request goes
    to the owner now: None if that is this node (it handles the request itself). A
    request that may have reached a node (no answer in time) is never sent twice."""
    hub, body = requester.hub, _envelope(requester, request)
    try:
        answer = await hub.cluster.call_node(node, body)
    except RequestRefused as exc:
        if not isinstance(exc, NodeNotListening) and exc.code != "not_owner":
            raise
        await hub.cluster.refresh_owners()
        now = owner_to_ask(hub, request)
        if now == node:
            raise
        if now is None:  # this node owns it now
            return None
        answer = await hub.cluster.call_node(now, body)
    if request.type == "project.add":  # (its client may subscribe to it next, here)
        await hub.cluster.reload_projects()
    return Ack.model_validate_json(answer["reply"])


async def forward_answer(requester: Requester, request: ClientMessage) -> Reply | None:
    """An answer (or timer) for a confirmation this node does not hold: the reply of
    the node that holds it; None if this node holds it, or is the only server."""
    hub = requester.hub
    confirmation_id = getattr(request, "confirmation_id", None)
    if hub.cluster.node_id is None or not isinstance(confirmation_id, str):
        return None
    if hub.cluster.knows_confirmation(confirmation_id):
        return None
    body = _envelope(requester, request)
    for node in hub.cluster.nodes()[1:]:
        try:
            answer = await hub.cluster.call_node(node, body)
        except RequestRefused as exc:
            if exc.code in ("unknown_confirmation", "node_unavailable"):
                continue
            raise
        return Ack.model_validate_json(answer["reply"])
    raise HubError("unknown_confirmation", f"no confirmation {confirmation_id!r}")


def _envelope(requester: Requester, request: ClientMessage) -> dict[str, Any]:
    follows = requester.subscriptions.following()
    return {
        "request": encode(request),
        "grant": asdict(requester.grant),
        "follows": sorted(follows) if follows is not None else None,
    }


class _Follows:
    """What the forwarding connection follows, as it said."""

    def __init__(self, hub: Hub, projects: list[str] | None) -> None:
        self._hub = hub
        self._projects = None if projects is None else frozenset(projects)

    async def subscribe(self, request: Subscribe, reply: Any) -> None:
        raise HubError("bad_message", "subscriptions are not forwarded")

    async def unsubscribe(self, request: Unsubscribe) -> Ack:
        raise HubError("bad_message", "subscriptions are not forwarded")

    def following(self) -> list[str] | None:
        return None if self._projects is None else sorted(self._projects)

    def check_follows(self, confirmation_id: str) -> None:
        project_id = self._hub.confirmation_project(confirmation_id)
        if self._projects is not None and project_id not in self._projects:
            raise HubError(
                "not_subscribed", f"subscribe to {project_id} to answer its confirmations"
            )


class _Forwarded:
    """A request another node forwarded, as a :class:`Requester` here."""

    def __init__(self, hub: Hub, settings: Settings, grant: Grant, follows: _Follows) -> None:
        self.hub = hub
        self.settings = settings
        self.grant = grant
        self.subscriptions = follows

    @property
    def producer(self) -> ProducerLink:
        raise HubError("not_owner", "producer traffic goes to the owner's own connections")

    def reply(self, message: Any) -> bool:
        return False


def is_forwarded(requester: Requester) -> bool:
    """Whether another node forwarded the request (it is not forwarded again)."""
    return isinstance(requester, _Forwarded)


def forwarded_requester(
    hub: Hub, settings: Settings, body: dict[str, Any]
) -> tuple[Requester, ClientMessage]:
    """The requester and request another node forwarded (``bad_message`` if the body is
    not one of ours)."""
    try:
        grant_fields = dict(body["grant"])
        projects = grant_fields.get("projects")
        covered = tuple(projects) if projects is not None else None  # (): none at all
        grant = Grant(**{**grant_fields, "projects": covered})
        request = parse_client_message(str(body["request"]))
        follows = body.get("follows")
    except (KeyError, TypeError, ValueError) as exc:
        raise HubError("bad_message", f"not a forwarded request: {exc}") from None
    if isinstance(request, Error):
        raise HubError(request.code, request.message)
    if grant.token_id is not None and not hub.people.token_alive(grant.token_id):
        raise HubError("forbidden", "this token was revoked")  # (the asking node may lag)
    followed = _Follows(hub, list(follows) if isinstance(follows, list) else None)
    return _Forwarded(hub, settings, grant, followed), request
