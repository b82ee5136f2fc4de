"""The ``/ws`` protocol's messages: pydantic models with a ``type`` tag, no I/O.

Clients send requests (:data:`ClientMessage`); a request with an ``id`` is answered by
exactly one ``ack`` or one ``error`` carrying that ``id``. The server also sends, unasked,
the ``connected`` snapshot, ``event`` and ``delta`` messages of subscribed projects,
``caught_up`` when a subscription's replay has joined the live stream, and
``project_status`` whenever a project's queue or run changes.

``event`` frames are built by :func:`event_frame` rather than by pydantic: the CLI's
line is embedded as it was printed (raw fidelity), and it is the hot path.
"""

import functools
import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
)

from switchboard.protocol.back_channel import (
    MAX_DIAGNOSTICS_PER_PATH,
    Activity,
    Diagnostic,
    DiagnosticPath,
    DiagnosticsInfo,
    DiagnosticsPublished,
    DiffPreview,
    Notification,
    TaskEvent,
    TaskInfo,
)
from switchboard.protocol.confirmation_messages import (
    ConfirmationAnswered,
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationInfo,
    ConfirmationKind,
    ConfirmationRequired,
    ConfirmationTimer,
    Fallback,
)
from switchboard.protocol.json_text import (
    MAX_NESTING,
    holds_lone_surrogate,
    loads,
    may_hold_surrogates,
    nested_deeper_than,
)
from switchboard.protocol.model_base import Model, ProjectKey, Request, problems
from switchboard.protocol.people import (
    AuditEntry,
    AuditList,
    Presence,
    PushSubscribe,
    PushUnsubscribe,
    Role,
    TokenCreate,
    TokenInfo,
    TokenList,
    TokenRevoke,
)
from switchboard.protocol.skills import Label, SkillEvent, SkillId, SkillState

__all__ = [
    "ConfirmationAnswered",
    "ConfirmationEvent",
    "ConfirmationExpired",
    "ConfirmationInfo",
    "ConfirmationKind",
    "ConfirmationRequired",
    "ConfirmationTimer",
    "Fallback",
]

PROTOCOL_VERSION = 1

PathProblem = Literal[
    "bad_path",
    "not_found",
    "not_a_directory",
    "access_denied",
    "system_directory",
    "duplicate",
    "nested",
    "contains",
    "outside_roots",
]
"""Why a path cannot be a project (a subset of :data:`ErrorCode`)."""

ErrorCode = Literal[
    PathProblem,
    "bad_json",
    "bad_message",
    "unknown_type",
    "unknown_project",
    "unknown_run",
    "name_invalid",
    "name_taken",
    "queue_full",
    "permission_mode_not_allowed",
    "since_out_of_range",
    "history_trimmed",
    "not_subscribed",
    "nothing_to_cancel",
    "unknown_confirmation",
    "already_answered",
    "invalid_option",
    "unknown_rule",
    "unknown_token",
    "unknown_session",
    "busy",
    "forbidden",
    "too_many_pending",
    "rate_limited",
    "shutting_down",
    "unknown_agent",
    "agent_offline",
    "limit_reached",
    "endpoint_not_allowed",
    "budget_exceeded",
    "not_owner",
    "node_unavailable",
    "internal",
]
"""Every ``error.code`` the server sends (docs/protocol.md explains each)."""

RunState = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
RunOrigin = Literal["client", "claude"]
"""client: a prompt; claude: a follow-up turn the CLI started itself (background work it
had started finished, and it carried on)."""
FINISHED_STATES: frozenset[str] = frozenset({"completed", "failed", "cancelled", "interrupted"})

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"]


class _Message(Model):
    pass


_Request = Request


# -- client → server ------------------------------------------------------------------


class RunOptions(_Message):
    model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    permission_mode: PermissionMode | None = None


