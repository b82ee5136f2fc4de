"""Which projects this node owns: leases in the shared store, renewed while it lives.

A cluster's node runs a project's CLI and appends its events only while it holds the
project's lease (:class:`~switchboard.store.ports.LeaseStore`). Two loops keep them:

- every third of the lease time the node beats (its row among the nodes alive) and
  renews its leases; a lease that could not be renewed is lost, and the project is
  let go at once (``drop``). So is every lease, if renewing failed for a whole lease
  time (the store is unreachable: another node may have them by now);
- as often, it looks at the other projects: one with no lease, or an expired one, is
  taken by the node that rendezvous hashing prefers among the nodes alive, so that a
  dead node's projects spread over the survivors; or by any node once it has been free
  for a whole lease time (the preferred node may be gone as well). A project taken is
  set up before its queue runs (``adopt``).

A project on a remote agent is pinned to the node its agent is linked to (``pinned``):
only that node takes it, at once when it is free, and it asks a node that holds it to
give it up (``ask_release``; that node lets it go: :meth:`Ownership.give_up`). With its
agent linked nowhere, it is placed as any other.

:class:`Solo` stands in on a single server: it owns every project.
"""

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from switchboard.store.ports import LeaseStore

log = logging.getLogger(__name__)


class Solo:
    """The one server owns everything."""

    node_id: str | None = None

    def is_mine(self, project_id: str) -> bool:
        return True

    def owner(self, project_id: str) -> str | None:
        return None


def preferred(project_id: str, nodes: list[str]) -> str | None:
    """The node rendezvous hashing picks for a project among ``nodes``."""
    if not nodes:
        return None
    return max(nodes, key=lambda node: hashlib.sha256(f"{project_id}/{node}".encode()).digest())


