"""What an agent asks of a person, and calls of the hub: the questions and back-channel
calls of the agent seam (:class:`~switchboard.agents.base.AskHandler`)."""

from dataclasses import dataclass, field
from typing import Any, Literal

AskKind = Literal["tool_permission", "question", "plan"]
RuleKey = tuple[str, str | None, str | None]
"""What a remembered allow rule matches: (tool name, rule content, input as canonical
JSON); one of the last two is set."""


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a ``question`` ask, with the labels of its options."""

    text: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PermissionAsk:
    """The agent asks a person: may a tool run, which answer to a question, is a plan
    approved."""

    request_id: str
    kind: AskKind
    tool_name: str
    input: dict[str, Any]
    suggestions: list[Any]
    """What the agent offers to remember (shown to clients as it is)."""
    rule_keys: tuple[RuleKey, ...]
    """The remembered rules that would allow it; those an ``allow`` may remember."""
    questions: tuple[Question, ...] = ()
    plan: str | None = None
    """The plan a ``plan`` ask wants approved, when it could be found."""
    summary: str | None = None
    """What is asked, in a line or a few, for a notification: the command a tool would
    run, the file it would write, the questions; None when the agent cannot say."""


@dataclass(frozen=True, slots=True)
class AskAnswer:
    """A person's answer (or the server's, on expiry), for the agent."""

    allow: bool
    updated_input: dict[str, Any] | None = None
    answers: dict[str, str] | None = None
    """For a question: each question's text and the answer chosen."""
    message: str = ""
    """Why it was denied."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The agent called one of Switchboard's own tools (the back-channel)."""

    call_id: str
    tool: str
    arguments: dict[str, Any]
    files: dict[str, "FileState"] = field(default_factory=dict)
    """The files the call names (request_approval, show_diff), as they are now where the
    agent runs: read there, since the hub may be on another machine."""


@dataclass(frozen=True, slots=True)
class FileState:
    """A file a tool call names, as the agent's side found it."""

    content: str | None
    """Its text (None: it does not exist, or could not be read: see ``problem``)."""
    problem: str | None = None
    """Why it cannot be used: outside the project, not text, too large."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a back-channel tool returns to the agent."""

    text: str
    is_error: bool = False