class Subscribe(_Request):
    type: Literal["subscribe"]
    project: ProjectKey
    since: Annotated[int, Field(ge=0)] = Field(
        default=0, description="Send stored events with seq > since, then live ones."
    )
    batch: bool = Field(
        default=False,
        description="Send the stored events (the replay) in `events` frames, many events "
        "to a frame, instead of one `event` frame each. Live events come one a frame "
        "either way.",
    )


class Unsubscribe(_Request):
    type: Literal["unsubscribe"]
    project: ProjectKey


class Prompt(_Request):
    type: Literal["prompt"]
    project: ProjectKey
    text: Annotated[str, Field(min_length=1)]
    options: RunOptions = RunOptions()


class Cancel(_Request):
    type: Literal["cancel"]
    project: ProjectKey
    run: str | None = Field(default=None, description="Default: the project's running run.")


MAX_RUNS_LISTED = 100


class RunList(_Request):
    """A project's runs, newest first, a page at a time: at most ``limit``, and no more
    than fit in one message of ``--max-message-bytes`` (an empty page: no older runs)."""

    type: Literal["run.list"]
    project: ProjectKey
    limit: Annotated[int, Field(ge=1, le=MAX_RUNS_LISTED)] = 20
    before: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="The id of a run: list the runs created before it; null: the newest.",
    )


class ProjectAdd(_Request):
    type: Literal["project.add"]
    path: Annotated[str, Field(min_length=1, max_length=4096)]
    name: str | None = None
    agent: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="The remote agent the directory is on (its path there); null: the "
        "server's machine.",
    )


class ProjectList(_Request):
    type: Literal["project.list"]


class ProjectRemove(_Request):
    type: Literal["project.remove"]
    project: ProjectKey


class ProjectRetention(_Request):
    """Set the project's own retention policy: how old, or how large, its event log may
    grow before its oldest events are deleted. A field left out (or null) follows the
    server's setting; 0 sets no limit of that kind for this project."""

    type: Literal["project.retention"]
    project: ProjectKey
    max_age_seconds: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Delete events older than this; null: --retention-max-age."
    )
    max_bytes: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Keep at most this much of the newest events (characters of JSON); "
        "null: --retention-max-bytes.",
    )


MAX_BUDGET_USD = 1_000_000.0
"""The largest budget a project may set (per day or per run)."""
BudgetUsd = Annotated[float, Field(ge=0, le=MAX_BUDGET_USD, strict=True)]
"""An amount of USD: a JSON number (not a string, not a boolean)."""


class ProjectBudget(_Request):
    """Set the project's own budgets in USD. A field left out (or null) follows the
    server's default (--budget-daily-usd, --budget-run-usd); 0 lets nothing be spent."""

    type: Literal["project.budget"]
    project: ProjectKey
    daily_usd: BudgetUsd | None = Field(
        default=None,
        description="What the project's runs may cost per UTC day; once they have, "
        "prompts are refused (budget_exceeded). null: --budget-daily-usd.",
    )
    run_usd: BudgetUsd | None = Field(
        default=None,
        description="What one run may cost; a run that passes it is stopped "
        "(interrupted, error budget_exceeded). null: --budget-run-usd.",
    )


class SessionNew(_Request):
    type: Literal["session.new"]
    project: ProjectKey


SessionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class SessionList(_Request):
    """The Claude sessions the CLI has stored for the project's directory."""

    type: Literal["session.list"]
    project: ProjectKey


class SessionUse(_Request):
    """Make a stored Claude session the project's: the next run resumes it, and its
    earlier history is added to the project's log as ``imported`` events."""

    type: Literal["session.use"]
    project: ProjectKey
    session: SessionId


class Heartbeat(_Request):
    type: Literal["heartbeat"]


