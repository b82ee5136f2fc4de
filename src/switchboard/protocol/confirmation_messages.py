"""A confirmation's messages: what was asked (``ConfirmationInfo``) and the ``data`` of
the ``confirmation`` events that tell its life (see docs/protocol.md#confirmations)."""

from typing import Annotated, Any, Literal

from pydantic import Field

from switchboard.protocol.back_channel import ApprovalInfo
from switchboard.protocol.model_base import Model as _Message
from switchboard.protocol.skills import SkillQuestion

ConfirmationKind = Literal["tool_permission", "question", "plan", "skill", "approval"]


class ConfirmationInfo(_Message):
    """A question Claude (or a skill) asked that waits for a client's answer."""

    id: str
    project: str
    run: str | None = Field(default=None, description="null (or absent) for kind skill.")
    kind: ConfirmationKind
    tool_name: str | None = Field(default=None, description="null (or absent) for kind skill.")
    input: dict[str, Any] = Field(description="The tool's input ({} for kind skill).")
    suggestions: list[Any] = Field(description="The CLI's permission suggestions, unchanged.")
    skill: SkillQuestion | None = Field(default=None, description="kind skill: what it asks.")
    plan: str | None = Field(
        default=None,
        description="kind plan: the plan to approve, from the tool's input or (CLI builds "
        "that ask with an empty input) the plan file Claude wrote.",
    )
    approval: ApprovalInfo | None = Field(
        default=None,
        description="kind approval (request_approval): the summary and each file's diff.",
    )
    summary: str | None = Field(
        default=None,
        description="What is asked, in a line or a few, as the agent puts it (a tool's "
        "command or file, a question's questions); null when it cannot say.",
    )
    options: list[str]
    timeout_seconds: float
    remaining_seconds: float
    paused: bool
    created_at: float


class ConfirmationRequired(_Message):
    """``event`` data (kind ``confirmation``): Claude asks; clients may answer."""

    type: Literal["confirmation_required"] = "confirmation_required"
    confirmation: ConfirmationInfo


class ConfirmationAnswered(_Message):
    type: Literal["confirmation_answered"] = "confirmation_answered"
    confirmation_id: str
    response: str
    by: Literal["client", "rule"]
    at: float
    message: str | None = None
    remember: bool | None = Field(
        default=None, description="kind skill: the answer's remember flag, for the skill."
    )
    rule: str | None = Field(default=None, description='by "rule": the rule that answered.')
    remembered: list[str] | None = Field(
        default=None, description="remember: the ids of the rules stored by this answer."
    )
    answered_by: str | None = Field(
        default=None,
        description='by "client": the name of the token that answered ("server token" for '
        "the server's own).",
    )


Fallback = Literal["deny", "let_claude", "asked_again"]


class ConfirmationExpired(_Message):
    type: Literal["confirmation_expired"] = "confirmation_expired"
    confirmation_id: str
    reason: Literal["timeout", "cancelled", "withdrawn", "ended", "server_restart"]
    fallback: Fallback = Field(
        default="deny",
        description=(
            "What the asker got: deny (Claude), let_claude (skills); asked_again: the "
            "question stands and comes again as a new confirmation (the server restarted "
            "while its run went on on a remote agent)."
        ),
    )


class ConfirmationTimer(_Message):
    type: Literal["confirmation_timer"] = "confirmation_timer"
    confirmation_id: str
    paused: bool
    remaining_seconds: float


ConfirmationEvent = Annotated[
    ConfirmationRequired | ConfirmationAnswered | ConfirmationExpired | ConfirmationTimer,
    Field(discriminator="type"),
]
"""The ``data`` of an ``event`` of kind ``confirmation``."""
