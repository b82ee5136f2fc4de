"""Ownership by leases, with two nodes on one real store: each project has one owner;
a node that stops renewing loses its projects to the other within the lease time
(which sets them up before they run), and learns that it lost them; a node that
leaves gives its projects up at once; rendezvous hashing spreads projects evenly."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, insert

from switchboard.hub.ownership import Ownership, preferred
from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.leases import SqlLeaseStore
from switchboard.store.sqlite.migrate import upgrade
from switchboard.store.sqlite.schema import projects
from switchboard.store.sqlite.writer import Writer

LEASE = 0.6
PROJECTS = [f"p{i}" for i in range(6)]


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = open_engine(store_url)
    upgrade(engine)
    with engine.begin() as connection:
        for name in PROJECTS:
            connection.execute(
                insert(projects).values(id=name, path=f"/p/{name}", name=name, created_at=0.0)
            )
    yield engine
    engine.dispose()


class Node:
    def __init__(self, engine: Engine, name: str, pins: dict[str, str] | None = None) -> None:
        """``pins``: projects whose agent is linked to a node (as every node heard)."""
        self.writer = Writer(engine)
        self.adopted: list[str] = []
        self.dropped: list[str] = []
        self.asked: list[tuple[str, str]] = []
        pinned = pins if pins is not None else {}
        self.ownership = Ownership(
            SqlLeaseStore(engine, self.writer),
            name,
            LEASE,
            projects=lambda: list(PROJECTS),
            adopt=self.adopt,
            drop=self.drop,
            pinned=pinned.get,
            ask_release=lambda project_id, node: self.asked.append((project_id, node)),
        )

    async def adopt(self, project_ids: list[str]) -> None:
        self.adopted.extend(project_ids)

    async def drop(self, project_id: str) -> None:
        self.dropped.append(project_id)

    def mine(self) -> set[str]:
        return {p for p in PROJECTS if self.ownership.is_mine(p)}

    async def die(self) -> None:
        """Stop renewing, as a killed node does (its rows stay until they expire)."""
        for task in self.ownership._tasks:
            task.cancel()
        await asyncio.gather(*self.ownership._tasks, return_exceptions=True)


@pytest.fixture
async def two(engine: Engine) -> AsyncIterator[tuple[Node, Node]]:
    a, b = Node(engine, "a"), Node(engine, "b")
    yield a, b
    for node in (a, b):
        await node.ownership.close()
        node.writer.close()


async def test_every_project_has_one_owner_and_a_dead_nodes_go_to_the_living(
    two: tuple[Node, Node],
) -> None:
    a, b = two
    await a.ownership.start()  # alone: it takes everything free
    assert a.mine() == set(PROJECTS) and a.adopted == PROJECTS
    await b.ownership.start()
    assert b.mine() == set()  # nothing free
    assert {b.ownership.owner(p) for p in PROJECTS} == {"a"}
    await a.die()
    async with asyncio.timeout(LEASE * 4 + 2):
        while b.mine() != set(PROJECTS):
            await asyncio.sleep(0.05)
    assert sorted(b.adopted) == PROJECTS
    assert not a.dropped  # a dead node hears nothing; a live one would have let go


async def test_a_node_that_lost_a_lease_lets_the_project_go(
    two: tuple[Node, Node], engine: Engine
) -> None:
    a, b = two
    await a.ownership.start()
    leases = SqlLeaseStore(engine, b.writer)
    await leases.release("p0", "a")  # as if a's lease expired during a pause of a's,
    assert await leases.acquire("p0", "b", 30) is not None  # and b took the project
    async with asyncio.timeout(LEASE * 2 + 2):
        while "p0" not in a.dropped:
            await asyncio.sleep(0.05)
    assert not a.ownership.is_mine("p0")
    assert a.mine() == set(PROJECTS) - {"p0"}


async def test_leaving_gives_projects_up_at_once(two: tuple[Node, Node]) -> None:
    a, b = two
    await a.ownership.start()
    await b.ownership.start()
    await a.ownership.close()
    await b.ownership.refresh()
    assert b.mine() == set(PROJECTS)  # free at once: b is the only node alive


def test_rendezvous_hashing_spreads_projects_and_moves_few() -> None:
    names = [f"project-{i}" for i in range(600)]
    three = [preferred(p, ["a", "b", "c"]) for p in names]
    counts = {node: three.count(node) for node in "abc"}
    assert all(150 < count < 250 for count in counts.values()), counts
    two = [preferred(p, ["a", "b"]) for p in names]  # c is gone: only its projects move
    assert all(x == y for x, y in zip(three, two, strict=True) if x != "c")
    assert preferred("x", []) is None


async def test_a_node_back_under_the_same_id_takes_its_projects_up_again(
    engine: Engine, two: tuple[Node, Node]
) -> None:
    first, other = two
    await first.ownership.start()
    await first.die()  # killed, and back within the lease time: its rows still live
    again = Node(engine, "a")
    try:
        await again.ownership.start()
        assert again.mine() == set(PROJECTS) and sorted(again.adopted) == PROJECTS
        await other.ownership.start()
        assert other.mine() == set()
    finally:
        await again.ownership.close()
        again.writer.close()


async def test_a_project_pinned_to_a_node_goes_to_it_when_its_owner_gives_it_up(
    engine: Engine,
) -> None:
    pins: dict[str, str] = {}
    a, b = Node(engine, "a", pins), Node(engine, "b", pins)
    try:
        await a.ownership.start()
        await b.ownership.start()
        assert a.mine() == set(PROJECTS)
        pins["p0"] = "b"  # p0's agent linked to b
        await b.ownership.refresh()
        assert b.asked[-1] == ("p0", "a") and b.mine() == set()  # b asks; a still has it
        assert await a.ownership.give_up("p0", to="b")
        assert a.dropped == ["p0"] and a.ownership.owner("p0") == "b"
        assert not await a.ownership.give_up("p0", to="b")  # not a's any more
        await a.ownership.refresh()
        assert "p0" not in a.mine()  # free, but pinned to b: a leaves it
        await b.ownership.refresh()
        assert b.mine() == {"p0"}  # at once, without waiting a lease time
    finally:
        for node in (a, b):
            await node.ownership.close()
            node.writer.close()