class ConfirmationResponse(_Request):
    """Answer a pending confirmation; the first valid answer wins."""

    type: Literal["confirmation_response"]
    confirmation_id: Annotated[str, Field(min_length=1, max_length=64)]
    response: Annotated[str, Field(min_length=1, max_length=10_000)] = Field(
        description="One of the confirmation's options (tool permissions: allow or deny)."
    )
    remember: bool = Field(
        default=False, description="allow: answer matching requests of the project so."
    )
    message: Annotated[str, Field(max_length=10_000)] | None = Field(
        default=None, description="deny: the reason Claude is told."
    )
    updated_input: dict[str, Any] | None = Field(
        default=None, description="allow: run the tool with this input instead."
    )
    answers: dict[str, str | list[str]] | None = Field(
        default=None,
        description="question: question text → chosen label(s) or free text (several questions).",
    )


class PermissionsList(_Request):
    type: Literal["permissions.list"]
    project: ProjectKey


class PermissionsRemove(_Request):
    type: Literal["permissions.remove"]
    project: ProjectKey
    rule: Annotated[str, Field(min_length=1, max_length=64)]


class PermissionModeSet(_Request):
    """Set the project's permission mode; a running run switches at once."""

    type: Literal["permission_mode.set"]
    project: ProjectKey
    mode: PermissionMode | None = Field(description="null: the CLI's default.")


class PauseTimer(_Request):
    type: Literal["pause_timer"]
    confirmation_id: Annotated[str, Field(min_length=1, max_length=64)]


class ResumeTimer(_Request):
    type: Literal["resume_timer"]
    confirmation_id: Annotated[str, Field(min_length=1, max_length=64)]


class SkillEventPublish(_Request):
    """A producer reports skill progress; stored in the project's log."""

    type: Literal["skill.event"]
    project: ProjectKey
    event: SkillEvent


class ConfirmationRequest(_Request):
    """A producer asks a person (the skill API's ``request_confirmation``). Acked at once
    with the confirmation; its outcome comes later as ``confirmation_result``."""

    type: Literal["confirmation.request"]
    project: ProjectKey
    skill_id: SkillId
    step_index: Annotated[int, Field(ge=0)]
    prompt: Annotated[str, Field(min_length=1, max_length=100_000)]
    options: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]],
        Field(min_length=1, max_length=50),
    ]
    claude_suggestion: Label | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=86_400)] | None = Field(
        default=None, description="Default: the server's --question-timeout."
    )


class ConfirmationWithdraw(_Request):
    """The connection that sent a ``confirmation.request`` no longer wants the answer."""

    type: Literal["confirmation.withdraw"]
    confirmation_id: Annotated[str, Field(min_length=1, max_length=64)]


class DiagnosticsPublish(_Request):
    """Replace the diagnostics of one file of a project (an empty list clears them)."""

    type: Literal["diagnostics.publish"]
    project: ProjectKey
    path: DiagnosticPath = Field(description="The file, relative to the project (or inside it).")
    diagnostics: Annotated[list[Diagnostic], Field(max_length=MAX_DIAGNOSTICS_PER_PATH)]


class ProjectBackChannel(_Request):
    """Turn the project's back-channel (the switchboard MCP tools, task mirroring and
    activity) on or off; a CLI already up keeps its setting until it is restarted."""

    type: Literal["project.back_channel"]
    project: ProjectKey
    enabled: bool


ClientMessage = Annotated[
    Subscribe
    | Unsubscribe
    | Prompt
    | Cancel
    | RunList
    | ProjectAdd
    | ProjectList
    | ProjectRemove
    | ProjectRetention
    | ProjectBudget
    | SessionNew
    | SessionList
    | SessionUse
    | Heartbeat
    | ConfirmationResponse
    | PauseTimer
    | ResumeTimer
    | PermissionsList
    | PermissionsRemove
    | PermissionModeSet
    | SkillEventPublish
    | ConfirmationRequest
    | ConfirmationWithdraw
    | TokenCreate
    | TokenList
    | TokenRevoke
    | DiagnosticsPublish
    | ProjectBackChannel
    | AuditList
    | PushSubscribe
    | PushUnsubscribe
    | Presence,
    Field(discriminator="type"),
]
CLIENT_TYPES = frozenset(
    {
        "permission_mode.set",
        "permissions.list",
        "permissions.remove",
        "confirmation_response",
        "pause_timer",
        "resume_timer",
        "subscribe",
        "unsubscribe",
        "prompt",
        "cancel",
        "run.list",
        "project.add",
        "project.list",
        "project.remove",
        "project.retention",
        "project.budget",
        "session.new",
        "session.list",
        "session.use",
        "heartbeat",
        "skill.event",
        "confirmation.request",
        "confirmation.withdraw",
        "token.create",
        "token.list",
        "token.revoke",
        "diagnostics.publish",
        "project.back_channel",
        "audit.list",
        "push.subscribe",
        "push.unsubscribe",
        "presence",
    }
)

