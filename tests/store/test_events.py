import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from switchboard.exceptions import StoreError
from switchboard.store.database import open_engine, sqlite_url
from switchboard.store.events import EventLog, NewEvent
from switchboard.store.writer import Writer


@asynccontextmanager
async def reopened_log(data_dir: Path) -> AsyncIterator[EventLog]:
    """The event log of ``data_dir`` opened afresh, as a restarted server would."""
    engine = open_engine(sqlite_url(data_dir))
    writer = Writer(engine)
    try:
        log = EventLog(engine, writer)
        await log.load_heads()
        yield log
    finally:
        writer.close()
        engine.dispose()


def batch(*bodies: str) -> list[NewEvent]:
    return [NewEvent("cli", body) for body in bodies]


async def test_seqs_are_gapless_and_per_project(event_log: EventLog) -> None:
    first = await event_log.append("alpha", 1, batch('{"a":1}', '{"a":2}'))
    other = await event_log.append("beta", 1, batch('{"b":1}'))
    second = await event_log.append("alpha", 1, batch('{"a":3}'))
    assert [e.seq for e in first + second] == [1, 2, 3]
    assert [e.seq for e in other] == [1]
    assert (event_log.head("alpha"), event_log.head("beta"), event_log.head("none")) == (3, 1, 0)


async def test_concurrent_appends_get_seqs_in_call_order(event_log: EventLog) -> None:
    results = await asyncio.gather(
        *(event_log.append("alpha", 1, batch(f'{{"n":{i}}}')) for i in range(200))
    )
    assert [r[0].seq for r in results] == list(range(1, 201))
    stored = await event_log.read("alpha", 0, 1000)
    assert [e.body for e in stored] == [f'{{"n":{i}}}' for i in range(200)]


async def test_read_after_a_seq_with_a_limit(event_log: EventLog) -> None:
    await event_log.append("alpha", 1, batch(*(f'{{"n":{i}}}' for i in range(10))))
    page = await event_log.read("alpha", 4, 3)
    assert [e.seq for e in page] == [5, 6, 7]
    assert await event_log.read("alpha", 10, 5) == []
    assert await event_log.read("beta", 0, 5) == []


async def test_bodies_are_stored_byte_for_byte(event_log: EventLog) -> None:
    raw = '{"type":"result","z":1,"a":"\\u00e9 \\n","nested":{"k":[1,2]}}'
    await event_log.append("alpha", 1, [NewEvent("cli", raw, run_id="run-1")])
    [stored] = await event_log.read("alpha", 0, 1)
    assert (stored.body, stored.run_id, stored.kind, stored.epoch) == (raw, "run-1", "cli", 1)


async def test_heads_survive_a_reopen(engine: Engine, event_log: EventLog, tmp_path: Path) -> None:
    await event_log.append("alpha", 1, batch("{}", "{}"))
    async with reopened_log(tmp_path) as reopened:
        assert reopened.head("alpha") == 2
        assert [e.seq for e in await reopened.append("alpha", 1, batch("{}"))] == [3]


async def test_a_failed_write_stops_that_projects_log_instead_of_leaving_a_gap(
    event_log: EventLog,
) -> None:
    with pytest.raises(StoreError):
        await event_log.append("no-such-project", 1, batch("{}"))  # foreign key violation
    with pytest.raises(StoreError, match="stopped after a failed write"):
        await event_log.append("no-such-project", 1, batch("{}"))
    assert [e.seq for e in await event_log.append("alpha", 1, batch("{}"))] == [1]


async def test_committed_events_survive_sigkill(tmp_path: Path) -> None:
    """What append() returned is on disk, even if the process dies right after."""
    program = textwrap.dedent(f"""
        import asyncio, sys
        from sqlalchemy import insert
        from switchboard.store.database import open_engine, sqlite_url
        from switchboard.store.events import EventLog, NewEvent
        from switchboard.store.migrate import upgrade
        from switchboard.store.schema import projects
        from switchboard.store.writer import Writer
        from pathlib import Path

        async def main():
            engine = open_engine(sqlite_url(Path({str(tmp_path)!r})))
            upgrade(engine)
            with engine.begin() as c:
                c.execute(insert(projects).values(id="p", path="/p", name="p", created_at=0))
            log = EventLog(engine, Writer(engine))
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
    async with reopened_log(tmp_path) as log:
        assert log.head("p") == 50
        assert [e.body for e in await log.read("p", 0, 100)][-1] == '{"i":49}'
