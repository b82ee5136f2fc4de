"""What the hub holds for one project while it is open: its queue, its session, the
run it executes, and the worker task that takes its runs."""

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field

from switchboard.hub.runs import Run
from switchboard.hub.session import ProjectSession
from switchboard.hub.turn import TurnOutcome

STOP_MARGIN = 5.0
"""Seconds on top of the grace periods before a run that will not stop is abandoned."""


@dataclass(slots=True)
class ProjectState:
    id: str
    session: ProjectSession = field(init=False)
    queue: deque[Run] = field(default_factory=deque)
    running: Run | None = None
    follow_up: Run | None = None
    """A run Claude started itself (a follow-up turn), while it runs."""
    follow_task: asyncio.Task[None] | None = None
    cost_usd: float = 0.0
    """What the project's runs have cost so far."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    worker: asyncio.Task[None] | None = None
    removing: bool = False
    elsewhere: bool = False
    """On a cluster's node: another node owns the project, and no worker runs here."""
    changing: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by requests that write the project's state, so that a removal waits for
    them (their writes would otherwise land after the project's rows are gone)."""
    store_error: str | None = None
    """Why the project's log refuses writes, while it does (its runs wait)."""
    resumed: "Awaitable[TurnOutcome] | None" = None
    """The end of the turn of ``running``, a run an earlier hub left under way on a
    remote agent and this one took back; the worker sees it through first."""

    @property
    def under_way(self) -> Run | None:
        """The run the project's CLI works on: a prompt's, or a follow-up turn's."""
        return self.running or self.follow_up

    async def stop_tasks(self, leave_run: bool = False) -> None:
        """End the worker (wait for the run it executes; cancel it if it only waits),
        then wait for a follow-up run to be recorded as ended. Stop the CLI first.
        ``leave_run``: the run under way goes on without this hub (on a remote agent),
        so nothing waits for it or records its end."""
        worker = self.worker
        if leave_run and self.follow_task is not None:
            self.follow_task.cancel()
        if worker is not None:
            if self.running is None or leave_run:
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        if self.follow_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({self.follow_task}, timeout=STOP_MARGIN * 3)