# -- server → client ------------------------------------------------------------------


class RetentionInfo(_Message):
    """The retention policy in force for a project (its own over the server's)."""

    max_age_seconds: float | None = Field(
        default=None, description="Events older than this are deleted; null: no age limit."
    )
    max_bytes: int | None = Field(
        default=None,
        description="The newest events are kept up to this size (characters of JSON); "
        "null: no size limit.",
    )


class BudgetInfo(_Message):
    """A project's budgets in force (its own over the server's defaults) and what it
    spent today."""

    daily_usd: float | None = Field(
        default=None, description="What its runs may cost per UTC day; null: no limit."
    )
    run_usd: float | None = Field(
        default=None, description="What one run may cost; null: no limit."
    )
    spent_today_usd: float = Field(
        default=0.0,
        description="What its runs that ended today (UTC) cost, the runs' own cost; a run "
        "counts once it has ended.",
    )
    own_daily_usd: float | None = Field(
        default=None, description="The project's own daily budget; null: the server's."
    )
    own_run_usd: float | None = Field(
        default=None, description="The project's own per-run budget; null: the server's."
    )


class ProjectInfo(_Message):
    id: str
    name: str
    path: str
    session_id: str | None
    epoch: int
    head: int = Field(description="The seq of the project's last stored event.")
    status: Literal["idle", "running"]
    running_run: str | None
    queued: int
    permission_mode: PermissionMode | None = Field(
        default=None, description="The default of the project's runs."
    )
    total_cost_usd: float = Field(
        default=0.0, description="What the project's runs have cost so far, in USD."
    )
    background_tasks: int = Field(
        default=0,
        description="Background work the project's CLI reports as still running "
        "(commands, agents, monitors, scheduled wake-ups); it keeps the CLI up.",
    )
    first_seq: int = Field(
        default=1,
        description="The seq of the oldest event kept: 1 unless retention trimmed the log.",
    )
    retention: RetentionInfo = Field(
        default=RetentionInfo(), description="How much of its log the project keeps."
    )
    budget: BudgetInfo = Field(
        default=BudgetInfo(), description="What the project may spend, and spent today."
    )
    store_error: str | None = Field(
        default=None,
        description="Why the project's event log cannot be written now (disk full, I/O "
        "error): its runs wait until it can. null: it can.",
    )
    agent: str | None = Field(
        default=None, description="The remote agent it lives on; null: the server's machine."
    )
    agent_online: bool | None = Field(
        default=None, description="Whether that agent's link is up (null: no agent)."
    )
    back_channel: bool = Field(
        default=True,
        description="Claude gets the switchboard tools (tasks, approvals, diffs, "
        "diagnostics, notifications), and its todo list and activity are mirrored.",
    )
    node: str | None = Field(
        default=None,
        description="The cluster node that owns the project: the one that runs its CLI "
        "and appends its events (null: a single server, or not owned right now).",
    )


class RunInfo(_Message):
    id: str
    project: str
    state: RunState
    prompt: str
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    duration_ms: int | None = None
    num_turns: int | None = None
    cost_usd: float | None = None
    usage: dict[str, Any] | None = None
    session_id: str | None = None
    error: str | None = None
    origin: RunOrigin = Field(
        default="client", description="client: a prompt; claude: a follow-up turn."
    )
    by: str | None = Field(
        default=None,
        description='The name of the token that sent the prompt ("server token" for the '
        "server's own); null for a follow-up turn and for runs from before it was kept.",
    )


