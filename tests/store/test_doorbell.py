"""The doorbell on PostgreSQL: an append rings once its transaction commits, with the
project and the seq its log reached; a write that fails rings nothing; the listener
comes back after its connection is killed and asks for a resync."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, text

from switchboard.exceptions import StoreError
from switchboard.store.records import NewEvent
from switchboard.store.sqlite.doorbell import CommitListener, channel_name, read_payload
from switchboard.store.sqlite.events import SqliteEventLog

pytestmark = pytest.mark.postgresql_only


class Heard:
    def __init__(self) -> None:
        self.commits: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self.resyncs = 0
        self.resynced = asyncio.Event()

    def commit(self, project_id: str, seq: int) -> None:
        self.commits.put_nowait((project_id, seq))

    def resync(self) -> None:
        self.resyncs += 1
        self.resynced.set()


@pytest.fixture
async def heard(engine: Engine) -> AsyncIterator[tuple[Heard, CommitListener]]:
    loop = asyncio.get_running_loop()
    heard = Heard()
    listener = CommitListener(engine, channel_name("0123abcd" * 4))
    listener.start(loop.call_soon_threadsafe, heard.commit, heard.resync)
    async with asyncio.timeout(10):
        await heard.resynced.wait()
    yield heard, listener
    listener.close()


async def test_appends_ring_once_committed(
    event_log: SqliteEventLog, heard: tuple[Heard, CommitListener]
) -> None:
    bell, _ = heard
    event_log.doorbell = channel_name("0123abcd" * 4)
    await event_log.append("alpha", 1, [NewEvent("cli", "{}"), NewEvent("cli", "{}")])
    await event_log.append("beta", 1, [NewEvent("cli", "{}")])
    async with asyncio.timeout(10):
        assert await bell.commits.get() == ("alpha", 2)
        assert await bell.commits.get() == ("beta", 1)


async def test_a_refused_write_rings_nothing(
    engine: Engine, event_log: SqliteEventLog, heard: tuple[Heard, CommitListener]
) -> None:
    bell, _ = heard
    event_log.doorbell = channel_name("0123abcd" * 4)
    await event_log.append("alpha", 1, [NewEvent("cli", "{}")])
    with engine.begin() as connection:  # another writer took seq 2
        connection.execute(
            text(
                "INSERT INTO events (project_id, seq, epoch, kind, body, created_at) "
                "VALUES ('alpha', 2, 1, 'cli', '{}', 0)"
            )
        )
    with pytest.raises(StoreError):
        await event_log.append("alpha", 1, [NewEvent("cli", "{}")])
    await event_log.append("beta", 1, [NewEvent("cli", "{}")])  # rings after any before it
    async with asyncio.timeout(10):
        assert await bell.commits.get() == ("alpha", 1)
        assert await bell.commits.get() == ("beta", 1)  # nothing for the refused write


async def test_the_listener_comes_back_after_its_connection_dies(
    engine: Engine, event_log: SqliteEventLog, heard: tuple[Heard, CommitListener]
) -> None:
    bell, listener = heard
    bell.resynced.clear()
    with engine.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
        )
    async with asyncio.timeout(15):
        await bell.resynced.wait()
    assert bell.resyncs >= 2
    event_log.doorbell = channel_name("0123abcd" * 4)
    await event_log.append("beta", 1, [NewEvent("cli", "{}")])
    async with asyncio.timeout(10):
        assert await bell.commits.get() == ("beta", 1)
    assert listener.connected.is_set()


def test_payloads_that_are_not_ours_are_ignored() -> None:
    assert read_payload("alpha 12") == ("alpha", 12)
    assert read_payload("alpha") is None
    assert read_payload("alpha x") is None
    assert read_payload(" 3") is None
    assert channel_name("ab-cd" * 20).startswith("switchboard_abcd")
    assert len(channel_name("f" * 100)) <= 63
