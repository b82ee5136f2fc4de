"""The hub's facade for people rather than projects: tokens (who may do what), the
audit list (who did what), and alerts for those who are away (Web Push,
``--notify-url``) with the presence reports that hold them back."""

from typing import Any

from switchboard.hub.access import RevocationListener
from switchboard.hub.parts import HubParts
from switchboard.protocol.people import AuditEntry, TokenInfo
from switchboard.protocol.push import PushSubscriptionInfo
from switchboard.store.records import ScopedToken


class People:
    """Reached as ``hub.people``."""

    def __init__(self, parts: HubParts) -> None:
        self._registry = parts.registry
        self._access = parts.access
        self._agents = parts.agents
        self._audit = parts.audit
        self._notifications = parts.notifications
        self._changed = parts.changed  # a cluster's other nodes read these again
        self._cluster = parts.cluster

    def add_revocation_listener(self, listener: RevocationListener) -> None:
        self._access.add_listener(listener)

    def remove_revocation_listener(self, listener: RevocationListener) -> None:
        self._access.remove_listener(listener)

    # -- tokens -------------------------------------------------------------------------

    def token_alive(self, token_id: str) -> bool:
        return self._access.alive(token_id)

    def find_token(self, secret: str) -> ScopedToken | None:
        return self._access.find(secret)

    async def create_token(
        self, name: str, scope: str, project_keys: list[str] | None
    ) -> tuple[TokenInfo, str]:
        """A scoped token and its secret (shown once); an agent token makes an agent."""
        created = await self._access.create(name, scope, project_keys)
        if scope == "agent":
            self._agents.added(name)
        self._changed("tokens")
        return created

    def token_infos(self) -> list[TokenInfo]:
        return self._access.infos()

    async def revoke_token(self, token_id: str) -> TokenInfo:
        revoked = await self._access.revoke(token_id)
        if revoked.scope == "agent":
            self._agents.removed(revoked.name)
        self._changed("tokens")
        return revoked

    # -- the audit list ------------------------------------------------------------------

    async def audit(
        self,
        by: str,
        token_id: str | None,
        action: str,
        project_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        """Record that the token named ``by`` did ``action`` (a request type)."""
        await self._audit.append(by, token_id, action, project_id, detail)

    async def audit_entries(
        self, project_key: str | None, before: int | None, limit: int
    ) -> list[AuditEntry]:
        """The newest entries of the audit list (of one project, when a key is given:
        a removed project's entries are found by its id)."""
        project_id = None
        if project_key is not None:
            found = self._registry.records.find(project_key)
            project_id = found.id if found is not None else project_key
        return await self._audit.entries(project_id, before, limit)

    # -- notifications for people who are away (Web Push, --notify-url) ----------------

    @property
    def push_public_key(self) -> str | None:
        """The VAPID public key browsers subscribe with; None: no Web Push here."""
        return self._notifications.public_key

    @property
    def push_idle_seconds(self) -> float:
        """How long a presence report counts (clients report again within it)."""
        return self._notifications.idle_seconds

    async def push_subscribe(
        self, subscription: PushSubscriptionInfo, token_id: str | None
    ) -> None:
        """Send alerts to this browser (``token_id``: whose it is; None: the server's)."""
        await self._notifications.subscribe(subscription, token_id)
        self._changed("push")

    async def push_unsubscribe(self, endpoint: str) -> bool:
        """Send no more alerts to ``endpoint``; False if it was not subscribed."""
        removed = await self._notifications.subscriptions.unsubscribe(endpoint)
        self._changed("push")
        return removed

    def report_presence(self, reporter: object, keys: list[str], visible: bool) -> list[str]:
        """``reporter`` (a connection) shows these projects (ids, names or paths) to a
        person now, or stopped showing any; returns their ids."""
        ids = [self._registry.project(key).id for key in keys]
        self._notifications.alerts.report_presence(reporter, ids, visible)
        if self._cluster is not None:  # the owners, on other nodes, hold alerts back too
            self._cluster.report_presence(reporter, ids, visible)
        return ids

    def forget_presence(self, reporter: object) -> None:
        """The reporter (its connection) is gone: it shows nothing any more."""
        self._notifications.alerts.forget_presence(reporter)
        if self._cluster is not None:
            self._cluster.report_presence(reporter, [], False)
