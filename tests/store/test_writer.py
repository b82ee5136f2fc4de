import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import Connection

from switchboard.store.sqlite.writer import Writer


def insert_project(name: str) -> Callable[[Connection], str]:
    def work(connection: Connection) -> str:
        connection.execute(
            text("INSERT INTO projects (id, path, name, created_at) VALUES (:n, :p, :n, 0)"),
            {"n": name, "p": f"/p/{name}"},
        )
        return name

    return work


async def test_jobs_queued_together_are_committed_together(writer: Writer) -> None:
    futures = [writer.submit(insert_project(f"p{i}")) for i in range(300)]
    results = await asyncio.gather(*futures)
    assert results == [f"p{i}" for i in range(300)]
    assert writer.commits < 300  # grouped: far fewer transactions than jobs


async def test_a_failing_job_fails_alone(writer: Writer, engine: Engine) -> None:
    jobs = [insert_project("a"), insert_project("a"), insert_project("b")]  # duplicate key
    outcomes = await asyncio.gather(*(writer.submit(j) for j in jobs), return_exceptions=True)
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], Exception)
    with engine.connect() as connection:
        names = connection.execute(text("SELECT id FROM projects ORDER BY id")).scalars().all()
    assert names == ["a", "b"]


async def test_close_commits_what_is_queued(engine: Engine) -> None:
    writer = Writer(engine)
    future = writer.submit(insert_project("last"))
    writer.close()
    assert await asyncio.wait_for(future, 5) == "last"
    writer.close()  # idempotent


async def test_cancelled_waiter_does_not_break_the_writer(writer: Writer) -> None:
    future = writer.submit(insert_project("x"))
    future.cancel()
    assert await writer.submit(insert_project("y")) == "y"
    with pytest.raises(asyncio.CancelledError):
        await future


async def test_one_connection_serves_the_groups_and_a_failure_gets_a_fresh_one(
    engine: Engine,
) -> None:
    """The writer keeps its connection between transactions; after a failed one it
    closes it (whatever state it was left in), and the next write opens another and
    goes through. Closing the writer closes its connection."""
    opened: list[object] = []
    closed: list[object] = []
    event.listen(engine, "checkout", lambda _dbapi, record, _proxy: opened.append(record))
    event.listen(engine, "checkin", lambda _dbapi, record: closed.append(record))
    writer = Writer(engine)
    try:
        for name in ("a", "b", "c"):  # one after another: three groups
            assert await writer.submit(insert_project(name)) == name
        assert writer.commits == 3 and len(opened) == 1 and closed == []
        with pytest.raises(Exception, match=r"UNIQUE|duplicate key"):
            await writer.submit(insert_project("a"))
        assert len(closed) == 1
        assert await writer.submit(insert_project("d")) == "d"
        assert len(opened) == 2
    finally:
        writer.close()
    assert len(closed) == 2
