"""Stopping what a CLI left running when whoever started it died (a kill -9 of the
server, or of a remote agent): the next start finds it by what was recorded at spawn."""

import os
import signal

from switchboard.agents.containment import stop_leftover
from switchboard.agents.process import group_members, start_ticks


def kill_leftover(pgid: int, started: int | None, marker: str | None, cgroup: str | None) -> int:
    """SIGKILL what is left of a recorded CLI (its group ``pgid``, whose leader started
    at ``started`` clock ticks); returns how many processes were hit.

    Linux reuses a number as a PID only once no process group has it as its id, so
    while members of the old group live, the number is still theirs. If a process
    with that PID exists but started at another time, the old group is gone and the
    number was reused: leave it alone. The cgroup and the marker name that CLI alone.
    """
    hit: set[int] = set()
    leader_started = start_ticks(pgid)
    if leader_started is None or leader_started == started:
        for pid in group_members(pgid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            hit.add(pid)
    return len(hit | stop_leftover(marker, cgroup))
