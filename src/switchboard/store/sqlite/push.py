"""Browsers' push subscriptions (table ``push_subscriptions``), kept in memory too."""

import asyncio
from collections.abc import Iterable

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.store.records import PushSubscriptionRecord
from switchboard.store.sqlite.schema import push_subscriptions
from switchboard.store.sqlite.writer import Writer


class SqlitePushStore:
    """Subscriptions by endpoint. :meth:`load` once at start."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._by_endpoint: dict[str, PushSubscriptionRecord] = {}

    async def load(self) -> None:
        def read() -> dict[str, PushSubscriptionRecord]:
            with self._engine.connect() as connection:
                rows = connection.execute(select(push_subscriptions)).mappings()
                return {
                    row["endpoint"]: PushSubscriptionRecord(
                        endpoint=row["endpoint"],
                        p256dh=row["p256dh"],
                        auth=row["auth"],
                        token_id=row["token_id"],
                        created_at=row["created_at"],
                    )
                    for row in rows
                }

        self._by_endpoint = await asyncio.to_thread(read)

    def all(self) -> list[PushSubscriptionRecord]:
        return sorted(self._by_endpoint.values(), key=lambda s: s.created_at)

    def find(self, endpoint: str) -> PushSubscriptionRecord | None:
        return self._by_endpoint.get(endpoint)

    async def save(self, subscription: PushSubscriptionRecord) -> None:
        row = {
            "endpoint": subscription.endpoint,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
            "token_id": subscription.token_id,
            "created_at": subscription.created_at,
        }

        def write(connection: Connection) -> None:
            table = push_subscriptions
            connection.execute(delete(table).where(table.c.endpoint == subscription.endpoint))
            connection.execute(insert(table), row)

        await self._writer.submit(write)
        self._by_endpoint[subscription.endpoint] = subscription

    async def remove(self, endpoints: Iterable[str]) -> list[str]:
        gone = [e for e in dict.fromkeys(endpoints) if self._by_endpoint.pop(e, None) is not None]
        if not gone:
            return []

        def write(connection: Connection) -> None:
            table = push_subscriptions
            connection.execute(delete(table).where(table.c.endpoint.in_(gone)))

        await self._writer.submit(write)
        return gone
