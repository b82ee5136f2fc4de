"""The process table: a server instance sees the groups every other instance left, and
a cluster node's instance (``NODE/ID``) only those of earlier instances of its node."""

from sqlalchemy import Engine

from switchboard.store.records import Leftover
from switchboard.store.sqlite.processes import SqliteProcessTable
from switchboard.store.sqlite.writer import Writer


def group(pgid: int) -> Leftover:
    return Leftover(pgid, pgid, 100, None, None, None, None)


async def test_a_node_sees_the_leftovers_of_its_own_earlier_instances(
    engine: Engine, writer: Writer
) -> None:
    table = SqliteProcessTable(engine, writer)
    for instance, pgid in (("a/1", 11), ("a/2", 12), ("a_/1", 13), ("b/1", 21), ("solo", 31)):
        await table.add(instance, group(pgid), 0.0)
    assert {g.pgid for g in await table.of_others("a/3")} == {11, 12}  # not a_'s, b's
    await table.remove_others("a/3")
    assert {g.pgid for g in await table.of_others("b/2")} == {21}
    assert {g.pgid for g in await table.of_others("solo2")} == {13, 21, 31}  # a single server
