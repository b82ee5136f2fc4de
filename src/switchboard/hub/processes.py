"""Remember the CLI process groups this server starts, and stop those a crash left.

Each spawn is recorded in the store's process table
(:class:`~switchboard.store.ports.ProcessTable`) with the process's start time (field
22 of ``/proc/PID/stat``, in clock ticks since boot) and its confinement (environment
marker, cgroup: see :mod:`switchboard.agents.containment`). The next server instance
kills every recorded group whose leader still has that start time, so a reused PID is
never hit, every process in the recorded cgroup or carrying the recorded marker (those
that left the group: Bash commands, daemons), and forgets the rows.
"""

import asyncio
import logging
import time

from switchboard.agents.containment import Confinement, Containment, open_containment
from switchboard.agents.leftovers import kill_leftover
from switchboard.agents.process import start_ticks
from switchboard.store.ports import ProcessTable
from switchboard.store.records import Leftover

log = logging.getLogger(__name__)


class ProcessRegistry:
    """This instance's spawned groups, persisted so that the next instance can stop them."""

    def __init__(self, table: ProcessTable, instance: str) -> None:
        self._table = table
        self.instance = instance
        self.containment = Containment(instance)
        """How CLIs are confined: markers only until :meth:`open` finds a cgroup."""
        self._alive: dict[int, bool] = {}
        """The groups recorded and not yet forgotten: whether each serves a project."""

    async def open(self, mode: str = "auto") -> None:
        """Choose the containment mechanism (see ``--process-containment``) and log it."""
        self.containment = await open_containment(self.instance, mode)

    async def close(self) -> None:
        """Stop what is left in this instance's cgroups and remove them."""
        await asyncio.to_thread(self.containment.close)

    def confine(self) -> Confinement:
        """A new confinement for the next CLI."""
        return self.containment.confine()

    async def record(
        self,
        pid: int,
        project_id: str | None,
        run_id: str | None,
        confinement: Confinement | None = None,
    ) -> None:
        """Note a CLI this instance started (``project_id`` None: a ``/ws/claude`` one)."""
        self._alive[pid] = project_id is not None
        cgroup = confinement.cgroup if confinement is not None else None
        process = Leftover(
            pgid=pid,
            pid=pid,
            start_ticks=start_ticks(pid),
            project_id=project_id,
            run_id=run_id,
            marker=confinement.marker if confinement is not None else None,
            cgroup=str(cgroup) if cgroup is not None else None,
        )
        await self._table.add(self.instance, process, time.time())

    async def forget(self, pid: int) -> None:
        self._alive.pop(pid, None)
        await self._table.remove(self.instance, pid)

    def alive(self) -> tuple[int, int]:
        """How many CLIs this instance started are up: (for projects, for ``/ws/claude``)."""
        projects = sum(self._alive.values())
        return projects, len(self._alive) - projects

    async def stop_leftovers(self) -> list[Leftover]:
        """Kill the groups other instances recorded and forget them; returns them."""
        leftovers = await self._table.of_others(self.instance)
        for leftover in leftovers:
            killed = await asyncio.to_thread(
                kill_leftover,
                leftover.pgid,
                leftover.start_ticks,
                leftover.marker,
                leftover.cgroup,
            )
            if killed:
                log.warning(
                    "stopped %d process(es) of a previous server (group %d, project %s)",
                    killed,
                    leftover.pgid,
                    leftover.project_id or "/ws/claude",
                )
        await self._table.remove_others(self.instance)
        return leftovers
