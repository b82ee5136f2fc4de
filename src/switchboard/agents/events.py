"""What an agent prints, as the neutral events of the agent seam
(:meth:`~switchboard.agents.base.AgentConnection.batches`)."""

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class TurnMetrics:
    """One turn's own figures."""

    duration_ms: int | None
    num_turns: int | None
    cost_usd: float | None
    usage: dict[str, Any] | None
    session_id: str | None


@dataclass(frozen=True, slots=True)
class OutputLine:
    """A line the agent printed, kept as it is in the project's log."""

    text: str
    starts_turn: bool = False
    """Printed while no turn is under way, the line means the agent began one by itself
    (a follow-up turn, after its background work finished)."""


@dataclass(frozen=True, slots=True)
class BadOutput:
    """A line that is not a message (not JSON, too long, too deep): kept as an error."""

    error: str
    preview: str


@dataclass(frozen=True, slots=True)
class Delta:
    """A token delta: shown live, never stored. ``text`` is the agent's line."""

    text: str
    starts_turn: bool = False
    """As for :class:`OutputLine`."""


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The line before it ended the turn under way, with the turn's own figures."""

    metrics: TurnMetrics
    failure: str | None
    """Why the turn failed, in words a user can act on (None: it did not)."""
    lost_session: bool
    """The session to resume was not found: the next turn must start a new one."""


@dataclass(frozen=True, slots=True)
class SessionIdentified:
    """The agent named the session it works in."""

    session_id: str


@dataclass(frozen=True, slots=True)
class BackgroundChanged:
    """The agent's pending background work changed (see ``background_pending``)."""


@dataclass(frozen=True, slots=True)
class TaskReported:
    """The agent's own task tools changed one task (``status`` ``deleted``: it went)."""

    task_id: str
    title: str | None
    """None: unchanged."""
    status: str | None
    """pending, in_progress, completed, deleted; None: unchanged."""


@dataclass(frozen=True, slots=True)
class TodoListReported:
    """The agent rewrote its todo list: these items, in order, replace the last list."""

    items: tuple[tuple[str, str], ...]
    """(title, status) of each item."""


@dataclass(frozen=True, slots=True)
class ToolActivity:
    """The agent started or finished a tool (shown live, never stored)."""

    phase: Literal["started", "finished", "failed"]
    tool: str
    summary: str


@dataclass(frozen=True, slots=True)
class CostSoFar:
    """What the turn under way has cost so far, in USD: reported while it runs (after
    the agent's model calls), so that the hub can stop a turn that passes its budget
    before it ends. The turn's own figures still come with :class:`TurnEnded`."""

    cost_usd: float


AgentEvent = (
    OutputLine
    | BadOutput
    | Delta
    | TurnEnded
    | CostSoFar
    | SessionIdentified
    | BackgroundChanged
    | TaskReported
    | TodoListReported
    | ToolActivity
)
