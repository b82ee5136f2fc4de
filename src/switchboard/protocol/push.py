"""Push notifications on the wire: a browser's push subscription as clients send it,
and the alert the server pushes (the same JSON goes to a ``--notify-url`` webhook).

A subscription is what the browser's ``PushSubscription.toJSON()`` returns: the push
service's endpoint URL and the keys that encrypt for this browser (``p256dh``: its
P-256 public key, uncompressed, base64url; ``auth``: a 16-byte secret, base64url).
Their sizes are bounded here; whether the endpoint may be called at all is the
server's policy (``--push-allow-http``), checked where the subscription is stored.
"""

from typing import Annotated, Literal

from pydantic import Field

from switchboard.protocol.model_base import Model

MAX_ENDPOINT_CHARS = 2048
"""Longest push endpoint URL accepted (real ones are under 600 characters)."""

Base64Url = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+={0,2}$")]


class PushKeys(Model):
    p256dh: Annotated[Base64Url, Field(min_length=80, max_length=100)] = Field(
        description="The browser's P-256 public key (65 bytes uncompressed), base64url."
    )
    auth: Annotated[Base64Url, Field(min_length=16, max_length=32)] = Field(
        description="The browser's 16-byte authentication secret, base64url."
    )


class PushSubscriptionInfo(Model):
    """A browser's push subscription (``PushSubscription.toJSON()``)."""

    endpoint: Annotated[str, Field(min_length=1, max_length=MAX_ENDPOINT_CHARS)] = Field(
        description="The push service's URL for this browser (https unless the server "
        "runs with --push-allow-http)."
    )
    expirationTime: float | None = Field(
        default=None, description="When the browser lets it lapse (ms since 1970), or null."
    )
    keys: PushKeys


AlertKind = Literal["confirmation", "question", "run_completed", "run_failed"]
"""confirmation: a tool permission, plan or approval waits for an answer; question:
Claude's AskUserQuestion or a skill's question; run_completed, run_failed: a run ended."""


class Alert(Model):
    """What a push (and a ``--notify-url`` POST) carries: enough to show a notification
    and to open the project it is about."""

    type: Literal["alert"] = "alert"
    kind: AlertKind
    project: str = Field(description="The project's id.")
    project_name: str
    title: str = Field(description="A one-line heading, e.g. 'demo: Claude asks to use Bash'.")
    body: str = Field(description="A few lines of detail (clipped).")
    tag: str = Field(
        description="The confirmation's or the run's id: a later alert with the same tag "
        "replaces the notification."
    )
    run: str | None = None
    confirmation: str | None = None
    at: float = Field(description="When it happened (seconds since 1970).")
