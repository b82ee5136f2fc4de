"""What the stores deal in: plain records, free of any database (the ports in
:mod:`switchboard.store.ports` take and return these)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from switchboard.protocol.messages import RunOptions, RunOrigin, RunState

# -- the event log ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its kind (``cli``, ``run``, …) and its JSON text."""

    kind: str
    body: str
    run_id: str | None = None


class StoredEvent(NamedTuple):
    """A stored event. (A named tuple: a replay makes one per row, and a tuple costs a
    fraction of a frozen dataclass to build.)"""

    project_id: str
    seq: int
    epoch: int
    run_id: str | None
    kind: str
    body: str
    created_at: float


# -- projects ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: str
    path: Path
    name: str
    session_id: str | None
    epoch: int
    created_at: float
    permission_mode: str | None = None
    """The default of the project's runs (a prompt may ask for another)."""
    agent: str | None = None
    """The remote agent it lives on (its ``path`` is on that machine); None: here."""
    back_channel: bool = True
    """Its CLI gets Switchboard's tools, and reports its tasks and activity."""


# -- runs -------------------------------------------------------------------------------

UNFINISHED: tuple[RunState, ...] = ("queued", "running")
"""The states of a run that has not ended."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as stored: one prompt and how it went."""

    id: str
    project_id: str
    prompt: str
    options: RunOptions
    state: RunState
    created_at: float
    origin: RunOrigin
    by: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_ms: int | None = None
    num_turns: int | None = None
    cost_usd: float | None = None
    usage: dict[str, Any] | None = None
    session_id: str | None = None
    error: str | None = None


# -- permission rules -------------------------------------------------------------------

RuleKey = tuple[str, str | None, str | None]
"""(tool name, rule content, input as canonical JSON): one of the last two is set."""


@dataclass(frozen=True, slots=True)
class PermissionRule:
    id: str
    project_id: str
    tool_name: str
    rule_content: str | None
    input: str | None
    created_at: float

    @property
    def key(self) -> RuleKey:
        return (self.tool_name, self.rule_content, self.input)


# -- tokens -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopedToken:
    id: str
    name: str
    scope: str
    projects: tuple[str, ...] | None
    """The project ids it may publish to; None: every project."""
    created_at: float


# -- budgets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """How much a project may spend, in USD. A field that is None sets no limit of its
    kind (in a project's own settings: it follows the server's default)."""

    daily_usd: float | None = None
    """Per UTC day: the runs' own cost, counted on the day each run finished."""
    run_usd: float | None = None
    """Per run: a run that passes it is stopped."""

    def under(self, own: "BudgetLimits | None") -> "BudgetLimits":
        """The limits in force for a project whose own settings are ``own``: each of
        its fields that is None follows these (the server's defaults)."""
        if own is None:
            return self
        daily = self.daily_usd if own.daily_usd is None else own.daily_usd
        run = self.run_usd if own.run_usd is None else own.run_usd
        return BudgetLimits(daily, run)


# -- retention --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How much of a log to keep. A field that is None sets no limit of its kind."""

    max_age_seconds: float | None = None
    """Delete events stored longer ago than this."""
    max_bytes: int | None = None
    """Delete the oldest events while the log holds more than this (characters of
    JSON text, like the send queue)."""

    @property
    def limits(self) -> bool:
        return self.max_age_seconds is not None or self.max_bytes is not None

    def under(self, own: "RetentionPolicy | None") -> "RetentionPolicy":
        """The policy in force for a project whose own settings are ``own`` (None: it
        has none): each of its fields that is None follows this policy (the server's),
        and 0 means no limit of that kind."""
        if own is None:
            return self
        age = self.max_age_seconds if own.max_age_seconds is None else own.max_age_seconds
        size = self.max_bytes if own.max_bytes is None else own.max_bytes
        return RetentionPolicy(age or None, size or None)


# -- agent processes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leftover:
    """A CLI process group a server instance recorded (a leftover, once that instance
    is gone): its leader's start time guards against PID reuse; the environment marker
    and cgroup find the processes that left the group."""

    pgid: int
    pid: int
    start_ticks: int | None
    project_id: str | None
    run_id: str | None
    marker: str | None = None
    cgroup: str | None = None


# -- push subscriptions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushSubscriptionRecord:
    """A browser that asked for Web Push alerts: where to POST them (``endpoint``) and
    the keys that encrypt for it."""

    endpoint: str
    p256dh: str
    auth: str
    token_id: str | None
    """The token that subscribed (None: the server's own); revoking it drops this."""
    created_at: float


# -- a cluster's nodes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lease:
    """A project's owner: the node that runs it until ``expires_at`` (the database's
    clock). ``term`` grows each time the project changes hands."""

    project_id: str
    node_id: str
    expires_at: float
    term: int
    expired: bool = False
    """Whether it had expired when it was read (by the database's clock)."""
