"""``GET /metrics``: who may scrape it, and the parts that measure (the loop-lag probe,
the writer's transaction timing, one registry per server)."""

import argparse
import asyncio
import time
from functools import partial
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.engine import Connection

from switchboard.config import SERVE_OPTIONS, resolve
from switchboard.exceptions import ConfigError
from switchboard.server.metrics import LoopLag
from switchboard.store.sqlite.database import open_engine, sqlite_url
from switchboard.store.sqlite.writer import Writer
from switchboard.telemetry import Telemetry
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import connect
from tests.support.metrics import scrape

METRICS_TOKEN = "scrape-me-9c1e-secret"


def get_metrics(url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{url}/metrics", headers=headers, timeout=10)


async def test_metrics_need_a_token_and_the_metrics_token_opens_nothing_else(
    servers: ServerFactory,
) -> None:
    server = servers.start(FAKE_AGENT, "--metrics-token", METRICS_TOKEN, record_spawns=False)
    refused = get_metrics(server.url, None)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert get_metrics(server.url, "wrong").status_code == 401
    assert "switchboard_build_info" in scrape(server, METRICS_TOKEN).text
    assert "switchboard_build_info" in scrape(server).text  # the server's token too
    by_query = httpx.get(f"{server.url}/metrics?token={METRICS_TOKEN}", timeout=10)
    assert by_query.status_code == 200
    for path in ("/ws", "/ws/claude", "/ws/agent"):
        with pytest.raises(websockets.InvalidStatus) as ws_refused:
            await websockets.connect(f"{server.ws_url}{path}?token={METRICS_TOKEN}")
        assert ws_refused.value.response.status_code == 403, path
    page = httpx.get(f"{server.url}/ws-demo.html?token={METRICS_TOKEN}", timeout=10)
    assert page.status_code == 403
    server.stop()
    assert METRICS_TOKEN not in server.log()


async def test_producer_and_agent_tokens_may_not_scrape(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as client:
        producer = (await client.request("token.create", name="bot", scope="produce"))["secret"]
        agent = (await client.request("token.create", name="box", scope="agent"))["secret"]
    for secret in (producer, agent):
        refused = get_metrics(server.url, secret)
        assert refused.status_code == 403, refused.text
        assert "opens only" in refused.json()["error"]


def test_a_blank_metrics_token_is_a_clear_error() -> None:
    [option] = [o for o in SERVE_OPTIONS if o.name == "metrics-token"]
    with pytest.raises(ConfigError, match=r"SWITCHBOARD_METRICS_TOKEN.*must not be blank"):
        resolve(_no_flags(), {option.env_var: "   "})
    assert resolve(_no_flags(), {option.env_var: "abc"}).metrics_token == "abc"
    assert resolve(_no_flags(), {}).metrics_token is None


def _no_flags() -> argparse.Namespace:
    return argparse.Namespace()


async def test_the_loop_lag_probe_sees_a_blocked_loop() -> None:
    seen: list[float] = []
    probe = LoopLag(seen.append, interval=0.05)
    probe.start()
    while not seen:  # one round unblocked first
        await asyncio.sleep(0.01)
    calm = len(seen)
    time.sleep(0.3)  # block the loop: the probe's timer fires late
    while len(seen) == calm:
        await asyncio.sleep(0.01)
    await probe.stop()
    await probe.stop()  # idempotent
    assert seen[calm] >= 0.2
    assert min(seen) < 0.2


async def test_the_writer_times_each_transaction(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path))
    took: list[float] = []
    writer = Writer(engine, took.append)
    try:
        for n in range(3):
            await writer.submit(partial(_select, n))
        bad = writer.submit(lambda c: c.execute(text("SELECT * FROM no_such_table")))
        with pytest.raises(Exception, match="no such table"):
            await bad
    finally:
        writer.close()
        engine.dispose()
    assert len(took) == writer.commits + 1 == 4  # the failed one is timed too
    assert all(0 <= seconds < 5 for seconds in took)


def _select(n: int, connection: Connection) -> None:
    connection.execute(text(f"SELECT {n}"))


def test_each_telemetry_has_a_registry_of_its_own() -> None:
    first, second = Telemetry(), Telemetry()
    first.run_finished("p", "completed", 2.0, 0.5, {"input_tokens": 10, "output_tokens": True})
    second.slow_consumer_closes.inc()
    get = first.registry.get_sample_value
    assert get("switchboard_runs_finished_total", {"state": "completed"}) == 1
    assert get("switchboard_cost_usd_total", {"project": "p"}) == 0.5
    assert get("switchboard_tokens_total", {"project": "p", "type": "input"}) == 10
    assert get("switchboard_tokens_total", {"project": "p", "type": "output"}) is None
    assert get("switchboard_slow_consumer_closes_total") == 0
    assert second.registry.get_sample_value("switchboard_slow_consumer_closes_total") == 1
    finished = second.registry.get_sample_value
    assert finished("switchboard_runs_finished_total", {"state": "completed"}) == 0
    first.forget_project("p")
    assert get("switchboard_cost_usd_total", {"project": "p"}) is None
    assert get("switchboard_tokens_total", {"project": "p", "type": "input"}) is None
