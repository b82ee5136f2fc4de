"""Writing a project's history straight into a data dir, with no server running.

For benchmarks and tests that need long histories: a thousand real runs would take
minutes. The data dir is created and migrated if need be; the server started on it
afterwards sees the project and its events as if it had stored them itself.
"""

import asyncio
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from switchboard.store.records import NewEvent, ProjectRecord
from switchboard.store.sqlite import open_stores
from switchboard.store.sqlite.database import open_engine, sqlite_url
from switchboard.store.sqlite.migrate import upgrade

Batches = Callable[[ProjectRecord], Iterable[Sequence[NewEvent]]]
"""The events to store, in batches (one transaction each), given the new project."""


async def write_project(
    data_dir: Path,
    project_dir: Path,
    batches: Batches,
    name: str | None = None,
    database_url: str | None = None,
) -> tuple[ProjectRecord, int]:
    """Register ``project_dir`` and append its events; the project and its head seq.
    ``database_url``: the store the server will use (``--database-url``), if not the
    data dir's SQLite file."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    engine = open_engine(database_url or sqlite_url(data_dir))
    await asyncio.to_thread(upgrade, engine)
    stores = open_stores(engine)
    try:
        await stores.projects.load()
        record = await stores.projects.add(str(project_dir), name)
        await stores.events.load_heads()
        head = 0
        for batch in batches(record):
            if batch:
                head = (await stores.events.append(record.id, record.epoch, batch))[-1].seq
        return record, head
    finally:
        stores.close()
