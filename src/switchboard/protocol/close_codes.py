"""WebSocket close codes Switchboard uses, and what each one means to a client."""

from enum import IntEnum


class CloseCode(IntEnum):
    """Close codes sent by Switchboard's WebSocket endpoints."""

    NORMAL = 1000
    """The run finished successfully (``/ws/claude``: the CLI exited 0)."""

    GOING_AWAY = 1001
    """The server is shutting down."""

    POLICY_VIOLATION = 1008
    """The client sent something invalid (bad JSON, bad prompt or meta); nothing ran."""

    MESSAGE_TOO_BIG = 1009
    """A frame exceeded the server's maximum message size."""

    INTERNAL_ERROR = 1011
    """The run failed: the CLI could not start, exited non-zero, or timed out."""

    TRY_AGAIN_LATER = 1013
    """``/ws/claude``: as many runs as ``--max-claude-runs`` allows were under way for
    all of ``--claude-queue-timeout``; nothing ran. Try again later."""

    TOKEN_REVOKED = 4003
    """``/ws``, ``/ws/agent``: the scoped token of this connection was revoked."""

    AGENT_REPLACED = 4009
    """``/ws/agent``: a newer link of the same agent took over."""

    HEARTBEAT_TIMEOUT = 4010
    """``/ws/agent``: nothing came over the link for the heartbeat timeout; the agent
    dials again."""

    SLOW_CONSUMER = 4008
    """``/ws``: the client read too slowly and its send queue overflowed. Nothing is
    lost: reconnect and subscribe with ``since`` = the last seq received."""

    RATE_LIMITED = 4029
    """``/ws``: the client went on sending requests faster than its rate limit allows
    after they were refused with ``rate_limited``."""


MAX_CLOSE_REASON_BYTES = 123
"""RFC 6455 limits the close reason to 123 bytes of UTF-8."""


def clip_reason(reason: str) -> str:
    """Shorten ``reason`` so that it fits in a close frame, cutting on a character boundary."""
    encoded = reason.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."
