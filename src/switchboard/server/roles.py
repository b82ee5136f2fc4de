"""Which role a token needs for each ``/ws`` request (and the HTTP API, which sends the
same requests).

Roles are ordered: ``viewer`` may only read, ``operator`` may also run things (prompt,
answer, cancel, personal opt-ins), ``admin`` may change projects, tokens, budgets and
settings. The server's own token is an admin. ``produce`` and ``agent`` tokens are not
roles: they keep their own narrow lists (``PRODUCER_REQUESTS`` and ``/ws/agent``).
"""

from switchboard.protocol.people import Role

ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
"""Least to most."""

REQUIRED_ROLE: dict[str, Role] = {
    # reading
    "subscribe": "viewer",
    "unsubscribe": "viewer",
    "heartbeat": "viewer",
    "project.list": "viewer",
    "run.list": "viewer",
    "session.list": "viewer",
    "permissions.list": "viewer",
    "presence": "viewer",
    # running things
    "prompt": "operator",
    "cancel": "operator",
    "confirmation_response": "operator",
    "pause_timer": "operator",
    "resume_timer": "operator",
    "session.new": "operator",
    "session.use": "operator",
    "skill.event": "operator",
    "confirmation.request": "operator",
    "confirmation.withdraw": "operator",
    "diagnostics.publish": "operator",
    "push.subscribe": "operator",
    "push.unsubscribe": "operator",
    # changing the server
    "project.add": "admin",
    "project.remove": "admin",
    "project.retention": "admin",
    "project.budget": "admin",
    "project.back_channel": "admin",
    "permission_mode.set": "admin",
    "permissions.remove": "admin",
    "token.create": "admin",
    "token.list": "admin",
    "token.revoke": "admin",
    "audit.list": "admin",
}
"""The least role that may send each request type. A type missing here is refused to
every role but admin (a new request is closed until someone decides)."""


def required_role(request_type: str) -> Role:
    """The least role that may send a request of ``request_type``."""
    return REQUIRED_ROLE.get(request_type, "admin")


def allows(role: Role, request_type: str) -> bool:
    """Whether a token of ``role`` may send a request of ``request_type``."""
    return ROLES.index(role) >= ROLES.index(required_role(request_type))
