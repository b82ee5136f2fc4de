"""Resume marks: written in the transaction that stores the events they describe."""

import pytest
from sqlalchemy import Engine, delete, text

from switchboard.exceptions import StoreError
from switchboard.store.records import NewEvent
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.schema import projects


async def test_a_mark_is_kept_with_its_events_and_replaced_by_the_next(
    event_log: SqliteEventLog,
) -> None:
    assert await event_log.resume_mark("alpha") is None
    await event_log.keep_mark("alpha", "launched", "run-1")
    assert await event_log.resume_mark("alpha") == ("launched", "run-1")
    await event_log.append("alpha", 1, [NewEvent("cli", "{}")], mark="after one")
    await event_log.append("alpha", 1, [NewEvent("cli", "{}")])  # no mark: left as it was
    assert await event_log.resume_mark("alpha") == ("after one", "run-1")  # still its run
    await event_log.append("alpha", 1, [NewEvent("cli", "{}")], mark="after three")
    assert await event_log.resume_mark("alpha") == ("after three", "run-1")
    await event_log.keep_mark("alpha", "after three", "run-2")  # the next run's turn
    assert await event_log.resume_mark("alpha") == ("after three", "run-2")
    assert await event_log.resume_mark("beta") is None  # per project


async def test_a_refused_append_keeps_no_mark(event_log: SqliteEventLog, engine: Engine) -> None:
    await event_log.append("alpha", 1, [NewEvent("cli", "{}")], mark="stored")
    with engine.begin() as connection:  # another writer got ahead: the log refuses
        connection.execute(
            text(
                "INSERT INTO events (project_id, seq, epoch, kind, body, created_at) "
                "VALUES ('alpha', 2, 1, 'cli', '{}', 0)"
            )
        )
    with pytest.raises(StoreError, match="could not persist"):
        await event_log.append("alpha", 1, [NewEvent("cli", "{}")], mark="never stored")
    assert await event_log.resume_mark("alpha") == ("stored", None)


async def test_a_removed_project_takes_its_mark_along(
    event_log: SqliteEventLog, engine: Engine
) -> None:
    await event_log.keep_mark("beta", "launched", None)
    with engine.begin() as connection:  # foreign keys are on (SQLite's pragma, at connect)
        connection.execute(delete(projects).where(projects.c.id == "beta"))
    assert await event_log.resume_mark("beta") is None
