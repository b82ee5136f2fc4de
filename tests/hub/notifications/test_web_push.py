"""The Web Push sender against loopback push services the test runs: each subscription
gets the alert encrypted for it; a 404 or 410 drops the subscription, other failures
keep it; a redirect is not followed; a slow service does not hold up the event loop."""

import asyncio
import time
from pathlib import Path

from sqlalchemy import Engine

from switchboard.hub.notifications.delivery import Deliveries
from switchboard.hub.notifications.subscriptions import PushSubscriptions
from switchboard.hub.notifications.vapid import load_or_create_vapid
from switchboard.hub.notifications.web_push import WebPushSender
from switchboard.protocol.push import Alert, PushSubscriptionInfo
from switchboard.store.sqlite.push import SqlitePushStore
from switchboard.store.sqlite.writer import Writer
from tests.support.push_service import Browser, PushReceiver, verify_vapid

ALERT = Alert(
    kind="run_completed",
    project="p1",
    project_name="web",
    title="web: run finished",
    body="fix the tests",
    tag="r1",
    run="r1",
    at=1.0,
)


async def subscribed(
    engine: Engine, writer: Writer, endpoints: dict[str, Browser]
) -> PushSubscriptions:
    store = SqlitePushStore(engine, writer)
    await store.load()
    subscriptions = PushSubscriptions(store, max_count=10, allow_http=True)
    for endpoint, browser in endpoints.items():
        info = PushSubscriptionInfo.model_validate(browser.subscription(endpoint))
        await subscriptions.subscribe(info, token_id=None)
    return subscriptions


async def test_each_browser_gets_its_own_encrypted_push_and_gone_ones_are_dropped(
    engine: Engine, writer: Writer, tmp_path: Path
) -> None:
    keys, _ = load_or_create_vapid(tmp_path)
    with PushReceiver(statuses={"/gone": 410, "/missing": 404, "/broken": 500}) as service:
        browsers = {
            service.url(path): Browser() for path in ("/ok", "/gone", "/missing", "/broken")
        }
        subscriptions = await subscribed(engine, writer, browsers)
        sender = WebPushSender(
            keys, "mailto:a@example.org", subscriptions.all, subscriptions.gone, timeout=5
        )
        sender.send(ALERT, ttl=60)
        await sender.deliveries.idle()
        pushes = {push.path: push for push in service.taken()}
        assert sorted(pushes) == ["/broken", "/gone", "/missing", "/ok"]
        for path, push in pushes.items():
            assert verify_vapid(push, keys.public_key)["aud"] == service.origin
            assert browsers[service.url(path)].decrypt(push) == ALERT.model_dump(mode="json")
            assert push.headers["ttl"] == "60"
        left = [s.endpoint for s in subscriptions.all()]
        assert left == [service.url("/ok"), service.url("/broken")]
        await sender.aclose(1)

    reopened = SqlitePushStore(engine, writer)  # the drops were stored
    await reopened.load()
    assert [s.endpoint for s in reopened.all()] == left


async def test_a_redirect_is_not_followed(engine: Engine, writer: Writer, tmp_path: Path) -> None:
    keys, _ = load_or_create_vapid(tmp_path)
    with PushReceiver(statuses={"/moved": 307}) as service:
        subscriptions = await subscribed(engine, writer, {service.url("/moved"): Browser()})
        sender = WebPushSender(
            keys, "mailto:a@example.org", subscriptions.all, subscriptions.gone, timeout=5
        )
        sender.send(ALERT, ttl=60)
        await sender.deliveries.idle()
        assert [p.path for p in service.taken()] == ["/moved"]  # once, not followed
        assert len(subscriptions.all()) == 1  # not a sign that it is gone
        await sender.aclose(1)


async def test_a_slow_push_service_costs_its_threads_only(
    engine: Engine, writer: Writer, tmp_path: Path
) -> None:
    keys, _ = load_or_create_vapid(tmp_path)
    with PushReceiver(delay=3.0) as service:
        subscriptions = await subscribed(engine, writer, {service.url("/slow"): Browser()})
        deliveries = Deliveries("web push", max_pending=2, workers=1)
        sender = WebPushSender(
            keys,
            "mailto:a@example.org",
            subscriptions.all,
            subscriptions.gone,
            timeout=1.0,
            deliveries=deliveries,
        )
        started = time.monotonic()
        for _ in range(5):
            sender.send(ALERT, ttl=60)  # returns at once, every time
        assert time.monotonic() - started < 0.5
        assert (deliveries.pending, deliveries.dropped) == (2, 3)  # bounded
        ticks = 0
        while deliveries.pending:  # the loop goes on meanwhile
            await asyncio.sleep(0.05)
            ticks += 1
        assert ticks > 10
        assert time.monotonic() - started < 2.5 + 1  # each POST gave up after its timeout
        assert len(subscriptions.all()) == 1
        await sender.aclose(1)
