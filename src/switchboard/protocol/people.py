"""The protocol's messages about people rather than projects: tokens and their roles,
the audit list, and push subscriptions with the presence reports that hold alerts back
(re-exported by :mod:`switchboard.protocol.messages`)."""

from typing import Annotated, Any, Literal

from pydantic import Field

from switchboard.protocol.model_base import Model, ProjectKey, Request
from switchboard.protocol.push import PushSubscriptionInfo

Role = Literal["viewer", "operator", "admin"]
"""What a person's token may do: read (viewer); also prompt, answer and cancel
(operator); also change projects, tokens, budgets and settings (admin)."""
TokenScope = Literal["produce", "agent", "viewer", "operator", "admin"]


class TokenCreate(Request):
    """Create a token (admin only); the ack carries its secret, once. A role token
    (viewer, operator, admin) is a person's: it covers every project."""

    type: Literal["token.create"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scope: TokenScope = "produce"
    projects: list[ProjectKey] | None = Field(
        default=None,
        description="produce: the projects it may publish to; null: every project.",
    )


class AuditList(Request):
    """The audit list, newest first (admin only): who prompted, answered or changed what."""

    type: Literal["audit.list"]
    project: ProjectKey | None = Field(default=None, description="Only this project's.")
    before: int | None = Field(default=None, ge=1, description="Entries older than this id.")
    limit: int = Field(default=100, ge=1, le=1000)


class TokenList(Request):
    type: Literal["token.list"]


class PushSubscribe(Request):
    """Have this browser's push subscription sent alerts (Web Push); sending the same
    endpoint again replaces its keys."""

    type: Literal["push.subscribe"]
    subscription: PushSubscriptionInfo


class PushUnsubscribe(Request):
    """Stop pushing to this endpoint."""

    type: Literal["push.unsubscribe"]
    endpoint: Annotated[str, Field(min_length=1, max_length=2048)]


MAX_PRESENCE_PROJECTS = 256


class Presence(Request):
    """The client shows these projects to a person now (visible: true), or stopped
    showing them (visible: false). Alerts for a project a client showed recently are
    not pushed. Send it again while showing them (within push_idle_seconds)."""

    type: Literal["presence"]
    projects: Annotated[list[ProjectKey], Field(max_length=MAX_PRESENCE_PROJECTS)]
    visible: bool


class TokenRevoke(Request):
    """Revoke a token; its open connections are closed with 4003."""

    type: Literal["token.revoke"]
    token: Annotated[str, Field(min_length=1, max_length=64)]


class TokenInfo(Model):
    """A scoped token (its secret is shown only when it is created)."""

    id: str
    name: str
    scope: TokenScope
    projects: list[str] | None = Field(description="Project ids; null: every project.")
    created_at: float


class AuditEntry(Model):
    """One prompt, answer or admin change, and whose token did it."""

    id: int
    at: float
    by: str = Field(description="The token's name (\"server token\" for the server's own).")
    token_id: str | None = Field(description="The token's id (null: the server's own).")
    action: str = Field(description="The request type, e.g. prompt, token.create.")
    project: str | None = Field(description="The project's id, when it was about one.")
    detail: dict[str, Any] = Field(description="What was asked (the request, shortened).")
