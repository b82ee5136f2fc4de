"""The hub's notifications part: the senders the settings ask for, the alerts that
feed them, and the browsers' subscriptions."""

from collections.abc import Callable
from dataclasses import dataclass

from switchboard.hub.notifications.alerts import Alerts, AlertSink
from switchboard.hub.notifications.subscriptions import PushSubscriptions
from switchboard.hub.notifications.vapid import VapidKeys
from switchboard.hub.notifications.web_push import WebPushSender
from switchboard.hub.notifications.webhook import NotifyFormat, WebhookSender
from switchboard.hub.registry import HubError
from switchboard.protocol.push import PushSubscriptionInfo
from switchboard.store.ports import PushStore


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """The server's notification settings (:class:`switchboard.config.Settings` holds
    the defaults; the composition root loads the VAPID key)."""

    idle_seconds: float
    """``--push-idle-seconds``: how long a client's presence report counts."""
    vapid: VapidKeys | None
    """The key Web Push signs with; None: no Web Push."""
    contact: str
    """``--push-contact``: the VAPID ``sub`` claim (mailto: or https:)."""
    max_subscriptions: int
    allow_http: bool
    """``--push-allow-http``: endpoints may be http, an address or localhost."""
    timeout: float
    """Seconds one POST (push or webhook) may take."""
    notify_url: str | None
    notify_format: NotifyFormat


NO_NOTIFICATIONS = NotifySettings(
    idle_seconds=60.0,
    vapid=None,
    contact="",
    max_subscriptions=0,
    allow_http=False,
    timeout=10.0,
    notify_url=None,
    notify_format="json",
)
"""For a hub built without notifications (tests, embedding): presence is kept, nothing
is sent."""


class NotificationService:
    def __init__(
        self,
        settings: NotifySettings,
        store: PushStore,
        project_name: Callable[[str], str | None],
    ) -> None:
        self.subscriptions = PushSubscriptions(
            store, settings.max_subscriptions, settings.allow_http
        )
        sinks: list[AlertSink] = []
        if settings.vapid is not None:
            sinks.append(
                WebPushSender(
                    settings.vapid,
                    settings.contact,
                    self.subscriptions.all,
                    self.subscriptions.gone,
                    timeout=settings.timeout,
                )
            )
        if settings.notify_url is not None:
            sinks.append(
                WebhookSender(settings.notify_url, settings.notify_format, settings.timeout)
            )
        self.sinks = tuple(sinks)
        self.alerts = Alerts(settings.idle_seconds, project_name, self.sinks)
        self.public_key = settings.vapid.public_key if settings.vapid is not None else None
        """The VAPID public key browsers subscribe with; None: no Web Push."""
        self.idle_seconds = settings.idle_seconds

    async def subscribe(self, info: PushSubscriptionInfo, token_id: str | None) -> None:
        if self.public_key is None:
            raise HubError("endpoint_not_allowed", "this server sends no Web Push")
        await self.subscriptions.subscribe(info, token_id)

    async def aclose(self) -> None:
        await self.alerts.aclose()
        await self.subscriptions.aclose()
