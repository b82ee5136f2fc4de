"""The state a project session keeps on its CLI process and its turns."""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents.background import BackgroundWork
from switchboard.agents.claude import ClaudeProcess
from switchboard.agents.turns import TurnAccounting, TurnMetrics
from switchboard.exceptions import StoreError
from switchboard.hub.runs import Run


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended: with the CLI's ``result`` message (its figures and, if it
    failed, why), or without one (``error``)."""

    result: dict[str, Any] | None
    error: str | None = None
    metrics: TurnMetrics | None = None
    failure: str | None = None
    store_error: StoreError | None = None
    """The project's log refused the turn's output, so the CLI was stopped."""


@dataclass(slots=True)
class Turn:
    """A turn under way in a CLI process, and the run it belongs to."""

    run: Run
    claude: ClaudeProcess
    outcome: "asyncio.Future[TurnOutcome]"


@dataclass(slots=True)
class CliProcess:
    """A CLI process and the books kept on it."""

    claude: ClaudeProcess
    options_key: tuple[str | None, str | None]
    books: TurnAccounting
    background: BackgroundWork = field(default_factory=BackgroundWork)
    pump: "asyncio.Task[None] | None" = None
    idle_since: float = field(default_factory=time.monotonic)
    retired: bool = False
    """Replaced (session.new / session.use): its session is no longer the project's."""