class Ownership:
    """This node's leases. :meth:`start` takes what it may, :meth:`close` gives all up."""

    def __init__(
        self,
        leases: LeaseStore,
        node_id: str,
        lease_seconds: float,
        *,
        projects: Callable[[], list[str]],
        adopt: Callable[[list[str]], Awaitable[None]],
        drop: Callable[[str], Coroutine[Any, Any, None]],
        pinned: Callable[[str], str | None] = lambda _project_id: None,
        ask_release: Callable[[str, str], None] = lambda _project_id, _node: None,
    ) -> None:
        """``projects``: the ids of every project; ``adopt``: set projects taken up
        (their logs, recovery, their workers); ``drop``: stop working on a project lost;
        ``pinned``: the node a project must run on (its agent's link is there), if any;
        ``ask_release``: ask a node (alive) to give up a project pinned to this one."""
        self.node_id = node_id
        self._leases = leases
        self._ttl = lease_seconds
        self._projects = projects
        self._adopt = adopt
        self._drop = drop
        self._pinned = pinned
        self._ask_release = ask_release
        self._mine: set[str] = set()
        self._owners: dict[str, str] = {}
        self._free_since: dict[str, float] = {}
        self._alive: list[str] = [node_id]
        self._renewed = time.monotonic()
        self._tasks: list[asyncio.Task[None]] = []
        self._dropping: set[asyncio.Task[None]] = set()
        self._taking = asyncio.Lock()
        self._letting_go: set[str] = set()
        """Projects lost whose drop is still under way."""
        self._refreshing = asyncio.Lock()

    @property
    def period(self) -> float:
        return self._ttl / 3

    def is_mine(self, project_id: str) -> bool:
        return project_id in self._mine

    def owner(self, project_id: str) -> str | None:
        """The node that owns the project, as this node last saw; None: none does."""
        return self.node_id if project_id in self._mine else self._owners.get(project_id)

    def heard_owner(self, project_id: str, node_id: str | None) -> None:
        """Another node said it owns the project now (its status says so)."""
        if node_id is not None and node_id != self.node_id and project_id not in self._mine:
            self._owners[project_id] = node_id

    async def refresh(self) -> None:
        """Read who owns what now (a node this one asked is gone, say), taking what
        this node should."""
        async with self._refreshing:
            await self._renew()  # the nodes alive now, too
            await self._scan()

    async def _scan_now(self) -> None:
        async with self._refreshing:
            await self._scan()

    def alive(self) -> list[str]:
        """The nodes alive at the last heartbeat (this one included)."""
        return list(self._alive)

    async def start(self) -> None:
        await self._renew()
        await self._scan()
        self._tasks = [
            asyncio.create_task(self._every(self._renew), name="leases-renew"),
            asyncio.create_task(self._every(self._scan_now), name="leases-scan"),
        ]

    async def claim(self, project_id: str) -> bool:
        """Take a project now (one just added on this node); False if another has it."""
        await self._claim([project_id])
        return project_id in self._mine

    async def _claim(self, project_ids: list[str]) -> None:
        """Take the leases of these projects that are free, then set them up together
        (one read of what other nodes changed serves them all)."""
        async with self._taking:
            taken: list[str] = []
            for project_id in project_ids:
                if project_id in self._mine or project_id in self._letting_go:
                    continue  # (a drop under way: the next scan may take it)
                if await self._leases.acquire(project_id, self.node_id, self._ttl):
                    taken.append(project_id)
            if taken:
                await self._take(taken)

    async def give_up(self, project_id: str, to: str) -> bool:
        """Let a project go now, and its lease (node ``to`` takes it: its agent's link
        is there); False if this node did not own it."""
        async with self._taking:
            if project_id not in self._mine:
                return False
            log.info("node %s gives project %s up to node %s", self.node_id, project_id, to)
            self._mine.discard(project_id)
            self._owners[project_id] = to
            self._letting_go.add(project_id)
            try:
                await self._drop(project_id)
            finally:
                self._letting_go.discard(project_id)
            await self._leases.release(project_id, self.node_id)
        return True

    async def settled(self) -> None:
        """Wait for a taking under way to end (its projects set up)."""
        async with self._taking:
            pass

    async def close(self) -> None:
        """Stop renewing and give every lease up (the others take over at once)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._dropping, return_exceptions=True)
        self._mine.clear()
        with contextlib.suppress(Exception):
            await self._leases.leave(self.node_id)

    async def _every(self, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                await step()
            except Exception as exc:
                log.warning("node %s: leases: %s", self.node_id, exc)
                if time.monotonic() - self._renewed > self._ttl:
                    self._lose(set(self._mine), "its leases could not be renewed")

    async def _renew(self) -> None:
        self._alive = await self._leases.heartbeat(self.node_id, self._ttl)
        before = set(self._mine)
        held = set(await self._leases.renew(self.node_id, sorted(before), self._ttl))
        self._renewed = time.monotonic()
        self._lose(before - held, "another node took it over")

    def _lose(self, projects: set[str], why: str) -> None:
        for project_id in projects & self._mine:
            log.warning("node %s lost project %s: %s", self.node_id, project_id, why)
            self._mine.discard(project_id)
            self._owners.pop(project_id, None)
            task = asyncio.create_task(self._drop(project_id), name=f"drop-{project_id}")
            self._dropping.add(task)
            self._letting_go.add(project_id)

            def dropped(done: asyncio.Task[None], project_id: str = project_id) -> None:
                self._dropping.discard(done)
                self._letting_go.discard(project_id)

            task.add_done_callback(dropped)

    async def _scan(self) -> None:
        leases = {lease.project_id: lease for lease in await self._leases.leases()}
        now = time.monotonic()
        projects = self._projects()
        for gone in set(self._owners) - set(projects):  # removed meanwhile
            self._owners.pop(gone, None)
        for gone in set(self._free_since) - set(projects):
            self._free_since.pop(gone, None)
        wanted: list[str] = []
        for project_id in projects:
            lease = leases.get(project_id)
            if project_id in self._mine:
                continue
            pin = self._pinned(project_id)
            if lease is not None and lease.node_id == self.node_id:
                if pin in (None, self.node_id):
                    wanted.append(project_id)  # an earlier instance of this node held it
                continue
            if lease is not None and not lease.expired:
                self._owners[project_id] = lease.node_id
                self._free_since.pop(project_id, None)
                if pin == self.node_id and lease.node_id in self._alive:
                    self._ask_release(project_id, lease.node_id)
                continue
            self._owners.pop(project_id, None)
            since = self._free_since.setdefault(project_id, now)
            if pin is not None:  # its agent's node takes it, and only that one
                if pin == self.node_id:
                    wanted.append(project_id)
            elif preferred(project_id, self._alive) == self.node_id or now - since >= self._ttl:
                wanted.append(project_id)
        await self._claim(wanted)

    async def _take(self, project_ids: list[str]) -> None:
        for project_id in project_ids:
            self._mine.add(project_id)
            self._owners[project_id] = self.node_id
            self._free_since.pop(project_id, None)
        log.info("node %s owns projects %s", self.node_id, ", ".join(project_ids))
        try:
            await self._adopt(project_ids)
        except Exception:
            log.exception("node %s could not take projects up: %s", self.node_id, project_ids)
            for project_id in project_ids:
                self._mine.discard(project_id)
                self._owners.pop(project_id, None)
                with contextlib.suppress(Exception):
                    await self._leases.release(project_id, self.node_id)
