"""The CLIs this agent starts for the hub: confined (a cgroup, or an environment marker:
see :mod:`switchboard.agents.containment`), and recorded on disk while they run, so that
when the agent is killed (kill -9, a crash, a reboot of its service) its next start
stops the CLIs it left behind before it links to the hub again."""

import asyncio
import contextlib
import logging
import sqlite3
import threading
import uuid
from pathlib import Path

from switchboard.agents.containment import Confinement, Containment, open_containment
from switchboard.agents.leftovers import kill_leftover
from switchboard.agents.process import start_ticks

log = logging.getLogger(__name__)


class LocalProcesses:
    """Open with :meth:`open` (it stops what an earlier run of the agent left)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS processes (pgid INTEGER PRIMARY KEY,"
                " start_ticks INTEGER, marker TEXT, cgroup TEXT)"
            )
        path.chmod(0o600)
        self.containment = Containment(uuid.uuid4().hex[:12])

    async def open(self, mode: str) -> int:
        """Stop the CLIs an earlier run of the agent left, choose how to confine new
        ones (``mode``: auto, cgroup or marker); returns how many processes were hit."""
        with self._lock:
            rows = self._db.execute("SELECT pgid, start_ticks, marker, cgroup FROM processes")
            leftovers = [(int(r[0]), r[1], r[2], r[3]) for r in rows.fetchall()]
        hit = 0
        for pgid, started, marker, cgroup in leftovers:
            killed = await asyncio.to_thread(kill_leftover, pgid, started, marker, cgroup)
            if killed:
                log.warning("stopped %d process(es) an earlier run left (group %d)", killed, pgid)
            hit += killed
        with self._lock:
            self._db.execute("DELETE FROM processes")
        self.containment = await open_containment(self.containment.instance, mode)
        return hit

    def confine(self) -> Confinement:
        return self.containment.confine()

    def record(self, pid: int, confinement: Confinement) -> None:
        cgroup = str(confinement.cgroup) if confinement.cgroup is not None else None
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO processes VALUES (?, ?, ?, ?)",
                (pid, start_ticks(pid), confinement.marker, cgroup),
            )

    def forget(self, pid: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM processes WHERE pgid = ?", (pid,))

    def close(self) -> None:
        """Stop what is left in this run's cgroups; close the file."""
        with contextlib.suppress(OSError):
            self.containment.close()
        with self._lock:
            self._db.close()
