"""The state a project session keeps on its agent process and its turns."""

import asyncio
import time
from dataclasses import dataclass, field

from switchboard.agents.base import AgentConnection, TurnEnded
from switchboard.exceptions import StoreError
from switchboard.hub.runs import Run


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended: by the agent's own account (``ended``: its figures and, if it
    failed, why), or without one (``error``)."""

    ended: TurnEnded | None
    error: str | None = None
    store_error: StoreError | None = None
    """The project's log refused the turn's output, so the agent was stopped."""
    interrupted: bool = False
    """The agent's process was lost with its machine or the link to it (``error``
    says how): the run is interrupted, not failed."""


@dataclass(slots=True)
class Turn:
    """A turn under way in an agent process, and the run it belongs to."""

    run: Run
    agent: AgentConnection
    outcome: "asyncio.Future[TurnOutcome]"


OptionsKey = tuple[str | None, str | None]
"""(model, permission mode) a process runs with."""


@dataclass(slots=True)
class LiveAgent:
    """The project's agent process and what the session keeps on it."""

    agent: AgentConnection
    options_key: OptionsKey
    pump: "asyncio.Task[None] | None" = None
    idle_since: float = field(default_factory=time.monotonic)
    retired: bool = False
    """Replaced (session.new / session.use): its session is no longer the project's."""
    local: bool = True
    """It runs on this machine (recorded in the process registry); False: on an agent."""
    left: bool = False
    """Left working at shutdown, for the next hub to take back (it is not closed)."""
