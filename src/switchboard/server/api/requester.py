"""An HTTP API request, seen by the ``/ws`` handlers as the connection that sent it.

The handlers of :mod:`switchboard.server.hub_requests` work with a
:class:`~switchboard.server.requester.Requester`: the hub, the settings, the token's
grant, the projects it follows, what it does as a producer, and where replies go.
:class:`HttpRequester` is that for one HTTP request: its replies are kept for the
response, it follows nothing (or the one project of an event stream), and it is no
producer (a ``produce`` token opens only ``/ws``).
"""

from collections.abc import Callable
from typing import Any

from switchboard.config import Settings
from switchboard.hub.hub import Hub, HubError
from switchboard.protocol.messages import Ack, Error, Subscribe, Unsubscribe
from switchboard.server.producer_link import ProducerLink
from switchboard.server.requester import Following
from switchboard.server.security import Grant


class NotFollowing:
    """What an HTTP request follows: nothing. It may still answer a confirmation its
    token may answer (a script learns of it from the event stream, which is another
    request); over ``/ws`` only a connection that follows the project may."""

    __slots__ = ("_hub",)

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def subscribe(self, request: Subscribe, reply: Callable[[Ack | Error], object]) -> None:
        raise HubError("bad_message", "follow a project over HTTP with GET .../events")

    async def unsubscribe(self, request: Unsubscribe) -> Ack:
        raise HubError("bad_message", "an event stream ends when its client closes it")

    def following(self) -> list[str] | None:
        return None

    def check_follows(self, confirmation_id: str) -> None:
        self._hub.confirmation_project(confirmation_id)  # unknown_confirmation if none


class HttpRequester:
    """One HTTP request as a :class:`~switchboard.server.requester.Requester`."""

    __slots__ = ("grant", "hub", "replies", "settings", "subscriptions")

    def __init__(
        self, hub: Hub, settings: Settings, grant: Grant, follows: Following | None = None
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.grant = grant
        self.subscriptions: Following = follows if follows is not None else NotFollowing(hub)
        self.replies: list[Any] = []
        """What the handler replied by itself (``subscribe`` does), in order."""

    @property
    def producer(self) -> ProducerLink:
        raise HubError("forbidden", "skill events and questions go over /ws (a produce token)")

    def reply(self, message: Any) -> bool:
        self.replies.append(message)
        return True
