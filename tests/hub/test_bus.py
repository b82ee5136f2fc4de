"""The event bus publishes committed events in seq order, once per listener; on a
cluster's node it catches its listeners up with what another node appended."""

import asyncio
import json

from sqlalchemy import Engine

from switchboard.hub.bus import EventBus
from switchboard.hub.fanout import LocalBroadcaster, WireEvent
from switchboard.store.ports import EventLog
from switchboard.store.records import NewEvent
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.writer import Writer


def bus_on(log: EventLog) -> EventBus:
    return EventBus(log, LocalBroadcaster(log.head))


class Recorder:
    def __init__(self) -> None:
        self.events: list[WireEvent] = []
        self.deltas: list[str] = []

    def on_event(self, event: WireEvent) -> None:
        self.events.append(event)

    def on_delta(self, frame: str) -> None:
        self.deltas.append(frame)


async def test_concurrent_appends_are_published_in_seq_order(event_log: EventLog) -> None:
    bus = bus_on(event_log)
    first, second = Recorder(), Recorder()
    bus.subscribe("alpha", first)
    bus.subscribe("alpha", second)
    batches = [
        [NewEvent("cli", json.dumps({"n": b * 10 + i})) for i in range(3)] for b in range(20)
    ]
    await asyncio.gather(*(bus.append("alpha", 1, batch) for batch in batches))
    assert [e.seq for e in first.events] == list(range(1, 61))
    assert first.events == second.events
    assert [e.seq for e in await bus.read("alpha", 0, 100)] == list(range(1, 61))


async def test_frames_embed_the_stored_body_unchanged(event_log: EventLog) -> None:
    bus = bus_on(event_log)
    body = '{"type":"assistant","z":1,"a":[2, 3]}'  # key order and spacing kept
    [event] = await bus.append("beta", 1, [NewEvent("cli", body, run_id="r1")])
    assert event.frame == (
        '{"type":"event","project":"beta","seq":1,"epoch":1,"run":"r1","kind":"cli","data":'
        + body
        + "}"
    )
    assert json.loads(event.frame)["data"] == json.loads(body)


async def test_deltas_reach_listeners_without_being_stored(event_log: EventLog) -> None:
    bus = bus_on(event_log)
    listener, other_project = Recorder(), Recorder()
    bus.subscribe("alpha", listener)
    bus.subscribe("beta", other_project)
    bus.publish_delta("alpha", '{"type":"delta"}')
    assert listener.deltas == ['{"type":"delta"}'] and other_project.deltas == []
    assert await bus.read("alpha", 0, 10) == []
    bus.unsubscribe("alpha", listener)
    await bus.append("alpha", 1, [NewEvent("cli", "{}")])
    assert listener.events == []


async def test_catch_up_hands_out_what_another_node_appended_and_resumes_past_a_trim(
    event_log: SqliteEventLog, engine: Engine
) -> None:
    bus = bus_on(event_log)  # this node: it reads what the owner appends
    listener = Recorder()
    bus.subscribe("alpha", listener)
    owner_writer = Writer(engine)
    owner = SqliteEventLog(engine, owner_writer)  # the owner, another node
    try:
        await owner.load_heads()
        await owner.append("alpha", 1, [NewEvent("cli", "{}") for _ in range(5)])
        await bus.catch_up("alpha", 5)
        assert [e.seq for e in listener.events] == [1, 2, 3, 4, 5]
        await bus.catch_up("alpha", 5)  # rung twice: nothing twice
        assert len(listener.events) == 5
        assert bus.head("alpha") == 5
        await owner.append("alpha", 1, [NewEvent("cli", "{}") for _ in range(3)])
        await owner.trim("alpha", 6)  # before this node read 6
        await bus.catch_up("alpha", 8)
        assert [e.seq for e in listener.events] == [1, 2, 3, 4, 5, 7, 8]
        assert bus.first("alpha") == 7  # the listener's client learns of the trim
        bus.unsubscribe("alpha", listener)
        await owner.append("alpha", 1, [NewEvent("cli", "{}")])
        await bus.catch_up("alpha", 9)  # nobody listens here: nothing is read
        assert bus.head("alpha") == 9 and event_log.head("alpha") == 9
    finally:
        owner_writer.close()
