"""``/ws/agent``: the link between the hub and a remote agent machine
(``switchboard agent``). The agent dials out, so its machine needs no inbound port.

The agent opens the link with ``hello``; the hub answers ``welcome`` (or closes: see
the close codes). Then both sides send ``heartbeat`` every ``heartbeat_interval``
seconds and answer the other's with ``heartbeat_ack``; a side that hears nothing for
``heartbeat_timeout`` seconds drops the link (the agent then dials again). Every
message is a JSON text frame, checked like a client's: size, nesting, shape.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from switchboard.protocol.json_text import MAX_NESTING, loads
from switchboard.protocol.messages import text_problem

AgentName = Annotated[str, Field(min_length=1, max_length=200)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkHello(_Message):
    """Agent → hub, first: who it is and where it may run things."""

    type: Literal["hello"]
    name: AgentName | None = Field(
        default=None, description="The agent's name; must be its token's (null: the token's)."
    )
    version: Annotated[str, Field(max_length=100)]
    allowed_roots: Annotated[list[Annotated[str, Field(max_length=4096)]], Field(max_length=64)]
    spool: Annotated[str, Field(max_length=64)] = Field(
        default="", description="The agent's spool: its messages' seqs count in it."
    )
    sessions: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=1000)] = Field(
        default_factory=list,
        description="The sessions the agent still has: live processes, and those with "
        "messages the hub has not acknowledged.",
    )


class LinkWelcome(_Message):
    """Hub → agent: the link is up."""

    type: Literal["welcome"] = "welcome"
    name: str
    server_version: str
    heartbeat_interval: float
    heartbeat_timeout: float
    max_message_bytes: int
    """The largest message the hub takes: the agent splits its output to fit."""
    link_grace: float
    """Seconds a run goes on while the link is down; then the agent stops it."""


class LinkHeartbeat(_Message):
    """Either way: I am here. Answered with ``heartbeat_ack``."""

    type: Literal["heartbeat"] = "heartbeat"
    sent_at: float


class LinkHeartbeatAck(_Message):
    type: Literal["heartbeat_ack"] = "heartbeat_ack"
    sent_at: float
    """The ``sent_at`` of the heartbeat it answers (for the round-trip time)."""


class LinkError(_Message):
    """Hub → agent: a message it could not take; the link stays up."""

    type: Literal["error"] = "error"
    code: Literal["bad_json", "bad_message", "unknown_type"]
    message: str


# -- sessions on the agent ------------------------------------------------------------

LinkOp = Literal[
    "check_path",
    "launch",
    "prompt",
    "answer",
    "cancel",
    "set_mode",
    "set_model",
    "end_input",
    "close",
    "kill",
    "follow_up_started",
    "list_sessions",
    "read_session",
    "adopt",
    "tool_result",
]
"""``adopt``: a hub that restarted takes a process back; the agent asks again what
that process still waits to have answered (its asks and its tool calls).
``tool_result``: the answer to a back-channel ``tool_call``."""
SessionKey = Annotated[str, Field(min_length=1, max_length=64)]
Seq = Annotated[int, Field(ge=1)]
"""A message's number in the agent's spool: kept until the hub acknowledges it."""


class LinkCommand(_Message):
    """Hub → agent: do ``op`` (in ``session``, an agent process the hub launched);
    answered by a ``reply`` with the same ``id``."""

    type: Literal["command"] = "command"
    id: int
    op: LinkOp
    session: SessionKey | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class LinkFailure(_Message):
    code: Annotated[str, Field(max_length=100)]
    message: Annotated[str, Field(max_length=10_000)]


class LinkReply(_Message):
    """Agent → hub: how a command went (``result``, or ``error``)."""

    type: Literal["reply"]
    id: int
    result: dict[str, Any] | None = None
    error: LinkFailure | None = None


class LinkOutput(_Message):
    """Agent → hub: what a session's process printed, as neutral agent events."""

    type: Literal["output"]
    seq: Seq
    session: SessionKey
    events: Annotated[list[dict[str, Any]], Field(max_length=10_000)]
    background_pending: Annotated[int, Field(ge=0)]
    turn_running: bool


class LinkAsk(_Message):
    """Agent → hub: a session's process asks a person (a permission, a question, a plan)."""

    type: Literal["ask"]
    seq: Seq
    session: SessionKey
    ask: dict[str, Any]


class LinkToolCall(_Message):
    """Agent → hub: a session's process called one of Switchboard's own tools (the
    back-channel), with the files it names as the agent found them. Answered by a
    ``tool_result`` command."""

    type: Literal["tool_call"]
    seq: Seq
    session: SessionKey
    call: dict[str, Any]


class LinkWithdrawn(_Message):
    """Agent → hub: the process no longer waits for that ask or tool call (the CLI
    withdrew it, or it was answered)."""

    type: Literal["withdrawn"]
    seq: Seq
    session: SessionKey
    request_id: Annotated[str, Field(max_length=200)]


class LinkExited(_Message):
    """Agent → hub: a session's process is gone; nothing more comes from it."""

    type: Literal["exited"]
    seq: Seq
    session: SessionKey
    returncode: int | None
    stderr: Annotated[str, Field(max_length=10_000)]


class LinkAck(_Message):
    """Hub → agent: every spooled message up to ``seq`` is stored; forget them."""

    type: Literal["ack"] = "ack"
    seq: int


AgentToHub = Annotated[
    LinkHello
    | LinkHeartbeat
    | LinkHeartbeatAck
    | LinkReply
    | LinkOutput
    | LinkAsk
    | LinkToolCall
    | LinkWithdrawn
    | LinkExited,
    Field(discriminator="type"),
]
AGENT_TYPES = frozenset(
    {
        "hello",
        "heartbeat",
        "heartbeat_ack",
        "reply",
        "output",
        "ask",
        "tool_call",
        "withdrawn",
        "exited",
    }
)
HubToAgent = Annotated[
    LinkWelcome | LinkHeartbeat | LinkHeartbeatAck | LinkError | LinkCommand | LinkAck,
    Field(discriminator="type"),
]

_from_agent: TypeAdapter[AgentToHub] = TypeAdapter(AgentToHub)
_from_hub: TypeAdapter[HubToAgent] = TypeAdapter(HubToAgent)


def parse_from_agent(text: str) -> AgentToHub | LinkError:
    """The agent's message in ``text``, or the error to answer it with."""
    try:
        raw = loads(text)
    except RecursionError:
        return LinkError(code="bad_message", message=f"nested more than {MAX_NESTING} levels")
    except ValueError as exc:
        return LinkError(code="bad_json", message=f"not JSON: {exc}")
    if not isinstance(raw, dict):
        return LinkError(code="bad_message", message="a message is a JSON object")
    problem = text_problem(raw, text)
    if problem is not None:
        return LinkError(code="bad_message", message=problem)
    kind = raw.get("type")
    if kind not in AGENT_TYPES:
        shown = repr(kind)[:100]
        return LinkError(code="unknown_type", message=f"unknown message type {shown}")
    try:
        return _from_agent.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return LinkError(code="bad_message", message=f"{kind}: {where}: {first['msg']}")


def parse_from_hub(text: str) -> HubToAgent:
    """The hub's message (raises ValueError if it is not one)."""
    return _from_hub.validate_json(text)
