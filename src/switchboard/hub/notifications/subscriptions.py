"""The browsers that asked for Web Push: subscribe, unsubscribe, and drop those a push
service says are gone or whose token was revoked.

Every subscription costs a POST per alert, so their number is capped
(``--push-max-subscriptions``); a browser sending its subscription again (same
endpoint) replaces it and does not count twice. Each endpoint is checked against the
server's policy before it is stored (:mod:`.endpoints`).
"""

import asyncio
import logging
import time

from switchboard.hub.notifications.endpoints import check_subscription
from switchboard.hub.registry import HubError
from switchboard.protocol.push import PushSubscriptionInfo
from switchboard.store.ports import PushStore
from switchboard.store.records import PushSubscriptionRecord

log = logging.getLogger(__name__)


class PushSubscriptions:
    def __init__(self, store: PushStore, max_count: int, allow_http: bool) -> None:
        self._store = store
        self.max_count = max_count
        self._allow_http = allow_http
        self._dropping: set[asyncio.Task[None]] = set()
        self._changing = asyncio.Lock()
        """Held from the count to the save, so that a burst of subscribes cannot all
        pass the cap, and a revocation cannot slip between them."""

    def all(self) -> list[PushSubscriptionRecord]:
        return self._store.all()

    async def subscribe(self, info: PushSubscriptionInfo, token_id: str | None) -> None:
        """Store the browser's subscription (``token_id``: whose it is; None: the
        server's own token). Refused with ``endpoint_not_allowed`` or ``limit_reached``."""
        check_subscription(info, self._allow_http)
        async with self._changing:
            known = self._store.find(info.endpoint)
            if known is None and len(self._store.all()) >= self.max_count:
                raise HubError(
                    "limit_reached",
                    f"this server keeps at most {self.max_count} push subscriptions "
                    "(--push-max-subscriptions); turn push off in another browser first",
                )
            await self._store.save(
                PushSubscriptionRecord(
                    endpoint=info.endpoint,
                    p256dh=info.keys.p256dh,
                    auth=info.keys.auth,
                    token_id=token_id,
                    created_at=known.created_at if known is not None else time.time(),
                )
            )

    async def unsubscribe(self, endpoint: str) -> bool:
        """Forget the endpoint; False if it was not subscribed."""
        return bool(await self._store.remove([endpoint]))

    async def gone(self, endpoint: str) -> None:
        """A push service said the subscription no longer exists."""
        await self._store.remove([endpoint])

    def token_revoked(self, token_id: str) -> None:
        """A revoked token's browsers get no more alerts (dropped in the background)."""
        task = asyncio.get_running_loop().create_task(self._drop(token_id))
        self._dropping.add(task)
        task.add_done_callback(self._dropping.discard)

    async def _drop(self, token_id: str) -> None:
        try:
            async with self._changing:  # after a subscribe of the token under way
                endpoints = [s.endpoint for s in self._store.all() if s.token_id == token_id]
                gone = await self._store.remove(endpoints) if endpoints else []
            if gone:
                log.info("dropped %d push subscriptions of a revoked token", len(gone))
        except Exception:
            log.exception("could not drop the push subscriptions of a revoked token")

    async def aclose(self) -> None:
        await asyncio.gather(*tuple(self._dropping), return_exceptions=True)