class StoredSessionInfo(_Message):
    """A Claude session the CLI has stored for a project's directory."""

    id: str
    first_prompt: str | None = Field(description="The session's first prompt, shortened.")
    started_at: float | None
    updated_at: float
    current: bool = Field(description="It is the project's session.")


class PermissionRuleInfo(_Message):
    """A remembered allow rule of a project."""

    id: str
    project: str
    tool_name: str
    rule_content: str | None = Field(description="The CLI's rule, e.g. the Bash command.")
    input: dict[str, Any] | None = Field(description="Without rule content: the exact input.")
    created_at: float


class PermissionModeChanged(_Message):
    """``event`` data (kind ``permission_mode``)."""

    type: Literal["permission_mode"] = "permission_mode"
    mode: PermissionMode | None
    run: str | None = Field(description="The running run that switched at once, if any.")
    by: str | None = Field(default=None, description="The name of the token that set it.")


class AgentInfo(_Message):
    """A remote agent machine (``switchboard agent``), known by its agent token."""

    name: str
    online: bool
    last_seen: float | None = Field(
        description="When the hub last heard from it (null: not since the hub started)."
    )
    version: str | None = Field(description="Its Switchboard version, once it connected.")
    allowed_roots: list[str] = Field(
        description="Where it may run projects, as it said when it connected."
    )
    projects: list[str] = Field(
        default_factory=list, description="The ids of the projects that live on it."
    )
    running_runs: list[str] = Field(
        default_factory=list, description="The ids of its projects' runs under way now."
    )
    node: str | None = Field(
        default=None,
        description="On a cluster: the node its link is on (which runs its projects); "
        "null on a single server, or while it is offline.",
    )


class Connected(_Message):
    type: Literal["connected"] = "connected"
    protocol: int = PROTOCOL_VERSION
    server_version: str
    scope: Literal["full", "produce"] = Field(
        description="What this connection's token may do (produce: publish and ask only)."
    )
    role: Role | None = Field(
        default=None,
        description="scope full: the token's role (the server's own token is an admin).",
    )
    projects: list[ProjectInfo]
    running_runs: list[RunInfo]
    running_skills: list[SkillState]
    pending_confirmations: list[ConfirmationInfo]
    limits: dict[str, int | float]
    permission_modes: list[PermissionMode] = Field(
        description="The permission modes this server accepts (bypassPermissions only "
        "with --allow-bypass-permissions)."
    )
    agents: list[AgentInfo] = Field(
        default_factory=list, description="The remote agents (one per agent token)."
    )
    tasks: list[TaskInfo] = Field(
        default_factory=list, description="Every project's task list (see back-channel)."
    )
    push_public_key: str | None = Field(
        default=None,
        description="The server's VAPID public key (base64url, uncompressed P-256): the "
        "applicationServerKey for PushManager.subscribe. null: no Web Push here.",
    )


class Ack(_Message):
    type: Literal["ack"] = "ack"
    id: str | int | None
    project: ProjectInfo | None = None
    projects: list[ProjectInfo] | None = None
    run: RunInfo | None = None
    runs: list[RunInfo] | None = Field(default=None, description="run.list: newest first.")
    head: int | None = Field(default=None, description="subscribe: the head seq when it began.")
    pending_confirmations: list[ConfirmationInfo] | None = Field(
        default=None, description="subscribe: the project's confirmations waiting for an answer."
    )
    running_skills: list[SkillState] | None = Field(
        default=None, description="subscribe: the project's skills under way."
    )
    tasks: list[TaskInfo] | None = Field(
        default=None, description="subscribe: the project's task list."
    )
    diagnostics: list[DiagnosticsInfo] | None = Field(
        default=None,
        description="subscribe, diagnostics.publish: the project's latest diagnostics, per file.",
    )
    confirmation: ConfirmationInfo | None = None
    rules: list[PermissionRuleInfo] | None = None
    sessions: list[StoredSessionInfo] | None = Field(
        default=None, description="session.list: newest first."
    )
    token: TokenInfo | None = None
    tokens: list[TokenInfo] | None = None
    secret: str | None = Field(
        default=None, description="token.create: the token itself, shown only this once."
    )
    audit: list[AuditEntry] | None = Field(default=None, description="audit.list: newest first.")


