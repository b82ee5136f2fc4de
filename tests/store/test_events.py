import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import Engine, text

from switchboard.exceptions import StoreError
from switchboard.store.records import NewEvent
from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.writer import Writer
from tests.support.refusals import accept_inserts, refuse_inserts


@asynccontextmanager
async def reopened_log(url: str) -> AsyncIterator[SqliteEventLog]:
    """The event log at ``url`` opened afresh, as a restarted server would."""
    engine = open_engine(url)
    writer = Writer(engine)
    try:
        log = SqliteEventLog(engine, writer)
        await log.load_heads()
        yield log
    finally:
        writer.close()
        engine.dispose()


def batch(*bodies: str) -> list[NewEvent]:
    return [NewEvent("cli", body) for body in bodies]


async def test_seqs_are_gapless_and_per_project(event_log: SqliteEventLog) -> None:
    first = await event_log.append("alpha", 1, batch('{"a":1}', '{"a":2}'))
    other = await event_log.append("beta", 1, batch('{"b":1}'))
    second = await event_log.append("alpha", 1, batch('{"a":3}'))
    assert [e.seq for e in first + second] == [1, 2, 3]
    assert [e.seq for e in other] == [1]
    assert (event_log.head("alpha"), event_log.head("beta"), event_log.head("none")) == (3, 1, 0)


async def test_concurrent_appends_get_seqs_in_call_order(event_log: SqliteEventLog) -> None:
    results = await asyncio.gather(
        *(event_log.append("alpha", 1, batch(f'{{"n":{i}}}')) for i in range(200))
    )
    assert [r[0].seq for r in results] == list(range(1, 201))
    stored = await event_log.read("alpha", 0, 1000)
    assert [e.body for e in stored] == [f'{{"n":{i}}}' for i in range(200)]


async def test_read_after_a_seq_with_a_limit(event_log: SqliteEventLog) -> None:
    await event_log.append("alpha", 1, batch(*(f'{{"n":{i}}}' for i in range(10))))
    page = await event_log.read("alpha", 4, 3)
    assert [e.seq for e in page] == [5, 6, 7]
    assert await event_log.read("alpha", 10, 5) == []
    assert await event_log.read("beta", 0, 5) == []


async def test_bodies_are_stored_byte_for_byte(event_log: SqliteEventLog) -> None:
    raw = '{"type":"result","z":1,"a":"\\u00e9 \\n","nested":{"k":[1,2]}}'
    await event_log.append("alpha", 1, [NewEvent("cli", raw, run_id="run-1")])
    [stored] = await event_log.read("alpha", 0, 1)
    assert (stored.body, stored.run_id, stored.kind, stored.epoch) == (raw, "run-1", "cli", 1)


async def test_heads_survive_a_reopen(
    engine: Engine, event_log: SqliteEventLog, store_url: str
) -> None:
    await event_log.append("alpha", 1, batch("{}", "{}"))
    async with reopened_log(store_url) as reopened:
        assert reopened.head("alpha") == 2
        assert [e.seq for e in await reopened.append("alpha", 1, batch("{}"))] == [3]


def refuse_writes_of(engine: Engine, project: str, seq: int) -> None:
    """Make the database refuse the write of event ``seq`` of ``project``, as a full disk
    would, and only that one: a write queued behind it could succeed (a real full disk is
    tested end to end in tests/server/test_disk_full.py)."""
    refuse_inserts(engine, f"NEW.project_id = '{project}' AND NEW.seq = {seq}")


def accept_writes_again(engine: Engine) -> None:
    accept_inserts(engine)


async def test_a_failed_write_fails_the_writes_queued_behind_it_and_leaves_no_gap(
    engine: Engine, event_log: SqliteEventLog
) -> None:
    await event_log.append("alpha", 1, batch('{"n":1}', '{"n":2}'))
    refuse_writes_of(engine, "alpha", 3)
    # Queued together: the second must not commit seq 4 after seq 3 failed.
    outcomes = await asyncio.gather(
        event_log.append("alpha", 1, batch('{"n":3}')),
        event_log.append("alpha", 1, batch('{"n":4}')),
        event_log.append("beta", 1, batch('{"other":1}')),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], StoreError) and "disk is full" in str(outcomes[0])
    assert isinstance(outcomes[1], StoreError)
    assert [e.seq for e in outcomes[2]] == [1]  # type: ignore[union-attr]
    assert event_log.head("alpha") == 2
    assert [e.seq for e in await event_log.read("alpha", 0, 10)] == [1, 2]
    with pytest.raises(StoreError, match="disk is full"):  # seq 3 again, still refused
        await event_log.append("alpha", 1, batch('{"n":3}'))
    assert [e.seq for e in await event_log.read("alpha", 0, 10)] == [1, 2]


async def test_the_log_numbers_on_from_its_last_stored_event_once_writes_succeed_again(
    engine: Engine, event_log: SqliteEventLog, store_url: str
) -> None:
    await event_log.append("alpha", 1, batch('{"n":1}'))
    refuse_writes_of(engine, "alpha", 2)
    for _ in range(2):
        with pytest.raises(StoreError):
            await event_log.append("alpha", 1, batch('{"lost":1}', '{"lost":2}'))
    accept_writes_again(engine)
    resumed = await asyncio.gather(
        event_log.append("alpha", 1, batch('{"n":2}')),
        event_log.append("alpha", 1, batch('{"n":3}')),
    )
    assert [e.seq for r in resumed for e in r] == [2, 3]
    stored = await event_log.read("alpha", 0, 10)
    assert [(e.seq, e.body) for e in stored] == [(1, '{"n":1}'), (2, '{"n":2}'), (3, '{"n":3}')]
    async with reopened_log(store_url) as reopened:
        assert reopened.head("alpha") == 3


