"""--notify-url against a loopback receiver the test runs: JSON, ntfy's shape, and a
receiver that is slow or answers an error (logged, never raised, never blocking)."""

import asyncio
import base64
import json
import logging
import time

import pytest

from switchboard.hub.notifications.delivery import Deliveries
from switchboard.hub.notifications.webhook import WebhookSender
from switchboard.protocol.push import Alert
from tests.support.push_service import PushReceiver

QUESTION = Alert(
    kind="question",
    project="p1",
    project_name="web",
    title="web: Claude asks a question",
    body="Which color? (Red / Blue)",
    tag="c1",
    confirmation="c1",
    at=1.0,
)


async def test_json_posts_the_alert() -> None:
    with PushReceiver() as receiver:
        sender = WebhookSender(receiver.url("/hook"), "json", timeout=5)
        sender.send(QUESTION, ttl=60)
        await sender.deliveries.idle()
        [post] = receiver.taken()
        assert post.headers["content-type"] == "application/json"
        assert json.loads(post.body) == QUESTION.model_dump(mode="json")
        await sender.aclose(1)


async def test_ntfy_gets_text_and_its_headers() -> None:
    failed = QUESTION.model_copy(
        update={"kind": "run_failed", "title": "café: run failed", "body": "timed out"}
    )
    done = QUESTION.model_copy(update={"kind": "run_completed", "body": ""})
    with PushReceiver() as receiver:
        sender = WebhookSender(receiver.url("/mytopic"), "ntfy", timeout=5)
        for alert in (QUESTION, failed, done):
            sender.send(alert, ttl=60)
            await sender.deliveries.idle()
        question, failure, completion = receiver.taken()
    assert question.path == "/mytopic"
    assert question.body.decode() == "Which color? (Red / Blue)"
    assert question.headers["content-type"] == "text/plain; charset=utf-8"
    assert (question.headers["title"], question.headers["priority"], question.headers["tags"]) == (
        "web: Claude asks a question",
        "high",
        "question,switchboard",
    )
    encoded = failure.headers["title"]  # RFC 2047, which ntfy decodes
    assert encoded.startswith("=?UTF-8?B?") and encoded.endswith("?=")
    assert base64.b64decode(encoded[10:-2]).decode() == "café: run failed"
    assert (failure.headers["priority"], failure.headers["tags"]) == ("high", "x,switchboard")
    assert completion.headers["priority"] == "default"
    assert completion.body.decode() == "web: Claude asks a question"  # no body: the title


async def test_a_slow_or_failing_receiver_is_logged_and_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    with PushReceiver(statuses={"/down": 503}) as receiver:
        sender = WebhookSender(receiver.url("/down?token=s3cret"), "json", timeout=5)
        sender.send(QUESTION, ttl=60)
        await sender.deliveries.idle()
        assert f"--notify-url: {receiver.origin} answered 503" in caplog.text
    with PushReceiver(delay=3.0) as slow:
        deliveries = Deliveries("webhook", max_pending=1, workers=1)
        sender = WebhookSender(slow.url("/slow"), "json", timeout=0.5, deliveries=deliveries)
        started = time.monotonic()
        sender.send(QUESTION, ttl=60)
        sender.send(QUESTION, ttl=60)  # over the bound: dropped
        assert deliveries.dropped == 1
        await asyncio.wait_for(deliveries.idle(), 2.5)
        assert time.monotonic() - started < 2.5
        assert "ReadTimeout" in caplog.text
        await sender.aclose(1)
    assert "s3cret" not in caplog.text
