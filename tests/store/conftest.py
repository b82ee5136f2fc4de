from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, insert

from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.migrate import upgrade
from switchboard.store.sqlite.schema import projects
from switchboard.store.sqlite.writer import Writer


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = open_engine(store_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def writer(engine: Engine) -> AsyncIterator[Writer]:
    writer = Writer(engine)
    yield writer
    writer.close()


@pytest.fixture
async def event_log(engine: Engine, writer: Writer) -> SqliteEventLog:
    with engine.begin() as connection:  # events need their project (foreign key)
        for name in ("alpha", "beta"):
            connection.execute(
                insert(projects).values(id=name, path=f"/p/{name}", name=name, created_at=0.0)
            )
    log = SqliteEventLog(engine, writer)
    await log.load_heads()
    return log
