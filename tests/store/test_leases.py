"""Project leases and node heartbeats, on SQLite and on PostgreSQL: one owner at a
time, renewal by the owner only, takeover once a lease expires (by the database's
clock), a race of many takers that exactly one wins, and appends fenced by the lease."""

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from switchboard.exceptions import LeaseLost, StoreError
from switchboard.protocol.messages import RunOptions
from switchboard.store.records import NewEvent, RunRecord
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.leases import SqlLeaseStore
from switchboard.store.sqlite.runs import SqliteRunStore
from switchboard.store.sqlite.writer import Writer


@pytest.fixture
def leases(engine: Engine, writer: Writer, event_log: SqliteEventLog) -> SqlLeaseStore:
    return SqlLeaseStore(engine, writer)  # (event_log: its projects alpha and beta)


async def test_one_node_owns_a_project_until_its_lease_expires(leases: SqlLeaseStore) -> None:
    first = await leases.acquire("alpha", "a", 0.5)
    assert first is not None and (first.node_id, first.term) == ("a", 1)
    assert await leases.acquire("alpha", "b", 10) is None  # a holds it
    kept = await leases.acquire("alpha", "a", 0.5)  # the owner may take it again
    assert kept is not None and kept.term == 1 and kept.expires_at >= first.expires_at
    assert await leases.renew("a", ["alpha", "beta"], 0.5) == ["alpha"]
    assert await leases.renew("b", ["alpha"], 10) == []  # b holds nothing
    await asyncio.sleep(0.7)  # a stopped renewing: its lease expired
    [expired] = await leases.leases()
    assert expired.expired and expired.node_id == "a"
    taken = await leases.acquire("alpha", "b", 10)
    assert taken is not None and (taken.node_id, taken.term) == ("b", 2)  # a new term
    assert await leases.renew("a", ["alpha"], 10) == []  # a lost it: nothing to renew
    [held] = await leases.leases()
    assert (held.node_id, held.expired) == ("b", False)


async def test_many_nodes_racing_for_a_project_one_wins(leases: SqlLeaseStore) -> None:
    taken = await asyncio.gather(*(leases.acquire("beta", f"n{i}", 30) for i in range(8)))
    winners = [lease for lease in taken if lease is not None]
    assert len(winners) == 1
    [stored] = await leases.leases()
    assert stored.node_id == winners[0].node_id


async def test_release_and_leave_free_a_nodes_projects(leases: SqlLeaseStore) -> None:
    assert await leases.acquire("alpha", "a", 30) is not None
    assert await leases.acquire("beta", "a", 30) is not None
    await leases.release("alpha", "b")  # not b's: nothing happens
    assert {lease.project_id for lease in await leases.leases()} == {"alpha", "beta"}
    await leases.release("alpha", "a")
    assert await leases.acquire("alpha", "b", 30) is not None  # free at once
    await leases.leave("a")
    assert [(lease.project_id, lease.node_id) for lease in await leases.leases()] == [
        ("alpha", "b")
    ]


async def test_heartbeats_list_the_nodes_alive(leases: SqlLeaseStore) -> None:
    assert await leases.heartbeat("a", 0.4) == ["a"]
    assert await leases.heartbeat("b", 30) == ["a", "b"]
    await asyncio.sleep(0.6)
    assert await leases.heartbeat("b", 30) == ["b"]  # a stopped beating
    await leases.leave("b")
    assert await leases.heartbeat("c", 30) == ["c"]


async def test_the_cluster_id_is_made_once(leases: SqlLeaseStore, engine: Engine) -> None:
    first = await leases.cluster_id()
    writer = Writer(engine)
    try:
        assert await SqlLeaseStore(engine, writer).cluster_id() == first  # another node
    finally:
        writer.close()
    assert len(first) == 32


async def test_a_nodes_appends_commit_only_while_it_holds_the_lease(
    leases: SqlLeaseStore, event_log: SqliteEventLog
) -> None:
    event_log.fence = "a"
    with pytest.raises(StoreError, match="node a lost its lease"):
        await event_log.append("alpha", 1, [NewEvent("cli", "{}")])  # no lease at all
    assert await leases.acquire("alpha", "a", 0.4) is not None
    [stored] = await event_log.append("alpha", 1, [NewEvent("cli", "{}")])
    assert stored.seq == 1
    await asyncio.sleep(0.6)  # expired, though nobody took it
    with pytest.raises(StoreError, match="lost its lease"):
        await event_log.append("alpha", 1, [NewEvent("cli", "{}")])
    assert await leases.acquire("alpha", "b", 30) is not None
    with pytest.raises(StoreError, match="lost its lease"):
        await event_log.append("alpha", 1, [NewEvent("cli", "{}")])
    event_log.fence = "b"
    [next_one] = await event_log.append("alpha", 1, [NewEvent("cli", "{}")])
    assert next_one.seq == 2  # numbered on from what is stored: no gap


async def test_a_nodes_runs_are_written_only_while_it_holds_the_lease(
    leases: SqlLeaseStore, engine: Engine, writer: Writer
) -> None:
    store = SqliteRunStore(engine, writer)
    store.fence = "a"
    run = RunRecord("r1", "alpha", "hi", RunOptions(), "queued", 0.0, "client")
    with pytest.raises(LeaseLost, match="node a lost its lease"):
        await store.insert(run)
    assert await leases.acquire("alpha", "a", 30) is not None
    await store.insert(run)
    await leases.release("alpha", "a")
    assert await leases.acquire("alpha", "b", 30) is not None  # taken over
    with pytest.raises(LeaseLost):  # the old owner cannot overwrite the new one's record
        await store.save(replace(run, state="failed", error="internal error"))
    [unfinished] = await store.unfinished()
    assert (unfinished.id, unfinished.state) == ("r1", "queued")
