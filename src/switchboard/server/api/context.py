"""What every HTTP API request goes through: admission (shutdown, the request rate, a
revoked token), then the ``/ws`` request it stands for, handled as ``/ws`` handles it
(:func:`~switchboard.server.hub_requests.dispatch`: the role check, the handler, the
audit list).
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from switchboard.config import Settings
from switchboard.exceptions import RequestRefused, StoreError
from switchboard.hub.hub import Hub
from switchboard.protocol.messages import Ack, ClientMessage, Error
from switchboard.protocol.rate_limit import RequestLimiter, Verdict
from switchboard.server.api.errors import ApiRefusal
from switchboard.server.api.requester import HttpRequester
from switchboard.server.hub_requests import dispatch
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.requester import Following
from switchboard.server.security import GRANT_KEY, Grant

log = logging.getLogger(__name__)

MAX_CLIENTS_LIMITED = 4096
"""Client addresses whose request rate is tracked at once (the least recent go first)."""


class ClientLimiters:
    """The request rate of each client address (``--request-rate``, ``--request-burst``).

    ``/ws`` counts requests per connection; HTTP has no connection worth counting on
    (a script may open one per request), so its requests count per address."""

    def __init__(self, rate: float, burst: int, most: int = MAX_CLIENTS_LIMITED) -> None:
        self._rate = rate
        self._burst = burst
        self._most = most
        self._by_client: OrderedDict[str, RequestLimiter] = OrderedDict()

    def allow(self, client: str) -> bool:
        limiter = self._by_client.pop(client, None)
        if limiter is None:
            limiter = RequestLimiter(self._rate, self._burst)
        self._by_client[client] = limiter
        if len(self._by_client) > self._most:
            self._by_client.popitem(last=False)
        return limiter.check() is Verdict.HANDLE


@dataclass
class ApiContext:
    """What the API's endpoints serve with."""

    hub: Hub
    settings: Settings
    tracker: ConnectionTracker
    limiters: ClientLimiters = field(init=False)

    def __post_init__(self) -> None:
        self.limiters = ClientLimiters(self.settings.request_rate, self.settings.request_burst)

    def admit(self, request: HTTPConnection) -> Grant:
        """The request's grant, once it may be served (else :class:`ApiRefusal`)."""
        if not self.tracker.accepting:
            raise ApiRefusal("shutting_down", "the server is shutting down")
        client = request.client.host if request.client is not None else ""
        if not self.limiters.allow(client):
            rate, burst = self.settings.request_rate, self.settings.request_burst
            raise ApiRefusal(
                "rate_limited",
                f"more than {rate:g} requests a second (bursts of {burst}); slow down",
            )
        grant = request.scope.get(GRANT_KEY)
        if not isinstance(grant, Grant):  # the middleware sets it on every /api path
            raise ApiRefusal("unauthorized", "this path needs a token")
        if grant.token_id is not None and not self.hub.people.token_alive(grant.token_id):
            raise ApiRefusal("forbidden", "this token was revoked")
        return grant

    async def perform(
        self, grant: Grant, request: ClientMessage, follows: Following | None = None
    ) -> Ack:
        """Handle ``request`` as ``/ws`` would; its ``ack``, or :class:`ApiRefusal`
        with the ``error`` ``/ws`` would have sent."""
        requester = HttpRequester(self.hub, self.settings, grant, follows)
        try:
            reply = await dispatch(requester, request)
        except RequestRefused as exc:
            raise ApiRefusal(exc.code, exc.message) from None
        except StoreError as exc:
            log.error("store failure while handling %s: %s", request.type, exc)
            raise ApiRefusal("internal", str(exc)) from None
        if reply is None:
            reply = next((r for r in requester.replies if isinstance(r, Ack | Error)), None)
        if isinstance(reply, Error):
            raise ApiRefusal(reply.code, reply.message, reply.first_seq)
        if not isinstance(reply, Ack):
            raise ApiRefusal("internal", f"{request.type} was not answered with an ack")
        return reply
