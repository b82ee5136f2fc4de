"""One confirmation: what was asked, by whom, how long it may wait, and the decision
that goes back (:class:`~switchboard.hub.confirmations.ConfirmationBook` keeps them)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.agents.base import PermissionAsk
from switchboard.exceptions import RequestRefused
from switchboard.protocol.back_channel import ApprovalInfo
from switchboard.protocol.messages import ConfirmationEvent, ConfirmationInfo, ConfirmationKind
from switchboard.protocol.skills import SkillQuestion

TOOL_OPTIONS = ["allow", "deny"]
APPROVAL_OPTIONS = ["approve", "reject"]
DENY = "deny"

ExpiryReason = Literal["timeout", "cancelled", "withdrawn", "ended", "server_restart"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What goes back to whoever asked (the agent, a skill)."""

    allow: bool
    updated_input: dict[str, Any] | None = None
    answers: dict[str, str] | None = None
    """A question's answers: each question's text and the answer chosen."""
    message: str = ""
    response: str = ""
    """The option chosen (for a skill: its answer, or let_claude on expiry)."""
    remember: bool = False
    confirmation_id: str = ""


Deliver = Callable[[Decision], Awaitable[bool | None]]
"""Send the decision to whoever asked (the CLI, a skill); False if they no longer wait."""
Record = Callable[[str, str | None, ConfirmationEvent], Awaitable[None]]
"""Append a ``confirmation`` event: (project id, run id, body)."""


class ConfirmationError(RequestRefused):
    """An answer or request about a confirmation that cannot be taken."""


@dataclass(slots=True)
class Confirmation:
    id: str
    project_id: str
    run_id: str | None
    request: PermissionAsk | None  # None: a skill asks, or Claude's request_approval
    deliver: Deliver
    timeout_seconds: float
    skill: SkillQuestion | None = None
    skill_options: tuple[str, ...] = ()
    approval: ApprovalInfo | None = None
    call_id: str | None = None
    """request_approval: the agent's id of the tool call (its withdrawal names it)."""
    created_at: float = field(default_factory=time.time)
    remaining: float = 0.0  # seconds left, as of ``since`` (loop time)
    since: float = 0.0
    paused: bool = False
    timer: asyncio.TimerHandle | None = None

    @property
    def kind(self) -> ConfirmationKind:
        if self.approval is not None:
            return "approval"
        return "skill" if self.request is None else self.request.kind

    @property
    def options(self) -> list[str]:
        """What a client may answer: allow/deny, or the first question's option labels
        (free text is accepted for questions too, and ``deny`` declines); a skill's own."""
        if self.approval is not None:
            return APPROVAL_OPTIONS
        if self.request is None:
            return list(self.skill_options)
        if self.kind != "question" or not self.request.questions:
            return TOOL_OPTIONS
        return list(self.request.questions[0].options)

    def remaining_now(self) -> float:
        if self.paused:
            return self.remaining
        elapsed = asyncio.get_running_loop().time() - self.since
        return max(0.0, self.remaining - elapsed)

    def info(self) -> ConfirmationInfo:
        request = self.request
        return ConfirmationInfo(
            id=self.id,
            project=self.project_id,
            run=self.run_id,
            kind=self.kind,
            tool_name=request.tool_name if request is not None else None,
            input=request.input if request is not None else {},
            suggestions=request.suggestions if request is not None else [],
            skill=self.skill,
            plan=request.plan if request is not None else None,
            summary=request.summary if request is not None else None,
            approval=self.approval,
            options=self.options,
            timeout_seconds=self.timeout_seconds,
            remaining_seconds=round(self.remaining_now(), 3),
            paused=self.paused,
            created_at=self.created_at,
        )


def chosen_answers(
    request: PermissionAsk, response: str, answers: dict[str, str | list[str]] | None
) -> dict[str, str]:
    """Each question's text and the answer chosen (labels joined with ", ", or free
    text). ``response`` answers a single question; ``answers`` is needed when there are
    several."""
    texts = [question.text for question in request.questions]
    if answers is None:
        if len(texts) != 1:
            raise ConfirmationError(
                "invalid_option", f"{len(texts)} questions: answer each in 'answers'"
            )
        answers = {texts[0]: response}
    missing = [text for text in texts if text not in answers]
    unknown = [text for text in answers if text not in texts]
    if missing or unknown:
        raise ConfirmationError(
            "invalid_option", f"'answers' must answer exactly these questions: {texts}"
        )
    return {q: ", ".join(a) if isinstance(a, list) else a for q, a in answers.items()}