class Error(_Message):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    id: str | int | None = None
    first_seq: int | None = Field(
        default=None, description="history_trimmed: the oldest seq the project keeps."
    )


class ConfirmationResult(_Message):
    """To the connection that sent ``confirmation.request``: how it ended."""

    type: Literal["confirmation_result"] = "confirmation_result"
    id: str | int | None = Field(description="The id of the confirmation.request.")
    confirmation_id: str
    response: str = Field(description="The chosen option, or let_claude when it expired.")
    remember: bool
    expired: bool


class CaughtUp(_Message):
    type: Literal["caught_up"] = "caught_up"
    project: str
    seq: int


class AgentStatus(_Message):
    """An agent came online, went offline, or was removed (its token revoked)."""

    type: Literal["agent_status"] = "agent_status"
    agent: AgentInfo
    removed: bool = False


class ProjectStatus(_Message):
    type: Literal["project_status"] = "project_status"
    project: ProjectInfo


class ProjectRemoved(_Message):
    type: Literal["project_removed"] = "project_removed"
    project: str


class HeartbeatAck(_Message):
    type: Literal["heartbeat_ack"] = "heartbeat_ack"
    id: str | int | None = None
    server_time: float


class Event(_Message):
    """Documentation model of the ``event`` frame (sent via :func:`event_frame`)."""

    type: Literal["event"] = "event"
    project: str
    seq: int
    epoch: int
    run: str | None
    kind: Literal[
        "cli",
        "cli_error",
        "run",
        "session",
        "confirmation",
        "permission_mode",
        "skill",
        "imported",
        "task",
        "diff_preview",
        "notification",
        "diagnostics",
    ]
    data: Any = Field(
        description="kind cli: the CLI's stream-json line, unchanged; kind imported: a "
        "line of a session's stored transcript (session.use), unchanged."
    )


class Delta(_Message):
    """A live-only token delta (the CLI's ``stream_event``): no seq, never stored."""

    type: Literal["delta"] = "delta"
    project: str
    run: str | None
    data: Any


class EventBatch(_Message):
    """Documentation model of the ``events`` frame (sent via :func:`events_frame`): a
    replay's events in order, to a subscription asked with ``batch``."""

    type: Literal["events"] = "events"
    project: str
    events: list[Event]


ServerMessage = Annotated[
    Connected
    | Ack
    | Error
    | Event
    | EventBatch
    | Delta
    | CaughtUp
    | ProjectStatus
    | ProjectRemoved
    | AgentStatus
    | HeartbeatAck
    | ConfirmationResult
    | Activity,
    Field(discriminator="type"),
]

_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
server_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def parse_client_message(text: str | bytes) -> ClientMessage | Error:
    """The request in ``text``, or the error to answer it with."""
    try:
        raw = loads(text)  # an integer too long for Python's int comes as a float
    except RecursionError:
        return Error(code="bad_message", message=f"nested more than {MAX_NESTING} levels deep")
    except (ValueError, UnicodeDecodeError) as exc:
        return Error(code="bad_json", message=f"not JSON: {exc}")
    if not isinstance(raw, dict):
        return Error(code="bad_message", message="a message is a JSON object")
    request_id = raw.get("id")
    if not isinstance(request_id, str | int) or isinstance(request_id, bool):
        request_id = None
    problem = text_problem(raw, text if isinstance(text, str) else None)
    if problem is not None:
        if isinstance(request_id, str) and holds_lone_surrogate(request_id):
            request_id = None  # it cannot be echoed: no UTF-8 for it
        return Error(code="bad_message", message=problem, id=request_id)
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        known = ", ".join(sorted(CLIENT_TYPES))
        shown = _clip(repr(kind), 100)
        return Error(
            code="unknown_type", message=f"unknown type {shown}; known: {known}", id=request_id
        )
    try:
        return _client_adapter.validate_python(raw)
    except ValidationError as exc:
        return Error(code="bad_message", message=problems(exc, "message", skip=1), id=request_id)


