"""Web Push: each alert, encrypted for each subscribed browser (RFC 8291, aes128gcm),
signed with the server's VAPID key (RFC 8292) and POSTed to the browser's push service
with ``pywebpush``, off the event loop (:class:`Deliveries`).

A push service that answers 404 or 410 says the subscription is gone (the browser
unsubscribed, or its user cleared it): it is deleted. Other failures are logged. A
redirect is not followed (an endpoint is a URL a client gave; following it elsewhere
would let a client aim the server at any address).
"""

import logging
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02  # type: ignore[import-untyped]

from switchboard.hub.notifications.delivery import Deliveries
from switchboard.hub.notifications.vapid import VapidKeys
from switchboard.protocol.push import Alert
from switchboard.store.records import PushSubscriptionRecord

log = logging.getLogger(__name__)

GONE = frozenset({404, 410})
"""Answers that mean the subscription no longer exists."""


class _NoRedirects(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


class WebPushSender:
    """Sends every alert to every subscription ``subscriptions()`` lists."""

    def __init__(
        self,
        vapid: VapidKeys,
        contact: str,
        subscriptions: Callable[[], list[PushSubscriptionRecord]],
        gone: Callable[[str], Any],
        *,
        timeout: float,
        deliveries: Deliveries | None = None,
    ) -> None:
        """``gone(endpoint)``: a push service said the subscription no longer exists
        (awaited, on the loop); ``contact``: the VAPID ``sub`` claim (mailto: or https:)."""
        self._signer = Vapid02(private_key=vapid.private_key)
        self._contact = contact
        self._subscriptions = subscriptions
        self._gone = gone
        self._timeout = timeout
        self.deliveries = deliveries or Deliveries("web push")

    def send(self, alert: Alert, ttl: int) -> None:
        payload = alert.model_dump_json()
        urgency = "high" if alert.kind in ("confirmation", "question") else "normal"
        for subscription in self._subscriptions():
            self.deliveries.submit(
                partial(self._post, subscription, payload, ttl, urgency),
                partial(self._answered, subscription),
                _origin(subscription.endpoint),
            )

    def _post(
        self, subscription: PushSubscriptionRecord, payload: str, ttl: int, urgency: str
    ) -> int:
        """On a delivery thread: encrypt, sign, POST; the push service's status code."""
        # imported at the first push: pywebpush brings aiohttp, half a second at start
        from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]  # noqa: PLC0415

        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        with _NoRedirects() as session:
            try:
                response = webpush(
                    info,
                    payload,
                    vapid_private_key=self._signer,
                    vapid_claims={"sub": self._contact},  # a new dict: webpush adds to it
                    timeout=self._timeout,
                    ttl=ttl,
                    headers={"Urgency": urgency},
                    requests_session=session,
                )
            except WebPushException as exc:
                if exc.response is None:
                    raise
                return int(exc.response.status_code)
            except requests.RequestException as exc:  # its text names the secret path
                raise ConnectionError(type(exc).__name__) from None
        return int(response.status_code)

    async def _answered(self, subscription: PushSubscriptionRecord, status: int) -> None:
        where = _origin(subscription.endpoint)
        if status in GONE:
            log.info("web push: %s says a subscription is gone (%d); dropped it", where, status)
            await self._gone(subscription.endpoint)
        elif status >= 300:
            log.warning("web push: %s answered %d", where, status)

    async def aclose(self, close_timeout: float) -> None:
        await self.deliveries.aclose(close_timeout)


def _origin(url: str) -> str:
    """What logs show of an endpoint: its scheme and host (the path is its secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
