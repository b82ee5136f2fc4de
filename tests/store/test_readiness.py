"""/readyz's store checks on a real SQLite database: reachable, its schema current, its
writes going through."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from switchboard.exceptions import StoreError
from switchboard.store.sqlite.database import open_engine, sqlite_url
from switchboard.store.sqlite.migrate import downgrade, upgrade
from switchboard.store.sqlite.readiness import newest_migration, problems
from switchboard.store.sqlite.writer import Writer


async def test_a_current_database_with_its_writes_through_is_ready(
    engine: Engine, writer: Writer
) -> None:
    assert problems(engine, writer) == []


async def test_a_failed_write_makes_it_not_ready_until_one_goes_through(
    engine: Engine, writer: Writer
) -> None:
    with pytest.raises(StoreError):
        await writer.submit(lambda c: c.execute(text("INSERT INTO nowhere VALUES (1)")))
    [reason] = problems(engine, writer)
    assert reason in (  # the database's reason alone, never the statement
        "the last write failed: no such table: nowhere",  # SQLite
        'the last write failed: relation "nowhere" does not exist',  # PostgreSQL
    )
    await writer.submit(lambda connection: connection.execute(text("SELECT 1")))
    assert problems(engine, writer) == []


async def test_a_schema_behind_and_a_closed_writer_are_reasons(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path))
    upgrade(engine)
    downgrade(engine, "0009")
    writer = Writer(engine)
    try:
        head = newest_migration()
        assert head is not None and head > "0009"
        assert problems(engine, writer) == [f"the database schema is at migration 0009, not {head}"]
    finally:
        writer.close()
    assert "the store is closed" in problems(engine, writer)
    engine.dispose()


async def test_an_unreachable_database_is_a_reason(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path))
    upgrade(engine)
    writer = Writer(engine)
    try:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        broken = open_engine(sqlite_url(elsewhere))
        database = Path(str(broken.url.database))
        database.unlink()
        database.mkdir()  # a directory where the database file was: it cannot be opened
        [reason] = await asyncio.to_thread(problems, broken, writer)
        assert reason.startswith("the database cannot be reached: unable to open database file")
        broken.dispose()
    finally:
        writer.close()
        engine.dispose()
