"""The audit list on a real SQLite database: newest first, by project, paged, bounded."""

import asyncio

from sqlalchemy import Engine

from switchboard.store.sqlite.audit import SqliteAuditStore
from switchboard.store.sqlite.writer import Writer


async def test_entries_come_newest_first_by_project_and_page_back(
    engine: Engine, writer: Writer
) -> None:
    audit = SqliteAuditStore(engine, writer)
    for n in range(5):
        project = "alpha" if n % 2 == 0 else None
        await audit.append("otto", "t1", "prompt", project, {"text": f"p{n}", "n": n})
    everything = await audit.entries()
    assert [e.detail["n"] for e in everything] == [4, 3, 2, 1, 0]
    assert {(e.by, e.token_id, e.action) for e in everything} == {("otto", "t1", "prompt")}
    alpha = await audit.entries("alpha", limit=2)
    assert [e.detail["n"] for e in alpha] == [4, 2]
    older = await audit.entries("alpha", before=alpha[-1].id)
    assert [e.detail["n"] for e in older] == [0]
    assert await audit.entries("beta") == []


async def test_the_list_keeps_only_the_newest_entries(engine: Engine, writer: Writer) -> None:
    audit = SqliteAuditStore(engine, writer, max_entries=10, prune_every=5)
    await asyncio.gather(
        *(audit.append("ada", None, "token.create", None, {"n": n}) for n in range(23))
    )
    kept = await audit.entries(limit=100)
    # pruned at the 20th append down to 10, then three more came
    assert [e.detail["n"] for e in kept] == list(range(22, 9, -1))