async def test_trimming_forgets_the_oldest_events_and_numbering_goes_on(
    event_log: SqliteEventLog, store_url: str
) -> None:
    await event_log.append("alpha", 1, batch(*(f'{{"n":{i}}}' for i in range(1, 11))))
    await event_log.append("beta", 1, batch("{}", "{}"))
    assert event_log.first("alpha") == 1
    assert await event_log.trim("alpha", 4) == 4
    assert event_log.first("alpha") == 5
    assert [e.seq for e in await event_log.read("alpha", 0, 100)] == list(range(5, 11))
    assert [e.seq for e in await event_log.append("alpha", 1, batch("{}"))] == [11]
    assert [e.seq for e in await event_log.read("beta", 0, 100)] == [1, 2]
    async with reopened_log(store_url) as reopened:
        assert (reopened.first("alpha"), reopened.head("alpha")) == (5, 11)
        assert (reopened.first("beta"), reopened.head("beta")) == (1, 2)


async def test_trimming_deletes_in_chunks_oldest_first(
    event_log: SqliteEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("switchboard.store.sqlite.events.TRIM_CHUNK", 3)
    await event_log.append("alpha", 1, batch(*("{}" for _ in range(10))))
    assert await event_log.trim("alpha", 8) == 8
    assert [e.seq for e in await event_log.read("alpha", 0, 100)] == [9, 10]
    assert await event_log.trim("alpha", 8) == 0  # nothing left to trim there


async def test_the_age_cutoff_is_found_by_time(engine: Engine, event_log: SqliteEventLog) -> None:
    await event_log.append("alpha", 1, batch(*("{}" for _ in range(20))))
    with engine.begin() as connection:  # event n stored at time 10 n
        connection.execute(text("UPDATE events SET created_at = seq * 10"))
    assert await event_log.age_cutoff("alpha", 75.0, 20) == 7
    assert await event_log.age_cutoff("alpha", 5.0, 20) == 0
    assert await event_log.age_cutoff("alpha", 1000.0, 12) == 12  # never past ``last``
    await event_log.trim("alpha", 9)
    assert await event_log.age_cutoff("alpha", 75.0, 20) == 0  # those are gone already
    assert await event_log.age_cutoff("alpha", 125.0, 20) == 12


async def test_the_size_cutoff_keeps_the_newest_events_that_fit(event_log: SqliteEventLog) -> None:
    bodies = [json.dumps({"pad": "x" * (size - 11)}) for size in (100, 100, 50, 30, 20)]
    assert [len(b) for b in bodies] == [100, 100, 50, 30, 20]
    await event_log.append("alpha", 1, batch(*bodies))
    assert await event_log.size_cutoff("alpha", 100, 5) == (2, 100)  # 20 + 30 + 50 fit
    assert await event_log.size_cutoff("alpha", 99, 5) == (3, 50)
    assert await event_log.size_cutoff("alpha", 1000, 5) == (0, 300)
    assert await event_log.size_cutoff("alpha", 10, 5) == (5, 0)
    assert await event_log.size_cutoff("alpha", 100, 4) == (2, 80)
    assert event_log.appended_chars("alpha") == 300


async def test_committed_events_survive_sigkill(store_url: str) -> None:
    """What append() returned is on disk, even if the process dies right after."""
    program = textwrap.dedent(f"""
        import asyncio, sys
        from sqlalchemy import insert
        from switchboard.store.records import NewEvent
        from switchboard.store.sqlite.database import open_engine
        from switchboard.store.sqlite.events import SqliteEventLog
        from switchboard.store.sqlite.migrate import upgrade
        from switchboard.store.sqlite.schema import projects
        from switchboard.store.sqlite.writer import Writer

        async def main():
            engine = open_engine({store_url!r})
            upgrade(engine)
            with engine.begin() as c:
                c.execute(insert(projects).values(id="p", path="/p", name="p", created_at=0))
            log = SqliteEventLog(engine, Writer(engine))
            await log.load_heads()
            for i in range(50):
                await log.append("p", 1, [NewEvent("cli", '{{"i":%d}}' % i)])
            print("appended", flush=True)
            await asyncio.sleep(3600)

        asyncio.run(main())
    """)
    child = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "appended\n"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    async with reopened_log(store_url) as log:
        assert log.head("p") == 50
        assert [e.body for e in await log.read("p", 0, 100)][-1] == '{"i":49}'


async def test_reads_after_a_trimmed_start_and_at_the_end(event_log: SqliteEventLog) -> None:
    await event_log.append("alpha", 1, [NewEvent("cli", "{}") for _ in range(10)])
    await event_log.trim("alpha", 5)
    assert [e.seq for e in await event_log.read("alpha", 0, 3)] == [6, 7, 8]  # from the first
    assert [e.seq for e in await event_log.read("alpha", 7, 10)] == [8, 9, 10]  # to the end
    assert [e.seq for e in await event_log.read("alpha", 5, 5)] == [6, 7, 8, 9, 10]
    assert await event_log.read("alpha", 10, 5) == []
