"""Who sent a ``/ws`` request (a connection, or an HTTP request standing in for one),
what a handler may use of it, and whether its token may send that request at all."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from switchboard.config import Settings
from switchboard.hub.hub import Hub, HubError
from switchboard.protocol.messages import (
    Ack,
    ClientMessage,
    Error,
    HeartbeatAck,
    Subscribe,
    Unsubscribe,
    encode,
)
from switchboard.server.producer_link import ProducerLink
from switchboard.server.roles import allows, required_role
from switchboard.server.security import Grant

PRODUCER_REQUESTS = frozenset(
    {
        "heartbeat",
        "skill.event",
        "confirmation.request",
        "confirmation.withdraw",
        "diagnostics.publish",
    }
)
"""What a ``produce`` token may send."""

Reply = Ack | Error | HeartbeatAck


class Following(Protocol):
    """The projects a requester follows (a ``/ws`` connection's
    :class:`~switchboard.server.subscription_set.SubscriptionSet`)."""

    async def subscribe(
        self, request: Subscribe, reply: Callable[[Ack | Error], object]
    ) -> None: ...

    async def unsubscribe(self, request: Unsubscribe) -> Ack: ...

    def following(self) -> list[str] | None:
        """The ids of the projects it follows; None: it may answer for any project."""
        ...

    def check_follows(self, confirmation_id: str) -> None:
        """Refuse (``not_subscribed``) unless it may answer this confirmation."""


class Requester(Protocol):
    """What a handler may use of the connection (or HTTP request) that sent the request."""

    @property
    def hub(self) -> Hub: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def grant(self) -> Grant: ...

    @property
    def subscriptions(self) -> Following: ...

    @property
    def producer(self) -> ProducerLink: ...

    def reply(self, message: Any) -> bool: ...


Handler = Callable[[Requester, Any], Awaitable[Reply | None]]


def check_allowed(requester: Requester, request: ClientMessage) -> None:
    """A ``produce`` token may send only what producers send; a person's token what its
    role allows (:mod:`.roles`)."""
    grant = requester.grant
    if grant.scope != "full":
        if request.type not in PRODUCER_REQUESTS:
            raise HubError(
                "forbidden",
                f"a token with scope {grant.scope!r} may not send {request.type} "
                f"(allowed: {', '.join(sorted(PRODUCER_REQUESTS))})",
            )
    elif not allows(grant.role, request.type):
        raise HubError(
            "forbidden",
            f"a {grant.role} token may not send {request.type} "
            f"(it needs the {required_role(request.type)} role)",
        )


Item = TypeVar("Item", bound=BaseModel)


def fitting(items: Sequence[Item], room: int) -> list[Item]:
    """The first of ``items`` whose encodings fit in ``room`` bytes (at least one, so
    that a client paging on from the last one never gets stuck)."""
    kept: list[Item] = []
    for item in items:
        room -= len(encode(item)) + 1  # and a comma
        if room < 0 and kept:
            break
        kept.append(item)
    return kept
