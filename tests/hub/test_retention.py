"""Retention trims a project's log to its policy: oldest first, never the newest event,
never what a replay has yet to read; numbering goes on."""

import asyncio

import pytest
from sqlalchemy import Engine, text

from switchboard.hub.bus import EventBus
from switchboard.hub.fanout import WireEvent
from switchboard.hub.retention import Retention
from switchboard.store.ports import EventLog
from switchboard.store.records import NewEvent, RetentionPolicy
from switchboard.store.sqlite.retention import SqliteRetentionStore
from switchboard.store.sqlite.writer import Writer
from tests.hub.test_bus import bus_on
from tests.support.refusals import accept_inserts, refuse_inserts

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def retention_for(
    event_log: EventLog,
    engine: Engine,
    writer: Writer,
    server_policy: RetentionPolicy,
    clock: Clock,
) -> tuple[Retention, SqliteRetentionStore, list[str]]:
    store = SqliteRetentionStore(engine, writer)
    await store.load()
    changed: list[str] = []
    retention = Retention(
        bus_on(event_log),
        store,
        server_policy=server_policy,
        interval=3600,
        changed=changed.append,
        clock=clock,
    )
    return retention, store, changed


async def append_timed(engine: Engine, bus: EventBus, project: str, count: int) -> None:
    """``count`` events; event n is stored at time 100 n."""
    await bus.append(project, 1, [NewEvent("cli", '{"x":1}') for _ in range(count)])
    with engine.begin() as connection:
        connection.execute(text("UPDATE events SET created_at = seq * 100"))


async def test_a_pass_trims_by_age_and_never_the_newest_event(
    event_log: EventLog, engine: Engine, writer: Writer
) -> None:
    clock = Clock(1000.0)
    retention, _store, changed = await retention_for(
        event_log, engine, writer, RetentionPolicy(max_age_seconds=150), clock
    )
    bus = retention._bus
    await append_timed(engine, bus, "alpha", 10)
    assert await retention.trim("alpha") == 8  # stored before 850: events 1-8
    assert (bus.first("alpha"), bus.head("alpha"), changed) == (9, 10, ["alpha"])
    clock.now = 1e9  # everything is old now, yet the newest event stays
    assert await retention.trim("alpha") == 1
    assert [e.seq for e in await bus.read("alpha", 0, 100)] == [10]
    assert await retention.trim("alpha") == 0
    assert [e.seq for e in await bus.append("alpha", 1, [NewEvent("cli", "{}")])] == [11]


async def test_a_pass_trims_by_size_keeping_the_newest_that_fit(
    event_log: EventLog, engine: Engine, writer: Writer
) -> None:
    retention, _store, _changed = await retention_for(
        event_log, engine, writer, RetentionPolicy(max_bytes=250), Clock(0)
    )
    bus = retention._bus
    body = '{"pad":"' + "x" * 90 + '"}'  # 100 characters
    await bus.append("alpha", 1, [NewEvent("cli", body) for _ in range(10)])
    assert await retention.trim("alpha") == 8
    assert bus.first("alpha") == 9
    # Nothing appended since the last measure: no need to read the log again.
    assert await retention.trim("alpha") == 0
    await bus.append("alpha", 1, [NewEvent("cli", body)])
    assert await retention.trim("alpha") == 1
    assert [e.seq for e in await bus.read("alpha", 0, 100)] == [10, 11]


async def test_a_projects_own_policy_overrides_the_servers_field_by_field(
    event_log: EventLog, engine: Engine, writer: Writer
) -> None:
    clock = Clock(10_000.0)
    retention, store, _changed = await retention_for(
        event_log, engine, writer, RetentionPolicy(max_age_seconds=1), clock
    )
    bus = retention._bus
    await append_timed(engine, bus, "alpha", 5)
    await append_timed(engine, bus, "beta", 5)
    await store.set("alpha", RetentionPolicy(max_age_seconds=0))  # keep, whatever the age
    await store.set("beta", RetentionPolicy(max_bytes=10_000))  # age: the server's
    assert retention.policy("alpha") == RetentionPolicy()
    assert retention.policy("beta") == RetentionPolicy(max_age_seconds=1, max_bytes=10_000)
    assert await retention.trim("alpha") == 0
    assert await retention.trim("beta") == 4
    reloaded = SqliteRetentionStore(engine, writer)
    await reloaded.load()
    assert reloaded.of_project("alpha") == RetentionPolicy(max_age_seconds=0)
    await store.set("alpha", RetentionPolicy())  # back to the server's
    assert retention.policy("alpha") == RetentionPolicy(max_age_seconds=1)


async def test_what_a_replay_has_yet_to_read_is_kept(
    event_log: EventLog, engine: Engine, writer: Writer
) -> None:
    retention, _store, _changed = await retention_for(
        event_log, engine, writer, RetentionPolicy(max_bytes=1), Clock(0)
    )
    bus = retention._bus

    class Replaying:
        def __init__(self, after: int | None) -> None:
            self.after = after

        def on_event(self, event: WireEvent) -> None: ...

        def on_delta(self, frame: str) -> None: ...

        def reading_after(self) -> int | None:
            return self.after

    await bus.append("alpha", 1, [NewEvent("cli", "{}") for _ in range(10)])
    reader, live = Replaying(3), Replaying(None)
    bus.subscribe("alpha", reader)
    bus.subscribe("alpha", live)
    assert await retention.trim("alpha") == 3
    assert [e.seq for e in await bus.read("alpha", 3, 100)] == list(range(4, 11))
    bus.unsubscribe("alpha", reader)
    assert await retention.trim("alpha") == 6
    assert bus.first("alpha") == 10


async def test_the_head_counts_only_published_events(event_log: EventLog, engine: Engine) -> None:
    """A seq taken by a write that then fails is taken again: no client may be told of
    it as the head (it would skip the event that takes it next)."""
    bus = bus_on(event_log)
    await bus.append("alpha", 1, [NewEvent("cli", "{}"), NewEvent("cli", "{}")])
    refuse_inserts(engine, "NEW.seq = 3")
    failing = asyncio.ensure_future(bus.append("alpha", 1, [NewEvent("cli", '{"lost":1}')]))
    while event_log.head("alpha") < 3:  # until it has taken seq 3 (it waits for the writer)
        await asyncio.sleep(0)
    assert bus.head("alpha") == 2
    with pytest.raises(Exception, match="disk is full"):
        await failing
    accept_inserts(engine)
    [event] = await bus.append("alpha", 1, [NewEvent("cli", '{"kept":1}')])
    assert (event.seq, bus.head("alpha")) == (3, 3)
