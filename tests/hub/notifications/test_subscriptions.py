"""Push subscriptions on a real SQLite database: capped, replaced by endpoint, dropped
with their token, kept across a restart."""

import asyncio

import pytest
from sqlalchemy import Engine

from switchboard.hub.notifications.subscriptions import PushSubscriptions
from switchboard.hub.registry import HubError
from switchboard.protocol.push import PushSubscriptionInfo
from switchboard.store.sqlite.push import SqlitePushStore
from switchboard.store.sqlite.writer import Writer
from tests.support.push_service import Browser


def info(endpoint: str, browser: Browser | None = None) -> PushSubscriptionInfo:
    return PushSubscriptionInfo.model_validate((browser or Browser()).subscription(endpoint))


async def test_subscriptions_are_capped_replaced_and_kept(engine: Engine, writer: Writer) -> None:
    store = SqlitePushStore(engine, writer)
    await store.load()
    book = PushSubscriptions(store, max_count=2, allow_http=False)
    await book.subscribe(info("https://push.example.org/a"), "t1")
    await book.subscribe(info("https://push.example.org/b"), None)
    renewed = Browser()
    await book.subscribe(info("https://push.example.org/a", renewed), "t2")  # same endpoint
    with pytest.raises(HubError) as refused:
        await book.subscribe(info("https://push.example.org/c"), None)
    assert refused.value.code == "limit_reached"
    assert "--push-max-subscriptions" in refused.value.message
    assert await book.unsubscribe("https://push.example.org/b")
    assert not await book.unsubscribe("https://push.example.org/b")

    reopened = SqlitePushStore(engine, writer)
    await reopened.load()
    [kept] = reopened.all()
    assert (kept.endpoint, kept.token_id) == ("https://push.example.org/a", "t2")
    assert kept.p256dh == renewed.subscription("x")["keys"]["p256dh"]


async def test_a_revoked_tokens_browsers_are_dropped(engine: Engine, writer: Writer) -> None:
    store = SqlitePushStore(engine, writer)
    await store.load()
    book = PushSubscriptions(store, max_count=10, allow_http=False)
    for name, token in (("a", "t1"), ("b", "t1"), ("c", "t2"), ("d", None)):
        await book.subscribe(info(f"https://push.example.org/{name}"), token)
    book.token_revoked("t1")
    book.token_revoked("t-unknown")
    await book.aclose()
    left = [s.endpoint.rsplit("/", 1)[1] for s in book.all()]
    assert left == ["c", "d"]
    reopened = SqlitePushStore(engine, writer)
    await reopened.load()
    assert len(reopened.all()) == 2
    await asyncio.sleep(0)


async def test_a_burst_of_subscribes_does_not_pass_the_cap(engine: Engine, writer: Writer) -> None:
    store = SqlitePushStore(engine, writer)
    await store.load()
    book = PushSubscriptions(store, max_count=3, allow_http=False)
    outcomes = await asyncio.gather(
        *(book.subscribe(info(f"https://push.example.org/{n}"), "t1") for n in range(8)),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, HubError)]
    assert len(book.all()) == 3 and len(refused) == 5
    assert {o.code for o in refused} == {"limit_reached"}