def text_problem(raw: dict[str, Any], text: str | None) -> str | None:
    """What makes a parsed message unusable though it is JSON, if anything (``text``,
    when given, spares the walks through a message that cannot have the problem)."""
    if nested_deeper_than(raw, MAX_NESTING, text):
        return f"nested more than {MAX_NESTING} levels deep"
    if (text is None or may_hold_surrogates(text)) and holds_lone_surrogate(raw):
        return "a string holds a lone surrogate (such as \\ud800): strings must be Unicode text"
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def encode(message: BaseModel) -> str:
    return message.model_dump_json(exclude_none=False)


@functools.lru_cache(maxsize=4096)
@functools.lru_cache(maxsize=1024)
def _quoted(value: str | None) -> str:
    """A JSON string (or null); ids repeat on every frame of a run, so remember them."""
    return "null" if value is None else json.dumps(value)


def event_frame(
    project: str, seq: int, *, epoch: int, run: str | None, kind: str, body: str
) -> str:
    """An ``event`` frame; ``body`` is JSON text and goes in unchanged."""
    return (
        f'{{"type":"event","project":{_quoted(project)},"seq":{seq},"epoch":{epoch},'
        f'"run":{_quoted(run)},"kind":"{kind}","data":{body}}}'
    )


def events_frame(project: str, frames: Sequence[str]) -> str:
    """An ``events`` frame holding these ``event`` frames (JSON text, in order)."""
    return f'{{"type":"events","project":{_quoted(project)},"events":[{",".join(frames)}]}}'


def delta_frame(project: str, run: str | None, body: str) -> str:
    return f'{{"type":"delta","project":{_quoted(project)},"run":{_quoted(run)},"data":{body}}}'


def json_schema() -> dict[str, Any]:
    """The committed schema (docs/protocol.schema.json) of both directions."""
    client = TypeAdapter(ClientMessage).json_schema(ref_template="#/$defs/{model}")
    server = server_adapter.json_schema(ref_template="#/$defs/{model}")
    confirmation = TypeAdapter(ConfirmationEvent).json_schema(ref_template="#/$defs/{model}")
    mode = PermissionModeChanged.model_json_schema(ref_template="#/$defs/{model}")
    skill = TypeAdapter(SkillEvent).json_schema(ref_template="#/$defs/{model}")
    task = TypeAdapter(TaskEvent).json_schema(ref_template="#/$defs/{model}")
    diff = DiffPreview.model_json_schema(ref_template="#/$defs/{model}")
    notification = Notification.model_json_schema(ref_template="#/$defs/{model}")
    diagnostics = DiagnosticsPublished.model_json_schema(ref_template="#/$defs/{model}")
    defs = {
        **client.pop("$defs", {}),
        **server.pop("$defs", {}),
        **confirmation.pop("$defs", {}),
        **skill.pop("$defs", {}),
        **task.pop("$defs", {}),
        **diff.pop("$defs", {}),
        **notification.pop("$defs", {}),
        **diagnostics.pop("$defs", {}),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Switchboard /ws protocol, version {PROTOCOL_VERSION}",
        "$defs": defs,
        "properties": {
            "client_to_server": client,
            "server_to_client": server,
            "confirmation_event_data": confirmation,
            "permission_mode_event_data": mode,
            "skill_event_data": skill,
            "task_event_data": task,
            "diff_preview_event_data": diff,
            "notification_event_data": notification,
            "diagnostics_event_data": diagnostics,
        },
    }
