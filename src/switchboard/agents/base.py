"""The agent seam: what the hub asks of an agent CLI, and what an agent tells it.

An :class:`AgentDriver` starts agent processes; each is an :class:`AgentConnection`
that serves one project's session, one turn at a time. The hub and ``/ws/claude`` work
with these two interfaces and the neutral events (:mod:`~switchboard.agents.events`)
and asks (:mod:`~switchboard.agents.asks`) only; this module re-exports them.
Everything one CLI means by its lines (the Claude Code CLI's stream-json and control
protocol, its permission suggestions, its stored transcripts) stays inside that CLI's
driver, in ``agents/<name>/``.

What an agent prints comes as batches of :data:`AgentEvent` from
:meth:`AgentConnection.batches`, in order. Questions for a person come outside that
order, through the :class:`AskHandler` given at launch, because the agent waits for
their answers while it goes on printing.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from switchboard.agents.asks import (
    AskAnswer,
    AskKind,
    FileState,
    PermissionAsk,
    Question,
    RuleKey,
    ToolCall,
    ToolResult,
)
from switchboard.agents.containment import Confinement
from switchboard.agents.events import (
    AgentEvent,
    BackgroundChanged,
    BadOutput,
    CostSoFar,
    Delta,
    OutputLine,
    SessionIdentified,
    TaskReported,
    TodoListReported,
    ToolActivity,
    TurnEnded,
    TurnMetrics,
)

__all__ = [
    "AgentConnection",
    "AgentDriver",
    "AgentEvent",
    "AskAnswer",
    "AskHandler",
    "AskKind",
    "BackgroundChanged",
    "BadOutput",
    "CostSoFar",
    "Delta",
    "EndsWithTheHub",
    "FileState",
    "LaunchSpec",
    "OutputLine",
    "PermissionAsk",
    "Question",
    "RuleKey",
    "SessionHistory",
    "SessionIdentified",
    "StoredSession",
    "TaskReported",
    "TodoListReported",
    "ToolActivity",
    "ToolCall",
    "ToolResult",
    "TurnEnded",
    "TurnMetrics",
]


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """How to start an agent process for a session."""

    cwd: Path
    spawn_cwd: Path | None = None
    """Where the process is started when not at ``cwd`` itself: a path to the same
    directory that no swapped-in symlink can redirect (``/proc/self/fd/N``)."""
    resume: str | None = None
    """The session to carry on (None: a new one)."""
    model: str | None = None
    permission_mode: str | None = None
    confinement: Confinement | None = None
    """Where every process of the agent is kept (None: its process group only)."""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    ask_permissions: bool = True
    """Questions go to the :class:`AskHandler` (False: the agent decides by itself)."""
    back_channel: bool = True
    """The agent gets Switchboard's own tools (see :mod:`switchboard.agents.back_channel`),
    and reports its task list and activity."""


class AskHandler(Protocol):
    """Where an agent's questions and back-channel calls go. Register and return: never
    wait for a person."""

    async def asked(self, agent: "AgentConnection", ask: PermissionAsk) -> None: ...

    async def withdrawn(self, agent: "AgentConnection", request_id: str) -> None:
        """The agent no longer waits for an ask or a tool call of that id."""

    async def tool_called(self, agent: "AgentConnection", call: ToolCall) -> None:
        """Answer later through :meth:`AgentConnection.tool_result`."""


# -- stored sessions -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session the agent CLI stored for a directory."""

    id: str
    first_prompt: str | None
    started_at: float | None
    updated_at: float


@dataclass(frozen=True, slots=True)
class SessionHistory:
    """A stored session's conversation: its newest lines, as the agent wrote them."""

    lines: list[str]
    omitted: int
    """Older lines left out (over the import limit)."""
    too_long: int = 0
    """Lines left out for being longer than the line limit."""


# -- the interfaces -----------------------------------------------------------------------


class AgentConnection(Protocol):
    """One agent process serving one session, one turn at a time."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    @property
    def turn_running(self) -> bool:
        """From :meth:`send_prompt` until the line that ends that turn was read."""
        ...

    @property
    def stderr_text(self) -> str: ...

    def background_pending(self) -> int:
        """Background tasks the agent still runs after its turn ended."""
        ...

    def follow_up_started(self) -> None:
        """A turn the agent began by itself got its run."""

    def batches(self) -> AsyncIterator[list[AgentEvent]]:
        """Everything the agent prints, in order, until its output ends."""
        ...

    async def send_prompt(self, text: str) -> None:
        """Begin a turn. Raises :class:`~switchboard.exceptions.AgentGoneError`."""

    async def answer(self, ask: PermissionAsk, answer: AskAnswer) -> bool:
        """Answer an ask; False if the agent no longer waits for it."""
        ...

    async def tool_result(self, call_id: str, result: ToolResult) -> bool:
        """Return a back-channel call's result; False if the agent no longer waits."""
        ...

    async def set_permission_mode(self, mode: str) -> bool:
        """Switch the running agent's mode in place; False if it did not."""
        ...

    async def set_model(self, model: str | None) -> bool:
        """Switch the running agent's model in place; False if it did not."""
        ...

    async def cancel(self, interrupt_grace: float, kill_grace: float) -> bool:
        """Stop the turn under way: interrupt, and stop the process if that fails
        (False: the process was stopped)."""
        ...

    def end_input(self) -> None:
        """No more prompts: the agent exits once it is done."""

    async def wait(self) -> int: ...

    async def close(self, grace: float) -> int | None:
        """Stop the process (TERM, ``grace``, KILL) and reap it."""
        ...

    def kill_now(self) -> None:
        """SIGKILL at once (a forced server exit)."""

    @property
    def lost(self) -> bool:
        """It ended with no exit of its own: the machine it ran on, or the link to that
        machine, went away. A turn it had is interrupted rather than failed."""
        ...

    def leave(self) -> bool:
        """The hub stops while the process works: let it go on without this hub, for
        the next to take back (:meth:`AgentDriver.resume`); nothing is reported here
        any more. False: a process that cannot outlive the hub (stop it instead)."""
        ...

    def resume_mark(self, handled: int) -> str | None:
        """How far its output is stored once the first ``handled`` events of the batch
        last yielded are (0 before any batch): kept with those events, so that a hub
        restarted can take the process back from there (:meth:`AgentDriver.resume`).
        None: a process that ends with the hub."""
        ...


class EndsWithTheHub:
    """The part of :class:`AgentConnection` of a process that is the hub's own child:
    it never outlives the hub, so there is nothing to leave, mark or lose."""

    @property
    def lost(self) -> bool:
        return False

    def leave(self) -> bool:
        return False

    def resume_mark(self, handled: int) -> str | None:
        return None


class AgentDriver(Protocol):
    """Starts the processes of one kind of agent CLI, and reads what it stored."""

    name: str
    permission_modes: tuple[str, ...]
    """The permission modes the agent knows, in the order clients offer them."""

    def locate(self) -> str:
        """The agent program that would run. Raises
        :class:`~switchboard.exceptions.AgentNotFoundError`."""
        ...

    async def launch(self, spec: LaunchSpec, handler: AskHandler | None) -> AgentConnection:
        """Start a process. Raises :class:`~switchboard.exceptions.AgentError`."""
        ...

    async def resume(self, mark: str, handler: AskHandler | None) -> AgentConnection | None:
        """Take back a process an earlier hub left running, from the mark its output
        was last stored with; None where processes do not outlive the hub."""
        ...

    async def list_sessions(self, cwd: Path) -> list[StoredSession]: ...

    async def read_session(self, cwd: Path, session_id: str) -> SessionHistory | None:
        """The session's history (None: the agent has no such session for ``cwd``)."""
        ...
